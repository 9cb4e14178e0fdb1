"""Settings: the model and how it writes, for this story (ctrl+s) or as the defaults (ctrl+d);
and the story's genre, memory and author's note."""

from dataclasses import asdict

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Select, Static, TextArea

from tui.actions import bindings
from tui.preferences import Config, PreferenceError, WritingSettings, settings_from, write_config
from tui.screens.dialogs import GENRE_CHOICES

DEVICES = ("auto", "cpu", "cuda", "mps")
LABELS = {
    "model": "Model",
    "device": "Device",
    "branches": "Branches (1–8)",
    "max_new_tokens": "Max new tokens",
    "temperature": "Temperature",
    "top_k": "Top-k",
    "top_p": "Top-p",
    "min_p": "Min-p",
    "repetition_penalty": "Repetition penalty",
    "stop_mode": "Stop at",
    "seed": "Seed",
}


def placeholder(name: str, model_defaults: dict) -> str:
    if name == "model":
        return "the bundled demo model, or a model folder, or a cached hub id"
    if name == "seed":
        return "random"
    if name in model_defaults:
        return f"the model's default ({model_defaults[name]})"
    return "off" if name in ("top_k", "top_p", "min_p", "repetition_penalty") else ""


class SettingsScreen(Screen):
    BINDINGS = bindings("settings")
    SCOPES = ("settings",)

    def __init__(self, story_id: int | None):
        super().__init__()
        self.story_id = story_id

    @property
    def store(self):
        return self.app.store

    def current(self) -> WritingSettings:
        if self.story_id is None:
            return self.app.config.writing
        return self.app.settings_for(self.store.story(self.story_id), cli=False)

    def compose(self) -> ComposeResult:
        settings = asdict(self.current())
        session = self.app.session
        model_defaults = session.defaults() if session else {}
        title = "Settings"
        if self.story_id is not None:
            title += f" — {self.store.story(self.story_id).title}"
        yield Static(Text(title), id="settings-title")
        with VerticalScroll(id="settings-form"):
            for name, label in LABELS.items():
                with Horizontal(classes="field"):
                    yield Label(label)
                    value = settings[name]
                    if name == "device":
                        yield Select(
                            [(d, d) for d in DEVICES], value=value, allow_blank=False, id=name
                        )
                    elif name == "stop_mode":
                        choices = [
                            ("the token budget", "tokens"),
                            ("end of sentence", "sentence"),
                            ("end of paragraph", "paragraph"),
                        ]
                        yield Select(choices, value=value, allow_blank=False, id=name)
                    else:
                        text = "" if value is None else str(value)
                        yield Input(text, placeholder=placeholder(name, model_defaults), id=name)
            if self.story_id is not None:
                story = self.store.story(self.story_id)
                with Horizontal(classes="field"):
                    yield Label("Genre")
                    genre = story.genre if story.genre in dict(GENRE_CHOICES).values() else None
                    yield Select(
                        GENRE_CHOICES, value=genre or Select.NULL, prompt="none", id="genre"
                    )
                yield Label("Memory: always at the top of what the model reads")
                yield TextArea(story.memory, id="memory", soft_wrap=True, classes="short")
                yield Label("Author's note: put a few lines above the end")
                yield TextArea(story.note, id="note", soft_wrap=True, classes="short")
        yield Footer()

    def on_mount(self) -> None:
        for widget in self.query("Input, TextArea"):
            widget.cursor_blink = self.app.blink
        self.query_one("#branches").focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return not (action == "save" and self.story_id is None)

    def form(self) -> WritingSettings:
        values = {}
        for name in LABELS:
            widget = self.query_one(f"#{name}")
            values[name] = widget.value
        return settings_from(values)

    def action_save(self) -> None:
        if self.story_id is None:
            return
        try:
            chosen = self.form()
        except PreferenceError as error:
            self.notify(str(error), severity="error")
            return
        own = chosen.changed(self.app.config.writing)
        genre = self.query_one("#genre", Select).value
        with self.app.reporting():
            self.store.update_story(
                self.story_id,
                genre=genre if isinstance(genre, str) else None,
                memory=self.query_one("#memory", TextArea).text,
                note=self.query_one("#note", TextArea).text,
            )
            self.store.save_settings(self.story_id, own or None)
            self.notify("Saved for this story.")
            self.app.ensure_model(chosen)
            self.dismiss_screen()

    def action_save_defaults(self) -> None:
        try:
            chosen = self.form()
        except PreferenceError as error:
            self.notify(str(error), severity="error")
            return
        config = Config(chosen, self.app.config.keys)
        try:
            path = write_config(config, self.app.config_path)
        except OSError as error:
            self.notify(f"The settings can't be written ({error})", severity="error")
            return
        self.app.config = config
        self.notify(f"Saved as defaults in {path}.")
        if self.story_id is None:
            self.app.ensure_model(chosen)
        self.dismiss_screen()

    def action_close(self) -> None:
        self.dismiss_screen()

    def dismiss_screen(self) -> None:
        self.app.pop_screen()
