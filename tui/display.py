"""How stored times are shown: UTC in the database, local time to the minute on screen. (Text
is shown with common/text.py.)"""

from datetime import datetime


def local_time(stamp: str) -> str:
    """An ISO time stored in UTC, shown in local time to the minute ("?" if it is damaged)."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return "?"
