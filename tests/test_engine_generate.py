"""The engine on tiny real models (GPT-2, Llama, GPT-NeoX built from configs): greedy decoding
matches Hugging Face's generate() exactly through every cache path, seeds repeat, branches
differ, cancellation stops within a step, deltas add up to the tokens' text."""

import threading

import pytest
import torch
from transformers import AutoModelForCausalLM

from engine import events
from engine.events import FinishEvent, TokenEvent
from engine.generate import generate
from engine.loading import load_model
from engine.request import GenerationRequest
from engine.settings import SamplingSettings, SettingsError
from engine.window import fit_window
from testbed.tiny_models import save_tiny_model
from tests.engine_helpers import decode_continuation, deltas_of, reference_greedy, run

GREEDY = SamplingSettings(temperature=0, max_new_tokens=64)
SAMPLED = SamplingSettings(temperature=1.0, top_p=0.95, max_new_tokens=24)
STORY = "The keeper climbed the stairs of the lighthouse. The lamp was cold"


@pytest.fixture(scope="module", params=["gpt2", "llama", "neox"])
def tiny(request, tmp_path_factory):
    folder = save_tiny_model(tmp_path_factory.mktemp(request.param), request.param, window=160)
    engine_model = load_model(str(folder), device="cpu")
    reference = AutoModelForCausalLM.from_pretrained(folder).eval()  # plain, untouched
    return engine_model, reference


def ids_of(model, text):
    return model.tokenizer.encode(text, add_special_tokens=False)


def greedy_tokens(model, ids, branches=1):
    _, finished = run(model, ids, branches, GREEDY)
    return [list(f.token_ids) for f in finished.values()]


def test_greedy_matches_hf_generate_through_every_cache_path(tiny):
    model, reference = tiny
    story = ids_of(model, STORY)

    # Cold.
    model.cache.crop_to(0)
    cold = greedy_tokens(model, story, branches=3)
    assert cold == [reference_greedy(reference, story, 64)] * 3
    assert model.cache.ids == story  # the story stays cached for the next turn

    # Warm, after the writer appends text: only the new tokens are prefilled.
    appended = story + ids_of(model, ", and the sea was loud.")
    assert model.cached_prefix(appended) == len(story)  # what the context view tells
    assert greedy_tokens(model, appended) == [reference_greedy(reference, appended, 64)]

    # After moving to another node: a different ending that shares the beginning.
    other = story[:8] + ids_of(model, " Nobody was there! Only the wind.")
    assert greedy_tokens(model, other) == [reference_greedy(reference, other, 64)]

    # After keeping a branch: its tokens join the story.
    _, sampled = run(model, story, 2, SAMPLED, seed=11)
    kept = story + list(sampled[1].token_ids)
    assert greedy_tokens(model, kept) == [reference_greedy(reference, kept, 64)]


def test_greedy_matches_across_a_context_window_slide(tiny):
    model, reference = tiny
    long_story = ids_of(model, (STORY + ". ") * 6)
    assert len(long_story) + 64 > model.window
    window_ids = fit_window(long_story, model.window, 64)
    assert len(window_ids) + 64 <= model.window and window_ids[-5:] == long_story[-5:]
    assert greedy_tokens(model, long_story) == [reference_greedy(reference, window_ids, 64)]


def test_fork_at_a_token_continues_from_the_chosen_alternative(tiny):
    model, reference = tiny
    story = ids_of(model, STORY)
    tokens, finished = run(model, story, 1, SAMPLED, seed=5)
    branch = list(finished[0].token_ids)
    alternative = tokens[3].top[1][0]  # the second choice at the fourth token
    forked = [*story, *branch[:3], alternative]
    assert greedy_tokens(model, forked) == [reference_greedy(reference, forked, 64)]


def test_a_seed_repeats_the_branches_and_the_branches_differ(tiny):
    model, _ = tiny
    _, first = run(model, STORY, 4, SAMPLED, seed=1234)
    _, again = run(model, STORY, 4, SAMPLED, seed=1234)
    _, other = run(model, STORY, 4, SAMPLED, seed=99)
    texts = [first[i].text for i in range(4)]
    assert texts == [again[i].text for i in range(4)]
    assert len(set(texts)) == 4
    assert texts != [other[i].text for i in range(4)]


def test_one_branch_rerolled_alone_from_its_own_seed(tiny):
    model, _ = tiny
    _, four = run(model, STORY, 4, SAMPLED, seed=77)
    _, alone = run(model, STORY, 1, SAMPLED, seeds=[four[2].seed])
    assert alone[0].token_ids == four[2].token_ids and alone[0].seed == four[2].seed


def test_deltas_add_up_to_the_tokens_text_and_events_carry_probabilities(tiny):
    model, _ = tiny
    story = ids_of(model, STORY)
    tokens, finished = run(model, story, 3, SAMPLED, seed=3)
    for branch in range(3):
        ids = list(finished[branch].token_ids)
        assert deltas_of(tokens, finished, branch) == finished[branch].text
        assert finished[branch].text == decode_continuation(model.tokenizer, story, ids)
        assert [e.token_id for e in tokens if e.branch == branch] == ids
    for event in tokens:
        probabilities = [p for _, p in event.top]
        assert len(event.top) == 10 and probabilities == sorted(probabilities, reverse=True)
        assert 0 < sum(probabilities) <= 1.0001 and event.logprob <= 0
    greedy, _ = run(model, story, 1, SamplingSettings(temperature=0, max_new_tokens=5))
    for event in greedy:
        best_id, best_probability = event.top[0]
        assert event.token_id == best_id
        assert event.logprob == pytest.approx(torch.tensor(best_probability).log().item(), abs=1e-5)


