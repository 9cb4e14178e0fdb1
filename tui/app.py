"""The full-screen Taletree app: a face over the writing session.

The app loads the model in a worker thread while the writer reads and types, and tells the
screen in front when it changes; screens ask for things with messages. One registry of
actions (tui/actions.py) makes the key bindings, the help screen and the command palette.

Errors follow the one policy: a UserError raised by an action or a dialog's result is shown as
a notification and the app goes on; anything else is a bug: the app closes, the traceback goes
to the error log, and `taletree` prints one line saying where (app.bug_report).
"""

import ast
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from textual import events, on
from textual.app import SystemCommand
from textual.message import Message
from textual.screen import Screen

from common.errors import UserError, one_line
from tui.actions import ACTIONS, SCOPES, bindings, unknown_ids
from tui.core.bugs import bug_report
from tui.core.model_holder import ModelRequest
from tui.core.session import WritingSession
from tui.messages import BackToWriting, Generate, ModelChanged, ModelWanted, OpenStory
from tui.screens.base import Context, show_user_error
from tui.screens.library import LibraryScreen
from tui.screens.writing import WritingScreen
from tui.textual_internals import ClosesOnABug


class ModelLoaded(Message):
    def __init__(self, request: ModelRequest, backend: Any, error: Exception | None = None):
        super().__init__()
        self.request, self.backend, self.error = request, backend, error


class ModelProgress(Message):
    def __init__(self, request: ModelRequest, stage: str):
        super().__init__()
        self.request, self.stage = request, stage


