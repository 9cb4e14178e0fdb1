"""GGUF files in this process, on real llama.cpp (its Python binding, built from the same source
as the tests' llama-server by tools/build-llama-cpp.sh): a tiny GPT-2 and a tiny Llama,
converted by llama.cpp's own converter to f32 and quantized to Q8_0 by its own quantizer.

Greedy text equals llama-server's on the same file and the torch engine's on the folder the
file came from; seeded branches repeat and differ; the warm path (append, sibling, keep) equals a
cold run and decodes only what changed; cancel stops within one step; token records, the token
view's fork, and every face. Then `taletree convert`, and each bad input: one line, exit 2,
nothing written."""

import math
import struct
import subprocess
import sys
import threading
from itertools import chain

import pytest
import torch

from common.errors import UserError
from engine import events
from engine.backend import load_backend
from engine.events import FinishEvent, TokenEvent
from engine.gguf.convert import convert_to_gguf, quantize
from engine.gguf.model import GGUFError
from engine.lstm import LSTMConfig, LSTMLanguageModel
from engine.remote.backend import ServerBackend
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from engine.training.settings import TrainSettings
from engine.training.trainer import build_model
from testbed.app_driver import wait_until
from testbed.llama_server import LlamaServer, to_gguf
from testbed.tiny_models import byte_level_tokenizer, config_for, save_random_model, save_tiny_model
from tests.app_helpers import SIZE, line_mode_generation, model_session, screen_text
from tests.conftest import one_line_refusal, run_cli
from tests.engine_helpers import collect
from tui.app import TaletreeApp

KINDS = ("gpt2", "llama")
QUANTS = ("f32", "q8_0")
STORY = "The keeper climbed the stairs of the lighthouse."
GREEDY = SamplingSettings(temperature=0, max_new_tokens=32, stop_mode="tokens")
SAMPLED = SamplingSettings(temperature=1.0, max_new_tokens=24, stop_mode="tokens")
# (llama.cpp's kernels for a batch of many tokens round differently from one token at a time)
BATCH_ROUNDING = 2e-3
KV_ROUNDING = 5e-3  # llama.cpp keeps keys and values in f16: log-probabilities agree this far


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Each tiny model's folder, and the same weights as an f32 GGUF (llama.cpp's converter)
    and a Q8_0 one (its quantizer, from the f32 file, as `taletree convert` does)."""
    root = tmp_path_factory.mktemp("gguf")
    made = {}
    for kind in KINDS:
        made[kind] = save_tiny_model(root / kind, kind, window=512)
        made[kind, "f32"] = to_gguf(made[kind], root / f"{kind}-f32.gguf")
        made[kind, "q8_0"] = root / f"{kind}-q8_0.gguf"
        quantize(made[kind, "f32"], made[kind, "q8_0"], "q8_0")
    return made


def opened(path, **options):
    return load_backend(str(path), device="cpu", **options)


def tokens_of(backend, ids, branches=1, settings=GREEDY, **options):
    """Each branch's token ids and their log-probabilities."""
    tokens, finishes, _ = collect(
        backend.stream(GenerationRequest(ids, branches, settings, **options))
    )
    assert len(finishes) == branches
    return [[(e.token_id, e.logprob) for e in tokens if e.branch == b] for b in range(branches)]


def ids_only(branches):
    return [[token for token, _ in branch] for branch in branches]


# ------------------------------------------------------------------------------ the engine


@pytest.mark.parametrize("kind", KINDS)
def test_an_f32_gguf_writes_what_the_folder_it_came_from_writes(files, kind):
    gguf, torch_engine = opened(files[kind, "f32"]), opened(files[kind])
    assert (gguf.device, gguf.serving_path, gguf.window) == ("cpu", "llama.cpp, F32", 512)
    ids = torch_engine.tokenize(STORY)
    assert gguf.tokenize(STORY) == ids
    assert gguf.token_text(ids[3]) == torch_engine.token_text(ids[3])
    ours, theirs = tokens_of(gguf, ids)[0], tokens_of(torch_engine, ids)[0]
    assert ids_only([ours]) == ids_only([theirs]) and len(ours) == GREEDY.max_new_tokens
    for (_, mine), (_, reference) in zip(ours, theirs, strict=True):
        assert math.isclose(mine, reference, abs_tol=KV_ROUNDING)


