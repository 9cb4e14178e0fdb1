"""Every popular causal family, exact: tiny random-weight models of each (testbed/model_families.py)
loaded the way a writer loads one, against the same model in Hugging Face's own hands.

For each family: greedy decoding equals model.generate() from a prompt longer than the sliding
window where the family has one, cold and warm (text appended, a move to a sibling, a branch
kept); a context longer than the window is trimmed to what HF is then given; seeded branches
repeat and differ; and every step's logits equal one full forward pass over the same tokens, so
a greedy match by luck can't hide an error. A family the engine can't serve is refused by name.
"""

import pytest
import torch
from transformers import AutoModelForCausalLM

import engine.hf_model
import engine.kv_cache
from engine.general import GeneralModel
from engine.hf_model import HFModel, full_logits
from engine.loading import ModelError, load_model
from engine.settings import SamplingSettings
from engine.window import fit_window
from testbed.model_families import FAMILIES, REFUSED, SLIDE, sliding_window_of
from testbed.tiny_models import save_family_model
from tests.conftest import run_here
from tests.engine_helpers import reference_greedy, run

NEW_TOKENS = 48
GREEDY = SamplingSettings(temperature=0, max_new_tokens=NEW_TOKENS)
SAMPLED = SamplingSettings(temperature=2.0, max_new_tokens=12)
# The ways a model is served: which one a family takes is the load-time check's choice (it
# moves as transformers routes more families through its attention registry); every one of
# them must give the model's own numbers.
PATHS = {"fast path": HFModel, "general path": GeneralModel, "general path, no cache": GeneralModel}


def prompt(length: int, salt: int = 0) -> list[int]:
    return [(i * 37 + 11 + salt) % 399 + 1 for i in range(length)]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """Each family built, saved and loaded once: (engine model, HF's model, folder)."""
    models = {}

    def load(family: str):
        if family not in models:
            folder = save_family_model(tmp_path_factory.mktemp(family), family)
            reference = AutoModelForCausalLM.from_pretrained(folder).eval()
            models[family] = (load_model(str(folder), device="cpu"), reference, folder)
        return models[family]

    return load


def greedy(model, ids: list[int], max_new_tokens: int = NEW_TOKENS) -> list[int]:
    settings = SamplingSettings(temperature=0, max_new_tokens=max_new_tokens)
    _, finished = run(model, ids, 1, settings)
    return list(finished[0].token_ids)


@pytest.mark.parametrize("family", FAMILIES)
def test_greedy_equals_hugging_face_cold_and_warm(loaded, family):
    model, reference, _ = loaded(family)
    assert isinstance(model, PATHS[model.serving_path.split(" (")[0]])
    story = prompt(40)
    assert len(story) > (sliding_window_of(reference.config) or 0)
    cold = greedy(model, story)
    assert cold == reference_greedy(reference, story, NEW_TOKENS)

    appended = story + prompt(6, salt=5)  # the writer adds a sentence
    assert greedy(model, appended) == reference_greedy(reference, appended, NEW_TOKENS)
    sibling = story[:30] + prompt(9, salt=9)  # a move to a sibling further up
    assert greedy(model, sibling) == reference_greedy(reference, sibling, NEW_TOKENS)
    _, sampled = run(model, story, 2, SAMPLED, seed=11)
    kept = story + list(sampled[1].token_ids)  # a branch kept: its tokens join the story
    assert greedy(model, kept) == reference_greedy(reference, kept, NEW_TOKENS)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_step_gives_the_logits_of_a_full_forward_pass(loaded, family):
    model, reference, _ = loaded(family)
    story = prompt(40)
    tokens = greedy(model, story)[: NEW_TOKENS - 1]
    expected = full_logits(reference, story + tokens, torch.device("cpu"))
    with torch.inference_mode():
        steps = [model.prefill(story)]
        model.start_branches(1, NEW_TOKENS)
        steps += [model.decode(torch.tensor([token]))[0] for token in tokens]
        model.end_branches()
    error = (torch.stack(steps) - expected[len(story) - 1 :]).abs().max().item()
    assert error <= 1e-4, f"{family}: largest logit error {error:.2e}"


@pytest.mark.parametrize("family", FAMILIES)
def test_a_context_longer_than_the_window_is_trimmed_as_hf_is_given_it(loaded, family):
    model, reference, _ = loaded(family)
    if model.window is None:  # Bloom, Mamba, RecurrentGemma: it reads all it is given
        long_story = prompt(200, salt=3)  # (the writing core bounds it by context_limit)
        assert greedy(model, long_story, 24) == reference_greedy(reference, long_story, 24)
        return
    long_story = prompt(model.window + 30, salt=3)
    trimmed = fit_window(long_story, model.window, 24)
    assert len(trimmed) + 24 <= model.window and trimmed[-8:] == long_story[-8:]
    assert greedy(model, long_story, 24) == reference_greedy(reference, trimmed, 24)


