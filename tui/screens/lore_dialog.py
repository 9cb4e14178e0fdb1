"""One lorebook entry to add or change: its keys, text, rank, where it goes and its flags."""

from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, TextArea

from common.errors import UserError
from story.lorebook import LoreEntry, check_entry, shown_keys, split_keys, whole_number
from tui.screens.base import settled, show_user_error
from tui.screens.dialogs import CANCEL, Dialog, buttons


class LoreDialog(Dialog):
    """ctrl+s saves; escape cancels. Dismisses with the entry, checked, or None."""

    BINDINGS = [CANCEL, Binding("ctrl+s", "save", "Save", priority=True)]

    def __init__(self, context, entry: LoreEntry):
        super().__init__(context)
        self.entry = entry

    def compose(self) -> ComposeResult:
        entry = self.entry
        with Vertical(classes="dialog wide"):
            yield Label(Text("Lore entry  (ctrl+s saves, escape cancels)"))
            yield Input(shown_keys(entry), placeholder="Keys, separated by commas", id="keys")
            yield TextArea(entry.text, id="lore-text", soft_wrap=True, classes="short")
            with Horizontal(classes="field"):
                yield Label("Rank")
                yield Input(str(entry.rank), id="rank")
                yield Select(
                    [("at the top", "top"), ("at a depth", "depth")],
                    value=entry.placement,
                    allow_blank=False,
                    id="placement",
                )
                yield Label("Depth")
                yield Input(str(entry.depth), id="depth")
            with Horizontal(classes="field"):
                yield Checkbox("Always on", entry.always, id="always")
                yield Checkbox("Keys are regular expressions", entry.regex, id="regex")
                yield Checkbox("Case sensitive", entry.case_sensitive, id="case")
            yield buttons("Save")

    def on_mount(self) -> None:
        self.query_one("#keys").focus()

    def typed(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    @on(Button.Pressed, "#ok")
    async def action_save(self) -> None:
        await settled(self)
        try:
            entry = check_entry(
                replace(
                    self.entry,
                    keys=split_keys(self.typed("keys")),
                    text=self.query_one("#lore-text", TextArea).text,
                    rank=whole_number("rank", self.typed("rank")),
                    placement=self.query_one("#placement", Select).value,
                    depth=whole_number("depth", self.typed("depth")),
                    always=self.query_one("#always", Checkbox).value,
                    regex=self.query_one("#regex", Checkbox).value,
                    case_sensitive=self.query_one("#case", Checkbox).value,
                )
            )
        except UserError as error:
            show_user_error(self, error)  # the dialog stays open, with what was typed
            return
        self.dismiss(entry)
