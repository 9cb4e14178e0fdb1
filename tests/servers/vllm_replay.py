"""Real vLLM answers, recorded once and replayed in the tests (vLLM can't run in them: it is a
multi-gigabyte install of its own).

tests/servers/record_vllm.py starts vLLM's OpenAI server on a tiny GPT-2, runs `exercise` below
against it through a recording transport, and saves every request and answer to
tests/data/vllm/replay.json; then the default model (a chat model) for `story_exercise`, saved
to tests/data/vllm/story.json. The tests run the same exercises through a replaying transport:
each request must be one that was recorded (in order, where the same request was sent twice),
and gets the answer vLLM gave, byte for byte.
"""

import json
from pathlib import Path
from typing import Any

import httpx

from engine.reading import prompt_ids, reading_for
from engine.remote.backend import ServerBackend
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from testbed.tiny_models import byte_level_gpt2, byte_level_tokenizer, save_random_model
from tests.engine_helpers import collect

RECORDING = Path(__file__).resolve().parent.parent / "data" / "vllm" / "replay.json"
STORY_RECORDING = RECORDING.with_name("story.json")
STORY = "The keeper climbed the stairs of the lighthouse."
OPENING = "Mirela found the brass key under the floorboards of her grandmother's cottage."
SPELLED = "She chalked <|im_end|> on the door, then <|im_start|>system, and <b>ran</b>."
SAMPLED = SamplingSettings(temperature=1.0, max_new_tokens=16, stop_mode="tokens")
GREEDY = SamplingSettings(temperature=0, max_new_tokens=24, stop_mode="tokens")


def save_served_model(folder: Path) -> Path:
    """The model vLLM serves: a tiny GPT-2 (head size 64, which vLLM's CPU attention takes),
    the same weights every time it is made."""
    tokenizer = byte_level_tokenizer()
    config = byte_level_gpt2(tokenizer, n_positions=512, n_embd=128, n_layer=2, n_head=2)
    return save_random_model(folder, config, tokenizer, seed=0)


def key_of(request: httpx.Request) -> str:
    body = json.loads(request.content) if request.content else None
    return json.dumps([request.method, request.url.path, body], sort_keys=True)


class RecordingTransport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.exchanges: list[dict] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        body = response.read()
        self.exchanges.append(
            {
                "request": json.loads(key_of(request)),
                "status": response.status_code,
                "body": body.decode(),
            }
        )
        return httpx.Response(response.status_code, headers=response.headers, content=body)


class ReplayTransport(httpx.BaseTransport):
    def __init__(self, exchanges: list[dict]) -> None:
        self.waiting: dict[str, list[dict]] = {}
        for exchange in exchanges:
            self.waiting.setdefault(json.dumps(exchange["request"], sort_keys=True), []).append(
                exchange
            )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answers = self.waiting.get(key_of(request))
        if not answers:
            raise AssertionError(
                f"a request vLLM was never asked when recording: {key_of(request)}"
            )
        answer = answers.pop(0)
        kind = "text/event-stream" if answer["body"].startswith("data:") else "application/json"
        return httpx.Response(
            answer["status"], headers={"content-type": kind}, content=answer["body"].encode()
        )


def run(
    backend: ServerBackend, ids: list[int], branches: int, settings: SamplingSettings, **kwargs: Any
) -> dict[str, Any]:
    tokens, finishes, notices = collect(
        backend.stream(GenerationRequest(ids, branches, settings, **kwargs))
    )
    return {"tokens": tokens, "finishes": finishes, "notices": notices}


def exercise(backend: ServerBackend) -> dict[str, Any]:
    """Everything the tests ask of vLLM, in one fixed order."""
    reading = reading_for(backend, "auto")  # a model without a chat template: raw text
    ids = backend.tokenize(STORY)
    four = run(backend, ids, 4, SAMPLED, seed=7)
    alone = run(backend, ids, 1, SAMPLED, seeds=[four["finishes"][2].seed])
    greedy = run(backend, ids, 1, GREEDY, seed=1)
    first_token = four["tokens"][0].token_id
    shaped = SamplingSettings(
        temperature=1.0,
        max_new_tokens=16,
        stop_mode="tokens",
        top_k=5,
        min_p=0.05,
        repetition_penalty=1.3,
        banned_tokens=(first_token,),
    )
    banned = run(backend, ids, 2, shaped, seed=7)
    # The first branch again, told to stop at a piece of what it wrote.
    stop = four["finishes"][0].text[4:6]
    stopped = run(
        backend,
        ids,
        1,
        SamplingSettings(
            temperature=1.0, max_new_tokens=16, stop_mode="tokens", stop_strings=(stop,)
        ),
        seed=7,
    )
    return {
        "reading": reading,
        "ids": ids,
        "four": four,
        "alone": alone,
        "greedy": greedy,
        "banned": banned,
        "stopped": stopped,
        "stop": stop,
        "first_token": first_token,
        "first_token_text": backend.token_text(first_token),
    }


def story_exercise(backend: ServerBackend) -> dict[str, Any]:
    """Story mode on vLLM serving a chat model: the frame from vLLM's own rendering of its
    template, and the story read in it, greedily and as two branches."""
    reading = reading_for(backend, "story")
    ids, keep = prompt_ids(backend, reading, OPENING, "mystery")
    spelled = backend.tokenize(SPELLED)  # a story that spells the template's tokens
    return {
        "spelled": spelled,
        "spelled_back": backend.counter.decode(spelled),
        "reading": reading,
        "ids": ids,
        "keep": keep,
        "greedy": run(backend, ids, 1, GREEDY, seed=1, keep=keep),
        "two": run(backend, ids, 2, SAMPLED, seed=5, keep=keep),
    }
