"""What the model reads for a node: the memory, lorebook entries the story's end puts in, the
story along the path with the author's note (and entries placed at a depth) a few lines above
the end, trimmed from the front to a token budget. Part by part, so a writer can see it.

The tokenizer is passed in as a callable (text -> token ids), so this module needs no model.

When the budget is short, the story's oldest text goes first, down to a reserve kept for the
story; lorebook entries that still don't fit are left out from the last rank up; the memory
and the author's note never go (if they alone don't fit, that is an error the writer can fix).

Trimming moves the start of the story in whole steps of `trim_step` characters (snapped to the
next word) rather than one word at a time. Between turns the start then stays put until the story
has grown by a whole step, so the context keeps the same beginning and the engine can reuse its
key/value cache instead of prefilling everything again.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from story.errors import StoryError
from story.lorebook import Fired, LoreEntry, fired

if TYPE_CHECKING:
    from story.store import Store

Tokenize = Callable[[str], Sequence[int]]
DEFAULT_TRIM_STEP = 2000  # characters: a few hundred tokens of English
STORY_RESERVE = 256  # tokens of story that lorebook entries never take
WORD_START = re.compile(r"\s\S")  # a word's first character is at match.start() + 1


@dataclass(frozen=True)
class Part:
    kind: str  # memory, lore, story or note
    label: str  # what the writer sees it called
    text: str
    tokens: int = 0


@dataclass(frozen=True)
class Context:
    text: str
    tokens: int  # length of tokenize(text)
    dropped: int  # characters of the story left out at the front
    parts: list[Part] = field(default_factory=list)  # in the order the model reads them
    lore: list[Fired] = field(default_factory=list)  # entries put in, and the key that fired
    left_out: list[Fired] = field(default_factory=list)  # entries that fired but had no room


def note_position(body: str, depth: int) -> int:
    """Where the note goes: the start of the line `depth` lines from the end."""
    if depth <= 0:
        return len(body)
    starts = [m.end() for m in re.finditer("\n", body.rstrip("\n"))]
    return starts[-depth] if len(starts) >= depth else 0


def as_line(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def lore_label(item: Fired) -> str:
    return f"lore: {item.entry.keys[0] if item.entry.keys else 'always'} ({item.key})"


def segments(
    memory: str, body: str, note: str, depth: int, start: int = 0, lore: Sequence[Fired] = ()
) -> list[Part]:
    """The context's parts, with the story starting at character `start` of the body."""
    parts = [Part("memory", "memory", as_line(memory))] if memory else []
    parts += [
        Part("lore", lore_label(f), as_line(f.entry.text))
        for f in lore
        if f.entry.placement == "top"
    ]
    inserts = [
        (f.entry.depth, Part("lore", lore_label(f), f.entry.text))
        for f in lore
        if f.entry.placement == "depth"
    ]
    if note:
        inserts.append((depth, Part("note", "author's note", note)))  # after entries there
    at = start
    positions = [
        (max(note_position(body, d), start), i, part) for i, (d, part) in enumerate(inserts)
    ]
    placed = sorted(positions, key=lambda t: (t[0], t[1]))
    for position, _, part in placed:
        if position > at:
            parts.append(Part("story", "story", body[at:position]))
            at = position
        text = as_line(part.text)
        if position == len(body) and body and not body.endswith("\n"):
            text = "\n" + text
        parts.append(Part(part.kind, part.label, text))
    if at < len(body):
        parts.append(Part("story", "story", body[at:]))
    return parts


def assemble(
    memory: str, body: str, note: str, depth: int, start: int = 0, lore: Sequence[Fired] = ()
) -> str:
    """The context text with the story starting at character `start` of the body."""
    return "".join(part.text for part in segments(memory, body, note, depth, start, lore))


def step_starts(body: str, step: int) -> list[int]:
    """Candidate start positions: every `step` characters, moved forward to a word's start."""
    starts = [0]
    for target in range(step, len(body), step):
        found = WORD_START.search(body, target - 1)
        position = found.start() + 1 if found else len(body)
        if position > starts[-1]:
            starts.append(position)
    return starts