def test_cancel_from_another_thread_stops_within_a_step(tiny):
    model, _ = tiny
    cancel = threading.Event()
    seen = []
    stream = generate(
        model,
        GenerationRequest(ids_of(model, STORY), 3, SamplingSettings(max_new_tokens=120), seed=2),
        cancel=cancel,
    )
    for event in stream:
        seen.append(event)
        if len([e for e in seen if isinstance(e, TokenEvent)]) == 9:  # three steps in
            threading.Thread(target=cancel.set).start()
            cancel.wait()
    finished = [e for e in seen if isinstance(e, FinishEvent)]
    assert [f.reason for f in finished] == [events.CANCELLED] * 3
    token_events = [e for e in seen if isinstance(e, TokenEvent)]
    assert len(token_events) <= 12  # at most the step that was running
    for f in finished:
        mine = [e for e in token_events if e.branch == f.branch]
        assert f.text == "".join(e.delta for e in mine) + f.delta and f.text
    # The engine is ready for the next request straight away.
    assert len(greedy_tokens(model, ids_of(model, STORY))[0]) > 0


def test_overlapping_the_next_step_with_the_host_changes_no_event(tiny):
    """On a GPU the next step is launched before the host reads the last; forced here on the
    CPU, where it's off by default, the events must be the same, ends and stops included."""
    model, reference = tiny
    settings = SamplingSettings(temperature=1.0, max_new_tokens=40, stop_strings=("e",))
    model.prefill(ids_of(model, STORY))  # both runs from a warm cache: the same arithmetic
    plain = list(
        generate(
            model, GenerationRequest(ids_of(model, STORY), 4, settings, seed=21), overlap=False
        )
    )
    overlapped = list(
        generate(model, GenerationRequest(ids_of(model, STORY), 4, settings, seed=21), overlap=True)
    )
    assert overlapped == plain
    lengths = {len(e.token_ids) for e in plain if isinstance(e, FinishEvent)}
    assert len(lengths) > 1  # branches ended at different steps
    story = ids_of(model, STORY)  # and the cache is right for what comes next
    assert greedy_tokens(model, story) == [reference_greedy(reference, story, 64)]


def test_the_repetition_penalty_counts_only_what_the_branch_has_written(tiny):
    """The story's own tokens (the writer's names and things) aren't penalised, only what the
    branch wrote: the same tokens as a plain greedy loop that penalises just those."""
    model, reference = tiny
    # A tiny random model's greedy text loops, so this story ends in tokens it writes again.
    story, penalty = ids_of(model, STORY), 3.0
    story += reference_greedy(reference, story, 24)
    settings = SamplingSettings(
        temperature=0, max_new_tokens=16, repetition_penalty=penalty, stop_mode="tokens"
    )
    _, finished = run(model, story, 1, settings)
    written = []
    with torch.inference_mode():
        for _ in range(16):
            logits = reference(torch.tensor([story + written])).logits[0, -1]
            seen = torch.zeros_like(logits, dtype=torch.bool)
            seen[written] = True
            penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
            written.append(int(torch.where(seen, penalised, logits).argmax()))
    assert list(finished[0].token_ids) == written
    # Hugging Face's rule, which counts the story too, writes something else here.
    assert reference_greedy(reference, story, 16, repetition_penalty=penalty) != written


def test_banned_tokens_and_end_of_text(tiny):
    model, _ = tiny
    story = ids_of(model, STORY)
    first = greedy_tokens(model, story)[0][0]
    banned = SamplingSettings(temperature=0, max_new_tokens=8, banned_tokens=(first,))
    _, finished = run(model, story, 1, banned)
    assert finished[0].token_ids[0] != first and first not in finished[0].token_ids


def test_bad_requests_are_refused_clearly(tiny):
    model, _ = tiny
    with pytest.raises(SettingsError, match="branches must be 1 or more"):
        list(generate(model, GenerationRequest(ids_of(model, STORY), 0, GREEDY)))
    with pytest.raises(SettingsError, match="2 seeds given for 3 branches"):
        list(generate(model, GenerationRequest(ids_of(model, STORY), 3, GREEDY, seeds=[1, 2])))
    with pytest.raises(SettingsError, match="no room"):
        fit_window(list(range(300)), 160, 160)
    with pytest.raises(SettingsError, match="top_p"):
        SamplingSettings(top_p=0)
    with pytest.raises(SettingsError, match="stop_mode"):
        SamplingSettings(stop_mode="chapter")


def test_fit_window_drops_whole_chunks_after_the_kept_memory():
    ids = list(range(1000))
    fitted = fit_window(ids, window=512, max_new_tokens=64, keep=10)
    assert fitted[:10] == list(range(10)) and fitted[-1] == 999
    assert len(fitted) + 64 <= 512
    dropped = 1000 - len(fitted)
    assert dropped % 128 == 0  # a quarter window at a time
    # Growing by a few tokens keeps the same start: the cache is reused.
    grown = fit_window(list(range(1003)), window=512, max_new_tokens=64, keep=10)
    assert grown[:50] == fitted[:50]
    assert fit_window(ids[:100], 512, 64) == ids[:100]
