"""Text from outside shown literally: story text, titles, model names, what a server said.

A terminal obeys control characters (an escape sequence can clear the screen or write to the
clipboard), and bidirectional controls reorder what follows them (a title with U+202E can
make the rest of its line read backwards). Both are shown as visible symbols instead, in every
face, so what is shown is what is there.
"""

import re

BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# C0 controls, DEL, C1 controls and bidirectional controls; line breaks and tabs per use.
CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{BIDI}]")
NAME_LIMIT = 80  # characters of a name (a title, a model's) in a one-line message


def visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    # U+2400 "Control Pictures" has a symbol for each C0 control (and U+2421 for DEL).
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"\\x{code:02x}" if code <= 0x9F else f"<U+{code:04X}>"


def safe_prose(text: str) -> str:
    """Multi-line text: keeps line breaks and tabs, shows every other control character."""
    return CONTROL.sub(visible, text.replace("\r\n", "\n"))


def safe_line(text: str) -> str:
    """One line of a table or list: line breaks and tabs shown as symbols too."""
    return safe_prose(text).replace("\n", "\u2424").replace("\t", "\u2409")


def shown_line(text: str, limit: int | None = None) -> str:
    """Text from outside as a single line of at most `limit` characters: runs of white space
    are one space, controls are visible, and a longer text is cut with an ellipsis."""
    line = safe_line(" ".join(text.split()))
    return line if limit is None or len(line) <= limit else line[: limit - 1] + "…"


def quoted(name: str) -> str:
    """A name (a story's title) quoted within a one-line message: shown literally, cut."""
    return repr(shown_line(name, NAME_LIMIT))


def whole_number(text: str) -> int | None:
    """Typed text as a whole number of 0 or more, if it is one: ASCII digits only, at most 18
    of them ("²" is a digit to str.isdigit but not to int, and int won't read 5,000 digits)."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