def test_an_f32_gguf_of_a_llama_started_from_induction_writes_what_its_folder_writes(tmp_path):
    """Its circuit lives in attention biases and slow rotary pairs (rope_theta 1e6), which the
    converter and llama.cpp must carry over."""
    tokenizer = byte_level_tokenizer()
    settings = TrainSettings(
        arch="llama", start="induction", layers=2, heads=3, width=96, context=512
    )
    model = build_model(settings, tokenizer)
    with torch.no_grad():
        for weights in model.parameters():  # as if trained a little: nothing exactly zero
            weights.add_(0.02 * torch.randn_like(weights))
        model.model.norm.weight.mul_(8)  # clear greedy choices (the embeddings are tied)
    model.save_pretrained(tmp_path / "folder")
    tokenizer.save_pretrained(tmp_path / "folder")
    folder = opened(tmp_path / "folder")
    gguf = opened(to_gguf(tmp_path / "folder", tmp_path / "llama.gguf"))
    ids = folder.tokenize(STORY)
    ours, theirs = tokens_of(gguf, ids)[0], tokens_of(folder, ids)[0]
    assert ids_only([ours]) == ids_only([theirs]) and len(ours) == GREEDY.max_new_tokens
    for (_, mine), (_, reference) in zip(ours, theirs, strict=True):
        assert math.isclose(mine, reference, abs_tol=KV_ROUNDING)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("quant", QUANTS)
def test_greedy_equals_llama_servers_greedy_on_the_same_file(files, kind, quant):
    gguf = opened(files[kind, quant])
    assert gguf.serving_path == f"llama.cpp, {quant.upper()}"
    ids = gguf.tokenize(STORY)
    server = LlamaServer(files[kind, quant], slots=1, context=512)
    try:
        backend = ServerBackend(server.url)
        served = collect(backend.stream(GenerationRequest(ids, 1, GREEDY)))[1][0]
        backend.close()
    finally:
        server.close()
    ours = collect(gguf.stream(GenerationRequest(ids, 1, GREEDY)))[1][0]
    assert ours.text == served.text and len(ours.token_ids) == GREEDY.max_new_tokens
    # (llama-server leaves out the log-probabilities of a token that ends inside a character,
    # so its list may lack a few ids, never the text)
    remaining = iter(ours.token_ids)
    assert all(token in remaining for token in served.token_ids)


def test_four_seeded_branches_repeat_and_differ(files):
    gguf = opened(files["llama", "q8_0"])
    ids = gguf.tokenize(STORY)
    first = tokens_of(gguf, ids, 4, SAMPLED, seed=11)
    assert ids_only(tokens_of(gguf, ids, 4, SAMPLED, seed=11)) == ids_only(first)
    assert len({tuple(branch) for branch in ids_only(first)}) == 4
    seeds = gguf.branch_seeds(11, 4)  # a re-roll of branch 3 alone writes what it wrote
    assert ids_only(tokens_of(gguf, ids, 1, SAMPLED, seeds=[seeds[2]])) == ids_only(first)[2:3]


class Counted:
    """Counts the tokens llama.cpp is given to decode into the story's sequence."""

    def __init__(self, model):
        self.fed = 0
        run = model.run

        def counting(entries):
            self.fed += sum(1 for *_, sequence, _ in entries if sequence == 0)
            return run(entries)

        model.run = counting


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("quant", QUANTS)
def test_the_warm_path_equals_a_cold_run_and_decodes_only_what_changed(files, kind, quant):
    path = files[kind, quant]
    warm = opened(path)
    story = warm.tokenize(STORY * 4)
    counted = Counted(warm.model)
    written = ids_only(tokens_of(warm, story, 2, SAMPLED, seed=5))
    appended = story + written[0][:20]  # the writer keeps 20 tokens of branch 1
    ending = warm.tokenize(" a gull cried")
    sibling = story[:-6] + ending  # then a sibling: the story's end written anew
    for request, new in ((appended, 20), (sibling, len(ending)), (sibling, 0)):
        counted.fed = 0
        assert warm.cached_prefix(request) == len(request) - new  # what the context view says
        got = tokens_of(warm, request, 2, SAMPLED, seed=9)
        assert counted.fed == new  # only the changed tokens (none for the same request)
        cold = tokens_of(opened(path), request, 2, SAMPLED, seed=9)
        assert ids_only(got) == ids_only(cold)
        if quant != "f32":  # Q8_0's kernels quantize activations, which differ more by batch
            continue
        for mine, theirs in zip(got, cold, strict=True):
            assert all(
                math.isclose(a, b, abs_tol=BATCH_ROUNDING)
                for (_, a), (_, b) in zip(mine, theirs, strict=True)
            )


