"""Hostile GGUF files: a model file someone shared is read by llama.cpp's parser and by
Taletree. Cut short anywhere, lying in its header (2^40 tensors, a string of 2^62 bytes, a
window of 10^12 tokens), with no vocabulary or shapes that don't fit, or not a GGUF at all (a
loop, a FIFO, a safetensors or zip file under the name): one line naming the problem, exit 2,
in seconds, the file left as it was. Escapes and markup in its tokens and name are shown as
text wherever they appear: the --verbose line, the terminal, the app's status line, story and
token view."""

import os
import struct
import time
import zipfile

import gguf
import pytest

from testbed.app_driver import ready, streamed, wait_until
from testbed.llama_server import to_gguf
from testbed.tiny_models import save_tiny_model
from tests.app_helpers import SIZE, model_session, screen_text
from tests.conftest import ROOT, one_line_refusal, run_cli

ARRAY, STRING = 9, 8  # GGUF's value types
HOSTILE_TEXT = "\x1b[2J\x1b]52;c;aGk=\x07[@click=app.quit]"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A tiny Llama as an f32 GGUF, by llama.cpp's own converter."""
    root = tmp_path_factory.mktemp("hostile-gguf")
    return to_gguf(save_tiny_model(root / "llama", "llama", window=512), root / "llama.gguf")


def rewritten(source, out, **changes):
    """A copy of a GGUF with metadata values changed: key -> (value, value type or None)."""
    reader = gguf.GGUFReader(source)
    writer = gguf.GGUFWriter(out, reader.fields["general.architecture"].contents())
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value, kind = changes.get(key.replace(".", "__"), (field.contents(), None))
        sub = field.types[1] if len(field.types) > 1 else None
        writer.add_key_value(key, value, kind or field.types[0], sub)
    for tensor in reader.tensors:
        writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


def string_array_emptied(data: bytes, key: bytes) -> bytes:
    """The string array under `key` emptied in place (GGUF's writer refuses to write one): a
    filler entry takes its bytes, so every offset after it stays where it was."""
    start = data.index(key) + len(key)
    kind, sub, count = struct.unpack_from("<IIQ", data, start)
    assert (kind, sub) == (ARRAY, STRING)
    end = start + 16
    for _ in range(count):
        end += 8 + struct.unpack_from("<Q", data, end)[0]
    freed = end - start - 16
    filler = struct.pack("<Q", 1) + b"x" + struct.pack("<IQ", STRING, freed - 21)
    entries = struct.unpack_from("<Q", data, 16)[0] + 1
    return b"".join(
        (
            data[:16],
            struct.pack("<Q", entries),
            data[24:start],
            struct.pack("<IIQ", ARRAY, STRING, 0),
            filler + b"f" * (freed - 21),
            data[end:],
        )
    )


def string_length_set(data: bytes, key: bytes, length: int) -> bytes:
    at = data.index(key) + len(key)
    assert struct.unpack_from("<I", data, at)[0] == STRING
    return data[: at + 4] + struct.pack("<Q", length) + data[at + 12 :]


def damaged(tiny, tmp_path, case: str):
    data = tiny.read_bytes()
    U = gguf.GGUFValueType
    made = tmp_path / f"{case.replace(' ', '-')}.gguf"
    raw = {
        "cut in the header": lambda: data[:12],
        "cut in the metadata": lambda: data[:300],
        "cut in the tensor data": lambda: data[: len(data) - 1000],
        "2^40 tensors": lambda: data[:8] + struct.pack("<Q", 2**40) + data[16:],
        "2^40 metadata entries": lambda: data[:16] + struct.pack("<Q", 2**40) + data[24:],
        "a string of 2^62 bytes": lambda: string_length_set(data, b"general.name", 2**62),
        "no tokens": lambda: string_array_emptied(data, b"tokenizer.ggml.tokens"),
    }
    if case in raw:
        made.write_bytes(raw[case]())
        return made
    changes = {
        "a window of 10^12 tokens": {"llama__context_length": (10**12, U.UINT64)},
        "a window of 4e9 tokens": {"llama__context_length": (2**32 - 1, None)},
        "shapes that don't fit": {"llama__embedding_length": (96, None)},
    }[case]
    return rewritten(tiny, made, **changes)


REFUSED = {
    "cut in the header": "failed to read header",
    "cut in the metadata": "exceeds remaining file size",
    "cut in the tensor data": "not within the file bounds",
    # (llama.cpp reads on past the count, and says what it tripped over first)
    "2^40 tensors": "can't be loaded by llama.cpp: ",
    "2^40 metadata entries": "can't be loaded by llama.cpp: ",
    "a string of 2^62 bytes": "string length 4611686018427387904 exceeds maximum",
    "no tokens": "has wrong shape",
    "a window of 10^12 tokens": "llama.context_length has wrong type u64",
    "shapes that don't fit": "has wrong shape",
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_damaged_or_lying_gguf_is_one_line_in_seconds_and_left_as_it_was(tiny, tmp_path, case):
    path = damaged(tiny, tmp_path, case)
    before = path.read_bytes()
    started = time.monotonic()
    result = run_cli("generate", "--model", str(path), "--prompt", "Once")
    assert time.monotonic() - started < 30
    one_line_refusal(result, f"{path.name}", REFUSED[case])
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]


