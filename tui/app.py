"""The full-screen Taletree app.

The app owns the store (used from the UI thread only), the settings and the loaded model.
Screens: library (the base), writing, tree, settings, help. The model loads in a worker thread
while the writer reads and types; generation runs in another (see tui/screens/writing.py).
"""

import ast
import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from textual.app import App, SystemCommand
from textual.message import Message
from textual.screen import Screen

from engine.settings import SettingsError
from story.errors import StoryError
from story.models import Story
from story.store import Store
from tui.actions import ACTIONS, SCOPES, bindings, unknown_ids
from tui.model_session import ModelSession, load_session
from tui.preferences import Config, PreferenceError, WritingSettings, read_config, story_settings
from tui.screens.library import LibraryScreen
from tui.screens.writing import WritingScreen

SessionLoader = Callable[[str, str, str, Callable[[str], None]], ModelSession]


@dataclass
class Outcome:
    failed: bool = False


class ModelLoaded(Message):
    def __init__(
        self, key: tuple[str, str], session: ModelSession | None, error: Exception | None = None
    ):
        super().__init__()
        self.key, self.session, self.error = key, session, error


class ModelProgress(Message):
    def __init__(self, key: tuple[str, str], stage: str):
        super().__init__()
        self.key, self.stage = key, stage


class TaletreeApp(App):
    CSS_PATH = "taletree.tcss"
    TITLE = "Taletree"
    BINDINGS = bindings("app")

    def __init__(
        self,
        store: Store,
        *,
        model: str | None = None,
        story_id: int | None = None,
        session_loader: SessionLoader = load_session,
        blink: bool = True,
        config_path: Path | None = None,
    ):
        super().__init__()
        self.store = store
        self.cli_model = model
        self.start_story = story_id
        self.session_loader = session_loader
        self.blink = blink
        self.config_path = config_path
        self.config = Config(WritingSettings(), {})
        self.session: ModelSession | None = None
        self.model_key: tuple[str, str] | None = None
        self.model_state = "no model yet"

    # ------------------------------------------------------------------------------ set-up

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        try:
            self.config = read_config(self.config_path)
        except PreferenceError as error:
            self.notify(f"{error}. Using the built-in settings.", severity="error", timeout=10)
        unknown = unknown_ids(self.config.keys)
        if unknown:
            self.notify(
                f"The config's [keys] names no action {unknown[0]!r}: f1 lists them.",
                severity="warning",
                timeout=10,
            )
        self.set_keymap({k: v for k, v in self.config.keys.items() if k not in unknown})
        self.push_screen(LibraryScreen())
        if self.start_story is not None:
            self.open_story(self.start_story)
        else:
            self.ensure_model(self.settings_for(None))

    @property
    def keymap(self) -> dict[str, str]:
        return dict(self._keymap)

    def settings_for(self, story: Story | None, cli: bool = True) -> WritingSettings:
        """A story's settings over the defaults; `--model` on the command line wins."""
        saved = story.settings if story else None
        return story_settings(self.config.writing, saved, self.cli_model if cli else None)

    @contextlib.contextmanager
    def reporting(self) -> Iterator[Outcome]:
        """Show a problem the writer can act on as a notification; the app keeps running."""
        outcome = Outcome()
        try:
            yield outcome
        except (StoryError, SettingsError, PreferenceError) as error:
            outcome.failed = True
            self.notify(str(error), severity="error", timeout=10)

    # ------------------------------------------------------------------------------- model

    def ensure_model(self, settings: WritingSettings) -> None:
        """Load the settings' model in the background, unless it is the one loaded."""
        name, label = settings.model_source()
        key = (name, settings.device)
        if key == self.model_key:
            return
        self.model_key, self.session = key, None
        self.model_state = f"loading {label}…"
        self.refresh_status()

        def load() -> None:
            try:
                progress = lambda stage: self.post_message(ModelProgress(key, stage))  # noqa: E731
                session = self.session_loader(name, settings.device, label, progress)
            except Exception as error:
                self.post_message(ModelLoaded(key, None, error))
            else:
                self.post_message(ModelLoaded(key, session))

        self.run_worker(load, name="model", group="model", thread=True, exit_on_error=False)

    def on_model_progress(self, message: ModelProgress) -> None:
        if message.key == self.model_key and self.session is None:
            self.model_state = f"loading {message.key[0].rsplit('/', 1)[-1]}: {message.stage}"
            self.refresh_status()

    def on_model_loaded(self, message: ModelLoaded) -> None:
        if message.key != self.model_key:
            return  # an older request, overtaken by another
        if message.error is not None:
            self.model_state, self.model_key = "no model", None
            error = " ".join(str(message.error).split())
            self.notify(
                f"The model can't be loaded: {error}. Choose another in settings (f2).",
                severity="error",
                timeout=15,
            )
            self.refresh_status()
            return
        self.session = message.session
        for screen in self.screen_stack:
            if isinstance(screen, WritingScreen):
                screen.model_ready()

    def refresh_status(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, WritingScreen) and screen.is_mounted:
                screen.update_status()

    # ----------------------------------------------------------------------------- screens

    def writing_screen(self) -> WritingScreen | None:
        return next((s for s in reversed(self.screen_stack) if isinstance(s, WritingScreen)), None)

    def open_story(self, story_id: int) -> None:
        with self.reporting():
            self.store.story(story_id)
            self.back_to_library()
            self.push_screen(WritingScreen(story_id))

    def back_to_library(self) -> None:
        while not isinstance(self.screen, LibraryScreen):
            self.pop_screen()

    def show_writing(self, story_id: int) -> WritingScreen | None:
        """Back to the writing screen of this story, under whatever was opened on top."""
        writing = self.writing_screen()
        if writing is None or writing.story_id != story_id:
            self.open_story(story_id)
            return None
        while self.screen is not writing:
            self.pop_screen()
        return writing

    def action_open_library(self) -> None:
        self.back_to_library()

    def action_open_tree(self) -> None:
        from tui.screens.tree import TreeScreen

        if isinstance(self.screen, TreeScreen):
            return
        writing = self.writing_screen()
        if writing is None:
            self.notify("Open a story first: the tree is a story's.", severity="warning")
            return
        writing.stop_generation()
        self.push_screen(TreeScreen(writing.story_id))

    def action_open_settings(self) -> None:
        from tui.screens.settings import SettingsScreen

        if isinstance(self.screen, SettingsScreen):
            return
        writing = self.writing_screen()
        self.push_screen(SettingsScreen(writing.story_id if writing else None))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_move(self, where: str) -> None:
        move = getattr(self.screen, "move_tip", None)
        if move is not None:
            move(where)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "move":
            return hasattr(self.screen, "move_tip")
        return True

    async def action_quit(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, WritingScreen):
                screen.shutdown()
        self.exit()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The command palette: every registry action valid where the palette was opened."""
        scopes = {"app", *getattr(screen, "SCOPES", ())}
        for action in ACTIONS:
            if action.scope not in scopes or not action.palette:
                continue
            target, _, name = action.action.partition(".")
            namespace = self if target == "app" else screen
            method, _, arguments = name.rstrip(")").partition("(")
            parameters = ast.literal_eval(f"({arguments},)") if arguments else ()
            if not hasattr(namespace, f"action_{method}"):
                continue
            if namespace.check_action(method, parameters) is False:
                continue
            yield SystemCommand(
                action.description,
                f"{SCOPES[action.scope]} · {action.keys}",
                lambda a=name, n=namespace: self.run_action(a, n),
            )
        yield SystemCommand("Theme", "Change the colours", self.action_change_theme)
