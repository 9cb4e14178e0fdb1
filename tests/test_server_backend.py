"""A model on a real server: llama.cpp's llama-server, built from source (tests/servers/), serving
a tiny GPT-2 converted to GGUF. Through the engine's event stream, the writing core, the
command line, line mode and the app: N branches side by side, seeds, greedy text equal to
Taletree's own engine on the same weights, cancel, stop strings, token data, and the failures a
writer meets (a server killed mid-stream, a wrong address, a wrong API key, a busy server, one
that never answers)."""

import http.server
import json
import socket
import threading
import time

import httpx
import pytest

import engine.remote.client
from engine import events
from engine.backend import load_backend
from engine.events import FinishEvent, TokenEvent
from engine.loading import load_model
from engine.remote.backend import ServerBackend
from engine.remote.client import ServerError
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from engine.smollm2 import packaged_gguf
from testbed.app_driver import wait_until
from testbed.llama_server import LlamaServer, free_port, to_gguf
from testbed.tiny_models import save_tiny_model
from tests.app_helpers import SIZE, line_mode_generation, model_session, screen_text
from tests.conftest import run_cli
from tests.engine_helpers import collect
from tests.engine_helpers import run as run_local
from tests.servers.stand_in import ListsOneModel, serve
from tui.app import TaletreeApp
from tui.core.explore import ExploreSettings
from tui.line_mode import LineWriter

STORY = "The keeper climbed the stairs of the lighthouse."
SAMPLED = SamplingSettings(temperature=1.0, max_new_tokens=24, stop_mode="tokens")
GREEDY = SamplingSettings(temperature=0, max_new_tokens=32, stop_mode="tokens")
KEY = "sk-test-7f3a9c"


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """(the model folder Taletree loads, the same weights as GGUF for llama-server)."""
    folder = save_tiny_model(tmp_path_factory.mktemp("tiny"), "gpt2", window=4096)
    return folder, to_gguf(folder, tmp_path_factory.mktemp("gguf") / "tiny.gguf")


@pytest.fixture(scope="module")
def server(weights):
    running = LlamaServer(weights[1], slots=4, context=4096, extra=("--alias", "tiny"))
    yield running
    running.close()


@pytest.fixture(scope="module")
def backend(server):
    served = ServerBackend(server.url)
    yield served
    served.close()


def stream(backend, ids, branches, settings, **kwargs):
    return collect(backend.stream(GenerationRequest(ids, branches, settings, **kwargs)))


# ------------------------------------------------------------------------------ the engine


def test_the_server_is_detected_with_its_window_and_tokenizer(backend, server, weights):
    local = load_model(str(weights[0]), device="cpu")
    assert (backend.device, backend.serving_path, backend.window) == ("server", "llama.cpp", 4096)
    assert backend.name == f"{server.url}#tiny"  # the server and the model it serves
    ids = backend.tokenize(STORY)
    assert ids == local.tokenizer.encode(STORY, add_special_tokens=False)
    assert backend.token_text(ids[1]) == local.tokenizer.decode([ids[1]])
    with pytest.raises(ServerError, match=r"serves no model 'llama-70b': it serves tiny"):
        ServerBackend(f"{server.url}#llama-70b")


def test_four_branches_stream_side_by_side_with_their_probabilities(backend):
    tokens, finishes, notices = stream(backend, backend.tokenize(STORY), 4, SAMPLED, seed=40)
    assert notices == []
    first_finish = min(i for i, t in enumerate(tokens) if t.branch == finishes[0].branch)
    assert {t.branch for t in tokens[: first_finish + 8]} == {0, 1, 2, 3}  # interleaved
    assert [f.seed for f in finishes] == [40, 41, 42, 43] and len({f.text for f in finishes}) == 4
    for finish in finishes:
        mine = [t for t in tokens if t.branch == finish.branch]
        assert finish.text == "".join(t.delta for t in mine) + finish.delta
    for token in tokens:
        assert token.token_id >= 0 and len(token.top) == 10 and token.logprob <= 0
        assert dict(token.top).get(token.token_id, 1.0) <= 1.0


