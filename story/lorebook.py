"""A story's lorebook (world info): entries that go into what the model reads when one of
their keys appears near the end of the story.

A key is a word or phrase, matched on word boundaries and case-insensitively unless the entry
says otherwise, or a regular expression when the entry is marked so. An entry "always on" goes
in whatever the story says. An entry goes at the top (after the memory) or at a depth from the
end, like the author's note. Entries are ranked: when the model's window is short, the story's
oldest text goes first, then entries from the last rank up; the memory never goes.
"""

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

import regex as timed_re  # (the entry's own `regex` field would hide the name)

from story.errors import StoryError
from story.validation import check_note_depth, check_text, check_whole_number

PLACEMENTS = ("top", "depth")
MAX_KEYS = 64
MAX_KEY_CHARS = 1000
# An entry is a few paragraphs; this bounds what one may put into the context (and hold in
# memory), however it came in: typed, set, or imported.
MAX_ENTRY_CHARS = 50_000
# A regular-expression key is the writer's (or an imported story's) text run against the whole
# story, and some expressions take exponential time: each search gets this many seconds.
REGEX_SECONDS = 0.25


@dataclass(frozen=True)
class LoreEntry:
    keys: tuple[str, ...]
    text: str
    rank: int = 0  # lower goes first, and stays longest when room is short
    always: bool = False  # in the context whatever the story says
    regex: bool = False  # the keys are regular expressions
    case_sensitive: bool = False
    placement: str = "top"  # top (after the memory) or depth (lines from the end)
    depth: int = 0  # for placement "depth"
    id: int | None = None  # once stored
    story_id: int | None = None

    def fired_by(self, text: str, words: "TextWords") -> str | None:
        """What puts the entry in: the first key found in the text, "always", or None.
        `words`, the text's words, lets a plain key whose first word isn't among them be
        passed over without a search."""
        if self.always:
            return "always"
        for key in self.keys:
            if self.regex:
                try:
                    found = regex_pattern(key, self.case_sensitive).search(
                        text, timeout=REGEX_SECONDS
                    )
                except TimeoutError:
                    raise StoryError(
                        f"the lore key {key[:80]!r} takes too long to match the "
                        "story: simplify it, or unmark regex"
                    ) from None
            elif not words.may_hold(key, self.case_sensitive):
                continue
            else:
                found = word_pattern(key, self.case_sensitive).search(text)
            if found:
                return key
        return None


WORD = re.compile(r"\w+")


class TextWords:
    """The words of a text, as written and lowercased. A plain key matches only where the text
    holds the key's first word whole (the key is matched on word boundaries), so a key whose
    first word isn't here can't be in the text: with thousands of keys, one pass over the text
    and a look-up per key replace a search per key."""

    def __init__(self, text: str):
        self.words = set(WORD.findall(text))
        self.lowered = {word.lower() for word in self.words}

    def may_hold(self, key: str, case_sensitive: bool) -> bool:
        first = WORD.match(key)
        if first is None:  # the key starts with a sign, not a word: search for it
            return True
        return (
            first.group() in self.words
            if case_sensitive
            else (first.group().lower() in self.lowered)
        )


@functools.lru_cache(maxsize=4096)
def word_pattern(key: str, case_sensitive: bool) -> re.Pattern[str]:
    """A plain key, matched as words (escaped, so it can't backtrack badly)."""
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.compile(rf"(?<!\w){re.escape(key)}(?!\w)", flags)


@functools.lru_cache(maxsize=4096)
def regex_pattern(key: str, case_sensitive: bool) -> timed_re.Pattern[str]:
    """A regular-expression key, with the `regex` package: its searches take a time limit."""
    return timed_re.compile(key, 0 if case_sensitive else timed_re.IGNORECASE)


# ------------------------------------------------------------------ as the faces show it

FIELDS = ("keys", "text", "rank", "always", "regex", "case", "placement", "depth")
FLAGS = {"always": "always", "regex": "regex", "case": "case_sensitive"}  # name: field
YES, NO = ("yes", "on", "true"), ("no", "off", "false")


def split_keys(text: str) -> tuple[str, ...]:
    """Keys as a writer types them: separated by commas."""
    return tuple(key.strip() for key in text.split(",") if key.strip())


