"""Where the writer types: enter adds the text to the story, ctrl+j starts a new line."""

from textual import events
from textual.message import Message
from textual.widgets import TextArea

from tui.actions import bindings, in_scope, keys_of


class Composer(TextArea):
    BINDINGS = bindings("composer")

    class Submitted(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    def __init__(self, text: str = "", **kwargs):
        super().__init__(
            text, soft_wrap=True, show_line_numbers=False, tab_behavior="focus", **kwargs
        )

    async def on_key(self, event: events.Key) -> None:
        # The composer's own keys are handled here, in turn with the typed characters: as app
        # bindings they could run before characters typed just ahead of them were inserted.
        # (Textual calls this before TextArea's own key handler, which prevent_default skips.)
        action = self.bound_action(event.key)
        if action is None:
            return
        event.stop()
        event.prevent_default()
        await self.run_action(action)

    def bound_action(self, key: str) -> str | None:
        keymap = self.app.keymap
        for action in in_scope("composer"):
            if key in keys_of(action, keymap).split(", "):
                return action.action
        return None

    def action_newline(self) -> None:
        self.insert("\n")
