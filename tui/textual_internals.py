"""The private names of Textual that Taletree reads or overrides, all in this one module.

Textual has no public hook for an exception that no handler caught, and none for watching the
frames it sends to the terminal or feeding it a key as the terminal would; tests/test_internals.py
checks that every name used here is still Textual's, so an upgrade that moves one fails there,
by name.
"""

from collections.abc import Callable
from typing import Any

from textual import events
from textual.app import App


class ClosesOnABug(App):
    """An app that closes at once on an exception no handler caught, calling its own
    `report_bug(error)` instead of rendering the traceback onto the terminal (which the error
    policy forbids)."""

    def _handle_exception(self, error: Exception) -> None:
        # What Textual's own version does (exit status 1, the error kept for run_test to raise
        # in tests, close at once), with report_bug in place of printing the traceback.
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self.report_bug(error)
        self._close_messages_no_wait()


def watch_frames(app: App, record: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
    """Call `record(screen, renderable)` for each frame the app sends to its terminal, before
    sending it; returns the app's own sender, which `record` calls to send it on."""
    display = app._display
    app._display = record
    return display


def press_as_the_terminal(app: App, key: str) -> None:
    """A key arriving from the terminal's driver, as a writer's keypress does (Pilot's press
    waits for the app to go idle, which would hide the time it takes)."""
    app._driver.send_message(events.Key(key, None))
