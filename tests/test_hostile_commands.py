"""Hostile arguments to the commands that write files or run long: `taletree convert`,
`taletree explore` (and line mode's /explore), `taletree generate`. Each is one line naming the
problem and what to do, exit 2, before any long work starts and with nothing changed on disk;
Ctrl+C keeps what was written and leaves nothing half-made, exit 130."""

import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from story import Store
from testbed.app_driver import make_session
from testbed.fake_model import FakeBackend
from testbed.tiny_models import save_tiny_model
from tests.conftest import ROOT, one_line_refusal, run_cli, run_here
from tui.line_mode import LineWriter

TALETREE = [sys.executable, "-m", "tui"]
HOSTILE_QUESTION = "Is \x1b[2J\x1b]52;c;aGk=\x07[@click=app.quit] \x00 true?"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("hostile-commands") / "tiny")


def refused(*argv: str) -> str:
    return one_line_refusal(run_here(*argv))


def changed_config(tiny, folder: Path, **values) -> Path:
    shutil.copytree(tiny, folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **values}))
    return folder


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ------------------------------------------------------------------------------ convert


def test_convert_writes_only_a_new_file_and_says_what_else_it_found(tiny, tmp_path):
    folder = tmp_path / "taken.gguf"
    folder.mkdir()
    fifo = tmp_path / "pipe.gguf"
    os.mkfifo(fifo)
    dangling = tmp_path / "link.gguf"
    dangling.symlink_to(tmp_path / "nowhere")
    before = listing(tmp_path)
    for target, said in (
        (folder, "is a folder: -o names the .gguf file to write"),
        (fifo, "is not a regular file (a link, a pipe or a device)"),
        (Path("/dev/null"), "/dev/null exists and is not a regular file"),
        (dangling, "is not a regular file"),
        (tmp_path / "no" / "x.gguf", "is not a folder: -o must be in a folder that exists"),
    ):
        assert said in refused("convert", str(tiny), "-o", str(target))
    assert listing(tmp_path) == before and fifo.is_fifo()


@pytest.fixture
def read_only(tmp_path):
    """A folder this process can't write in: by its mode, and for root (whom modes don't stop)
    by a read-only mount of it."""
    folder = tmp_path / "shelf"
    folder.mkdir()
    folder.chmod(0o555)
    mounted = False
    if os.geteuid() == 0:
        made = subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(folder)])
        if made.returncode != 0:
            pytest.skip("root writes through a folder's mode, and can't mount it read-only here")
        mounted = True
    yield folder
    if mounted:
        subprocess.run(["umount", str(folder)], check=True)
    folder.chmod(0o755)


def test_convert_into_a_folder_it_cant_write_is_one_line_before_converting(tiny, read_only):
    started = time.monotonic()
    result = run_here("convert", str(tiny), "-o", str(read_only / "x.gguf"))
    one_line_refusal(result, f"{read_only} can't be written to: choose -o in a folder")
    assert time.monotonic() - started < 15 and listing(read_only) == []


def test_a_config_claiming_a_vocabulary_of_1e9_is_refused_by_convert_and_generate(tiny, tmp_path):
    """The converter padded such a vocabulary out one token at a time (a hang), and loading
    it stopped in a size mismatch (a bug report): both now refuse it from the files' headers."""
    lying = changed_config(tiny, tmp_path / "lying", vocab_size=10**9)
    said = "claims a vocabulary of 1,000,000,000 tokens, but no weight has that many rows"
    started = time.monotonic()
    one_line_refusal(run_here("convert", str(lying), "-o", str(tmp_path / "x.gguf")), said)
    one_line_refusal(run_here("generate", "--model", str(lying), "--prompt", "x"), said)
    assert time.monotonic() - started < 40 and not (tmp_path / "x.gguf").exists()


def test_weights_of_other_shapes_than_the_config_gives_are_one_line(tiny, tmp_path):
    wider = changed_config(tiny, tmp_path / "wider", n_embd=128)
    result = run_here("generate", "--model", str(wider), "--prompt", "x")
    one_line_refusal(result, "weights don't have the shapes its config.json gives them")


def test_convert_refuses_an_unknown_architecture_pickle_weights_and_an_unknown_quant(
    tiny, tmp_path
):
    odd = changed_config(
        tiny, tmp_path / "odd", model_type="gpt9", architectures=["Gpt9ForCausalLM"]
    )
    pickled = tmp_path / "pickled"
    shutil.copytree(tiny, pickled)
    (pickled / "model.safetensors").rename(pickled / "pytorch_model.bin")
    for arguments, said in (
        ([str(odd)], "converter can't convert"),  # and names what it doesn't know:
        ([str(pickled)], "has only pickle weights (.bin), which can run code"),
        ([str(tiny), "--quant", "q3"], "convert: argument --quant: invalid choice: 'q3'"),
    ):
        out = tmp_path / "out.gguf"
        message = refused("convert", *arguments, "-o", str(out))
        assert said in message and not out.exists()
    assert "Gpt9ForCausalLM is not supported" in refused("convert", str(odd), "-o", str(out))


