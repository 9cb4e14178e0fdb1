"""What every screen shares: the writing session (the one object through which a screen
reaches the story and the model), whether cursors blink, and how a handler outside the action
system shows a problem the writer can fix."""

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.screen import ModalScreen, Screen
from textual.widget import Widget

from common.errors import UserError, one_line
from tui.core.session import WritingSession


@dataclass(frozen=True)
class Context:
    session: WritingSession
    blink: bool = True  # tests and snapshots turn cursor blinking off


def show_user_error(widget: Widget, error: UserError) -> None:
    widget.notify(one_line(error), severity="error", timeout=10)


def guarded(handler: Callable[..., Any]) -> Callable[..., Any]:
    """For a timer or widget message handler: a UserError it raises is shown, and the screen
    goes on. (Actions and dialog results are guarded by the app itself.)"""

    @functools.wraps(handler)
    def wrapper(self: Widget, *args: Any, **kwargs: Any) -> Any:
        try:
            return handler(self, *args, **kwargs)
        except UserError as error:
            show_user_error(self, error)
            return None

    return wrapper


async def settled(widget: Widget) -> None:
    """Wait until the focused widget has handled every key sent to it so far. A priority
    binding (ctrl+s) runs as its key arrives, possibly before characters typed just ahead of
    it reached the text field: an action that reads the field waits for them first."""
    focused = widget.screen.focused
    if focused is not None:
        caught_up = asyncio.Event()
        focused.call_later(caught_up.set)
        await caught_up.wait()


class ContextMixin:
    """A screen made with the context: `self.session`, and cursors that blink or not."""

    SCOPES: tuple[str, ...] = ()  # the registry scopes whose actions the palette offers here

    def __init__(self, context: Context, **kwargs: Any):
        super().__init__(**kwargs)
        self.context = context
        self.session = context.session

    def on_mount(self) -> None:
        for widget in self.query("Input, TextArea"):  # type: ignore[attr-defined]
            widget.cursor_blink = self.context.blink


class TaletreeScreen(ContextMixin, Screen):
    pass


class TaletreeDialog(ContextMixin, ModalScreen):
    pass
