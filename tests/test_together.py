"""Several models writing one step side by side (engine/together.py), on two tiny real models
of different kinds, each with its own tokenizer's ids: each model's branches are what it writes
alone, numbered after the models before it; a failing model stops the others and is said; a
reader that stops early leaves no model writing."""

import threading

import pytest

from engine import events
from engine.backend import load_backend
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from engine.together import Part, stream_together
from testbed.tiny_models import save_tiny_model
from tests.engine_helpers import collect

SETTINGS = SamplingSettings(temperature=1.0, max_new_tokens=12, stop_mode="tokens")
STORY = "The keeper climbed the stairs."


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return [
        load_backend(str(save_tiny_model(tmp_path_factory.mktemp(kind), kind)), device="cpu")
        for kind in ("gpt2", "llama")
    ]


def part(backend, branches, seed, settings=SETTINGS):
    return Part(backend, GenerationRequest(backend.tokenize(STORY), branches, settings, seed=seed))


def test_each_models_branches_are_what_it_writes_alone_numbered_after_the_others(models):
    gpt2, llama = models
    tokens, finishes, notices = collect(stream_together([part(gpt2, 2, 7), part(llama, 2, 9)]))
    assert notices == [] and [f.branch for f in finishes] == [0, 1, 2, 3]
    alone = collect(gpt2.stream(part(gpt2, 2, 7).request))[1]
    alone += collect(llama.stream(part(llama, 2, 9).request))[1]
    assert [(f.text, f.token_ids, f.seed) for f in finishes] == [
        (f.text, f.token_ids, f.seed) for f in alone
    ]
    for finish in finishes:  # every token event under its renumbered branch
        written = "".join(t.delta for t in tokens if t.branch == finish.branch)
        assert written + finish.delta == finish.text  # (the end held back joins at the finish)


class Failing:
    """A model that writes one token and then fails (a server dropping the line, a model in
    this process running out of memory)."""

    name = "flaky"

    def __init__(self, device: str):
        self.device = device  # "server": a thread of its own; else in turn with the others
        self.failed = threading.Event()

    def stream(self, request, cancel=None):
        yield events.TokenEvent(0, " x", 1, -1.0, ())
        self.failed.set()
        raise RuntimeError("the line dropped")


@pytest.mark.parametrize("device", ["server", "cpu"])
def test_a_failing_model_stops_the_others_and_its_error_is_raised(models, device):
    gpt2 = models[0]
    cancel = threading.Event()
    long = SamplingSettings(temperature=1.0, max_new_tokens=200, stop_mode="tokens")
    slow = Part(gpt2, GenerationRequest(gpt2.tokenize(STORY), 2, long, seed=1))
    seen = []
    with pytest.raises(RuntimeError, match="the line dropped"):
        for event in stream_together([slow, Part(Failing(device), slow.request)], cancel):
            seen.append(event)
    assert cancel.is_set()
    finishes = [e for e in seen if isinstance(e, events.FinishEvent)]
    assert {f.reason for f in finishes} == {events.CANCELLED}  # cut off, not run to the end
    assert any(isinstance(e, events.TokenEvent) and e.branch == 2 for e in seen)


def test_a_reader_that_stops_early_leaves_no_model_writing(models):
    gpt2, llama = models
    before = threading.active_count()
    stream = stream_together([part(gpt2, 1, 3), part(llama, 1, 4)])
    next(stream)
    stream.close()  # the face went away mid-step
    assert threading.active_count() == before


def test_notices_name_their_model_when_there_are_several(models):
    gpt2 = models[0]

    class Noticing:
        name, device = "server#tiny", "server"

        def stream(self, request, cancel=None):
            yield events.NoticeEvent("the server may ignore min_p")

    notices = collect(
        stream_together([part(gpt2, 1, 1), Part(Noticing(), GenerationRequest([1], 1, SETTINGS))])
    )[2]
    assert notices == ["server#tiny: the server may ignore min_p"]