def interrupted_once(command: list[str], started: callable, timeout: float = 60):
    """Run a command in its own process group, send Ctrl+C's signal once `started()`, and
    return (exit code, stderr)."""
    process = subprocess.Popen(
        command, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + timeout
    while not started() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, "it ended before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr


def test_ctrl_c_midway_through_convert_leaves_no_partial_file(tiny, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    command = [*TALETREE, "convert", str(tiny), "--quant", "q8_0"]
    code, stderr = interrupted_once(
        [*command, "-o", str(out / "tiny.gguf")], lambda: any(out.iterdir())
    )
    assert code == 130 and stderr.strip() == "taletree: interrupted"
    assert listing(out) == []


# ------------------------------------------------------------------------------ explore


@pytest.fixture
def lamp_db(db_path):
    with Store.open(db_path) as store:
        store.create_story("Lamp", opening="The lamp went out.")
    return db_path


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--budget", "0"], "--budget: should be a whole number of 1 or more, not '0'"),
        (["--budget", "-1"], "--budget: should be a whole number of 1 or more, not '-1'"),
        (["--budget", "1000000000"], "the budget should be from 1 to 500, not 1000000000"),
        (["--budget", "abc"], "--budget: should be a whole number of 1 or more, not 'abc'"),
        (["--depth", "0"], "--depth: should be a whole number of 1 or more, not '0'"),
        (["--depth", "1000000"], "the depth should be from 1 to 20, not 1000000"),
        # (a single argument can't be 1 MB: Linux passes at most 128 KiB of one)
        (["--question", "why " * 25_000], "the question is over 500 characters: shorten it"),
        (["--question", " \t "], "ask takes a yes/no question"),
    ],
)
def test_bad_explorations_are_one_line_before_the_model_loads(lamp_db, arguments, said):
    # A model that would fail to load: the settings are refused before it is tried.
    model = ("--model", "/no/such/model")
    assert said in refused("--db", str(lamp_db), "explore", "Lamp", *model, *arguments)
    with Store.open(lamp_db) as store:
        assert store.node_count(store.find_story("Lamp").id) == 1


@pytest.mark.parametrize("story", ["Nope", "", "\x1b[2J[@click=app.quit]"])
def test_exploring_a_story_that_isnt_there_is_one_literal_line(lamp_db, story):
    message = refused("--db", str(lamp_db), "explore", story)
    assert "no story has the id or title" in message and "\x1b" not in message


async def test_the_apps_explore_dialog_says_what_is_wrong_and_stays_open(store, tmp_path):
    from textual.widgets import Input, Select

    from testbed.app_driver import make_app, wait_until
    from tests.app_helpers import Told, write_and_generate
    from tui.screens.dialogs import ExploreDialog

    story = store.create_story("Lamp", opening="The lamp went out.")
    app = make_app(store, tmp_path, story_id=story.id)
    told = Told()
    async with app.run_test(size=(120, 30), message_hook=told) as pilot:
        await write_and_generate(pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExploreDialog))
        dialog = app.screen
        for field, typed, said in (
            ("budget", "abc", "the budget should be a whole number, not 'abc'"),
            ("budget", "-1", "the budget should be a whole number, not '-1'"),
            ("budget", "²", "the budget should be a whole number, not '²'"),
            ("budget", "9" * 5000, "the budget should be a whole number, not '999"),
            ("budget", "1000000000", "the budget should be from 1 to 500, not 1000000000"),
            ("budget", "0", "the budget should be from 1 to 500, not 0"),
            ("depth", "1000000", "the depth should be from 1 to 20, not 1000000"),
            ("question", "why " * 250_000, "the question is over 500 characters"),
        ):
            told.notifications.clear()
            dialog.query_one("#budget", Input).value = "3" if field != "budget" else typed
            dialog.query_one("#depth", Input).value = typed if field == "depth" else "2"
            dialog.query_one("#scorer", Select).value = "ask" if field == "question" else "likely"
            dialog.query_one("#question", Input).value = typed if field == "question" else ""
            await pilot.press("enter")
            await wait_until(pilot, lambda: told.notifications)
            [message] = [n.message for n in told.notifications]
            assert message.startswith(said) and len(message) < 300 and "\n" not in message
            assert app.screen is dialog and app.session.exploration is None
        assert app.return_code is None


