"""The tokens a model continues at a node: the genre prefix its training used, the memory, the
story along the path trimmed to the model's window, and the author's note."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.training.data import UnknownGenre
from story.context import context_for

if TYPE_CHECKING:
    from engine.backend import Backend
    from story.store import Store

# How much story the model sees when it has no fixed window (an LSTM carries any length).
UNBOUNDED_BUDGET = 2048


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    keep: int  # leading tokens (genre, memory) that survive any trimming to the window
    notice: str | None = None  # what the writer should know about it (a genre the model lacks)


def build_prompt(backend: "Backend", store: "Store", node_id: int, max_new_tokens: int) -> Prompt:
    story = store.story(store.node(node_id).story_id)
    notice = None
    try:
        prefix = backend.genre_prefix(story.genre)
    except UnknownGenre as error:
        prefix = backend.genre_prefix(None)
        notice = f"{error}: writing without a genre"
    window = backend.window or UNBOUNDED_BUDGET
    budget = max(1, window - max_new_tokens - len(prefix))
    context = context_for(store, node_id, backend.tokenize, budget)
    memory = len(backend.tokenize(story.memory)) if story.memory else 0
    return Prompt([*prefix, *backend.tokenize(context.text)], len(prefix) + memory, notice)
