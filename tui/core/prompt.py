"""The tokens a model continues at a node: the genre prefix its training used, the memory, the
story along the path trimmed to the model's window, and the author's note."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.training.data import UnknownGenre
from story.context import Context, context_for

if TYPE_CHECKING:
    from engine.backend import Backend
    from story.store import Store


@dataclass(frozen=True)
class Prompt:
    ids: list[int]
    keep: int  # leading tokens (genre, memory) that survive any trimming to the window
    notice: str | None = None  # what the writer should know about it (a genre the model lacks)
    context: Context | None = None  # the text after the prefix, part by part
    prefix: tuple[int, ...] = ()  # the model's own tokens before it (its genre prefix)


def build_prompt(
    backend: "Backend",
    store: "Store",
    node_id: int,
    *,
    window: int,
    max_new_tokens: int,
    scan_tokens: int,
) -> Prompt:
    """The prompt at a node, within `window` tokens (the model's own window, or the
    context_limit setting for a model without one) less the new tokens."""
    story = store.story(store.node(node_id).story_id)
    notice = None
    try:
        prefix = backend.genre_prefix(story.genre)
    except UnknownGenre as error:
        prefix = backend.genre_prefix(None)
        notice = f"{error}: writing without a genre"
    budget = max(1, window - max_new_tokens - len(prefix))
    context = context_for(store, node_id, backend.tokenize, budget, scan_tokens=scan_tokens)
    memory = len(backend.tokenize(story.memory)) if story.memory else 0
    return Prompt(
        [*prefix, *backend.tokenize(context.text)],
        len(prefix) + memory,
        notice,
        context,
        tuple(prefix),
    )


@dataclass(frozen=True)
class ContextRow:
    label: str
    tokens: int
    text: str


@dataclass(frozen=True)
class ContextReport:
    """What the model reads next, as a writer sees it: each part with its tokens, the share of
    the window used, and what was left out."""

    rows: list[ContextRow]
    tokens: int
    window: int | None
    notes: list[str]

    @property
    def share(self) -> float | None:
        return self.tokens / self.window if self.window else None


def context_report(prompt: Prompt, window: int | None) -> ContextReport:
    context = prompt.context
    rows = (
        [ContextRow("the model's own prefix (genre)", len(prompt.prefix), "")]
        if prompt.prefix
        else []
    )
    notes = []
    if context is not None:
        rows += [ContextRow(part.label, part.tokens, part.text) for part in context.parts]
        if context.dropped:
            notes.append(f"the story's first {context.dropped:,} characters are cut: no room")
        notes += [
            f"lore entry #{item.entry.id} fired on {item.key!r} but had no room"
            for item in context.left_out
        ]
    if prompt.notice:
        notes.append(prompt.notice)
    return ContextReport(rows, len(prompt.ids), window, notes)
