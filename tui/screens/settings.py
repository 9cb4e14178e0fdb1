"""Settings: the model and how it writes, for this story (ctrl+s) or as the defaults (ctrl+d);
and the story's genre, memory and author's note. The form is made from the settings table
(engine/settings.py): a field per setting, with its label, and its meaning when left empty."""

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, Input, Label, Select, Static, TextArea

from engine.settings import SETTINGS, Setting
from tui.actions import bindings
from tui.messages import ModelWanted
from tui.screens.base import Context, TaletreeScreen, settled
from tui.screens.dialogs import genre_input


def placeholder(setting: Setting, model_defaults: dict) -> str:
    """What an empty field means: the loaded model's own default where it has one, else
    what the settings table says."""
    if setting.model_suggests and setting.name in model_defaults:
        return f"the model's default ({model_defaults[setting.name]})"
    return setting.blank if setting.placeholder is None else setting.placeholder


def field_for(setting: Setting, value, model_defaults: dict):
    if value in {choice for _, choice in setting.choices}:
        return Select(setting.choices, value=value, allow_blank=False, id=setting.name)
    text = "" if value is None else str(value)
    return Input(text, placeholder=placeholder(setting, model_defaults), id=setting.name)


class SettingsScreen(TaletreeScreen):
    BINDINGS = bindings("settings")
    SCOPES = ("settings",)

    def __init__(self, context: Context):
        super().__init__(context)
        self.story = self.session.story() if self.session.story_id is not None else None

    def compose(self) -> ComposeResult:
        session = self.session
        settings = session.settings(self.story, with_command_line=False)
        model_defaults = session.backend.generation_defaults() if session.backend else {}
        title = "Settings"
        if self.story is not None:
            title += f" — {self.story.title}"
        yield Static(Text(title), id="settings-title")
        with VerticalScroll(id="settings-form"):
            for setting in SETTINGS:
                with Horizontal(classes="field"):
                    yield Label(setting.label)
                    yield field_for(setting, settings[setting.name], model_defaults)
            if self.story is not None:
                with Horizontal(classes="field"):
                    yield Label("Genre")
                    genres = session.backend.genres() if session.backend else []
                    yield genre_input(genres, self.story.genre or "", id="genre")
                yield Label("Memory: always at the top of what the model reads")
                yield TextArea(self.story.memory, id="memory", soft_wrap=True, classes="short")
                yield Label("Author's note: put a few lines above the end")
                yield TextArea(self.story.note, id="note", soft_wrap=True, classes="short")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#branches").focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return not (action == "save" and self.story is None)

    def form(self) -> dict:
        return {s.name: self.query_one(f"#{s.name}").value for s in SETTINGS}

    async def action_save(self) -> None:
        if self.story is None:
            return
        await settled(self)
        self.session.save_story_settings(
            self.form(),
            genre=self.query_one("#genre", Input).value.strip() or None,
            memory=self.query_one("#memory", TextArea).text,
            note=self.query_one("#note", TextArea).text,
        )
        self.notify("Saved for this story.")
        self.close(model_may_change=True)

    async def action_save_defaults(self) -> None:
        await settled(self)
        path = self.session.save_default_settings(self.form())
        self.notify(f"Saved as defaults in {path}.")
        self.close(model_may_change=True)

    def action_close(self) -> None:
        self.close()

    def close(self, model_may_change: bool = False) -> None:
        if model_may_change:
            self.app.post_message(ModelWanted())
        self.app.pop_screen()