def test_cancel_stops_every_branch_within_one_step(files):
    gguf = opened(files["gpt2", "f32"])
    cancel = threading.Event()
    settings = SamplingSettings(
        temperature=1.0, max_new_tokens=400, stop_mode="tokens", ban_end_of_text=True
    )
    seen, seen_at_cancel, reasons = 0, None, []
    for event in gguf.stream(
        GenerationRequest(gguf.tokenize("Once"), 4, settings, seed=3), cancel=cancel
    ):
        if isinstance(event, TokenEvent):
            seen += 1
            if seen == 40:
                seen_at_cancel = seen
                cancel.set()
        elif isinstance(event, FinishEvent):
            reasons.append(event.reason)
    assert reasons == [events.CANCELLED] * 4
    assert seen - seen_at_cancel < 4  # the rest of the step under way, no more


def test_a_model_with_a_window_larger_than_memory_says_how_much_fits(tmp_path):
    tokenizer = byte_level_tokenizer()
    config = config_for("llama", len(tokenizer), 2**30, tokenizer.eos_token_id)
    folder = save_random_model(tmp_path / "long", config, tokenizer, seed=0)
    path = to_gguf(folder, tmp_path / "long.gguf")
    with pytest.raises(GGUFError, match=r"window of 1,073,741,824 tokens needs [\d.]+ GiB") as e:
        opened(path)
    assert "at most" in str(e.value) and "--context-limit" in str(e.value)
    limited = opened(path, context_limit=1024)  # as the message says: a smaller context
    assert limited.window == 1024
    assert len(tokens_of(limited, limited.tokenize(STORY))[0]) == GREEDY.max_new_tokens


def test_the_judge_reads_answers_beside_the_story_without_disturbing_it(files):
    gguf, torch_engine = opened(files["llama", "f32"]), opened(files["llama"])
    story = gguf.tokenize(STORY)
    first = tokens_of(gguf, story, 2, SAMPLED, seed=4)
    prompts = [story + gguf.tokenize(" Is it night?"), gguf.tokenize("Dawn. Is it night?")]
    ours = gguf.answer_logprobs(prompts, [5, 9])
    theirs = torch_engine.answer_logprobs(prompts, [5, 9])
    for mine, reference in zip(chain(*ours), chain(*theirs), strict=True):
        assert math.isclose(mine, reference, abs_tol=KV_ROUNDING)
    assert ids_only(tokens_of(gguf, story, 2, SAMPLED, seed=4)) == ids_only(first)


# ------------------------------------------------------------------------------ the faces


def test_the_writing_core_keeps_branches_with_token_records_and_forks(store, files):
    story = store.create_story("Local", opening="The keeper climbed the stairs.")
    session = model_session(store, str(files["gpt2", "q8_0"]))
    session.open_story(story.id)
    [backend] = session.load_models()
    assert (backend.device, backend.serving_path) == ("cpu", "llama.cpp, Q8_0")
    session.set_setting("max_new_tokens", 12)
    session.set_setting("stop_mode", "tokens")
    session.start_generation().run()
    session.drain()
    branch = session.branches[1]
    node = session.store.node(branch.node_id)
    assert node.model == str(files["gpt2", "q8_0"]) and node.author == "model"
    records = session.token_records(node.id)
    # Random weights may draw the end of text before the 12th token; every token has a record.
    assert branch.reason == (events.LENGTH if len(records) == 12 else events.END_OF_TEXT)
    assert len(records) == branch.tokens and all(r.top and r.logprob <= 0 for r in records)
    assert backend.tokenizer.decode([r.token_id for r in records]) == node.text
    alternative = records[0].top[1][0]
    fork = session.fork(node.id, 0, alternative)  # the token view's fork
    assert fork.text == backend.token_text(alternative)


