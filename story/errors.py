"""Errors a writer can act on. Each message is one line: what went wrong, and what to do."""

import sqlite3
from pathlib import Path

from common.errors import UserError


class StoryError(UserError):
    """A problem with the writer's input or files, as opposed to a bug."""


class NotFound(StoryError):
    pass


class DatabaseUnusable(StoryError):
    """The database file can't be used as it is; it has been left untouched."""


def describe_sqlite_error(path: Path, error: sqlite3.Error) -> StoryError | None:
    """A one-line message naming the file and what to do, or None for an error that is a bug."""
    text = str(error)
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return DatabaseUnusable(
            f"{path} is locked by another program that is writing to it: "
            "wait for it to finish or close it, then try again"
        )
    if "readonly" in lowered or "read-only" in lowered:
        return DatabaseUnusable(
            f"{path} is read-only: make the file and its folder writable, "
            "or copy it somewhere writable and pass --db"
        )
    if "not a database" in lowered or "malformed" in lowered or "corrupt" in lowered:
        return DatabaseUnusable(
            f"{path} is damaged ({text}): restore it from a backup, "
            f"or try `sqlite3 {path} .recover` into a new file"
        )
    if "unable to open" in lowered:
        return DatabaseUnusable(f"{path} can't be opened ({text}): check the path and permissions")
    if "disk is full" in lowered or "disk i/o" in lowered:
        return DatabaseUnusable(f"{path} can't be written ({text}): free some disk space")
    return None
