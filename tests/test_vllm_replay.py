"""vLLM, through its real answers recorded by tests/servers/record_vllm.py: detected with its
window and tokenizer, N branches in one request each with its own seed, legacy log-probabilities
read into token ids and alternatives, every setting sent under vLLM's own names, and greedy text
equal to what Taletree's own engine writes with the same weights; story mode from vLLM's own
rendering of its model's chat template."""

import json
import math

import pytest

from engine import events
from engine.backend import load_backend
from engine.loading import load_model
from engine.reading import RAW, prompt_ids, reading_for
from engine.remote.backend import ServerBackend
from engine.remote.dialects import VLLM
from engine.request import GenerationRequest
from engine.smollm2 import packaged_gguf
from tests.engine_helpers import collect
from tests.engine_helpers import run as run_local
from tests.servers.vllm_replay import (
    GREEDY,
    OPENING,
    RECORDING,
    SPELLED,
    STORY,
    STORY_RECORDING,
    ReplayTransport,
    exercise,
    save_served_model,
    story_exercise,
)

RECORD = json.loads(RECORDING.read_text(encoding="utf-8"))
STORY_RECORD = json.loads(STORY_RECORDING.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def replayed():
    backend = ServerBackend(
        "http://127.0.0.1:8000/v1", transport=ReplayTransport(RECORD["exchanges"])
    )
    return backend, exercise(backend)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    return load_model(str(save_served_model(tmp_path_factory.mktemp("served"))), device="cpu")


def test_vllm_is_detected_with_its_window_and_tokenizer(replayed, local):
    backend, results = replayed
    assert isinstance(backend.dialect, VLLM) and backend.model == "tiny-gpt2"
    assert backend.window == 512 and backend.name == "http://127.0.0.1:8000/v1#tiny-gpt2"
    assert results["ids"] == local.tokenizer.encode(STORY, add_special_tokens=False)
    assert results["first_token_text"] == local.tokenizer.decode([results["first_token"]])


def test_four_branches_in_one_request_each_with_its_own_seed(replayed):
    _, results = replayed
    four, alone = results["four"], results["alone"]
    completions = [e for e in RECORD["exchanges"] if e["request"][1] == "/v1/completions"]
    assert completions[0]["request"][2]["n"] == 4  # one request for the four
    assert [f.seed for f in four["finishes"]] == [7, 8, 9, 10]
    assert len({f.text for f in four["finishes"]}) == 4
    for finish in four["finishes"]:
        mine = [t for t in four["tokens"] if t.branch == finish.branch]
        assert finish.text == "".join(t.delta for t in mine) + finish.delta
        assert finish.reason in (events.LENGTH, events.END_OF_TEXT)
    # Branch 3 alone, from its own seed, is branch 3 again.
    assert alone["finishes"][0].token_ids == four["finishes"][2].token_ids


def test_log_probabilities_become_token_ids_and_alternatives(replayed):
    _, results = replayed
    for token in results["four"]["tokens"]:
        assert token.token_id >= 0 and len(token.top) == 10
        probabilities = [p for _, p in token.top]
        assert probabilities == sorted(probabilities, reverse=True) and sum(probabilities) <= 1.01
        chosen = dict(token.top).get(token.token_id)
        if chosen is not None:
            assert chosen == pytest.approx(math.exp(token.logprob), rel=1e-4)


def test_greedy_text_is_what_taletree_writes_with_the_same_weights(replayed, local):
    _, results = replayed
    _, finished = run_local(local, results["ids"], 1, GREEDY)
    assert results["greedy"]["finishes"][0].token_ids == finished[0].token_ids


def test_every_setting_reaches_vllm_under_its_own_name(replayed):
    _, results = replayed
    banned = results["banned"]
    assert banned["notices"] == []  # vLLM honours them all
    assert all(results["first_token"] not in f.token_ids for f in banned["finishes"])
    body = [e for e in RECORD["exchanges"] if e["request"][1] == "/v1/completions"][3]
    sent = body["request"][2]
    assert (sent["top_k"], sent["min_p"], sent["repetition_penalty"]) == (5, 0.05, 1.3)
    assert sent["logit_bias"] == {str(results["first_token"]): -100}
    assert sent["prompt"] == results["ids"] and sent["return_tokens_as_token_ids"] is True


def test_a_stop_string_ends_the_branch_before_it(replayed):
    _, results = replayed
    [finish] = results["stopped"]["finishes"]
    whole = results["four"]["finishes"][0].text  # the same seed, without the stop string
    assert finish.reason == events.STOP_STRING
    assert finish.text == whole[: whole.index(results["stop"])]


def test_a_model_without_a_chat_template_reads_the_story_as_raw_text(replayed):
    _, results = replayed
    assert results["reading"] == RAW  # and no note: nothing failed, there was nothing to frame


@pytest.mark.skipif(packaged_gguf() is None, reason="the default model isn't installed")
def test_vllm_renders_the_default_models_template_for_story_mode():
    """vLLM serving the default model renders its template itself: the same frame, the same
    tokens and the same greedy continuation as the default model in this process."""
    served = ServerBackend(
        "http://127.0.0.1:8000/v1", transport=ReplayTransport(STORY_RECORD["exchanges"])
    )
    results = story_exercise(served)
    local = load_backend("default")
    assert results["reading"].mode == "story"
    assert results["reading"].frame == local.story_frame()
    reading = reading_for(local, "story")
    assert (results["ids"], results["keep"]) == prompt_ids(local, reading, OPENING, "mystery")
    _, finished, _ = collect(
        local.stream(GenerationRequest(results["ids"], 1, GREEDY, seed=1, keep=results["keep"]))
    )
    assert results["greedy"]["finishes"][0].token_ids == finished[0].token_ids
    two = results["two"]["finishes"]
    assert [f.seed for f in two] == [5, 6] and all(f.text.strip() for f in two)


def test_a_story_that_spells_the_templates_tokens_is_text_to_vllm():
    """vLLM reads a special token's name in any text as that token; Taletree cuts each one so a
    story that spells `<|im_end|>` doesn't end the model's turn."""
    served = ServerBackend(
        "http://127.0.0.1:8000/v1", transport=ReplayTransport(STORY_RECORD["exchanges"])
    )
    results = story_exercise(served)
    named = {served.tokenize_frame(name)[0] for name in ("<|im_end|>", "<|im_start|>")}
    assert named.isdisjoint(results["spelled"]) and results["spelled_back"] == SPELLED