def test_greedy_repeats_and_is_what_taletree_writes_with_the_same_weights(backend, weights):
    ids = backend.tokenize(STORY)
    once = stream(backend, ids, 2, GREEDY, seed=1)[1]
    again = stream(backend, ids + backend.tokenize(" Then"), 1, GREEDY, seed=2)[1]  # warm
    assert once[0].token_ids == once[1].token_ids
    # The same text. (llama-server leaves out the log-probabilities of a token that ends
    # inside a character, so a few ids may be missing from its list, never the text.)
    local = load_model(str(weights[0]), device="cpu")
    assert once[0].text == run_local(local, ids, 1, GREEDY)[1][0].text
    longer = ids + backend.tokenize(" Then")
    assert again[0].text == run_local(local, longer, 1, GREEDY)[1][0].text


def test_a_server_and_a_local_model_write_one_step_side_by_side(backend, weights):
    """The server streams from a thread of its own while the local model steps in this one:
    greedy on the same weights, all four branches write the same text."""
    from engine.together import Part, stream_together

    local = load_backend(str(weights[0]), device="cpu")
    ids = backend.tokenize(STORY)
    parts = [Part(p, GenerationRequest(ids, 2, GREEDY, seed=1)) for p in (local, backend)]
    tokens, finishes, notices = collect(stream_together(parts))
    assert notices == [] and [f.branch for f in finishes] == [0, 1, 2, 3]
    assert len({f.text for f in finishes}) == 1 and finishes[0].text
    assert {t.branch for t in tokens} == {0, 1, 2, 3}


def test_a_seed_repeats_and_each_branch_can_be_had_alone(backend):
    ids = backend.tokenize(STORY)
    first = stream(backend, ids, 3, SAMPLED, seed=7)[1]
    again = stream(backend, ids, 3, SAMPLED, seed=7)[1]
    alone = stream(backend, ids, 1, SAMPLED, seeds=[first[2].seed])[1]
    assert [f.token_ids for f in first] == [f.token_ids for f in again]
    assert alone[0].token_ids == first[2].token_ids


def test_stop_strings_and_sentence_ends_are_decided_as_for_a_local_model(backend):
    ids = backend.tokenize(STORY)
    whole = stream(backend, ids, 1, SAMPLED, seed=5)[1][0].text
    stop = whole[6:8]
    cut = stream(
        backend,
        ids,
        1,
        SamplingSettings(
            temperature=1.0, max_new_tokens=24, stop_mode="tokens", stop_strings=(stop,)
        ),
        seed=5,
    )[1][0]
    assert cut.reason == events.STOP_STRING and cut.text == whole[: whole.index(stop)]


def test_cancel_closes_every_stream_within_a_fifth_of_a_second(backend, server):
    cancel = threading.Event()
    settings = SamplingSettings(
        temperature=1.0, max_new_tokens=3500, stop_mode="tokens", ban_end_of_text=True
    )
    seen, cancelled_at = 0, None
    for event in backend.stream(
        GenerationRequest(backend.tokenize("Once"), 4, settings, seed=3), cancel=cancel
    ):
        if isinstance(event, TokenEvent):
            seen += 1
            if seen == 40:
                cancelled_at = time.monotonic()
                cancel.set()
        elif isinstance(event, FinishEvent):
            assert event.reason == events.CANCELLED
    assert time.monotonic() - cancelled_at < 0.2
    deadline = time.monotonic() + 0.5  # and the server has stopped writing
    while server.busy_slots() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.busy_slots() == 0


def test_more_branches_than_the_server_takes_at_once_go_as_requests_of_their_own(backend):
    backend.dialect.most_choices = 8  # as if the server said it took 8 (it takes 4): a 400
    try:
        _, finishes, _ = stream(backend, backend.tokenize(STORY), 8, SAMPLED, seed=100)
    finally:
        backend.dialect.most_choices = 4
    assert [f.seed for f in finishes] == list(range(100, 108))
    assert all(f.reason in (events.LENGTH, events.END_OF_TEXT) for f in finishes)