@pytest.mark.parametrize("family", FAMILIES)
def test_seeded_branches_repeat_and_differ(loaded, family):
    model, _, _ = loaded(family)
    first = run(model, prompt(24), 4, SAMPLED, seed=1234)[1]
    again = run(model, prompt(24), 4, SAMPLED, seed=1234)[1]
    texts = [first[i].token_ids for i in range(4)]
    assert texts == [again[i].token_ids for i in range(4)]
    assert len(set(texts)) == 4


SLIDING_ON_FAST_PATH = [
    "qwen2-sliding",
    "mistral-sliding",
    "gemma2",
    "gemma3_text",
    "cohere2",
    "starcoder2",
]


class AttentionOfItsOwn:
    """Stands in for GPT-2's view of transformers' attention registry: whatever is registered,
    the model computes attention its own way (PyTorch's SDPA), as a family outside the
    registry does."""

    @staticmethod
    def get_interface(name, default):
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        return sdpa_attention_forward


def test_a_model_whose_attention_bypasses_the_registry_never_takes_the_fast_path(
    tmp_path, monkeypatch
):
    import transformers.models.gpt2.modeling_gpt2 as gpt2

    folder = save_family_model(tmp_path / "gpt2", "gpt2")
    assert load_model(str(folder)).serving_path == "fast path"  # as transformers ships it
    monkeypatch.setattr(gpt2, "ALL_ATTENTION_FUNCTIONS", AttentionOfItsOwn())
    model = load_model(str(folder))
    assert isinstance(model, GeneralModel)
    # and it says why, where the writer sees how the model runs
    assert model.serving_path.startswith("general path (the fast path differs from the model's")
    reference = AutoModelForCausalLM.from_pretrained(folder).eval()
    story = prompt(40)
    assert greedy(model, story) == reference_greedy(reference, story, NEW_TOKENS)
    # and it is the check that refuses it: forced onto the fast path, its numbers differ
    fast = HFModel(model.model, model.tokenizer, "gpt2")
    model.model.set_attn_implementation(engine.kv_cache.ATTENTION)
    assert not fast.serves_exactly()


@pytest.mark.parametrize("family", SLIDING_ON_FAST_PATH)
def test_a_sliding_layer_keeps_only_what_its_window_needs(loaded, family, monkeypatch):
    model, reference, _ = loaded(family)
    assert isinstance(model, HFModel)
    monkeypatch.setattr(engine.kv_cache, "SLIDING_SLACK", 4)
    monkeypatch.setattr(engine.hf_model, "PREFILL_CHUNK", 24)  # letting go between chunks too
    story = prompt(80)
    assert greedy(model, story, 24) == reference_greedy(reference, story, 24)
    layers = model.cache.layers
    sliding = [layer for layer in layers if layer.window == SLIDE]
    assert sliding and all(layer.offset > 0 for layer in sliding)
    assert all(layer.keys.shape[2] < len(story) for layer in sliding)
    assert all(layer.offset == 0 for layer in layers if layer.window is None)

    appended = story + prompt(20, salt=1)  # warm, from a cache that let go of its start
    assert greedy(model, appended, 24) == reference_greedy(reference, appended, 24)
    far_back = story[:30] + prompt(10, salt=2)  # what it let go of is computed again
    assert greedy(model, far_back, 24) == reference_greedy(reference, far_back, 24)


@pytest.mark.parametrize("family", ["gemma2", "mistral-sliding", "bloom", "gptj", "falcon"])
def test_the_command_line_matches_and_says_how_the_model_runs(loaded, family):
    model, reference, folder = loaded(family)
    text = "The keeper climbed the stairs"
    ids = model.tokenizer.encode(text, add_special_tokens=False)
    expected = model.tokenizer.decode(reference_greedy(reference, ids, 16))
    result = run_here(
        "generate",
        "--model",
        str(folder),
        "--prompt",
        text,
        "--temperature",
        "0",
        "--max-new-tokens",
        "16",
        "--no-include-prefix",
        "--stop-mode",
        "tokens",
        "--verbose",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip("\n") == expected
    assert f": cpu, {model.serving_path}, with " in result.stderr


@pytest.mark.parametrize("family", REFUSED)
def test_a_family_the_engine_cant_serve_is_refused_by_name(tmp_path, family):
    folder = save_family_model(tmp_path / family, family)
    with pytest.raises(ModelError, match=f"{family} models are {REFUSED[family][1]}"):
        load_model(str(folder))
    result = run_here("generate", "--model", str(folder), "--prompt", "Once")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and family in result.stderr
