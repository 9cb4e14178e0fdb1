"""What the story tree accepts, checked the same way wherever text or numbers come in (the
command line, the app, an imported file): text that is real Unicode (a lone surrogate is what a
byte that isn't UTF-8 becomes, and SQLite can't store it), titles on one line, numbers finite
and in range, times in ISO 8601, and settings as a small flat JSON object.

Each check raises a one-line StoryError that starts with `what` (where the value came from).
"""

import math
import re
from datetime import datetime
from typing import Any

from story.errors import StoryError

SURROGATE = re.compile("[\ud800-\udfff]")
MAX_NOTE_DEPTH = 10_000
MAX_SCORE = 1_000_000
MAX_SEED = 2**63 - 1
MAX_SETTINGS = 64  # entries in one node's or story's settings
Scalar = str | int | float | bool | None


def check_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise StoryError(f"{what} should be text, not {type(value).__name__}")
    bad = SURROGATE.search(value)
    if bad is None:
        return value
    code = ord(bad.group())
    if 0xDC80 <= code <= 0xDCFF:  # how Python keeps a byte that wasn't UTF-8 (surrogateescape)
        raise StoryError(
            f"{what} isn't valid UTF-8 (it holds the byte 0x{code - 0xDC00:02x} at "
            f"character {bad.start()}): give it as UTF-8 text"
        )
    raise StoryError(
        f"{what} holds a lone surrogate (\\u{code:04x}) at character "
        f"{bad.start()}, which isn't text: remove it"
    )


def check_line(value: Any, what: str) -> str:
    text = check_text(value, what)
    if "\n" in text or "\r" in text:
        raise StoryError(f"{what} is one line: remove the line breaks")
    return text


def check_title(title: Any, what: str = "the title") -> str:
    cleaned = check_line(title, what).strip()
    if not cleaned:
        raise StoryError(f"{what}: a story needs a title: give a non-empty one")
    return cleaned


def check_whole_number(value: Any, what: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise StoryError(
            f"{what} should be a whole number from {low} to {high}, not {abbreviated(value)}"
        )
    return value


def check_note_depth(depth: Any, what: str = "the author's note depth") -> int:
    return check_whole_number(depth, what, 0, MAX_NOTE_DEPTH)


def check_seed(seed: Any, what: str = "the seed") -> int:
    return check_whole_number(seed, what, 0, MAX_SEED)


def check_score(score: Any, what: str = "the score") -> float | None:
    """An explored passage's score, where it has one: a finite number."""
    if score is None:
        return None
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise StoryError(f"{what} should be a finite number or null, not {str(score)[:40]!r}")
    if abs(score) > MAX_SCORE:
        raise StoryError(f"{what} should be between -{MAX_SCORE:,} and {MAX_SCORE:,}")
    return float(score)


def check_time(stamp: Any, what: str) -> str:
    """An ISO 8601 time, as Taletree writes them (UTC, with its offset)."""
    check_line(stamp, what)
    try:
        datetime.fromisoformat(stamp)
    except ValueError:
        example = "2026-01-02T03:04:05+00:00"
        raise StoryError(
            f"{what} should be an ISO 8601 time such as {example}, not {abbreviated(stamp)}"
        ) from None
    return stamp


def check_scalar(value: Any, what: str) -> Scalar:
    if isinstance(value, float) and not math.isfinite(value):
        raise StoryError(f"{what} should be a finite number, not {value}")
    if isinstance(value, str):
        return check_text(value, what)
    if value is None or isinstance(value, bool | int | float):
        return value
    raise StoryError(f"{what} should be text, a number, true, false or null")


def check_settings(settings: Any, what: str) -> dict[str, Any] | None:
    """Sampling settings as kept with a node or a story: a flat object of names to values or
    lists of values."""
    if settings is None:
        return None
    if not isinstance(settings, dict):
        raise StoryError(f"{what} should be an object, not {type(settings).__name__}")
    if len(settings) > MAX_SETTINGS:
        raise StoryError(f"{what} has {len(settings)} entries: at most {MAX_SETTINGS}")
    for name, value in settings.items():
        check_text(name, f"{what} name {abbreviated(name)}")
        where = f"{what}.{name}"
        if isinstance(value, list):
            for index, item in enumerate(value):
                check_scalar(item, f"{where}[{index}]")
        else:
            check_scalar(value, where)
    return settings


def abbreviated(value: Any, most: int = 40) -> str:
    shown = repr(value)
    return shown if len(shown) <= most else shown[: most - 1] + "…"
