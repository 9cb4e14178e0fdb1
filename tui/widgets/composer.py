"""Where the writer types: enter adds the text to the story, ctrl+j starts a new line."""

from textual.message import Message
from textual.widgets import TextArea

from tui.actions import bindings


class Composer(TextArea):
    BINDINGS = bindings("composer")

    class Submitted(Message):
        def __init__(self, text: str):
            super().__init__()
            self.text = text

    def __init__(self, text: str = "", **kwargs):
        super().__init__(text, soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
                         **kwargs)  # fmt: skip

    def action_newline(self) -> None:
        self.insert("\n")
