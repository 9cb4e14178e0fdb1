"""The one base for errors a writer can fix.

Every such error in engine/, story/ and tui/ derives from UserError, and each face catches it
in one place: the command line prints its one line and exits 2, the app shows it as a
notification, line mode prints it and goes on. Anything else that escapes is a bug.
"""

from common.text import shown_line

EXIT_USER_ERROR = 2  # the exit status of a command that met an error the writer can fix
EXIT_BUG = 1  # … and of one that met a bug


class UserError(Exception):
    """A problem with the writer's input, files or settings, as opposed to a bug. The message
    is one line: what went wrong, and what to do."""


def one_line(error: BaseException) -> str:
    """An error's message on one line, shown literally whatever it holds: a path with a newline,
    a server's message with escape sequences in it."""
    return shown_line(str(error)) or type(error).__name__
