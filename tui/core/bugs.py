"""What becomes of an unexpected error, a bug: its whole traceback goes to the error log in the
state folder, and the writer sees one line saying it is a bug and where the log is. A library's
warning goes to the same log: it is for Taletree's developers, never for the writer's terminal."""

import traceback
import warnings
from datetime import UTC, datetime
from pathlib import Path

from common.errors import one_line
from tui.core.paths import state_dir

LOG_NAME = "errors.log"
LOG_LIMIT = 1_000_000  # bytes; a longer log is moved aside to errors.log.1


def log_path() -> Path:
    return state_dir() / LOG_NAME


def add_to_log(where: str, text: str) -> Path | None:
    """Add an entry to the log; the log's path, or None if it can't be written."""
    path = log_path()
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > LOG_LIMIT:
            path.replace(path.with_name(LOG_NAME + ".1"))
        with path.open("a", encoding="utf-8", errors="backslashreplace") as log:
            log.write(f"--- {stamp} {where}\n{text}\n")
    except OSError:
        return None
    return path


def save_traceback(error: BaseException, where: str) -> Path | None:
    """Add the error's traceback to the log; the log's path, or None if it can't be written."""
    return add_to_log(where, "".join(traceback.format_exception(error)))


def log_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """warnings.showwarning's stand-in: into the log, never onto the terminal."""
    add_to_log("warning", warnings.formatwarning(message, category, filename, lineno, line))


def keep_warnings_in_the_log() -> None:
    """Library warnings (a deprecation in transformers, a notice from torch) would garble the
    writer's terminal and every face drawn on it: each goes to the log instead."""
    warnings.showwarning = log_warning


def bug_report(error: BaseException, where: str) -> str:
    """Save the traceback and say so, in one line."""
    path = save_traceback(error, where)
    saved = f"the traceback is in {path}" if path else "the traceback could not be saved"
    what = f"{type(error).__name__}: {one_line(error)}"[:200]
    return f"unexpected error, a bug in Taletree ({what}); {saved}"