def test_a_server_killed_mid_stream_leaves_the_branches_their_text(weights):
    server = LlamaServer(weights[1], slots=2, context=4096)
    backend = ServerBackend(server.url)
    settings = SamplingSettings(
        temperature=1.0, max_new_tokens=3000, stop_mode="tokens", ban_end_of_text=True
    )
    tokens, finishes, notices = [], {}, []
    try:
        for event in backend.stream(
            GenerationRequest(backend.tokenize("Once"), 2, settings, seed=9)
        ):
            if isinstance(event, TokenEvent):
                tokens.append(event)
                if len(tokens) == 30:
                    server.kill()
            elif isinstance(event, FinishEvent):
                finishes[event.branch] = event
            else:
                notices.append(event.text)
    finally:
        server.close()
    assert [f.reason for f in finishes.values()] == [events.ERROR] * 2
    for finish in finishes.values():
        written = "".join(t.delta for t in tokens if t.branch == finish.branch)
        assert finish.text == written + finish.delta and finish.text
    assert len(notices) == 1 and notices[0].startswith("branch 1, 2 cut off, keeping what it")
    with pytest.raises(ServerError, match="nothing answers at"):
        list(backend.stream(GenerationRequest(backend.tokenize("Once"), 1, SAMPLED)))


# ------------------------------------------------------------------------- the failures


def test_a_wrong_address_is_one_line_and_exit_2():
    refused = run_cli("generate", "--model", f"http://127.0.0.1:{free_port()}/v1", "--prompt", "x")
    unknown = run_cli("generate", "--model", "http://no-such-host.invalid:8000", "--prompt", "x")
    credentials = run_cli("generate", "--model", "http://me:secret@127.0.0.1:1/v1", "--prompt", "x")
    for result, said in (
        (refused, "nothing answers at http://127.0.0.1:"),
        (unknown, "no-such-host.invalid is not a known host name"),
        (credentials, "can't hold a user name or password"),
    ):
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.count("\n") == 1 and said in result.stderr
    assert "secret" not in credentials.stderr


def test_an_api_key_is_sent_never_shown_and_never_stored(weights, tmp_path):
    server = LlamaServer(weights[1], slots=1, context=1024, extra=("--api-key", KEY))
    db = tmp_path / "stories.db"
    try:
        missing = run_cli("generate", "--model", server.url, "--prompt", "x", env={})
        wrong = run_cli(
            "generate",
            "--model",
            server.url,
            "--prompt",
            "x",
            env={"TALETREE_API_KEY": "sk-wrong-key"},
        )
        right = run_cli(
            "generate",
            "--model",
            server.url,
            "--prompt",
            "x",
            "--max-new-tokens",
            "8",
            env={"TALETREE_API_KEY": KEY},
        )
        # In the config file instead, writing a story through line mode.
        config = tmp_path / "xdg" / "taletree"
        config.mkdir(parents=True)
        (config / "config.toml").write_text(f'[server]\napi_key = "{KEY}"\n')
        env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
        run_cli("new", "Keyed", "--opening", "The lamp.", db=db, env=env)
        wrote = run_cli(
            "write",
            "Keyed",
            "--model",
            server.url,
            db=db,
            env=env,
            stdin="/set max_new_tokens 8\n/gen\n/pick 1\n",
        )
        exported = run_cli("export", "Keyed", "--format", "json", db=db, env=env)
    finally:
        server.close()
    assert missing.returncode == 2 and "needs an API key (401" in missing.stderr
    assert wrong.returncode == 2 and "refused the API key (401" in wrong.stderr
    assert "sk-wrong-key" not in wrong.stderr
    assert right.returncode == 0, right.stderr
    assert wrote.returncode == 0, wrote.stderr
    assert "[1]" in wrote.stdout and server.url in exported.stdout
    for place in [db, *tmp_path.glob("stories.db*"), *(tmp_path / "xdg").rglob("*.log")]:
        assert KEY.encode() not in place.read_bytes()
    assert KEY not in exported.stdout + wrote.stdout + wrote.stderr


