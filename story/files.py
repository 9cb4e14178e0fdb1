"""Writing the files a writer keeps (exports, settings, samples): whole or not at all."""

import os
import tempfile
from pathlib import Path

from story.errors import StoryError


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file.
    A problem the writer can fix (a missing folder, no permission, a full disk) is a
    StoryError naming the file."""
    if not path.parent.is_dir():
        raise StoryError(f"{path}: the folder {path.parent} does not exist")
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise StoryError(f"{path} can't be written ({error.strerror})") from error
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise StoryError(f"{path} can't be written ({error.strerror})") from error
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
