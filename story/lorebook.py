"""A story's lorebook (world info): entries that go into what the model reads when one of
their keys appears near the end of the story.

A key is a word or phrase, matched on word boundaries and case-insensitively unless the entry
says otherwise, or a regular expression when the entry is marked so. An entry "always on" goes
in whatever the story says. An entry goes at the top (after the memory) or at a depth from the
end, like the author's note. Entries are ranked: when the model's window is short, the story's
oldest text goes first, then entries from the last rank up; the memory never goes.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

import regex as timed_re  # (the entry's own `regex` field would hide the name)

from story.errors import StoryError
from story.validation import check_note_depth, check_text, check_whole_number

PLACEMENTS = ("top", "depth")
MAX_KEYS = 64
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

    def patterns(self) -> list[re.Pattern[str] | timed_re.Pattern[str]]:
        """Plain keys as words (re: an escaped key can't backtrack badly); regular expressions
        with the `regex` package, whose searches can be given a time limit."""
        if self.regex:
            flags = 0 if self.case_sensitive else timed_re.IGNORECASE
            return [timed_re.compile(key, flags) for key in self.keys]
        flags = 0 if self.case_sensitive else re.IGNORECASE
        return [re.compile(rf"(?<!\w){re.escape(key)}(?!\w)", flags) for key in self.keys]

    def fired_by(self, text: str) -> str | None:
        """What puts the entry in: the first key found in the text, "always", or None."""
        if self.always:
            return "always"
        for key, pattern in zip(self.keys, self.patterns(), strict=True):
            if self.regex:
                try:
                    found = pattern.search(text, timeout=REGEX_SECONDS)
                except TimeoutError:
                    raise StoryError(f"the lore key {key[:80]!r} takes too long to match the "
                                     "story: simplify it, or unmark regex") from None  # fmt: skip
            else:
                found = pattern.search(text)
            if found:
                return key
        return None


@dataclass(frozen=True)
class Fired:
    entry: LoreEntry
    key: str  # the key found, or "always"


def check_entry(entry: LoreEntry, what: str = "the lore entry") -> LoreEntry:
    """Every field of an entry, checked; a regular expression must compile."""
    if not isinstance(entry.keys, tuple | list) or len(entry.keys) > MAX_KEYS:
        raise StoryError(f"{what}'s keys should be a list of at most {MAX_KEYS}")
    keys = tuple(check_text(key, f"{what}'s key {index + 1}").strip()
                 for index, key in enumerate(entry.keys))  # fmt: skip
    keys = tuple(key for key in keys if key)
    if not keys and not entry.always:
        raise StoryError(f"{what} needs a key, or to be always on")
    check_text(entry.text, f"{what}'s text")
    check_whole_number(entry.rank, f"{what}'s rank", -(10**6), 10**6)
    if entry.placement not in PLACEMENTS:
        raise StoryError(f"{what}'s placement should be top or depth, not {entry.placement!r}")
    check_note_depth(entry.depth, f"{what}'s depth")
    for name in ("always", "regex", "case_sensitive"):
        if not isinstance(getattr(entry, name), bool):
            raise StoryError(f"{what}'s {name.replace('_', ' ')} should be true or false")
    checked = LoreEntry(keys, entry.text, entry.rank, entry.always, entry.regex,
                        entry.case_sensitive, entry.placement, entry.depth, entry.id,
                        entry.story_id)  # fmt: skip
    try:
        checked.patterns()
    except (re.error, timed_re.error) as error:
        raise StoryError(f"{what} has a key that isn't a valid regular expression "
                         f"({error}): fix it, or unmark regex") from None  # fmt: skip
    except (RecursionError, OverflowError, MemoryError):
        raise StoryError(
            f"{what} has a key too deeply nested or too large to be a regular "
            "expression Taletree runs: simplify it, or unmark regex"
        ) from None
    return checked


def fired(entries: Iterable[LoreEntry], text: str) -> list[Fired]:
    """The entries the text puts in, by rank (then as they were added)."""
    found = [Fired(entry, key) for entry in entries if (key := entry.fired_by(text)) is not None]
    return sorted(found, key=lambda f: (f.entry.rank, f.entry.id or 0))