class BusyThenForward(http.server.BaseHTTPRequestHandler):
    """503 with Retry-After for the first `busy` completions, then the real server's answer."""

    upstream = ""
    busy = 2

    def do_GET(self):
        self.forward(httpx.get(self.upstream + self.path))

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        if self.path.endswith("/completions") and BusyThenForward.busy > 0:
            BusyThenForward.busy -= 1
            self.send_response(503)
            self.send_header("retry-after", "0")
            self.end_headers()
            self.wfile.write(b'{"error": {"message": "Loading model"}}')
            return
        with httpx.stream("POST", self.upstream + self.path, content=body) as answer:
            self.send_response(answer.status_code)
            self.end_headers()
            for chunk in answer.iter_raw():
                self.wfile.write(chunk)

    def forward(self, answer: httpx.Response) -> None:
        self.send_response(answer.status_code)
        self.end_headers()
        self.wfile.write(answer.content)

    def log_message(self, *args):
        pass


def test_a_busy_server_is_asked_again_with_backoff_and_the_writer_told(server, monkeypatch):
    monkeypatch.setattr(engine.remote.client, "BACKOFF", 0.01)
    BusyThenForward.upstream, BusyThenForward.busy = server.root, 2
    front, url = serve(BusyThenForward)
    try:
        backend = ServerBackend(url)
        _, finishes, notices = stream(backend, backend.tokenize(STORY), 2, SAMPLED, seed=1)
    finally:
        front.shutdown()
        front.server_close()
    assert all(f.reason in (events.LENGTH, events.END_OF_TEXT) for f in finishes)
    assert notices == [f"the server is busy (503): trying again in 0 s ({n} of 4)" for n in (1, 2)]


class Nonsense(ListsOneModel):
    """Something at the address that isn't an OpenAI-compatible server, or breaks mid-way."""

    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b'data: {"choices": [{"index": 0, "text": "\\u001b[2J Once"}]}\n\n')
        self.wfile.write(b"data: <html>\x00" + b"x" * 100_000 + b"\n\n")


def test_a_server_that_answers_nonsense_is_one_line_and_keeps_what_came(monkeypatch):
    front, url = serve(Nonsense)
    try:
        with pytest.raises(ServerError, match="doesn't list models"):
            ServerBackend(url.removesuffix("/v1") + "/api")  # no models there: 404
        backend = ServerBackend(url)
        assert (backend.serving_path, backend.window) == ("OpenAI-compatible", None)
        settings = SamplingSettings(max_new_tokens=8, stop_mode="tokens", top_k=40)
        _, finishes, notices = stream(backend, backend.tokenize("Once"), 1, settings)
    finally:
        front.shutdown()
        front.server_close()
    [finish] = finishes
    assert finish.reason == events.ERROR and finish.text == "\x1b[2J Once"  # kept, literally
    assert notices[0] == (
        "the OpenAI-compatible server may ignore top_k (only temperature, "
        "top_p and max_tokens are sure to be honoured by every such server)"
    )
    assert len(notices) == 2 and "the server sent an event that isn't JSON: '<html>" in notices[1]
    assert len(notices[1]) < 300


def test_a_server_that_never_answers_times_out_in_one_line(monkeypatch):
    monkeypatch.setattr(engine.remote.client, "READ_TIMEOUT", 0.3)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        with pytest.raises(ServerError, match=r"sent nothing for 0 s: the server may be"):
            ServerBackend(f"http://127.0.0.1:{silent.getsockname()[1]}/v1")
    finally:
        silent.close()


# -------------------------------------------------------------------------- every face


def test_the_writing_core_keeps_a_servers_branches_with_their_token_data(store, server):
    story = store.create_story("Served", opening="The keeper climbed the stairs.")
    session = model_session(store, server.url)
    session.open_story(story.id)
    session.load_models()
    session.set_setting("max_new_tokens", 12)
    session.set_setting("stop_mode", "tokens")
    session.start_generation().run()
    session.drain()  # the generation is over: its branches are stored
    node = session.store.node(session.branches[1].node_id)
    assert node.model == f"{server.url}#tiny" and node.author == "model"
    records = session.token_records(node.id)
    assert len(records) >= 1 and all(r.token_id >= 0 and r.top for r in records)
    alternative = records[0].top[1][0]
    fork = session.fork(node.id, 0, alternative)  # the token view's fork, by the server
    assert fork.text == session.backend.token_text(alternative)


