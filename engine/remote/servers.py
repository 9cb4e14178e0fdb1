"""Which server answers at an address, which model it serves, how long a context that model
reads, and how its text is counted in tokens.

An address is the server's API base, with the served model's name after a `#` where the
server has several: `http://gpu-box:8000/v1#meta-llama/Llama-3.1-8B`. A base given without a
path gets `/v1`.
"""

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from engine.remote import KEY_VARIABLE
from engine.remote.client import ServerClient, ServerError
from engine.remote.dialects import VLLM, Dialect, LlamaCpp, Ollama

# Ollama reads this much unless a model says otherwise (its documented default num_ctx);
# Taletree sends it explicitly, so the window the writer sees is the one the server uses.
OLLAMA_CONTEXT = 4096
PIECE = 3  # characters per token where a server can't count them (most tokenizers: about 4)


def split_address(address: str) -> tuple[str, str | None]:
    """(API base URL, the model named after '#', if any)."""
    url, _, model = address.partition("#")
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise ServerError(
            "a server address can't hold a user name or password (it would be "
            f"kept with the story): put the API key in {KEY_VARIABLE}, or "
            "api_key under [server] in config.toml"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ServerError(
            f"{address!r} is not a server address: give one like "
            "http://gpu-box:8000/v1, with #model after it if it serves "
            "several"
        )
    path = parts.path.rstrip("/") or "/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")), model.strip() or None


@dataclass
class Served:
    dialect: Dialect
    model: str  # the served model's name, as the server calls it
    window: int | None  # the most tokens a request may hold, prompt and new tokens together


def detect(client: ServerClient, wanted: str | None) -> Served:
    """Ask the server what it is and what it serves."""
    if is_ollama(client):
        names = [
            m.get("name") or m.get("model")
            for m in client.get("/api/tags", at_root=True).get("models", [])
        ]
        model = choose(client, names, wanted)
        context = ollama_context(client, model)
        return Served(Ollama(context), model, context)
    try:
        listed = client.get("/models")
    except ServerError as error:
        if error.status != 404:
            raise
        listed = None
    entries = listed.get("data") if isinstance(listed, dict) else None
    if not isinstance(entries, list):
        raise ServerError(
            f"{client.base}/models doesn't list models: is this an OpenAI-"
            "compatible server's API base (usually ending in /v1)?"
        )
    model = choose(client, [e.get("id") for e in entries if isinstance(e, dict)], wanted)
    entry = next(e for e in entries if e.get("id") == model)
    owner = entry.get("owned_by")
    if owner == "vllm":
        return Served(VLLM(), model, entry.get("max_model_len"))
    if owner == "llamacpp":
        props = client.get("/props", at_root=True)
        context = props.get("default_generation_settings", {}).get("n_ctx")
        return Served(LlamaCpp(props.get("total_slots", 1), context or 0), model, context)
    window = entry.get("max_model_len") or entry.get("context_length")
    return Served(Dialect(), model, window if isinstance(window, int) else None)


def is_ollama(client: ServerClient) -> bool:
    try:
        answer = client.get("/api/version", at_root=True)
    except ServerError as error:
        if error.status is None:  # not even reached: the real problem, said at once
            raise
        return False
    return isinstance(answer, dict) and "version" in answer


def choose(client: ServerClient, names: list[Any], wanted: str | None) -> str:
    names = [n for n in names if isinstance(n, str)]
    if wanted is not None:
        if wanted in names:
            return wanted
        raise ServerError(
            f"{client.base} serves no model {wanted!r}: it serves {', '.join(names) or 'none'}"
        )
    if len(names) == 1:
        return names[0]
    if not names:
        raise ServerError(f"{client.base} serves no model yet: load one there first")
    raise ServerError(
        f"{client.base} serves several models ({', '.join(names)}): name one "
        "after a #, as in URL#model"
    )


def ollama_context(client: ServerClient, model: str) -> int:
    """The context Ollama runs the model with: its Modelfile's num_ctx, else Ollama's default
    (or the model's own limit, if smaller)."""
    shown = client.post("/api/show", {"model": model}, at_root=True)
    found = re.search(r"\bnum_ctx\s+(\d+)", str(shown.get("parameters", "")))
    if found:
        return int(found[1])
    limits = [
        v
        for k, v in (shown.get("model_info") or {}).items()
        if k.endswith(".context_length") and isinstance(v, int)
    ]
    return min([OLLAMA_CONTEXT, *limits])


# How vLLM says its model has no chat template of its own ("...you must provide a chat template
# if the tokenizer does not define one"): nothing to frame, so the story goes raw.
NO_TEMPLATE = re.compile(r"chat template.*(does not define|no longer allowed)|no chat template")


class NoChatTemplate(Exception):
    """The served model has no chat template of its own."""


class ServerTokens:
    """Counting text in the server's own tokens, through its /tokenize and /detokenize."""

    def __init__(self, client: ServerClient, served: Served):
        self.client, self.served = client, served
        self.llama = isinstance(served.dialect, LlamaCpp)

    def encode(self, text: str, parse_special: bool = False) -> list[int]:
        """The text's tokens; with parse_special (llama-server), a special token's name in it
        is that token, as a chat template's are."""
        if not text:
            return []
        body: dict[str, Any] = (
            {"content": text, "add_special": False, "parse_special": parse_special}
            if self.llama
            else {"model": self.served.model, "prompt": text, "add_special_tokens": False}
        )
        return [int(t) for t in self.client.post("/tokenize", body, at_root=True)["tokens"]]

    def decode(self, ids: list[int]) -> str:
        body: dict[str, Any] = (
            {"tokens": ids} if self.llama else {"model": self.served.model, "tokens": ids}
        )
        answer = self.client.post("/detokenize", body, at_root=True)
        return answer.get("content", answer.get("prompt", ""))

    def render(self, messages: list[dict]) -> str:
        """The server's own rendering of its model's chat template, the last turn left open:
        llama-server's /apply-template, or vLLM's /tokenize of the messages read back through
        /detokenize."""
        if self.llama:
            answer = self.client.post("/apply-template", {"messages": messages}, at_root=True)
            return str(answer.get("prompt", "") if isinstance(answer, dict) else "")
        body = {
            "model": self.served.model,
            "messages": messages,
            "add_generation_prompt": False,
            "continue_final_message": True,
        }
        try:
            ids = self.client.post("/tokenize", body, at_root=True)["tokens"]
        except ServerError as error:
            if error.status == 400 and NO_TEMPLATE.search(str(error)):
                raise NoChatTemplate(self.served.model) from None
            raise
        return self.decode(ids)


class TextPieces:
    """For a server that can't count tokens: text cut into pieces of PIECE characters, each an
    id of its own, so a budget in these "tokens" errs on the safe side and the ids give the
    exact text back."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.pieces: list[str] = []

    def encode(self, text: str) -> list[int]:
        return [self.id_of(text[i : i + PIECE]) for i in range(0, len(text), PIECE)]

    def id_of(self, piece: str) -> int:
        if piece not in self.ids:
            self.ids[piece] = len(self.pieces)
            self.pieces.append(piece)
        return self.ids[piece]

    def decode(self, ids: list[int]) -> str:
        return "".join(self.pieces[i] for i in ids)
