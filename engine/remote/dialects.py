"""How each kind of server is asked for a completion and how it answers, token by token.

All of them stream; they differ in where they listen, what they call each setting, whether they
take the prompt as token ids and say which tokens they chose, and how they report
log-probabilities:

| kind      | request                          | tokens                         | n         |
|-----------|----------------------------------|--------------------------------|-----------|
| llama.cpp | /v1/completions, ids in          | ids in `logprobs.content`      | ≤ slots   |
| vLLM      | /v1/completions, ids in          | "token_id:N" in legacy logprobs | yes       |
| Ollama    | /api/generate, raw text          | text only                      | no        |
| other     | /v1/completions, text            | text only (legacy logprobs)    | no        |

llama.cpp and vLLM give choice i of a request with seed S what a request of its own with seed
S + i gives, so N branches are one request there and each branch's seed is still its own.
Every setting is sent explicitly (servers' defaults differ: llama.cpp samples with top-k 40
unless told). Stop strings and where a branch ends are decided here, as for a local model, so
a branch ends for the same reasons whatever writes it.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine import events
from engine.remote.client import ServerError
from engine.settings import SamplingSettings

Top = tuple[tuple[int, float], ...]


@dataclass(frozen=True)
class Piece:
    """One token of one branch as a server streamed it (or a run of text, from a server that
    doesn't say which tokens it chose)."""

    index: int  # which choice of the request
    text: str
    token_id: int = events.NO_TOKEN
    logprob: float = math.nan
    top: Top = ()
    finish: str | None = None  # the branch ended here, for this reason (engine/events.py)


TOKEN_IDS = range(2**31 - 1)  # what a token record can hold; any real vocabulary fits
LOGPROB_SLACK = 1e-3  # a log-probability a little above 0 is a server's rounding


def checked_piece(piece: Piece, count: int) -> Piece:
    """A piece as a request of `count` choices may use it. A choice index that isn't one of
    them, or text that isn't text, is the server's error (a ServerError: the request's other
    branches keep what they wrote); token data that can't be true (a log-probability of NaN,
    an id past any vocabulary) is left out, and the text kept."""
    index = piece.index
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise ServerError(
            f"the server answered for choice {index!r} of a request for {count}: "
            "it isn't one, so the answer can't be used"
        )
    if not isinstance(piece.text, str):
        raise ServerError(
            f"the server sent a choice's text as {type(piece.text).__name__}, not as text"
        )
    if piece.token_id == events.NO_TOKEN or sound_token(piece):
        return piece
    return replace(piece, token_id=events.NO_TOKEN, logprob=math.nan, top=())


def sound_token(piece: Piece) -> bool:
    def is_id(value: Any) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value in TOKEN_IDS

    def is_number(value: Any, low: float, high: float) -> bool:
        return isinstance(value, float | int) and math.isfinite(value) and low <= value <= high

    return (
        is_id(piece.token_id)
        and is_number(piece.logprob, -math.inf, LOGPROB_SLACK)
        and all(is_id(i) and is_number(p, 0.0, 1.0 + LOGPROB_SLACK) for i, p in piece.top)
    )


def finish_reason(server_reason: str | None) -> str | None:
    """A server's finish reason as the engine's. Stop strings never reach a server (they are
    applied here), so its "stop" is the model's end of text."""
    if server_reason is None:
        return None
    return {"length": events.LENGTH, "stop": events.END_OF_TEXT}.get(server_reason, events.ERROR)


# The sampling settings every request carries, each under vLLM's name for it, which most
# OpenAI-style servers also read; a dialect renames those its server calls otherwise.
OPENAI_NAMES = {
    "max_new_tokens": "max_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "min_p": "min_p",
    "repetition_penalty": "repetition_penalty",
}


def sampling_fields(settings: SamplingSettings, names: dict[str, str]) -> dict[str, Any]:
    """The settings under a server's names for them."""
    return {server: getattr(settings, ours) for ours, server in names.items()}


class Dialect:
    kind = "OpenAI-compatible"
    path = "/completions"  # under the API base (…/v1)
    at_root = False
    framing = "sse"
    gives_ids = False  # prompt as token ids, and the chosen tokens' ids in the answer
    most_choices = 1  # the largest n one request may ask for (1: one request per branch)

    names = OPENAI_NAMES  # each sampling setting's name in this kind's requests

    def body(
        self,
        model: str,
        prompt: Sequence[int] | str,
        settings: SamplingSettings,
        seed: int,
        choices: int,
    ) -> dict[str, Any]:
        """The request for `choices` continuations of `prompt`: the settings under this kind's
        names, the seed and what this kind adds (`added`), in its envelope."""
        asked = {**sampling_fields(settings, self.names), "seed": seed, **self.added(settings)}
        return self.envelope(model, prompt, choices, asked)

    def envelope(self, model: str, prompt: Any, choices: int, asked: dict) -> dict[str, Any]:
        """An OpenAI text-completion request."""
        return {"model": model, "prompt": prompt, "stream": True, "n": choices, **asked}

    def added(self, settings: SamplingSettings) -> dict[str, Any]:
        """What this kind of server is told beyond the sampling settings and the seed."""
        return {"logprobs": settings.top_alternatives} if settings.top_alternatives else {}

    def unhonoured(self, settings: SamplingSettings) -> list[str]:
        """The settings asked for that this kind of server can't honour (or may not)."""
        unsure = [
            name
            for name, off in (("top_k", 0), ("min_p", 0.0), ("repetition_penalty", 1.0))
            if getattr(settings, name) != off
        ]
        return unsure + self.cant_ban(settings)

    def warning(self, names: list[str]) -> str:
        """The one line telling the writer about settings it may not honour."""
        return (
            f"the {self.kind} server may ignore {', '.join(names)} (only temperature, "
            "top_p and max_tokens are sure to be honoured by every such server)"
        )

    def cant_ban(self, settings: SamplingSettings) -> list[str]:
        return [
            name
            for name in ("banned_tokens", "banned_strings", "ban_end_of_text")
            if getattr(settings, name)
        ]

    def pieces(self, event: dict) -> list[Piece]:
        """The tokens of one streamed event of an OpenAI-style stream. A chunk's text goes
        with its last token (a server holds back the tokens of a character not yet complete
        and sends them together)."""
        found = []
        for choice in event.get("choices") or []:
            index, text = choice.get("index", 0), choice.get("text") or ""
            tokens = self.tokens(choice)
            for number, (token_id, logprob, top) in enumerate(tokens):
                last = number == len(tokens) - 1
                found.append(Piece(index, text if last else "", token_id, logprob, top))
            if text and not tokens:
                found.append(Piece(index, text))
            finish = finish_reason(choice.get("finish_reason"))
            if finish:
                found.append(Piece(index, "", finish=finish))
        return found

    def tokens(self, choice: dict) -> list[tuple[int, float, Top]]:
        """(id, log-probability, alternatives) of each token of a choice's chunk: none where
        the server names its tokens by text alone."""
        return []


class TokenServer(Dialect):
    """A server that takes the prompt as token ids and says which tokens it chose."""

    gives_ids = True

    def added(self, settings: SamplingSettings) -> dict[str, Any]:
        added = {"logprobs": max(1, settings.top_alternatives)}  # the chosen token's, at least
        if settings.banned_tokens:
            added["logit_bias"] = self.bias(settings.banned_tokens)
        if settings.ban_end_of_text:
            added["ignore_eos"] = True
        return added

    def bias(self, banned: tuple[int, ...]) -> Any:
        """The logit_bias that bans these tokens."""
        return {str(token): -100 for token in banned}

    def unhonoured(self, settings: SamplingSettings) -> list[str]:
        return ["banned_strings"] if settings.banned_strings else []

    def warning(self, names: list[str]) -> str:
        return can_not_honour(self.kind, names)


def can_not_honour(kind: str, names: list[str]) -> str:
    return f"the {kind} server can't honour {', '.join(names)}: the text is written without it"


class LlamaCpp(TokenServer):
    kind = "llama.cpp"
    names = OPENAI_NAMES | {"repetition_penalty": "repeat_penalty"}

    def __init__(self, slots: int, context: int):
        self.most_choices = max(1, slots)
        self.context = context  # tokens per slot

    def added(self, settings: SamplingSettings) -> dict[str, Any]:
        # The whole context: llama-server counts the story too (Taletree's own loop counts only
        # what a branch wrote), and a shorter window would count the story's last words alone.
        return super().added(settings) | {"repeat_last_n": self.context, "cache_prompt": True}

    def bias(self, banned: tuple[int, ...]) -> Any:
        return [[token, False] for token in banned]

    def tokens(self, choice: dict) -> list[tuple[int, float, Top]]:
        return [
            (
                int(t["id"]),
                float(t["logprob"]),
                tuple((int(a["id"]), math.exp(a["logprob"])) for a in t.get("top_logprobs") or ()),
            )
            for t in (choice.get("logprobs") or {}).get("content") or []
        ]


class VLLM(TokenServer):
    kind = "vLLM"
    most_choices = 1024

    def added(self, settings: SamplingSettings) -> dict[str, Any]:
        # Tokens named "token_id:N", not by text.
        return super().added(settings) | {"return_tokens_as_token_ids": True}

    def tokens(self, choice: dict) -> list[tuple[int, float, Top]]:
        logprobs = choice.get("logprobs") or {}
        names = logprobs.get("tokens") or []
        tops = logprobs.get("top_logprobs") or [{}] * len(names)
        return [
            (
                token_number(name),
                float(logprob),
                tuple(
                    sorted(
                        ((token_number(t), math.exp(p)) for t, p in (top or {}).items()),
                        key=lambda pair: -pair[1],
                    )
                ),
            )
            for name, logprob, top in zip(
                names, logprobs.get("token_logprobs") or [], tops, strict=False
            )
        ]


def token_number(name: str) -> int:
    """vLLM's "token_id:123" (return_tokens_as_token_ids) as 123."""
    return int(name.rpartition(":")[2])


class Ollama(Dialect):
    """Ollama's own /api/generate with `raw`: its /v1/completions would wrap the story in the
    model's chat template."""

    kind = "Ollama"
    path = "/api/generate"
    names = OPENAI_NAMES | {"max_new_tokens": "num_predict", "repetition_penalty": "repeat_penalty"}
    at_root = True
    framing = "ndjson"

    def __init__(self, context: int):
        self.context = context  # num_ctx: sent every time, as a change reloads the model

    def added(self, settings: SamplingSettings) -> dict[str, Any]:
        # (Its log-probabilities name tokens by text alone, so they can't be token data.)
        return {"repeat_last_n": -1, "num_ctx": self.context}

    def envelope(self, model: str, prompt: Any, choices: int, asked: dict) -> dict[str, Any]:
        # One continuation per request (most_choices), the settings as its options.
        return {"model": model, "prompt": prompt, "raw": True, "stream": True, "options": asked}

    def unhonoured(self, settings: SamplingSettings) -> list[str]:
        return self.cant_ban(settings)

    def warning(self, names: list[str]) -> str:
        return can_not_honour(self.kind, names)

    def pieces(self, event: dict) -> list[Piece]:
        text = event.get("response") or ""
        found = [Piece(0, text)] if text else []
        if event.get("done"):
            found.append(Piece(0, "", finish=finish_reason(event.get("done_reason") or "stop")))
        return found
