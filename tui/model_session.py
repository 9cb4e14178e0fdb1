"""A loaded model as the app sees it: text in, events out. No Textual here.

The app only needs a few things from a model: its name and device, its window, a tokenizer
to measure the story with, its suggested settings, and a stream of engine events for a prompt.
EngineSession provides them for every model the engine loads; UI tests give the app a
deterministic fake with the same shape (tests/fake_model.py).
"""

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from engine.events import Event
from engine.settings import SamplingSettings
from story.context import context_for

if TYPE_CHECKING:
    from story.store import Store

# How much story the model sees when it has no fixed window (an LSTM carries any length).
UNBOUNDED_BUDGET = 2048
# Our own models were trained on stories written as <BOS> <genre> text.
TRAINED_BOS = "<BOS>"


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    keep: int  # leading tokens (genre, memory) that survive any trimming to the window
    window: int | None


class ModelSession(Protocol):
    name: str
    device: str
    window: int | None

    def tokenize(self, text: str) -> list[int]: ...
    def decode(self, token_id: int) -> str: ...
    def defaults(self) -> dict[str, Any]: ...
    def prefix(self, genre: str | None) -> list[int]: ...
    def stream(
        self,
        prompt: Prompt,
        branches: int,
        settings: SamplingSettings,
        seed: int | None,
        cancel: threading.Event,
    ) -> Iterator[Event]: ...


class EngineSession:
    """A model loaded by the engine, with its story cache kept between turns."""

    def __init__(self, backend: Any, name: str):
        self.backend = backend
        self.name = name
        self.device = str(backend.device)
        self.window = backend.window

    def tokenize(self, text: str) -> list[int]:
        return self.backend.tokenizer.encode(text, add_special_tokens=False)

    def decode(self, token_id: int) -> str:
        return self.backend.tokenizer.decode([token_id])

    def defaults(self) -> dict[str, Any]:
        return self.backend.generation_defaults()

    def prefix(self, genre: str | None) -> list[int]:
        """What goes before the story: <BOS> <genre> for models trained by Taletree."""
        from engine.training.tuning import prompt_for

        tokenizer = self.backend.tokenizer
        return prompt_for(tokenizer, genre) if tokenizer.bos_token == TRAINED_BOS else []

    def stream(
        self,
        prompt: Prompt,
        branches: int,
        settings: SamplingSettings,
        seed: int | None,
        cancel: threading.Event,
    ) -> Iterator[Event]:
        from engine.generate import generate

        return generate(
            self.backend, prompt.ids, branches, settings, seed=seed, cancel=cancel, keep=prompt.keep
        )


def load_session(
    name: str, device: str, label: str, progress: Callable[[str], None]
) -> EngineSession:
    """Load a model (slow: run it in a worker thread)."""
    from engine.loading import load_model

    backend = load_model(name, device=None if device == "auto" else device, progress=progress)
    return EngineSession(backend, label)


def build_prompt(
    session: ModelSession, store: "Store", node_id: int, settings: SamplingSettings
) -> Prompt:
    """The tokens the model continues at a node: prefix, memory, story, author's note."""
    story = store.story(store.node(node_id).story_id)
    prefix = session.prefix(story.genre)
    window = session.window or UNBOUNDED_BUDGET
    budget = max(1, window - settings.max_new_tokens - len(prefix))
    context = context_for(store, node_id, session.tokenize, budget)
    memory = len(session.tokenize(story.memory)) if story.memory else 0
    return Prompt([*prefix, *session.tokenize(context.text)], len(prefix) + memory, session.window)
