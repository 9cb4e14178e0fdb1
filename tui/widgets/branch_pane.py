"""One alternative continuation in the branch panel: its number (and, where several models
write, its model), speed and latest text."""

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from common.text import safe_prose

# How a finished branch's border says it ended (the panes are narrow).
ENDINGS = {"cancelled": "stopped", "stored": "", "explored": "explored path"}


class BranchPane(Widget):
    text: reactive[str] = reactive("", layout=False)
    rate: reactive[float | None] = reactive(None)
    state: reactive[str] = reactive("")  # why it ended, or "" while it streams

    def __init__(self, number: int, model: str = "", **kwargs):
        super().__init__(**kwargs)
        self.number = number
        # A model's name is shown literally: a str title would be read as markup.
        self.border_title = Text(f"{number} · {model}" if model else str(number))

    def watch_rate(self) -> None:
        self.update_subtitle()

    def watch_state(self) -> None:
        self.update_subtitle()

    def update_subtitle(self) -> None:
        parts = [f"{self.rate:.0f} tok/s"] if self.rate is not None else []
        if self.state and not self.text and self.state not in ENDINGS:
            parts.append("wrote nothing")  # the model ended it at once: nothing to keep
        elif self.state:
            parts.append(ENDINGS.get(self.state, "done"))
        self.border_subtitle = " · ".join(p for p in parts if p)

    def render(self) -> Text:
        """The end of the text: a pane follows its branch as it grows."""
        width = max(1, self.content_region.width)
        height = max(1, self.content_region.height)
        # Only the tail can show: wrapping a long branch whole at every frame would not keep up.
        tail = self.text[-width * (height + 2) :]
        text = Text(safe_prose(tail).lstrip("\n"), end="")
        lines = text.wrap(self.app.console, width)
        return Text("\n").join(lines[-height:])
