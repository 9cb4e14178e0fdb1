"""Training tiny GPT-2 and LSTM models for a few steps, reloading them through the engine,
resuming, Ctrl+C, training on the writer's own stories, and bad input."""

import json
import signal
import subprocess
import sys

import pytest
import torch

from engine.events import FinishEvent, TokenEvent
from engine.generate import generate
from engine.loading import load_model
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from engine.training.corpus import format_corpus, generate_corpus
from engine.training.data import TrainingError
from engine.training.settings import TrainSettings, chosen_settings
from engine.training.trainer import Trainer, TrainingInterrupted, batch, working_folder
from story import NodeDraft, Store
from story.corpus import training_texts
from testbed.tiny_models import tiny_char_lstm
from tests.conftest import ROOT, run_here
from tui.cli import build_parser

TINY = [
    "--steps",
    "6",
    "--batch-size",
    "4",
    "--context",
    "48",
    "--tune-tokens",
    "6",
    "--follow-tokens",
    "6",
    "--vocab-size",
    "400",
    "--checkpoint-every",
    "3",
]
TINY_GPT2 = [*TINY, "--layers", "1", "--heads", "2", "--width", "32"]
TINY_LSTM = [*TINY, "--embedding", "16", "--hidden", "32", "--lstm-layers", "1"]
# room for the induction circuit (engine/training/induction.py): biases, slow rotary pairs
TINY_INDUCTION = [
    *TINY,
    *("--arch", "llama", "--start", "induction"),
    *("--layers", "2", "--heads", "3", "--width", "96"),
]


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    stories = [s for s in generate_corpus(60, seed=2) if s[0] in ("horror", "romance")]
    path.write_text(format_corpus(stories), encoding="utf-8")
    return path


def stream_branches(folder):
    model = load_model(str(folder))
    events = list(
        generate(
            model,
            GenerationRequest(
                model.tokenizer.encode("The door", add_special_tokens=False),
                3,
                SamplingSettings(max_new_tokens=8),
                seed=1,
            ),
        )
    )
    finished = [e for e in events if isinstance(e, FinishEvent)]
    assert len(finished) == 3 and any(isinstance(e, TokenEvent) for e in events)
    for f in finished:
        deltas = "".join(
            e.delta for e in events if isinstance(e, TokenEvent) and e.branch == f.branch
        )
        assert deltas + f.delta == f.text
    return model, finished


@pytest.mark.parametrize(
    ("arch", "options"),
    [
        ("gpt2", TINY_GPT2),
        ("llama", ["--arch", "llama", *TINY_GPT2]),
        ("llama-induction", TINY_INDUCTION),
        ("lstm-word", ["--arch", "lstm", "--level", "word", *TINY_LSTM]),
        ("lstm-char", ["--arch", "lstm", "--level", "char", *TINY_LSTM]),
    ],
)
def test_train_reload_and_stream(tmp_path, corpus_file, arch, options):
    out = tmp_path / arch
    result = run_here("train", str(corpus_file), "--out", str(out), *options)
    assert result.returncode == 0, result.stderr
    assert "held-out" in result.stdout and "step 6/6" in result.stderr
    assert "following the writer: person named again 0." in result.stdout
    files = {p.name for p in out.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "generation_config.json",
        "README.md",
    } <= files
    assert not working_folder(out).exists() and not (tmp_path / f".{arch}.staging").exists()
    card = (out / "README.md").read_text()
    assert "held-out bits per character" in card and "### horror" in card
    assert "Chosen:" in card and "| follows |" in card
    assert "## Following the writer" in card and "| person named again |" in card
    model, _ = stream_branches(out)
    assert {"<horror>", "<romance>", "<BOS>", "<EOS>"} <= set(model.tokenizer.get_vocab())
    defaults = json.loads((out / "generation_config.json").read_text())
    assert {"temperature", "top_p", "repetition_penalty"} <= set(defaults)
    scored = run_here("eval", str(out), str(corpus_file), "--json")
    assert scored.returncode == 0, scored.stderr
    bits = json.loads(scored.stdout)["bits_per_character"]
    assert f"{bits:.4f}" in card  # the card's held-out score is what eval measures
    if arch == "gpt2":
        from transformers import AutoModelForCausalLM

        assert AutoModelForCausalLM.from_pretrained(out).config.n_layer == 1
    config = json.loads((out / "config.json").read_text())
    assert config.get("attention_bias", False) == (arch == "llama-induction")


