"""How story text and times are shown in a terminal: control characters (escape sequences
included) as visible symbols instead of being obeyed, and stored UTC times in local time."""

import re
from datetime import datetime

# C0 controls, DEL and C1 controls; line breaks and tabs are handled per use.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    # U+2400 "Control Pictures" has a symbol for each C0 control (and U+2421 for DEL).
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else f"\\x{code:02x}"


def safe_prose(text: str) -> str:
    """Multi-line text: keeps line breaks and tabs, shows every other control character."""
    return CONTROL.sub(visible, text.replace("\r\n", "\n"))


def safe_line(text: str) -> str:
    """One line of a table or list: line breaks and tabs shown as symbols too."""
    return safe_prose(text).replace("\n", "\u2424").replace("\t", "\u2409")


def local_time(stamp: str) -> str:
    """An ISO time stored in UTC, shown in local time to the minute ("?" if it is damaged)."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return "?"
