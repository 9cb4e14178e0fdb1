"""Reading a training corpus.

A story is (genre or None, text). In a text corpus a story may start with its genre tag,
`<horror> It was night…` (the demo corpus does). Every 20th story is held out for evaluation,
the same ones every time. Stories are trained as `<BOS> <genre> text <EOS>`, so a model trained
by Taletree is asked for a genre with that same `<BOS> <genre>` prefix (engine/reading.py's
genre_prefix).
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError
from engine.reading import TAG

HELD_OUT_EVERY = 20


class TrainingError(UserError):
    """Bad input for training or evaluation: one line saying what and what to do."""


@dataclass(frozen=True)
class TrainingText:
    genre: str | None
    text: str


def split_tag(text: str) -> TrainingText:
    match = TAG.match(text)
    if match:
        return TrainingText(match.group(1).lower(), text[match.end() :])
    return TrainingText(None, text)


def read_corpus(
    path: str,
    *,
    line_by_line: bool = False,
    column: str | None = None,
    genre_column: str | None = None,
) -> list[TrainingText]:
    """Stories from a text file (blank-line separated, or one per line) or a CSV column."""
    file = Path(path)
    if not file.is_file():
        raise TrainingError(f"{path}: no such file: give a text or CSV corpus")
    try:
        raw = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise TrainingError(f"{path} can't be read as UTF-8 text ({error})") from error
    if column is not None:
        stories = read_csv(path, raw, column, genre_column)
    else:
        blocks = raw.splitlines() if line_by_line else re.split(r"\n\s*\n", raw)
        stories = [split_tag(block.strip()) for block in blocks if block.strip()]
    stories = [s for s in stories if s.text.strip()]
    if not stories:
        raise TrainingError(f"{path} holds no stories: the corpus is empty")
    return stories


def read_csv(path: str, raw: str, column: str, genre_column: str | None) -> list[TrainingText]:
    rows = list(csv.DictReader(io.StringIO(raw, newline="")))
    header = list(rows[0].keys()) if rows else []
    for wanted in filter(None, (column, genre_column)):
        if wanted not in header:
            listed = ", ".join(header) or "none"
            raise TrainingError(f"{path} has no column {wanted!r} (its columns: {listed})")
    return [
        TrainingText(
            (row[genre_column] or "").strip().lower() or None if genre_column else None,
            (row[column] or "").strip(),
        )
        for row in rows
    ]


def split_held_out(stories: list[TrainingText]) -> tuple[list[TrainingText], list[TrainingText]]:
    """(training, held out). A corpus too small to spare any trains and evaluates on all."""
    held = [s for i, s in enumerate(stories) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    if not held:
        return stories, stories
    return [s for i, s in enumerate(stories) if i % HELD_OUT_EVERY != HELD_OUT_EVERY - 1], held


def genres_of(stories: Iterable[TrainingText]) -> list[str]:
    return sorted({s.genre for s in stories if s.genre})
