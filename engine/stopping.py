"""When a branch ends by its text: stop strings, the end of a sentence, the end of a paragraph.

Decisions are made per token, before its text is shown, so nothing shown is ever taken back:
the text that might be the start of a stop string is held until it's clear either way.
"""

import re

from engine import events
from engine.settings import SamplingSettings

# A sentence ends with . ! ? or … and perhaps closing quotes or brackets.
SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def held_suffix(text: str, stop_strings: tuple[str, ...]) -> int:
    """Length of the longest end of `text` that could still grow into a stop string."""
    longest = 0
    for stop in stop_strings:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


class StopRule:
    """Per branch: feed it each token's text; it says what to show and whether to stop."""

    def __init__(self, settings: SamplingSettings):
        self.mode = settings.stop_mode
        self.stop_strings = settings.stop_strings
        self.shown = ""  # text already shown
        self.held = ""  # text held back

    def feed(self, delta: str) -> tuple[str, str | None, bool]:
        """(text to show now, finish reason or None, whether this token belongs to the text)."""
        written = self.shown + self.held
        if written.strip() and self.mode != "tokens" and delta[:1].isspace():
            # The token starts the next sentence or paragraph: stop before it.
            if self.mode == "paragraph" and delta.startswith("\n"):
                return self.release(), events.PARAGRAPH, False
            if self.mode == "sentence" and SENTENCE_END.search(written.rstrip(" ")):
                return self.release(), events.SENTENCE, False
        pending = self.held + delta
        found = [(pending.find(s), s) for s in self.stop_strings if s in pending]
        if found:
            cut = min(found)[0]
            self.shown += pending[:cut]
            self.held = ""
            return pending[:cut], events.STOP_STRING, True
        hold = held_suffix(pending, self.stop_strings)
        show, self.held = pending[: len(pending) - hold], pending[len(pending) - hold :]
        self.shown += show
        reason = self.ends_here(delta)
        if reason:
            return show + self.release(), reason, True
        return show, None, True

    def ends_here(self, delta: str) -> str | None:
        """A token that itself closes the sentence or paragraph (".\n", "!\" ")."""
        written = (self.shown + self.held).rstrip(" ")
        if not written.strip() or not delta[-1:].isspace():
            return None
        if self.mode == "paragraph" and delta.rstrip(" ").endswith("\n"):
            return events.PARAGRAPH
        if self.mode == "sentence" and SENTENCE_END.search(written.rstrip()):
            return events.SENTENCE
        return None

    def release(self) -> str:
        """Show what was held: the branch is ending, so it can't become a stop string now."""
        held, self.held = self.held, ""
        self.shown += held
        return held