def tiny_settings(**changes):
    base = dict(
        arch="gpt2",
        layers=1,
        heads=2,
        width=32,
        context=48,
        vocab_size=400,
        batch_size=4,
        steps=6,
        checkpoint_every=2,
        tune_tokens=6,
        follow_tokens=6,
    )
    return TrainSettings(**{**base, **changes})


def test_a_batch_starts_each_row_where_a_story_starts_and_anywhere_in_a_long_one():
    """Stories of 5, 4 and 30 tokens (each token its story's number, offset by its place in
    the story) in rows of 8 + 1: a short story's row starts at its first token; the long
    one's rows start anywhere that leaves a whole row; the same step gives the same batch."""
    lengths = [5, 4, 30]
    stream = torch.tensor([100 * story + i for story, n in enumerate(lengths) for i in range(n)])
    story_starts = torch.tensor([0, 5, 9])
    settings = TrainSettings(batch_size=16, seed=3)
    firsts = torch.cat(
        [batch(stream, story_starts, settings, 8, step, "cpu")[0][:, 0] for step in range(40)]
    )
    short = {int(t) for t in firsts if t < 200}
    long_starts = {int(t) - 200 for t in firsts if t >= 200}
    assert short == {0, 100}
    assert long_starts == set(range(30 - 9 + 1))
    again = batch(stream, story_starts, settings, 8, 7, "cpu")
    x, y = batch(stream, story_starts, settings, 8, 7, "cpu")
    assert torch.equal(again[0], x) and torch.equal(y[:, :-1], x[:, 1:])


def test_resume_continues_the_step_count_and_the_loss(tmp_path, corpus_file):
    from engine.training.data import read_corpus

    stories = read_corpus(str(corpus_file))
    straight = Trainer(stories, tmp_path / "straight", tiny_settings()).run()

    def stop_at_four(progress):
        if progress.step == 4:
            raise KeyboardInterrupt

    out = tmp_path / "resumed"
    with pytest.raises(TrainingInterrupted, match="stopped at step 4"):
        Trainer(stories, out, tiny_settings(), progress=stop_at_four).run()
    assert json.loads((working_folder(out) / "checkpoint" / "state.json").read_text())["step"] == 4
    resumed = Trainer(stories, out, tiny_settings(), resume=True).run()
    assert resumed.steps == 6
    assert [s for s, _ in resumed.losses] == [1, 2, 3, 4, 5, 6]
    for (_, a), (_, b) in zip(resumed.losses, straight.losses, strict=True):
        assert a == pytest.approx(b, abs=2e-3)


def test_a_batch_too_big_for_memory_is_trained_in_passes_and_takes_the_same_step(
    tmp_path, corpus_file, monkeypatch
):
    """A batch whose activations don't fit goes through the model a few rows at a time, each
    pass's gradient added in by its share: the losses and the weights are the whole batch's."""
    from engine.training import trainer
    from engine.training.data import read_corpus

    stories = read_corpus(str(corpus_file))
    whole = Trainer(stories, tmp_path / "whole", tiny_settings(steps=3, dropout=0.0))
    whole_result = whole.run()
    monkeypatch.setattr(trainer, "activation_budget", lambda: 1)  # one row fits, no more
    parts = Trainer(stories, tmp_path / "parts", tiny_settings(steps=3, dropout=0.0))
    parts_result = parts.run()
    assert (whole.rows_per_pass, parts.rows_per_pass) == (4, 1)
    for (_, a), (_, b) in zip(whole_result.losses, parts_result.losses, strict=True):
        assert a == pytest.approx(b, abs=1e-4)
    for (name, a), (_, b) in zip(
        whole.model.state_dict().items(), parts.model.state_dict().items(), strict=True
    ):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=name)