class TaletreeApp(ClosesOnABug):
    CSS_PATH = "taletree.tcss"
    TITLE = "Taletree"
    BINDINGS = bindings("app")

    def __init__(
        self,
        session: WritingSession,
        *,
        story_id: int | None = None,
        blink: bool = True,
        config_problem: Exception | None = None,
    ):
        super().__init__()
        self.session = session
        self.context = Context(session, blink)
        self.start_story = story_id
        self.config_problem = config_problem
        self.bug_report: str | None = None  # the line to print after a bug closed the app
        self.typed: deque[events.Key] = deque()  # keys typed, the first one being handled
        self.keymap: dict[str, str] = {}  # the config's [keys]: action id to the keys for it

    # ------------------------------------------------------------------------------ set-up

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        if self.config_problem is not None:
            self.notify(
                f"{one_line(self.config_problem)}. Using the built-in settings.",
                severity="error",
                timeout=10,
            )
        keys = self.session.config.keys
        unknown = unknown_ids(keys)
        if unknown:
            self.notify(
                f"The config's [keys] names no action {unknown[0]!r}: f1 lists them.",
                severity="warning",
                timeout=10,
            )
        self.keymap = {k: v for k, v in keys.items() if k not in unknown}
        self.set_keymap(self.keymap)
        self.push_screen(LibraryScreen(self.context))
        if self.start_story is not None:
            self.open_story(self.start_story)
        else:
            self.load_model()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification is plain text: what it says often came from outside (a server's
        error, a model's name, a config key), and as Textual markup `[/]` would crash the app
        and `[@click=app.quit]` would become a link that closes it."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    # ---------------------------------------------------------------------------- the keys

    async def on_event(self, event: events.Event) -> None:
        """Keys one at a time, in the order they were typed. Textual hands a key to the focused
        widget at once, before the key ahead of it has had its effect: after keep, shift+tab,
        up, `e` typed in one burst, the `e` would go to the field focused before keep moved
        the focus, and after escape in a dialog, the next keys into the closing dialog. So
        the next key waits until the last one has gone all the way (the widget, its parents,
        the bindings here) and every focus or screen change it made has landed."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            self.typed.append(event)
            if len(self.typed) == 1:
                await self.hand_on_key()
            return
        await super().on_event(event)

    async def hand_on_key(self) -> None:
        key = self.typed[0]
        handler = self.focused or self.screen
        await super().on_event(key)  # a priority binding, else to the focused widget
        self.when_handled([*handler.ancestors_with_self], self.next_key)

    def when_handled(self, path: list[Any], then: Callable[[], Any]) -> None:
        """Call `then` once each node on a key's path, in order, has handled what it holds
        now: the key reaches a node only after the one below it is done with it."""
        if not path:
            self.call_later(then)
            return
        node, rest = path[0], path[1:]
        if not node.call_later(self.when_handled, rest, then):  # the node has closed
            self.when_handled(rest, then)

    async def next_key(self) -> None:
        self.typed.popleft()
        if self.typed:
            await self.hand_on_key()

    # ------------------------------------------------------------------------ error policy

    async def run_action(
        self, action: Any, default_namespace: Any = None, namespaces: Any = None
    ) -> bool:
        """Every action runs here (keys, the footer, the palette): a problem the writer can fix
        is shown, and the app goes on."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except UserError as error:
            show_user_error(self, error)
            return True

    def push_screen(
        self, screen: Any, callback: Callable | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        """A dialog's result is handled by its callback: guarded like an action."""
        if callback is not None:
            callback = self.guarded(callback)
        return super().push_screen(screen, callback, *args, **kwargs)

    def guarded(self, callback: Callable) -> Callable:
        def run(*args: Any) -> Any:
            try:
                return callback(*args)
            except UserError as error:
                show_user_error(self, error)
                return None

        return run

    def report_bug(self, error: Exception) -> None:
        """A bug closes the app: the traceback goes to the error log, and `taletree` says so
        in one line."""
        if self.bug_report is None:
            self.bug_report = bug_report(error, "taletree (the app)")
        self.bell()

    # ------------------------------------------------------------------------------- model

    @on(ModelWanted)
    def load_model(self) -> None:
        """Load the models the settings name in the background, one after another (each
        has every core and the memory check's room), unless they are held already. A set
        that won't fit is refused before anything loads."""
        models = self.session.models
        try:
            requests = models.wants(self.session.model_requests())
        except UserError as error:
            show_user_error(self, error)
            return
        if not requests:
            return
        self.model_changed()

        def load() -> None:
            for request in requests:
                try:
                    progress = lambda stage, r=request: self.post_message(ModelProgress(r, stage))  # noqa: E731
                    backend = models.load(request, progress)
                except Exception as error:
                    self.post_message(ModelLoaded(request, None, error))
                else:
                    self.post_message(ModelLoaded(request, backend))

        self.run_worker(load, name="model", group="model", thread=True, exit_on_error=False)

    def on_model_progress(self, message: ModelProgress) -> None:
        self.session.models.progress(message.request, message.stage)
        self.model_changed()

    def on_model_loaded(self, message: ModelLoaded) -> None:
        if not self.session.models.loaded(message.request, message.backend):
            return  # an older request, overtaken by another
        if message.error is not None:
            if not isinstance(message.error, UserError):
                bug_report(message.error, f"taletree (loading {message.request.name})")
            # One of several is named; a model alone is "the model" (its name is in the line).
            which = message.request.label if self.session.models.wanted else "The model"
            self.notify(
                f"{which} can't be loaded: {one_line(message.error)}. Choose another in "
                "settings (f2).",
                severity="error",
                timeout=15,
            )
        self.model_changed()

    def model_changed(self) -> None:
        self.screen.post_message(ModelChanged())

    # ----------------------------------------------------------------------------- screens

    @on(OpenStory)
    def story_asked_for(self, message: OpenStory) -> None:
        self.open_story(message.story_id)

    def open_story(self, story_id: int) -> None:
        self.back_to_library()
        self.session.open_story(story_id)
        self.push_screen(WritingScreen(self.context))

    def back_to_library(self) -> None:
        while not isinstance(self.screen, LibraryScreen):
            self.pop_screen()
        self.session.close_story()

    @on(BackToWriting)
    def back_to_writing(self) -> None:
        while not isinstance(self.screen, WritingScreen | LibraryScreen):
            self.pop_screen()

    @on(Generate)
    def generate_after(self) -> None:
        self.session.generate_next()
        self.back_to_writing()

    def action_open_library(self) -> None:
        self.back_to_library()

    def action_open_tree(self) -> None:
        from tui.screens.tree import TreeScreen

        if isinstance(self.screen, TreeScreen):
            return
        if self.session.story_id is None:
            self.notify("Open a story first: the tree is a story's.", severity="warning")
            return
        self.session.stop_generation()
        self.push_screen(TreeScreen(self.context))

    def action_open_settings(self) -> None:
        from tui.screens.settings import SettingsScreen

        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen(self.context))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    async def action_quit(self) -> None:
        """Quit: a running generation stops, and what it wrote and the draft are kept."""
        try:
            self.session.close_story()
        finally:
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