def test_generate_writes_a_batch_to_a_file_and_says_how_the_model_runs(server, tmp_path):
    out = tmp_path / "samples.txt"
    result = run_cli(
        "generate",
        "--model",
        server.url,
        "--prompt",
        "Night.",
        "-n",
        "6",
        "--batch-size",
        "3",
        "--max-new-tokens",
        "10",
        "--seed",
        "4",
        "--to-file",
        str(out),
        "--verbose",
    )
    assert result.returncode == 0, result.stderr
    assert f"{server.url}#tiny: server, llama.cpp, with a window of 4,096" in result.stderr
    assert out.read_text().count("====================") == 5
    assert "wrote 6 samples" in result.stderr


def test_line_mode_writes_with_a_server(store, server):
    printed = line_mode_generation(store, server.url)
    assert "(ready: server, llama.cpp, raw text)" in printed
    assert all(f"[{n}]" in printed for n in range(1, 5))


async def test_the_app_shows_the_server_and_its_model(store, server):
    story = store.create_story("Status", opening="The lamp went out.")
    app = TaletreeApp(model_session(store, server.url), story_id=story.id, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.session.backend is not None)
        await pilot.pause(0.1)
        shown = screen_text(app)
    assert f"  │  {server.url}#tiny  │  server, llama.cpp" in shown


# ------------------------------------------------------------- a server's odd answers


class Corrupting(BusyThenForward):
    """The real server's answers, with each streamed event passed through `corrupt` first."""

    busy = 0

    @staticmethod
    def corrupt(event: dict) -> dict:
        return event

    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        with httpx.stream("POST", self.upstream + self.path, content=body) as answer:
            self.send_response(answer.status_code)
            self.end_headers()
            for line in answer.iter_lines():
                if line.startswith("data: {"):
                    event = Corrupting.corrupt(json.loads(line.removeprefix("data: ")))
                    line = "data: " + json.dumps(event)  # (NaN goes as NaN, as Python sends it)
                self.wfile.write(line.encode() + b"\n")


def corrupted(server, corrupt):
    Corrupting.upstream, Corrupting.corrupt = server.root, staticmethod(corrupt)
    return serve(Corrupting)


def first_token(change):
    """A corruption of the first streamed event of each choice only."""
    seen: set[int] = set()

    def corrupt(event: dict) -> dict:
        for choice in event.get("choices") or []:
            if choice.get("index") not in seen:
                seen.add(choice.get("index"))
                change(choice)
        return event

    return corrupt


def nan_logprob(choice):
    for token in (choice.get("logprobs") or {}).get("content") or []:
        token["logprob"], token["id"] = float("nan"), 2**40


def test_token_data_that_cant_be_true_is_left_out_and_the_text_kept(server, store):
    import io

    front, url = corrupted(server, first_token(nan_logprob))
    try:
        story = store.create_story("Odd", opening="The lamp went out.")
        session = model_session(store, url)
        session.open_story(story.id)
        out = io.StringIO()
        writer = LineWriter(session, out)
        for setting in ("max_new_tokens 8", "stop_mode tokens", "seed 4"):  # (a branch that
            writer.handle(f"/set {setting}")  # ends at once wrote nothing, and can't be kept)
        writer.handle("/gen")
        writer.handle("/pick 1")
    finally:
        front.shutdown()
        front.server_close()
    printed = out.getvalue()
    assert "bug" not in printed and all(f"[{n}]" in printed for n in range(1, 5))
    kept = store.tip(story.id)
    assert kept.author == "model" and kept.text.strip()
    assert store.token_records(kept.id) is None  # left out, not stored half-true
    assert len(store.siblings(kept.id)) == 4


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda choice: choice.update(index=7), "choice 7 of a request for"),
        (lambda choice: choice.update(index="zero"), "choice 'zero' of a request for"),
        (lambda choice: choice.update(index=-1), "choice -1 of a request for"),
        (lambda choice: choice.update(text=12), "a choice's text as int"),
    ],
    ids=["out-of-range", "not-a-number", "negative", "text-a-number"],
)
def test_a_choice_that_isnt_one_is_the_servers_error_in_one_line(server, change, said):
    front, url = corrupted(server, first_token(change))
    try:
        result = run_cli(
            "generate",
            "--model",
            url,
            "--prompt",
            "Night.",
            "-n",
            "3",
            "--max-new-tokens",
            "6",
            "--seed",
            "4",
        )
    finally:
        front.shutdown()
        front.server_close()
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and said in result.stderr, result.stderr