def test_line_mode_refuses_a_1_mb_question_and_asks_a_hostile_one_literally(store, tmp_path):
    session = make_session(store, tmp_path, FakeBackend())
    story = store.create_story("Lamp", opening="The lamp went out.")
    session.open_story(story.id)
    session.set_setting("max_new_tokens", 8)
    session.load_models()
    explorations = []  # each exploration line mode starts, to see what it asks
    explore = session.explore
    session.explore = lambda settings: explorations.append(explore(settings)) or explorations[-1]
    out = io.StringIO()
    line = LineWriter(session, out)
    line.handle("/explore 1 1 ask " + "why " * 250_000)
    assert out.getvalue() == "! the question is over 500 characters: shorten it\n"
    out.truncate(0)
    out.seek(0)
    line.handle(f"/explore 2 2 ask {HOSTILE_QUESTION}")
    printed = out.getvalue()
    assert "(explored: 2 of 2 expansions, 8 passages)" in printed
    assert "\x1b" not in printed and "\x00" not in printed
    assert explorations[-1].score.question == HOSTILE_QUESTION  # asked as written


def test_ctrl_c_midway_through_explore_keeps_every_passage_and_the_story(tiny, lamp_db):
    command = [*TALETREE, "--db", str(lamp_db), "explore", "Lamp"]
    command += ["--model", str(tiny), "--budget", "400", "--depth", "20"]

    def explored() -> int:
        with Store.open(lamp_db) as store:
            return sum(n.explored for n in store.story_tree(store.find_story("Lamp").id).nodes)

    code, stderr = interrupted_once(command, lambda: explored() >= 8)
    assert code == 130, stderr
    with Store.open(lamp_db) as store:
        story = store.find_story("Lamp")
        nodes = store.story_tree(story.id).nodes
        kept = [n for n in nodes if n.explored]
        assert 8 <= len(kept) < 400 * 4 and all(n.text for n in kept)
        assert store.path_text(store.tip(story.id).id) == "The lamp went out."
    assert f"{len(kept)} passages kept in the tree as explored" in stderr


# ------------------------------------------------------------------------------ generate


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        (["--max-new-tokens", str(10**12)], "max_new_tokens should be from 1 to 32768"),
        (["-n", "0"], "-n: should be a whole number of 1 or more, not '0'"),
        (["-n", str(10**6)], "-n: should be at most 10,000, not 1,000,000"),
        (["--batch-size", "0"], "--batch-size: should be a whole number of 1 or more"),
        (["--batch-size", "1000"], "--batch-size: should be at most 64, not 1,000"),
        (["--temperature", "nan"], "temperature should be a number, not 'nan'"),
        (["--temperature", "inf"], "temperature should be a number, not 'inf'"),
        (["--temperature=-1"], "temperature should be 0 (greedy) or more, not -1.0"),
        (["--top-p", "2"], "top_p should be above 0 and at most 1, not 2.0"),
        (["--seed=-1"], "seed should be from 0 to 2**63 - 1, not -1"),
        (["--seed", str(2**70)], f"seed should be from 0 to 2**63 - 1, not {2**70}"),
        (["--seed", "9" * 5000], "seed should be a whole number, not '99999"),
        (["-n", "²"], "-n: should be a whole number of 1 or more, not '²'"),
    ],
)
def test_bad_generation_settings_are_one_line_before_the_model_loads(capsys, arguments, said):
    model = ("--model", "/no/such/model")
    assert said in refused("generate", *model, "--prompt", "x", *arguments)


def test_a_prompt_file_is_read_with_a_bound_and_a_fifo_never_hangs(tmp_path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as file:
        file.truncate(200 * 2**20)  # 200 MB (sparse: nothing is written to the disk)
    fifo = tmp_path / "nobody-writes"
    os.mkfifo(fifo)
    latin = tmp_path / "latin-1.txt"
    latin.write_bytes("Café".encode("latin-1"))
    for path, said in (
        (huge, "is over 16 MiB: the model reads only the end of a story"),
        ("/dev/zero", "/dev/zero is over 16 MiB"),
        (fifo, "gave no text (nothing writes to it?)"),
        (latin, "isn't UTF-8 text (byte 3 is not): save it as UTF-8"),
        (tmp_path, "can't be read (Is a directory)"),
    ):
        started = time.monotonic()
        model = ("--model", "/no/such/model")
        assert said in refused("generate", *model, "--prompt-file", str(path))
        assert time.monotonic() - started < 20


def test_a_prompt_can_come_through_a_pipe(tiny):
    result = subprocess.run(
        [*TALETREE, "generate", "--model", str(tiny), "--prompt-file", "/dev/stdin"],
        input="Told through a pipe.",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Told through a pipe.")


def test_to_file_refuses_a_fifo_or_a_device_before_generating(tmp_path):
    fifo = tmp_path / "samples"
    os.mkfifo(fifo)
    for target, said in ((fifo, "is not a regular file (a FIFO)"), ("/dev/null", "(a device)")):
        started = time.monotonic()
        result = run_cli(
            "generate", "--model", "/no/such/model", "--prompt", "x", "--to-file", str(target)
        )
        one_line_refusal(result, said, "it is left as it is")  # not "no such model": first
        assert time.monotonic() - started < 20
    assert fifo.is_fifo()
