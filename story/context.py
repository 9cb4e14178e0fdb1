"""What the model sees for a node: memory, then the story along the path with the author's note
a few lines above the end, trimmed from the front to a token budget.

The tokenizer is passed in as a callable (text -> token ids), so this module needs no model.

Trimming moves the start of the story in whole steps of `trim_step` characters (snapped to the
next word) rather than one word at a time. Between turns the start then stays put until the story
has grown by a whole step, so the context keeps the same beginning and the engine can reuse its
key/value cache instead of prefilling everything again.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from story.errors import StoryError

if TYPE_CHECKING:
    from story.store import Store

Tokenize = Callable[[str], Sequence[int]]
DEFAULT_TRIM_STEP = 2000  # characters: a few hundred tokens of English
WORD_START = re.compile(r"\s\S")  # a word's first character is at match.start() + 1


@dataclass(frozen=True)
class Context:
    text: str
    tokens: int  # length of tokenize(text)
    dropped: int  # characters of the story left out at the front


def note_position(body: str, depth: int) -> int:
    """Where the note goes: the start of the line `depth` lines from the end."""
    if depth <= 0:
        return len(body)
    starts = [m.end() for m in re.finditer("\n", body.rstrip("\n"))]
    return starts[-depth] if len(starts) >= depth else 0


def assemble(memory: str, body: str, note: str, depth: int, start: int = 0) -> str:
    """The context text with the story starting at character `start` of the body."""
    header = memory if not memory or memory.endswith("\n") else memory + "\n"
    if not note:
        return header + body[start:]
    at = max(note_position(body, depth), start)
    note_line = note if note.endswith("\n") else note + "\n"
    if at == len(body) and body and not body.endswith("\n"):
        note_line = "\n" + note_line
    return header + body[start:at] + note_line + body[at:]


def step_starts(body: str, step: int) -> list[int]:
    """Candidate start positions: every `step` characters, moved forward to a word's start."""
    starts = [0]
    for target in range(step, len(body), step):
        found = WORD_START.search(body, target - 1)
        position = found.start() + 1 if found else len(body)
        if position > starts[-1]:
            starts.append(position)
    return starts


def build_context(
    memory: str,
    body: str,
    note: str,
    depth: int,
    tokenize: Tokenize,
    budget: int,
    trim_step: int = DEFAULT_TRIM_STEP,
) -> Context:
    """Fit memory + story + note into `budget` tokens, dropping story text from the front."""

    def measure(start: int) -> int:
        return len(tokenize(assemble(memory, body, note, depth, start)))

    fixed = measure(len(body))
    if fixed > budget:
        raise StoryError(
            f"the memory and author's note alone take {fixed} tokens, more than the "
            f"{budget} the model can see: shorten them"
        )
    if measure(0) <= budget:
        start = 0
    else:
        starts = step_starts(body, trim_step)
        start = earliest_fitting(starts, measure, budget)
        if start is None:
            # Even the last step is too long: fall back to word starts inside it.
            words = [starts[-1]] + [m.start() + 1 for m in WORD_START.finditer(body, starts[-1])]
            start = earliest_fitting(words, measure, budget)
            if start is None:
                start = len(body)
    text = assemble(memory, body, note, depth, start)
    return Context(text=text, tokens=len(tokenize(text)), dropped=start)


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
) -> Context:
    """The context for continuing the story at a node."""
    node = store.node(node_id)
    story = store.story(node.story_id)
    body = store.path_text(node_id)
    return build_context(
        story.memory, body, story.note, story.note_depth, tokenize, budget, trim_step
    )
