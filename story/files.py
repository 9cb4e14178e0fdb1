"""Writing the files a writer keeps (exports, settings, samples): whole or not at all."""

import os
import stat
import tempfile
from pathlib import Path

from story.errors import StoryError


def write_atomically(path: Path, text: str, *, replace: bool = True) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file.
    Only a regular file is ever replaced (a link is followed to the file it names), and only
    when `replace` says so; it keeps its permissions. A problem the writer can fix (a missing
    folder, no permission, a full disk, a FIFO or a device at the path) is a StoryError
    naming the file."""
    path, mode = writable(path, replace)
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise StoryError(f"{path} can't be written ({error.strerror})") from error
    try:
        os.fchmod(fd, mode)
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


def writable(path: Path, replace: bool) -> tuple[Path, int]:
    """The file `path` names (through links) and the permissions it will get, once it is
    known that write_atomically may write it: asked before long work whose result goes there."""
    path = Path(os.path.realpath(path))  # through links: the file they name is replaced
    mode = existing_mode(path, replace)
    if not path.parent.is_dir():
        raise StoryError(f"{path}: the folder {path.parent} does not exist")
    return path, mode


def existing_mode(path: Path, replace: bool) -> int:
    """The permissions a file written at `path` gets: those of the regular file there, which
    may be replaced only if `replace`; a new file's, by the umask. Anything else there (a
    FIFO, a device, a folder, a file with other names) is refused, never replaced."""
    try:
        found = path.lstat()
    except FileNotFoundError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
    except OSError as error:
        raise StoryError(f"{path} can't be written ({error.strerror})") from error
    if not stat.S_ISREG(found.st_mode):
        raise StoryError(
            f"{path} is not a regular file (a {kind_of(found.st_mode)}): it is "
            "left as it is; choose a file name"
        )
    if found.st_nlink > 1:
        raise StoryError(
            f"{path} has other names (hard links), which replacing it would "
            "leave behind: choose another file name"
        )
    if not replace:
        raise StoryError(
            f"{path} already exists: choose another name, or replace it on purpose (export --force)"
        )
    return stat.S_IMODE(found.st_mode)


def kind_of(mode: int) -> str:
    kinds = {
        stat.S_ISDIR: "folder",
        stat.S_ISFIFO: "FIFO",
        stat.S_ISCHR: "device",
        stat.S_ISBLK: "device",
        stat.S_ISSOCK: "socket",
    }
    return next((name for test, name in kinds.items() if test(mode)), "special file")
