"""Small modal dialogs: confirm, a line of text, a longer text, a new story, an export, an
exploration.

Each dismisses with its result, or None when the writer presses escape.
"""

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.suggester import SuggestFromList
from textual.widgets import Button, Input, Label, Select, TextArea

from common.errors import UserError
from common.text import quoted, whole_number
from story.export import EXPORTS
from tui.core.explore import ExploreError, ExploreSettings
from tui.screens.base import Context, TaletreeDialog, settled, show_user_error

CANCEL = Binding("escape", "cancel", "Cancel")
SCORER_CHOICES = [("likely, and not repeating itself", "likely"), ("yes to my question", "ask")]


def genre_input(genres: list[str], value: str = "", **options) -> Input:
    """A genre: any the writer types, the model's own genres suggested as they type."""
    return Input(
        value,
        placeholder="Genre (optional)",
        suggester=SuggestFromList([g.replace("_", " ") for g in genres], case_sensitive=False),
        **options,
    )


class Dialog(TaletreeDialog):
    BINDINGS = [CANCEL]

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#cancel")
    def cancelled(self) -> None:
        self.dismiss(None)


def buttons(ok: str) -> Horizontal:
    return Horizontal(
        Button(ok, id="ok", variant="primary"), Button("Cancel", id="cancel"), classes="buttons"
    )


class ConfirmDialog(Dialog):
    def __init__(self, context: Context, question: str, ok: str = "Delete"):
        super().__init__(context)
        self.question, self.ok = question, ok

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.question))
            yield buttons(self.ok)

    def on_mount(self) -> None:
        self.query_one("#cancel").focus()

    @on(Button.Pressed, "#ok")
    def confirmed(self) -> None:
        self.dismiss(True)


class LineDialog(Dialog):
    """One line of text, e.g. a new title."""

    def __init__(self, context: Context, title: str, value: str = "", ok: str = "OK"):
        super().__init__(context)
        self.title_text, self.value, self.ok = title, value, ok

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text))
            yield Input(self.value, id="line")
            yield buttons(self.ok)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def done(self) -> None:
        self.dismiss(self.query_one("#line", Input).value)


class EditDialog(Dialog):
    """A longer text: ctrl+s keeps it."""

    BINDINGS = [CANCEL, Binding("ctrl+s", "save", "Keep", priority=True)]

    def __init__(self, context: Context, text: str, title: str):
        super().__init__(context)
        self.text, self.title_text = text, title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(Text(self.title_text + "  (ctrl+s keeps it, escape cancels)"))
            yield TextArea(self.text, id="text", soft_wrap=True)
            yield buttons("Keep")

    def on_mount(self) -> None:
        area = self.query_one(TextArea)
        area.focus()
        area.move_cursor(area.document.end)

    @on(Button.Pressed, "#ok")
    async def action_save(self) -> None:
        await settled(self)
        self.dismiss(self.query_one(TextArea).text)


@dataclass(frozen=True)
class Split:
    """A passage to cut in two: its text (as edited), and where."""

    text: str
    at: int


class PassageDialog(EditDialog):
    """A passage edited where it stands: ctrl+s keeps the text, ctrl+b cuts it in two at the
    cursor."""

    BINDINGS = [*EditDialog.BINDINGS, Binding("ctrl+b", "split", "Split here", priority=True)]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(
                Text(
                    self.title_text + "  (ctrl+s keeps it, ctrl+b splits it at the "
                    "cursor, escape cancels)"
                )
            )
            yield TextArea(self.text, id="text", soft_wrap=True)
            yield buttons("Keep")

    async def action_split(self) -> None:
        await settled(self)
        area = self.query_one(TextArea)
        self.dismiss(Split(area.text, area.document.get_index_from_location(area.cursor_location)))


class NewStoryDialog(Dialog):
    """Title, genre, opening text and memory of a new story."""

    def __init__(self, context: Context, genres: list[str]):
        super().__init__(context)
        self.genres = genres  # the loaded model's, suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label("New story")
            yield Input(placeholder="Title", id="title")
            yield genre_input(self.genres, id="genre")
            yield Label("Opening (optional)")
            yield TextArea(id="opening", soft_wrap=True, classes="short")
            yield Label("Memory: kept at the top of what the model reads (optional)")
            yield TextArea(id="memory", soft_wrap=True, classes="short")
            yield buttons("Create")

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def create(self) -> None:
        title = self.query_one("#title", Input).value
        if not title.strip():
            self.notify("A story needs a title.", severity="error")
            self.query_one("#title").focus()
            return
        self.dismiss(
            {
                "title": title,
                "genre": self.query_one("#genre", Input).value.strip() or None,
                "opening": self.query_one("#opening", TextArea).text,
                "memory": self.query_one("#memory", TextArea).text,
            }
        )


class ExportDialog(Dialog):
    """A format and a file to write."""

    def __init__(self, context: Context, default_name: str):
        super().__init__(context)
        self.default_name = default_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Export the story")
            yield Select([(f, f) for f in EXPORTS], value="md", allow_blank=False, id="format")
            yield Input(str(Path.cwd() / f"{self.default_name}.md"), id="path")
            yield buttons("Export")

    def on_mount(self) -> None:
        self.query_one("#path").focus()

    @on(Select.Changed, "#format")
    def format_changed(self, event: Select.Changed) -> None:
        field = self.query_one("#path", Input)
        field.value = str(Path(field.value).with_suffix(f".{event.value}"))

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def export(self) -> None:
        self.dismiss(
            (self.query_one("#format", Select).value, self.query_one("#path", Input).value)
        )


class ExploreDialog(Dialog):
    """How far to look, how much to spend, and what good means. Dismisses with the
    exploration's settings, checked, or None."""

    def compose(self) -> ComposeResult:
        defaults = ExploreSettings()
        with Vertical(classes="dialog"):
            yield Label("Explore ahead: the model writes paths on and brings back the best")
            with Horizontal(classes="field"):
                yield Label("Depth (passages)")
                yield Input(str(defaults.depth), id="depth")
            with Horizontal(classes="field"):
                yield Label("Budget (expansions)")
                yield Input(str(defaults.budget), id="budget")
            with Horizontal(classes="field"):
                yield Label("Good means")
                yield Select(SCORER_CHOICES, value="likely", allow_blank=False, id="scorer")
            yield Input(placeholder="A yes/no question: Does this raise the stakes?", id="question")
            yield buttons("Explore")

    def on_mount(self) -> None:
        self.query_one("#budget").focus()

    @on(Select.Changed, "#scorer")
    def scorer_changed(self, event: Select.Changed) -> None:
        if event.value == "ask":
            self.query_one("#question").focus()

    def number(self, field: str) -> int:
        typed = self.query_one(f"#{field}", Input).value
        number = whole_number(typed)
        if number is None:
            raise ExploreError(f"the {field} should be a whole number, not {quoted(typed)}")
        return number

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    async def explore(self) -> None:
        await settled(self)
        asking = self.query_one("#scorer", Select).value == "ask"
        question = self.query_one("#question", Input).value
        try:
            settings = ExploreSettings(
                self.number("depth"), self.number("budget"), question if asking else None
            ).check()
        except UserError as error:
            show_user_error(self, error)  # the dialog stays open, with what was typed
            return
        self.dismiss(settings)
