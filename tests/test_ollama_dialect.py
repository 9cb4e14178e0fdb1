"""Ollama, through a stand-in that answers on loopback the way Ollama's own API types say
(api/types.go: /api/version, /api/tags, /api/show, and /api/generate streaming one JSON object
a line). No real Ollama can be installed where these tests run; what is held here is how
Taletree asks (raw text, every setting under Ollama's option names, the context size sent every
time, one request per branch with its own seed) and how it reads the answers (text only, so no
token data, and the token view says why)."""

import http.server
import io
import json
import threading
from typing import ClassVar

import pytest

from common.errors import UserError
from engine import events
from engine.events import FinishEvent, TokenEvent
from engine.remote.backend import ServerBackend
from engine.remote.dialects import Ollama
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from tui.core.config_file import Config
from tui.core.model_holder import LoadOptions
from tui.core.session import WritingSession
from tui.line_mode import LineWriter


class OllamaStandIn(http.server.BaseHTTPRequestHandler):
    asked: ClassVar[list[dict]] = []

    def answer(self, status: int, body: object) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def do_GET(self):
        if self.path == "/api/version":
            return self.answer(200, {"version": "0.13.0"})
        if self.path == "/api/tags":
            return self.answer(200, {"models": [{"name": "tiny:latest", "model": "tiny:latest"}]})
        return self.answer(404, {"error": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if self.path == "/api/show":
            return self.answer(
                200,
                {
                    "parameters": "num_ctx 2048\nstop <eos>",
                    "model_info": {"llama.context_length": 8192},
                },
            )
        if self.path != "/api/generate":
            return self.answer(404, {"error": "not found"})
        OllamaStandIn.asked.append(body)
        self.send_response(200)
        self.send_header("content-type", "application/x-ndjson")
        self.end_headers()
        words = [f" w{body['options']['seed']}-{n}" for n in range(body["options"]["num_predict"])]
        for word in words:
            line = {"model": body["model"], "response": word, "done": False}
            self.wfile.write((json.dumps(line) + "\n").encode())
        done = {"model": body["model"], "response": "", "done": True, "done_reason": "length"}
        self.wfile.write((json.dumps(done) + "\n").encode())

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def ollama():
    front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OllamaStandIn)
    threading.Thread(target=front.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{front.server_address[1]}"
    front.shutdown()
    front.server_close()


def test_ollama_is_asked_in_its_own_terms_one_request_a_branch(ollama):
    OllamaStandIn.asked.clear()
    backend = ServerBackend(ollama)
    assert isinstance(backend.dialect, Ollama) and backend.name == f"{ollama}#tiny:latest"
    assert backend.window == backend.dialect.context == 2048  # the Modelfile's num_ctx
    settings = SamplingSettings(
        temperature=0.7,
        top_k=40,
        top_p=0.9,
        min_p=0.05,
        repetition_penalty=1.1,
        max_new_tokens=5,
        stop_mode="tokens",
    )
    ids = backend.tokenize("The lamp went out.")
    finishes = [
        e
        for e in backend.stream(GenerationRequest(ids, 3, settings, seed=20))
        if isinstance(e, FinishEvent)
    ]
    assert sorted(f.seed for f in finishes) == [20, 21, 22]
    for finish in finishes:
        assert finish.text == "".join(f" w{finish.seed}-{n}" for n in range(5))
        assert finish.reason == events.LENGTH
    assert len(OllamaStandIn.asked) == 3  # one request a branch: Ollama has no n
    sent = OllamaStandIn.asked[0]
    assert sent["prompt"] == "The lamp went out." and sent["raw"] is True
    assert {
        k: sent["options"][k]
        for k in (
            "temperature",
            "top_k",
            "top_p",
            "min_p",
            "repeat_penalty",
            "num_predict",
            "num_ctx",
        )
    } == {
        "temperature": 0.7,
        "top_k": 40,
        "top_p": 0.9,
        "min_p": 0.05,
        "repeat_penalty": 1.1,
        "num_predict": 5,
        "num_ctx": 2048,
    }


def test_text_only_tokens_leave_no_token_data_and_the_token_view_says_why(ollama, store):
    backend = ServerBackend(ollama)
    tokens = [
        e
        for e in backend.stream(
            GenerationRequest(
                backend.tokenize("Once"),
                1,
                SamplingSettings(max_new_tokens=3, stop_mode="tokens"),
                seed=1,
            )
        )
        if isinstance(e, TokenEvent)
    ]
    assert [t.token_id for t in tokens] == [events.NO_TOKEN] * 3
    banned = list(
        backend.stream(
            GenerationRequest(
                backend.tokenize("Once"),
                1,
                SamplingSettings(max_new_tokens=2, banned_tokens=(5,), ban_end_of_text=True),
                seed=1,
            )
        )
    )
    assert banned[0] == events.NoticeEvent(
        "the Ollama server can't honour banned_tokens, "
        "ban_end_of_text: the text is written without it"
    )

    story = store.create_story("Olla", opening="The lamp went out.")
    session = WritingSession(store, Config(), model=ollama, load_options=LoadOptions())
    session.open_story(story.id)
    writer = LineWriter(session, io.StringIO())
    writer.handle("/set max_new_tokens 4")
    writer.handle("/gen")
    writer.handle("/pick 1")
    kept = session.tip()
    assert kept.author == "model" and kept.model == f"{ollama}#tiny:latest"
    with pytest.raises(UserError, match="gives text only, not the tokens it chose"):
        session.token_records(kept.id)  # what the token view shows