def test_the_default_models_batch_of_16_by_512_is_split_to_fit_in_memory():
    """SmolLM2-135M's shape (built on the meta device: no memory): 16 rows of 512 tokens
    would keep about 25 GB for the backward pass, more than a 24 GB machine has."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from engine.training.trainer import activation_bytes_per_token, rows_per_pass

    config = LlamaConfig(
        vocab_size=49152,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
    )
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    assert 20 * 2**30 < 16 * 512 * activation_bytes_per_token(model, 512) < 30 * 2**30
    assert rows_per_pass(model, 16, 512, 6 * 2**30) == 3  # a quarter of 24 GB
    assert rows_per_pass(model, 16, 512, 64 * 2**30) == 16


def test_ctrl_c_saves_a_checkpoint_and_resume_finishes(tmp_path, corpus_file):
    out = tmp_path / "model"
    command = [
        sys.executable,
        "-m",
        "tui",
        "train",
        str(corpus_file),
        "--out",
        str(out),
        *TINY_GPT2[2:],
        "--steps",
        "100000",
    ]
    process = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    seen = ""
    while "step " not in seen:
        seen += process.stderr.read(1)
    process.send_signal(signal.SIGINT)
    _, rest = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "checkpoint is saved" in rest and "--resume" in rest
    assert (working_folder(out) / "checkpoint" / "state.json").exists() and not out.exists()
    step = json.loads((working_folder(out) / "checkpoint" / "state.json").read_text())["step"]
    finish = run_here(
        "train",
        str(corpus_file),
        "--out",
        str(out),
        *TINY_GPT2[2:],
        "--steps",
        str(step + 2),
        "--resume",
    )
    assert finish.returncode == 0, finish.stderr
    assert out.is_dir() and not working_folder(out).exists()


def test_training_on_the_writers_own_stories(tmp_path, db_path):
    with Store.open(db_path) as store:
        story = store.create_story("Mine", genre="Horror", opening="The cellar door creaked.")
        kept = store.append(story.root_id, NodeDraft(" A model line.", author="model"))
        store.append(kept.id, " I ran upstairs, heart pounding, and locked every door.")
        store.create_story("Empty")
        assert training_texts(store) == [
            (
                "Horror",
                "The cellar door creaked. I ran upstairs, heart pounding, and locked every door.",
            )
        ]
        assert "A model line." in training_texts(store, include_model_text=True)[0][1]
    out = tmp_path / "mine"
    result = run_here("train", "--from-db", "--out", str(out), *TINY_LSTM, db=db_path)
    assert result.returncode == 0, result.stderr
    assert "<horror>" in load_model(str(out)).tokenizer.get_vocab()


def test_fine_tuning_an_existing_model_adds_the_genre_tokens(tmp_path, corpus_file):
    from testbed.tiny_models import save_tiny_model

    base = save_tiny_model(tmp_path / "base", "gpt2", window=64)
    out = tmp_path / "tuned"
    result = run_here(
        "train",
        str(corpus_file),
        "--from",
        str(base),
        "--out",
        str(out),
        "--steps",
        "3",
        "--batch-size",
        "2",
        "--context",
        "32",
        "--tune-tokens",
        "4",
        "--follow-tokens",
        "4",
    )
    assert result.returncode == 0, result.stderr
    model = load_model(str(out))
    vocabulary = model.tokenizer.get_vocab()
    assert {"<horror>", "<romance>", "<BOS>"} <= set(vocabulary)
    assert model.vocab_size >= len(model.tokenizer)


def test_an_architecture_and_level_bring_their_defaults_under_the_flags_given():
    char = chosen_settings("lstm", "char", {"hidden": 64, "steps": None})
    assert (char.embedding, char.hidden, char.lstm_layers, char.learning_rate) == (32, 64, 1, 2e-3)
    assert char.epochs == 1  # no length given: one pass over the corpus
    gpt2 = chosen_settings("gpt2", "char", {"minutes": 2.5, "context": 128})
    assert (gpt2.embedding, gpt2.context, gpt2.learning_rate) == (100, 128, 1e-3)
    assert gpt2.dropout == 0.0 and chosen_settings("gpt2", "word", {}).context == 512
    assert (gpt2.minutes, gpt2.epochs) == (2.5, None)
    flags = build_parser().parse_args(["train", "--out", "m", "--dropout", "0.5", "--steps", "3"])
    assert (flags.dropout, flags.steps, flags.hidden) == (0.5, 3, None)


def bad(tmp_path, *args, db=None):
    result = run_here("train", *args, db=db)
    assert result.returncode == 2, result
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


def test_bad_input_leaves_nothing_behind(tmp_path, corpus_file, db_path):
    out = tmp_path / "out"
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert "corpus is empty" in bad(tmp_path, str(empty), "--out", str(out))
    assert "no such file" in bad(tmp_path, str(tmp_path / "nope.txt"), "--out", str(out))
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n")
    assert "no column 'story'" in bad(tmp_path, str(table), "--column", "story", "--out", str(out))
    assert "no story text" in bad(tmp_path, "--from-db", "--out", str(out), db=db_path)
    made = {"empty.txt", "t.csv", "stories.db"}  # the inputs, and the database --from-db read
    assert {p.name for p in tmp_path.iterdir()} <= made  # no model folder, no checkpoint
    assert not out.exists() and not working_folder(out).exists()
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert "exists" in bad(tmp_path, str(corpus_file), "--out", str(out), *TINY_GPT2)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert not working_folder(out).exists()


def test_a_start_that_cant_be_is_one_line_and_writes_nothing(tmp_path, corpus_file):
    out = tmp_path / "out"
    for options, said in (
        (["--start", "warm"], "unknown start 'warm': use random or induction"),
        (["--start", "induction"], "--start induction is for --arch llama"),
        (["--arch", "llama", "--start", "induction"], "needs at least 2 layers and 3 heads"),
        (
            [*TINY_INDUCTION, "--from", str(corpus_file)],
            "not one given by --from",
        ),
    ):
        assert said in bad(tmp_path, str(corpus_file), "--out", str(out), *TINY_GPT2, *options)
    assert not out.exists() and not working_folder(out).exists()


def test_a_damaged_checkpoint_is_refused(tmp_path, corpus_file):
    out = tmp_path / "model"
    from engine.training.data import read_corpus

    stories = read_corpus(str(corpus_file))

    def stop(progress):
        if progress.step == 2:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted):
        Trainer(stories, out, tiny_settings(), progress=stop).run()
    (working_folder(out) / "checkpoint" / "model.safetensors").write_bytes(b"not weights")
    message = bad(tmp_path, str(corpus_file), "--out", str(out), *TINY_GPT2, "--resume")
    assert "damaged" in message and str(working_folder(out)) in message
    with pytest.raises(TrainingError, match=r"no checkpoint"):
        Trainer(stories, tmp_path / "other", tiny_settings(), resume=True)


def test_the_lstm_state_is_reused_between_turns(tmp_path, corpus_file):
    from engine.training.data import read_corpus

    stories = read_corpus(str(corpus_file))
    settings = tiny_char_lstm()
    from engine.training.pipeline import train

    train(Trainer(stories, tmp_path / "char", settings), corpus_name="tiny")
    model = load_model(str(tmp_path / "char"))
    story = model.tokenizer.encode("The lamp", add_special_tokens=False)
    cold = model.prefill([*story, 5])
    model.prefill(story)
    assert model.cached_prefix([*story, 5]) == len(story) and model.cached_prefix([5]) == 0
    warm = model.prefill([*story, 5])  # continues from the state after `story`
    assert torch.allclose(cold, warm, atol=1e-5)
    _, finished = stream_branches(tmp_path / "char")
    assert len({f.text for f in finished}) > 1


def test_a_gpt2_tokenizer_keeps_everyday_words_whole_and_names_alike_everywhere():
    from engine.training.data import TrainingText
    from engine.training.tokenizers import train_bpe

    stories = [TrainingText("horror", "The door creaked. Nobody came.")] * 5
    tokenizer = train_bpe(stories, ["horror"], 4096)

    def tokens(text):
        return tokenizer.encode(text, add_special_tokens=False)

    for word in (" yes", " leave", " window", " grandmother", "Yesterday", " kitchen"):
        assert len(tokens(word)) == 1, word
    # A name is the same tokens wherever it stands, so a model can copy it on.
    for before in (" ", "\n", '"'):
        assert tokens(before + "Oskarine")[-len(tokens("Oskarine")) :] == tokens("Oskarine")
    sentence = "Mira found the brass key under the floorboards of her grandmother's cottage."
    assert tokenizer.decode(tokenizer.encode(sentence, add_special_tokens=False)) == sentence
