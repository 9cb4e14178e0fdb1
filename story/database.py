"""Opening stories.db safely: refuse what isn't ours before writing a single byte.

The order matters. Everything that can reject a file (not SQLite, damaged, read-only, written by
a newer Taletree) only reads; the first write (switching to WAL, applying migrations) comes after.
"""

import functools
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

from story.errors import DatabaseUnusable, StoryError, describe_sqlite_error

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 5.0
DEFAULT_FILENAME = "stories.db"


def database_path(explicit: str | os.PathLike | None = None) -> Path:
    """--db PATH, else $TALETREE_DB, else ./stories.db."""
    chosen = explicit or os.environ.get("TALETREE_DB") or DEFAULT_FILENAME
    return Path(chosen).expanduser().absolute()


def check_file(path: Path) -> None:
    """Reject a path that can't hold a database, by looking only."""
    if not path.exists():
        if not path.parent.is_dir():
            raise DatabaseUnusable(
                f"{path}: the folder {path.parent} does not exist: create it or pass another --db"
            )
        if not os.access(path.parent, os.W_OK):
            raise DatabaseUnusable(
                f"{path} can't be created: the folder {path.parent} is read-only; pass another --db"
            )
        return
    if not path.is_file():
        raise DatabaseUnusable(f"{path} is not a file: pass --db with the path of a database file")
    # Honour the file's mode bits even for root, who could write through them: a writer who made
    # the file read-only meant it.
    writable_bits = path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    if not writable_bits or not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        raise DatabaseUnusable(
            f"{path} is read-only: make the file and its folder writable, "
            "or copy it somewhere writable and pass --db"
        )


def has_sqlite_header(path: Path) -> bool:
    """Only for a file SQLite has refused: closing a descriptor of a database this process has
    open drops every lock the process holds on it (POSIX locks), so a live database is never
    opened except through SQLite."""
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def connect(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode: transactions are opened explicitly, IMMEDIATE."""
    check_file(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as error:
        raise describe_sqlite_error(path, error) or error from error
    try:
        verify(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def verify(conn: sqlite3.Connection, path: Path) -> None:
    """Read-only checks: is this a readable, undamaged SQLite database?"""
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        problems = [row[0] for row in conn.execute("PRAGMA quick_check(1)")]
    except sqlite3.Error as error:
        if error.sqlite_errorcode == sqlite3.SQLITE_NOTADB and not has_sqlite_header(path):
            raise DatabaseUnusable(
                f"{path} is not a Taletree database (it is not an SQLite file): "
                "pass --db with another path, or move the file aside"
            ) from None
        raise describe_sqlite_error(path, error) or error from error
    if problems != ["ok"]:
        raise DatabaseUnusable(
            f"{path} is damaged ({' '.join(problems[0].split())}): restore it from a backup, "
            f"or try `sqlite3 {path} .recover` into a new file"
        )


def configure(conn: sqlite3.Connection) -> None:
    """The first writes: WAL (persistent in the file), then per-connection settings."""
    conn.execute("PRAGMA journal_mode=WAL").fetchone()
    # FULL: a committed action survives a power cut too, not only a crash of the app.
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One writer action = one transaction. IMMEDIATE takes the write lock up front, so a
    read-modify-write inside can't be interleaved with another process's write."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


P = ParamSpec("P")
R = TypeVar("R")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Report SQLite's locked, read-only and damaged-file errors as one-line StoryErrors."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except sqlite3.Error as error:
            described = describe_sqlite_error(args[0].db_path, error)  # type: ignore[attr-defined]
            if described is None:
                raise
            raise described from error
        except UnicodeEncodeError as error:  # text that no check saw, at the last moment
            raise StoryError(
                f"text that isn't valid UTF-8 can't be stored ({error.reason}): give it as UTF-8"
            ) from error

    return wrapper