def test_generate_with_a_gguf_writes_what_the_folder_writes(files, tmp_path):
    def generated(model):
        result = run_cli(
            "generate",
            "--model",
            str(model),
            "--prompt",
            "Night.",
            "-n",
            "4",
            "--batch-size",
            "4",
            "--max-new-tokens",
            "10",
            "--seed",
            "4",
            "--verbose",
        )
        assert result.returncode == 0, result.stderr
        return result

    from_gguf, from_folder = generated(files["llama", "f32"]), generated(files["llama"])
    assert "cpu, llama.cpp, F32, with a window of 512 tokens" in from_gguf.stderr
    assert from_gguf.stdout == from_folder.stdout and from_gguf.stdout.count("=" * 20) == 3


def test_line_mode_writes_with_a_gguf(store, files):
    printed = line_mode_generation(store, str(files["llama", "q8_0"]))
    assert "(ready: cpu, llama.cpp, Q8_0, raw text)" in printed
    assert all(f"[{n}]" in printed for n in range(1, 5))


async def test_the_app_status_line_shows_llama_cpp_the_quantization_and_the_device(store, files):
    story = store.create_story("Status", opening="The lamp went out.")
    app = TaletreeApp(
        model_session(store, str(files["gpt2", "q8_0"])), story_id=story.id, blink=False
    )
    async with app.run_test(size=(240, SIZE[1])) as pilot:  # wide: the file's path is long
        await wait_until(pilot, lambda: app.session.backend is not None)
        await pilot.pause(0.1)
        shown = screen_text(app)
    assert "gpt2-q8_0.gguf  │  cpu, llama.cpp, Q8_0, raw text\n" in shown


# ------------------------------------------------------------------------------ bad input


def arch_renamed(path, out, name: bytes):
    """A copy of a GGUF whose general.architecture says `name` (as long as the real one)."""
    data = bytearray(path.read_bytes())
    key = data.index(b"general.architecture") + len(b"general.architecture")
    value_type, length = struct.unpack_from("<IQ", data, key)
    assert value_type == 8 and length == len(name)  # a string, replaced in place
    data[key + 12 : key + 12 + length] = name
    out.write_bytes(bytes(data))
    return out


def test_a_file_that_isnt_a_gguf_is_one_line(tmp_path):
    notes = tmp_path / "notes.gguf"
    notes.write_text("not weights at all")
    one_line_refusal(
        run_cli("generate", "--model", str(notes), "--prompt", "x"), "is not a GGUF file"
    )


def test_a_folder_holding_one_gguf_opens_it_and_one_holding_two_asks_which(files, tmp_path):
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    (shelf / "tiny.gguf").symlink_to(files["gpt2", "q8_0"])
    assert opened(shelf).serving_path == "llama.cpp, Q8_0"
    (shelf / "other.gguf").symlink_to(files["gpt2", "f32"])
    result = run_cli("generate", "--model", str(shelf), "--prompt", "x")
    one_line_refusal(result, "holds 2 GGUF files: pass the one to use", "other.gguf")