def test_a_bad_choice_after_good_text_cuts_that_request_off_and_keeps_every_branch(server):
    """The first events are sound, then one names a choice that isn't: the branches keep what
    they wrote, and the writer is told once. No branch's text lands in another's."""
    count = {"events": 0}

    def late(event: dict) -> dict:
        count["events"] += 1
        if count["events"] == 9:
            for choice in event.get("choices") or []:
                choice["index"] = -1
        return event

    front, url = corrupted(server, late)
    try:
        backend = ServerBackend(url)
        ids = backend.tokenize(STORY)
        _, finishes, notices = stream(backend, ids, 3, SAMPLED, seed=5)
        direct = ServerBackend(server.url)
        alone = [stream(direct, ids, 1, SAMPLED, seeds=[f.seed])[1][0].text for f in finishes]
    finally:
        front.shutdown()
        front.server_close()
    assert len(finishes) == 3 and any(f.reason == events.ERROR for f in finishes)
    assert any("choice -1 of a request for 3" in n for n in notices)
    for finish, whole in zip(finishes, alone, strict=True):
        assert whole.startswith(finish.text)  # each branch's own text, never another's


# ------------------------------------------------------------------------ exploring ahead


def test_a_server_gives_answer_tokens_their_own_log_probabilities(backend, weights):
    """What the ask scorer reads: the served model's log-probabilities of given next tokens,
    the same as the same weights give in this process."""
    local = load_backend(str(weights[0]))
    ids = local.tokenize(STORY)
    [exact] = local.model.next_logprobs([ids])
    first, second = exact.topk(2).indices.tolist()
    [served] = backend.answer_logprobs([ids], [first, second])
    assert served == pytest.approx([float(exact[first]), float(exact[second])], abs=2e-3)


def test_exploring_over_a_server_stores_scored_paths(store, server):
    story = store.create_story("Served search", opening=STORY)
    session = model_session(store, server.url)
    session.open_story(story.id)
    session.load_models()
    session.set_setting("max_new_tokens", 8)
    session.set_setting("seed", 5)
    exploration = session.explore(ExploreSettings(depth=2, budget=3))
    exploration.run()
    drained = session.drain_exploration()
    assert not drained.notices and exploration.expansions == 3
    nodes = [session.node(node_id) for node_id in exploration.nodes]
    assert len(nodes) == 12 and all(n.explored and n.score is not None for n in nodes)
    assert all(session.token_records(n.id) for n in nodes)  # scored on the server's logprobs
    assert drained.paths[0].score == max(p.score for p in drained.paths)
    session.keep(0)
    assert session.story().tip_id == drained.paths[0].end


# ------------------------------------------------------------------------------ story mode


def test_a_served_model_without_a_template_of_its_own_reads_raw(backend):
    """llama-server gives a model without a chat template a stand-in; its token names are not
    the model's, so Taletree reads the story raw rather than in a made-up frame."""
    from engine.reading import reading_for

    assert backend.story_frame() is None
    assert reading_for(backend, "auto").mode == "raw"


@pytest.mark.skipif(packaged_gguf() is None, reason="the default model isn't installed")
def test_llama_server_renders_the_default_models_template_for_story_mode():
    """The server renders its model's template itself (/apply-template): the same frame, and
    the same tokens, as the model's GGUF gives in this process."""
    from engine.backend import load_backend
    from engine.reading import prompt_ids, reading_for

    server = LlamaServer(packaged_gguf(), slots=2, context=1024)
    try:
        served = ServerBackend(server.url)
        local = load_backend("default-gguf")
        reading = reading_for(served, "auto")
        assert reading.mode == "story" and served.story_frame() == local.story_frame()
        text = "Mirela found the brass key under the floorboards."
        ids, keep = prompt_ids(served, reading, text, "mystery")
        assert (ids, keep) == prompt_ids(local, reading_for(local, "auto"), text, "mystery")
        _, finished, _ = stream(served, ids, 2, SAMPLED, seed=5, keep=keep)
        assert len(finished) == 2 and all(f.text.strip() for f in finished)
    finally:
        server.close()