def shown_keys(entry: LoreEntry) -> str:
    return ", ".join(entry.keys)


def where(entry: LoreEntry) -> str:
    return "top" if entry.placement == "top" else f"depth {entry.depth}"


def flags(entry: LoreEntry) -> list[str]:
    return [name for name, field in FLAGS.items() if getattr(entry, field)]


def whole_number(field: str, text: str) -> int:
    """A rank or depth as typed (blank is 0)."""
    text = text.strip() or "0"
    if not text.lstrip("-").isdigit():
        raise StoryError(f"{field} should be a whole number, not {text!r}")
    return int(text)


def with_field(entry: LoreEntry, field: str, text: str) -> LoreEntry:
    """An entry with one field (by the name FIELDS gives it) set from typed text."""
    if field not in FIELDS:
        raise StoryError(f"a lore entry's fields are {', '.join(FIELDS)}, not {field!r}")
    if field == "keys":
        return replace(entry, keys=split_keys(text))
    if field in ("text", "placement"):
        return replace(entry, **{field: text})
    if field in ("rank", "depth"):
        return replace(entry, **{field: whole_number(field, text)})
    if text not in YES + NO:
        raise StoryError(f"{field} should be yes or no, not {text!r}")
    return replace(entry, **{FLAGS[field]: text in YES})


@dataclass(frozen=True)
class Fired:
    entry: LoreEntry
    key: str  # the key found, or "always"


def check_entry(entry: LoreEntry, what: str = "the lore entry") -> LoreEntry:
    """Every field of an entry, checked; a regular expression must compile."""
    if not isinstance(entry.keys, tuple | list) or len(entry.keys) > MAX_KEYS:
        raise StoryError(f"{what}'s keys should be a list of at most {MAX_KEYS}")
    keys = tuple(
        check_text(key, f"{what}'s key {index + 1}").strip() for index, key in enumerate(entry.keys)
    )
    keys = tuple(key for key in keys if key)
    if any(len(key) > MAX_KEY_CHARS for key in keys):
        raise StoryError(f"{what} has a key over {MAX_KEY_CHARS:,} characters: shorten it")
    if not keys and not entry.always:
        raise StoryError(f"{what} needs a key, or to be always on")
    check_text(entry.text, f"{what}'s text")
    if len(entry.text) > MAX_ENTRY_CHARS:
        raise StoryError(
            f"{what}'s text is {len(entry.text):,} characters, over the "
            f"{MAX_ENTRY_CHARS:,} an entry may hold: shorten or split it"
        )
    check_whole_number(entry.rank, f"{what}'s rank", -(10**6), 10**6)
    if entry.placement not in PLACEMENTS:
        raise StoryError(f"{what}'s placement should be top or depth, not {entry.placement!r}")
    check_note_depth(entry.depth, f"{what}'s depth")
    for name in ("always", "regex", "case_sensitive"):
        if not isinstance(getattr(entry, name), bool):
            raise StoryError(f"{what}'s {name.replace('_', ' ')} should be true or false")
    checked = LoreEntry(
        keys,
        entry.text,
        entry.rank,
        entry.always,
        entry.regex,
        entry.case_sensitive,
        entry.placement,
        entry.depth,
        entry.id,
        entry.story_id,
    )
    try:
        if checked.regex:  # (a plain key is escaped: it always compiles)
            for key in keys:
                regex_pattern(key, checked.case_sensitive)
    except (re.error, timed_re.error) as error:
        raise StoryError(
            f"{what} has a key that isn't a valid regular expression "
            f"({error}): fix it, or unmark regex"
        ) from None
    except (RecursionError, OverflowError, MemoryError):
        raise StoryError(
            f"{what} has a key too deeply nested or too large to be a regular "
            "expression Taletree runs: simplify it, or unmark regex"
        ) from None
    return checked


def fired(entries: Iterable[LoreEntry], text: str) -> list[Fired]:
    """The entries the text puts in, by rank (then as they were added)."""
    words = TextWords(text)
    found = [
        Fired(entry, key) for entry in entries if (key := entry.fired_by(text, words)) is not None
    ]
    return sorted(found, key=lambda f: (f.entry.rank, f.entry.id or 0))