def test_a_file_claiming_a_window_of_4e9_tokens_reads_what_the_context_limit_allows(tiny, tmp_path):
    """The largest window GGUF's 32 bits can claim would need a terabyte of cache: the file is
    read within the writer's context limit (test_gguf.py: a limit memory can't hold is refused,
    saying what fits)."""
    path = damaged(tiny, tmp_path, "a window of 4e9 tokens")
    result = run_cli("generate", "--model", str(path), "--prompt", "Once", "--verbose")
    assert result.returncode == 0, result.stderr
    assert "with a window of 2,048 tokens;" in result.stderr


def test_what_is_not_a_gguf_file_is_refused_by_name_without_hanging(tmp_path):
    loop = tmp_path / "loop.gguf"
    loop.symlink_to(loop)
    fifo = tmp_path / "x.gguf"
    os.mkfifo(fifo)  # opening it to read would wait for a writer forever
    weights = tmp_path / "weights.gguf"
    weights.write_bytes(struct.pack("<Q", 2) + b"{}" + b"\0" * 64)  # a safetensors header
    archive = tmp_path / "archive.gguf"
    with zipfile.ZipFile(archive, "w") as made:
        made.writestr("model.bin", "weights")
    for path, said in (
        (loop, "is not a file"),
        (fifo, "is not a file"),
        (weights, "is not a GGUF file"),
        (archive, "is not a GGUF file"),
    ):
        started = time.monotonic()
        one_line_refusal(run_cli("generate", "--model", str(path), "--prompt", "x"), said)
        assert time.monotonic() - started < 30


# ------------------------------------------------------------------------------ shown as text


def byte_level(text: str) -> str:
    """Text as GPT-2's byte-level vocabulary spells it (each byte as a printable character)."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    spelled = {b: chr(b) for b in printable}
    spelled.update((b, chr(256 + n)) for n, b in enumerate(sorted(set(range(256)) - {*printable})))
    return "".join(spelled[b] for b in text.encode())


@pytest.fixture(scope="module")
def hostile(tiny):
    """The tiny model with every merged token's text an escape sequence and markup, in a file
    whose name holds them too: whatever it writes is hostile."""
    tokens = gguf.GGUFReader(tiny).fields["tokenizer.ggml.tokens"].contents()
    spelled = [t if i < 257 else byte_level(f"{HOSTILE_TEXT}{i} ") for i, t in enumerate(tokens)]
    named = tiny.parent / "\x1b[2J[@click=app.quit]evil.gguf"
    return rewritten(
        tiny,
        named,
        tokenizer__ggml__tokens=(spelled, None),
        general__name=(HOSTILE_TEXT, None),
    )


def test_the_verbose_line_and_a_terminal_show_a_hostile_models_name_and_text_literally(
    hostile, tmp_path
):
    import sys

    from tests.terminal import Terminal

    command = [
        sys.executable,
        "-m",
        "tui",
        "generate",
        "--model",
        str(hostile),
        "--prompt",
        "Once",
        "--verbose",
        "--seed",
        "3",
        "--max-new-tokens",
        "24",
    ]
    terminal = Terminal(command, {"HOME": str(tmp_path), "TERM": "xterm-256color"}, str(ROOT))
    try:
        screen = terminal.wait_for("EXITED", timeout=60)
    finally:
        terminal.close()
    assert "␛[2J[@click=app.quit]evil.gguf: cpu, llama.cpp" in screen  # the --verbose line
    assert "␛[2J␛]52;c;aGk=␇[@click=app.quit]" in screen  # what it wrote, shown as text
    # Piped, the text is the model's own, byte for byte, for whatever reads it.
    piped = run_cli("generate", "--model", str(hostile), "--prompt", "Once", "--seed", "3")
    assert piped.returncode == 0 and HOSTILE_TEXT in piped.stdout


async def test_the_app_shows_a_hostile_models_name_tokens_and_text_as_text(store, hostile):
    from tui.app import TaletreeApp
    from tui.screens.token_view import TokenScreen

    story = store.create_story("Shared file", opening="Once")
    app = TaletreeApp(model_session(store, str(hostile)), story_id=story.id, blink=False)
    async with app.run_test(size=(240, SIZE[1])) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await streamed(pilot)
        shown = screen_text(app)
        assert "[@click=app.quit]evil.gguf  │  cpu, llama.cpp" in shown  # the status line
        assert shown.count("[@click=app.quit]") > 2  # the branches' text, literally
        # Random weights may end a branch at once: look at the first that wrote something.
        first = next(i for i, b in enumerate(app.session.branches) if b.text)
        await pilot.press(*["down"] * first, "t")
        await wait_until(pilot, lambda: isinstance(app.screen, TokenScreen))
        await pilot.pause(0.1)
        assert "[@click=app.quit]" in screen_text(app)
        assert app.is_running and app.return_code is None
