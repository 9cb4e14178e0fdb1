"""A loaded model as the writing core and the commands use it: text in, events out.

Whatever runs the model (a transformers model or an LSTM in this process, through the generate
loop), it offers the same few things: its name, where it runs and how, its window, a tokenizer to
measure text with, the settings it suggests, the genre prefix it was trained with, and one
stream of events for N branches of a prompt. Importing this module loads no torch: a backend
is only made once a model has been loaded.
"""

import functools
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from engine.chat_template import StoryFrame, TemplateError, frame_or_raise, story_frame
from engine.events import Event
from engine.reading import genre_prefix, known_genres
from engine.request import GenerationRequest

if TYPE_CHECKING:
    from engine.generate import StepModel


class Backend(Protocol):
    name: str  # what the writer sees, and what every node it writes keeps
    device: str  # where it runs: cpu, cuda:0, mps, server
    serving_path: str  # how it runs: fast path, general path, LSTM state; vLLM, llama.cpp…
    window: int | None  # the most tokens it attends to at once; None: any length

    def tokenize(self, text: str) -> list[int]: ...  # the story's text, taken literally
    def tokenize_frame(self, text: str) -> list[int]: ...  # a chat template's, tokens named
    def story_frame(self) -> StoryFrame | None: ...  # None: no chat template; TemplateError
    def token_text(self, token_id: int) -> str: ...
    def generation_defaults(self) -> dict[str, Any]: ...
    def genres(self) -> list[str]: ...
    def genre_prefix(self, genre: str | None) -> list[int]: ...
    def branch_seeds(self, seed: int, count: int) -> list[int]: ...  # each branch's own seed
    # How many of these tokens the model holds from its last request (None: it can't say).
    def cached_prefix(self, ids: Sequence[int]) -> int | None: ...
    def stream(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Iterator[Event]: ...
    def answer_logprobs(
        self, prompts: Sequence[Sequence[int]], answers: Sequence[int]
    ) -> list[list[float]]: ...


class LocalBackend:
    """A model in this process (a transformers model or an LSTM) streaming through the
    generate loop; its story cache lives between requests."""

    def __init__(self, model: "StepModel", name: str, device: str | None = None):
        self.model = model
        self.tokenizer = model.tokenizer
        self.name = name
        self.device = device or str(model.device)  # (llama.cpp runs where the loop doesn't)
        self.serving_path = model.serving_path
        self.window = model.window

    def tokenize(self, text: str) -> list[int]:
        # A special token's name typed in a story (`<|im_end|>`) is text, not that token.
        return self.tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True)

    def tokenize_frame(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    @functools.cache  # noqa: B019 (rendered once per loaded model, which lives with the app)
    def frame_or_error(self) -> StoryFrame | TemplateError | None:
        template = getattr(self.tokenizer, "chat_template", None)
        if isinstance(template, dict):  # named templates: the one for plain chat
            template = template.get("default")
        if not isinstance(template, str) or not template.strip():
            return None
        specials = {
            name: getattr(self.tokenizer, name, None)
            for name in ("bos_token", "eos_token", "unk_token", "pad_token")
        }
        try:
            return story_frame(template, {k: v for k, v in specials.items() if isinstance(v, str)})
        except TemplateError as error:
            return error

    def story_frame(self) -> StoryFrame | None:
        return frame_or_raise(self.frame_or_error())

    def token_text(self, token_id: int) -> str:
        return self.tokenizer.decode([token_id])

    def generation_defaults(self) -> dict[str, Any]:
        return self.model.generation_defaults()

    def genres(self) -> list[str]:
        return known_genres(self.tokenizer)

    def genre_prefix(self, genre: str | None) -> list[int]:
        return genre_prefix(self.tokenizer, genre)

    def branch_seeds(self, seed: int, count: int) -> list[int]:
        from engine.sampling import branch_seeds

        return branch_seeds(seed, count)

    def cached_prefix(self, ids: Sequence[int]) -> int:
        return self.model.cached_prefix(ids)

    def stream(
        self, request: GenerationRequest, cancel: threading.Event | None = None
    ) -> Iterator[Event]:
        from engine.generate import generate

        return generate(self.model, request, cancel=cancel)

    def answer_logprobs(
        self, prompts: Sequence[Sequence[int]], answers: Sequence[int]
    ) -> list[list[float]]:
        """log p(answer | prompt) for each answer token after each prompt, exactly: one
        forward pass over all the prompts."""
        logprobs = self.model.next_logprobs(prompts)[:, list(answers)]
        return logprobs.tolist()


def load_backend(
    name: str,
    *,
    label: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    allow_pickle: bool = False,
    trust_remote_code: bool = False,
    api_key: str | None = None,
    context_limit: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> "Backend":
    """Load a model folder or cached hub id, or connect to a server at an http(s) address
    (slow: in a worker thread where a UI waits), or open a GGUF file on llama.cpp, or one of
    the models Taletree names (default, default-gguf, demo: engine/named_models.py). A server
    needs only `api_key`, if any; a GGUF file reads at most `context_limit` tokens, if given;
    the rest is load_model's."""
    from engine.gguf import gguf_file
    from engine.named_models import DEFAULT_GGUF, local_source, shown_name
    from engine.remote import is_server_address
    from engine.smollm2 import DEFAULT_SAMPLING

    if is_server_address(name):
        from engine.remote.backend import ServerBackend

        return ServerBackend(name, api_key=api_key, progress=progress)
    label = label or shown_name(name)
    source = local_source(name, progress or (lambda stage: None))
    if (path := gguf_file(source)) is not None:
        from engine.gguf.model import load_gguf

        model = load_gguf(path, device=device, context_limit=context_limit, report=progress)
        if name == DEFAULT_GGUF:  # the settings chosen for it, which its file doesn't hold
            model.suggested = dict(DEFAULT_SAMPLING)
        return LocalBackend(model, label, device=model.placement.shown)
    from engine.loading import load_model

    model = load_model(
        source,
        device=device,
        dtype=dtype,
        allow_pickle=allow_pickle,
        trust_remote_code=trust_remote_code,
        progress=progress,
    )
    return LocalBackend(model, label)