def story_end(body: str, tokenize: Tokenize, tokens: int) -> str:
    """About the last `tokens` tokens of the story (whole words): where lore keys are found."""
    tail = body[-tokens * 8 :]  # a token is rarely longer than 8 characters
    if len(tokenize(tail)) <= tokens:
        return tail
    starts = [0] + [m.start() + 1 for m in WORD_START.finditer(tail)]
    low, high = 0, len(starts) - 1  # the first start whose tail fits
    while low < high:
        middle = (low + high) // 2
        if len(tokenize(tail[starts[middle] :])) <= tokens:
            high = middle
        else:
            low = middle + 1
    return tail[starts[low] :]


def build_context(
    memory: str,
    body: str,
    note: str,
    depth: int,
    tokenize: Tokenize,
    budget: int,
    trim_step: int = DEFAULT_TRIM_STEP,
    lore: Sequence[LoreEntry] = (),
    scan_tokens: int | None = None,
) -> Context:
    """Fit memory, lorebook entries, story and note into `budget` tokens. The lorebook's keys
    are looked for in the story's last `scan_tokens` tokens (the lore_scan_tokens setting)."""
    if lore and scan_tokens is None:
        raise ValueError("a lorebook needs scan_tokens: how much of the story its keys scan")

    def measure(start: int, entries: Sequence[Fired] = ()) -> int:
        return len(tokenize(assemble(memory, body, note, depth, start, entries)))

    fixed = measure(len(body))
    if fixed > budget:
        raise StoryError(
            f"the memory and author's note alone take {fixed} tokens, more than the "
            f"{budget} the model can see: shorten them"
        )
    candidates = fired(lore, story_end(body, tokenize, scan_tokens)) if lore else []
    kept: list[Fired] = []
    left_out: list[Fired] = []
    if candidates:
        reserve = min(STORY_RESERVE, budget // 4, len(tokenize(body)))
        for item in candidates:
            if measure(len(body), [*kept, item]) + reserve <= budget:
                kept.append(item)
            else:
                left_out.append(item)
    if measure(0, kept) <= budget:
        start = 0
    else:
        starts = step_starts(body, trim_step)
        start = earliest_fitting(starts, lambda s: measure(s, kept), budget)
        if start is None:
            # Even the last step is too long: fall back to word starts inside it.
            words = [starts[-1]] + [m.start() + 1 for m in WORD_START.finditer(body, starts[-1])]
            start = earliest_fitting(words, lambda s: measure(s, kept), budget)
            if start is None:
                start = len(body)
    parts = [
        Part(p.kind, p.label, p.text, len(tokenize(p.text)))
        for p in segments(memory, body, note, depth, start, kept)
    ]
    text = "".join(part.text for part in parts)
    return Context(text, len(tokenize(text)), start, parts, kept, left_out)


def earliest_fitting(starts: list[int], measure: Callable[[int], int], budget: int) -> int | None:
    """The earliest start whose context fits. Fewer tokens as the start moves on, so search
    back from the end in growing strides, then bisect: only text near the budget's size is
    tokenized, even for a very long story."""
    last = len(starts) - 1
    if measure(starts[last]) > budget:
        return None
    fits, stride = last, 1
    while fits > 0:
        probe = max(fits - stride, 0)
        if measure(starts[probe]) > budget:
            too_long = probe
            break
        fits, stride = probe, stride * 2
    else:
        return starts[0]
    while fits - too_long > 1:
        middle = (fits + too_long) // 2
        if measure(starts[middle]) <= budget:
            fits = middle
        else:
            too_long = middle
    return starts[fits]


def context_for(
    store: "Store",
    node_id: int,
    tokenize: Tokenize,
    budget: int,
    trim_step: int = DEFAULT_TRIM_STEP,
    *,
    scan_tokens: int,
) -> Context:
    """The context for continuing the story at a node (`scan_tokens` as build_context's)."""
    node = store.node(node_id)
    story = store.story(node.story_id)
    body = store.path_text(node_id)
    return build_context(
        story.memory,
        body,
        story.note,
        story.note_depth,
        tokenize,
        budget,
        trim_step,
        store.lore(story.id),
        scan_tokens,
    )
