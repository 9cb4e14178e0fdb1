"""The UI tests' fake model honours every input of a request, as a model would: each test here
changes one input and checks the text changes (or doesn't) the way a model's would, so a fake
that ignored it would fail."""

import threading
from dataclasses import replace

from engine import events
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from testbed.fake_model import DEFAULT_SEED, FakeBackend
from tests.engine_helpers import collect

SETTINGS = SamplingSettings(max_new_tokens=12, temperature=0.8, stop_mode="tokens")


def texts(backend, ids, branches=2, settings=SETTINGS, **kwargs) -> list[str]:
    request = GenerationRequest(ids, branches, settings, **kwargs)
    return [f.text for f in collect(backend.stream(request))[1]]


def test_the_prompt_and_the_seed_choose_the_text():
    backend = FakeBackend()
    lamp, rain = backend.tokenize("The lamp went out."), backend.tokenize("Rain fell.")
    first = texts(backend, lamp, seed=5)
    assert texts(backend, lamp, seed=5) == first  # the same request, the same text
    assert texts(backend, rain, seed=5) != first  # another story, another continuation
    assert texts(backend, lamp, seed=6) != first
    assert first[0] != first[1]  # each branch its own
    assert first[0] == backend.text_of(lamp, 5, 12)


def test_a_branchs_own_seed_writes_it_again_alone():
    backend = FakeBackend()
    ids = backend.tokenize("The lamp went out.")
    request = GenerationRequest(ids, 3, SETTINGS)
    _, finishes, _ = collect(backend.stream(request))
    assert [f.seed for f in finishes] == [DEFAULT_SEED + b for b in range(3)]  # drawn
    assert texts(backend, ids, 1, seeds=[finishes[2].seed]) == [finishes[2].text]


def test_greedy_writes_the_same_words_in_every_branch_whatever_the_seed():
    backend = FakeBackend()
    ids = backend.tokenize("The lamp went out.")
    greedy = replace(SETTINGS, temperature=0)
    one = texts(backend, ids, 3, greedy, seed=1)
    assert len(set(one)) == 1 and texts(backend, ids, 3, greedy, seed=2) == one
    assert len(set(texts(backend, ids, 3, seed=1))) == 3


def test_the_token_budget_and_the_end_of_text():
    backend = FakeBackend(end_after=5)
    ids = backend.tokenize("Once")
    request = GenerationRequest(ids, 1, SETTINGS, seed=3)
    [short] = collect(backend.stream(request))[1]
    assert short.reason == events.END_OF_TEXT and len(short.token_ids) == 5
    banned_end = replace(SETTINGS, ban_end_of_text=True)
    request = GenerationRequest(ids, 1, banned_end, seed=3)
    [long] = collect(backend.stream(request))[1]
    assert long.reason == events.LENGTH and len(long.token_ids) == 12
    assert long.text.startswith(short.text)


def test_stop_modes_and_stop_strings_end_a_branch_as_the_engine_does():
    words = ("the", "lamp", "went", "out.", "she\n", "waited")
    backend = FakeBackend(words=words)
    ids = backend.tokenize("Once")
    seed, whole = next(
        (seed, text)
        for seed in range(100)
        if "." in (text := texts(backend, ids, 1, seed=seed)[0]) and "\n" in text
    )  # the first seed that writes both ends

    def ended(**changes):
        settings = replace(SETTINGS, **changes)
        [finish] = collect(backend.stream(GenerationRequest(ids, 1, settings, seed=seed)))[1]
        return finish.reason, finish.text

    assert ended(stop_mode="sentence") == (
        events.SENTENCE,
        whole[: whole.index(".") + 1],
    )
    assert ended(stop_mode="paragraph") == (events.PARAGRAPH, whole[: whole.index("\n") + 1])
    stop = whole.split()[1]
    assert ended(stop_strings=(stop,)) == (events.STOP_STRING, whole[: whole.index(stop)])


def test_banned_tokens_and_strings_are_never_written():
    backend = FakeBackend()
    ids = backend.tokenize("The lamp went out.")
    free = " ".join(texts(backend, ids, 4, seed=2)).split()
    common = max(set(free), key=free.count)
    by_token = replace(SETTINGS, banned_tokens=(backend.tokenize(common)[0],))
    by_string = replace(SETTINGS, banned_strings=(common,))
    for settings in (by_token, by_string):
        written = " ".join(texts(backend, ids, 4, settings, seed=2)).split()
        assert common not in written and len(written) == len(free)


def test_cancel_ends_every_branch_with_what_it_wrote():
    backend = FakeBackend()
    cancel = threading.Event()
    request = GenerationRequest(backend.tokenize("Once"), 2, SETTINGS, seed=4)
    events_seen = []
    for event in backend.stream(request, cancel):
        events_seen.append(event)
        if len(events_seen) == 6:
            cancel.set()
    finishes = [e for e in events_seen if isinstance(e, events.FinishEvent)]
    assert [f.reason for f in finishes] == [events.CANCELLED] * 2
    assert all(len(f.token_ids) == 3 for f in finishes)


def test_tokenize_undoes_token_text():
    backend = FakeBackend()
    text = " The keeper's lamp went out"
    ids = backend.tokenize(text)
    assert len(ids) == 5 and "".join(backend.token_text(i) for i in ids) == text
    assert [backend.tokenize(backend.token_text(i)) for i in ids] == [[i] for i in ids]