def test_a_truncated_gguf_is_one_line(files, tmp_path):
    whole = files["gpt2", "f32"].read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(whole[: len(whole) // 2])
    one_line_refusal(
        run_cli("generate", "--model", str(cut), "--prompt", "x"),
        "cut.gguf can't be loaded by llama.cpp: tensor",
        "not within the file bounds",
    )


def test_an_architecture_llama_cpp_doesnt_know_is_one_line_naming_it(files, tmp_path):
    odd = arch_renamed(files["gpt2", "f32"], tmp_path / "odd.gguf", b"gpt9")
    result = run_cli("generate", "--model", str(odd), "--prompt", "x")
    one_line_refusal(
        result, "odd.gguf can't be loaded by llama.cpp: unknown model architecture: 'gpt9'"
    )


def test_a_genre_the_vocabulary_has_no_token_for_is_one_line(files):
    result = run_cli(
        "generate", "--model", str(files["gpt2", "q8_0"]), "--genre", "mystery", "--prompt", "x"
    )
    one_line_refusal(result, "has no genre token <mystery>: it was trained without genres")


def test_a_gpu_asked_of_a_cpu_only_build_is_one_line(files):
    from engine.gguf.binding import llama

    if llama().llama_supports_gpu_offload():
        pytest.skip("this llama.cpp build has a GPU backend")
    result = run_cli("generate", "--model", str(files["gpt2", "q8_0"]), "--device", "cuda")
    one_line_refusal(result, "runs only on the CPU: use --device cpu")


def test_without_the_binding_a_gguf_is_one_line_saying_how_to_get_it(files):
    hide = (
        "import sys; sys.modules['llama_cpp'] = None; from tui.cli import main; "
        f"sys.exit(main(['generate', '--model', {str(files['gpt2', 'q8_0'])!r}, '--prompt', 'x']))"
    )
    result = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True)
    one_line_refusal(result, "isn't installed", "make gguf", "taletree[gguf]")


# ------------------------------------------------------------------------------ convert


def test_convert_turns_the_demo_model_into_a_gguf_that_writes_the_same(tmp_path):
    out = tmp_path / "demo.gguf"
    result = run_cli("convert", "--quant", "f32", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    gguf = opened(out)
    from assets import DEMO_MODEL

    demo = opened(DEMO_MODEL)
    assert gguf.genres() == demo.genres() and gguf.genre_prefix("mystery") == demo.genre_prefix(
        "mystery"
    )
    ids = [*demo.genre_prefix("mystery"), *demo.tokenize("Mira found the brass key.")]
    assert gguf.tokenize("Mira found the brass key.") == ids[2:]
    assert ids_only(tokens_of(gguf, ids, 4, SAMPLED, seed=8)) == ids_only(
        tokens_of(demo, ids, 4, SAMPLED, seed=8)
    )


def test_convert_quantizes_with_llama_cpps_quantizer_and_reports_progress(files, tmp_path):
    stages = []
    out = tmp_path / "small.gguf"
    convert_to_gguf(files["llama"], out, "q4_k_m", lambda stage, done: stages.append((stage, done)))
    assert opened(out).serving_path == "llama.cpp, Q4_K - Medium"
    names = [stage for stage, _ in stages]
    assert names[0] == "reading" and "quantizing" in names and stages[-1] == ("done", 1.0)
    writing = [done for stage, done in stages if stage == "writing"]
    assert writing and writing[-1] == 1.0 and writing == sorted(writing)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.gguf"]


def test_convert_refuses_what_it_cant_convert_and_writes_nothing(files, tmp_path):
    lstm = tmp_path / "lstm"
    LSTMLanguageModel(LSTMConfig(vocab_size=20, embedding=4, hidden=4, layers=1)).save(lstm)
    out = tmp_path / "out"
    out.mkdir()
    for folder, target, said in (
        (tmp_path / "nowhere", out / "a.gguf", "is not a folder"),
        (lstm, out / "b.gguf", "holds an LSTM, which llama.cpp can't run"),
        (files["gpt2"], out / "d.bin", "should end in .gguf"),
    ):
        with pytest.raises(UserError, match=said):
            convert_to_gguf(folder, target, "q8_0")
    # At the command line: one line and exit 2 for an existing file (left as it was) and for a
    # model whose weights are cut short (refused from their header, before the converter
    # runs), with nothing written. (test_hostile_commands.py: one the converter fails on.)
    existing = tmp_path / "kept.gguf"
    existing.write_bytes(b"a writer's file")
    broken = tmp_path / "broken"
    save_tiny_model(broken, "gpt2")
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:2000])
    for folder, target, said in (
        (files["gpt2"], existing, "exists: choose another -o"),
        (broken, out / "c.gguf", "broken's weights can't be read: Error while deserializing"),
    ):
        one_line_refusal(run_cli("convert", str(folder), "-o", str(target)), said)
    assert list(out.iterdir()) == [] and existing.read_bytes() == b"a writer's file"
