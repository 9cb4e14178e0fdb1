"""The tokens a model continues at a node: the genre prefix its training used, the memory, the
story along the path trimmed to the model's window, and the author's note; in story mode
(engine/reading.py) the memory, lorebook and note go into the chat template's turns and the
story follows them as the model's own unfinished answer."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.reading import RAW, Reading, UnknownGenre, genre_part, story_lead, tokenized
from story.context import Context, context_for, lore_label

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
    lead: tuple["ContextRow", ...] = ()  # in story mode: each piece before the story
    reading: str = "raw text"  # how the model reads it, as the writer sees it


def build_prompt(
    backend: "Backend",
    store: "Store",
    node_id: int,
    *,
    window: int,
    max_new_tokens: int,
    scan_tokens: int,
    reading: Reading = RAW,
) -> Prompt:
    """The prompt at a node, within `window` tokens (the model's own window, or the
    context_limit setting for a model without one) less the new tokens."""
    if reading.frame is not None:
        return story_mode_prompt(
            backend, store, node_id, reading, window - max_new_tokens, scan_tokens
        )
    story = store.story(store.node(node_id).story_id)
    notice = reading.note
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


# Tokens the lead may take beyond the parts' own (the labels and blank lines around them).
LEAD_SLACK = 8


def story_mode_prompt(
    backend: "Backend",
    store: "Store",
    node_id: int,
    reading: Reading,
    budget: int,
    scan_tokens: int,
) -> Prompt:
    """The story as the assistant's open turn, after the template's system line (with the
    memory and top lore) and the writer's turn (with the note and lore placed at a depth).
    The lead is read whole whatever the window: only the story is trimmed."""
    assert reading.frame is not None
    bare = tokenized(backend, story_lead(reading.frame, (), ()))
    overhead = sum(len(ids) for _, ids in bare)
    room = max(1, budget - overhead - LEAD_SLACK * 2)
    context = context_for(store, node_id, backend.tokenize, room, scan_tokens=scan_tokens)
    at_depth = {lore_label(f) for f in context.lore if f.entry.placement == "depth"}
    placed = [(p.kind, p.label, p.text) for p in context.parts if p.kind != "story"]
    asides = [part for part in placed if part[0] == "note" or part[1] in at_depth]
    system = [part for part in placed if part not in asides]
    genre = store.story(store.node(node_id).story_id).genre
    if genre:  # told in words: an instruction-tuned model has no genre tokens
        system.insert(0, genre_part(genre))
    lead = [
        ContextRow(piece.label, len(ids), piece.text, tuple(ids))
        for piece, ids in tokenized(backend, story_lead(reading.frame, system, asides))
    ]
    story_text = "".join(p.text for p in context.parts if p.kind == "story")
    lead_ids = [token for row in lead for token in row.ids]
    return Prompt(
        [*lead_ids, *backend.tokenize(story_text)],
        len(lead_ids),
        context=context,
        prefix=tuple(lead_ids),
        lead=tuple(lead),
        reading=reading.shown,
    )


@dataclass(frozen=True)
class ContextRow:
    label: str
    tokens: int
    text: str
    ids: tuple[int, ...] = ()  # in story mode's lead: the very tokens


@dataclass(frozen=True)
class ContextReport:
    """What the model reads next, as a writer sees it: each part with its tokens, the share of
    the window used, and what was left out."""

    rows: list[ContextRow]
    tokens: int
    window: int | None
    notes: list[str]
    cached: int | None = None  # of the tokens, those the model holds from its last request

    @property
    def share(self) -> float | None:
        return self.tokens / self.window if self.window else None


def cache_line(report: ContextReport) -> str:
    """What the model's story cache saves of the next request, in words."""
    fresh = report.tokens - (report.cached or 0)
    return f"{report.cached:,} of them in its cache from the last step: {fresh:,} to read anew"


def context_report(prompt: Prompt, window: int | None, cached: int | None = None) -> ContextReport:
    context = prompt.context
    notes = []
    if prompt.lead:
        rows = list(prompt.lead)
        story = [p.text for p in context.parts if p.kind == "story"] if context else []
        rows.append(ContextRow("story", len(prompt.ids) - prompt.keep, "".join(story)))
    else:
        rows = (
            [ContextRow("the model's own prefix (genre)", len(prompt.prefix), "")]
            if prompt.prefix
            else []
        )
        if context is not None:
            rows += [ContextRow(part.label, part.tokens, part.text) for part in context.parts]
    if context is not None:
        if context.dropped:
            notes.append(f"the story's first {context.dropped:,} characters are cut: no room")
        notes += [
            f"lore entry #{item.entry.id} fired on {item.key!r} but had no room"
            for item in context.left_out
        ]
    if prompt.notice:
        notes.append(prompt.notice)
    return ContextReport(rows, len(prompt.ids), window, notes, cached)
