"""The writing screen: the story, the branch panel, the composer and a status line.

The writing loop: enter in the composer adds the writer's text as a node and asks the model for
N continuations. They stream in a worker thread into a buffer; a timer drains the buffer about
30 times a second and repaints only the panes that changed. When the branches end they are
stored as children of the node they continue, in one transaction; keeping one moves the tip.
"""

import time

from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, TextArea

from engine.events import FinishEvent, TokenEvent
from story.models import Node, NodeDraft, Story
from tui.actions import bindings
from tui.generation import Branch, Failed, Generation, Retrying, joined, store_branches
from tui.model_session import build_prompt
from tui.preferences import MAX_BRANCHES
from tui.widgets.branch_panel import BranchPanel
from tui.widgets.composer import Composer
from tui.widgets.status_bar import StatusBar
from tui.widgets.story_view import StoryView

clock = time.perf_counter  # (tests replace it to get steady speeds in snapshots)
FRAME_RATE = 30  # buffer drains per second while the model writes
DRAFT_DELAY = 0.4  # seconds of quiet typing before the composer's text is saved


class WritingScreen(Screen):
    BINDINGS = bindings("writing")
    SCOPES = ("writing", "composer", "branches")

    def __init__(self, story_id: int):
        super().__init__()
        self.story_id = story_id
        self.branches: list[Branch] = []
        self.generation: Generation | None = None
        self.parent_id: int | None = None  # the node the panel's branches continue
        self.started = 0.0
        self.context_tokens: int | None = None
        self.rate: float | None = None
        self.pending = False  # asked to generate before the model was ready
        self.saved_draft = ""
        self.title = ""
        self.draft_timer = None
        self.sampling = None

    @property
    def store(self):
        return self.app.store

    def compose(self) -> ComposeResult:
        yield StoryView(id="story")
        yield BranchPanel(id="branches")
        yield Composer(id="composer")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        story = self.store.story(self.story_id)
        self.composer = composer = self.query_one(Composer)
        self.panel = self.query_one(BranchPanel)
        self.view = self.query_one(StoryView)
        self.status = self.query_one(StatusBar)
        composer.cursor_blink = self.app.blink
        composer.load_text(story.draft)
        composer.move_cursor(composer.document.end)
        self.saved_draft = story.draft
        self.frames = self.set_interval(1 / FRAME_RATE, self.drain, pause=True)
        self.refresh_story()
        self.app.ensure_model(self.app.settings_for(story))
        composer.focus()

    def on_screen_resume(self) -> None:
        if self.is_mounted and self.generation is None:
            self.refresh_story()
            if not isinstance(self.focused, Composer | BranchPanel) or not self.branches:
                self.composer.focus()

    def on_unmount(self) -> None:
        self.shutdown()

    def shutdown(self) -> None:
        """Leaving: stop the model (keeping what it wrote) and save the draft."""
        self.stop_generation()
        self.save_draft()

    # -------------------------------------------------------------------------------- view

    def story(self) -> Story:
        return self.store.story(self.story_id)

    def refresh_story(self) -> None:
        """Show the current path, and the model's alternatives below the tip."""
        story = self.story()
        self.title = story.title  # the status line shows it every frame: read it once here
        path = self.store.path(story.tip_id)
        self.view.show_path(path)
        if self.generation is None:
            offered = [c for c in self.store.children(story.tip_id) if c.author == "model"]
            self.show_stored(story.tip_id, offered[-MAX_BRANCHES:])
        self.update_status()

    def show_stored(self, parent_id: int, nodes: list[Node]) -> None:
        self.parent_id = parent_id
        self.branches = [Branch(n.text, reason="kept", node_id=n.id) for n in nodes]
        panes = self.panel.show(len(nodes))
        for pane, branch in zip(panes, self.branches, strict=True):
            pane.text = branch.text

    def update_status(self) -> None:
        app = self.app
        session = app.session
        self.status.show(
            self.title,
            session.name if session else app.model_state,
            session.device if session else "",
            self.context_tokens,
            session.window if session else None,
            self.rate,
        )

    def model_ready(self) -> None:
        self.update_status()
        if self.pending:
            self.pending = False
            self.action_generate()

    # ------------------------------------------------------------------------------ drafts

    @on(TextArea.Changed, "#composer")
    def draft_changed(self) -> None:
        if self.draft_timer is not None:
            self.draft_timer.stop()
        self.draft_timer = self.set_timer(DRAFT_DELAY, self.save_draft)

    def save_draft(self) -> None:
        text = self.composer.text
        if text != self.saved_draft:
            with self.app.reporting():
                self.store.save_draft(self.story_id, text)
                self.saved_draft = text

    # ------------------------------------------------------------------------ writing loop

    def action_submit(self) -> None:
        composer = self.composer
        typed = composer.text
        self.stop_generation()
        if typed.strip():
            with self.app.reporting() as outcome:
                tip = self.story().tip_id
                story_text = self.store.node(tip).text
                self.store.append(tip, NodeDraft(joined(story_text, typed)))
                composer.clear()
                self.save_draft()
                self.refresh_story()
            if outcome.failed:
                return  # the text stays in the composer, to try again
        self.action_generate()

    def action_generate(self) -> None:
        if self.generation is not None:
            return
        session = self.app.session
        if session is None and self.app.model_key is None:
            self.notify("No model is loaded: choose one in settings (f2).", severity="error")
            return
        if session is None:
            self.pending = True
            self.notify(
                f"The model is still loading ({self.app.model_state}): the branches "
                "start as soon as it is ready."
            )
            return
        with self.app.reporting():
            story = self.story()
            settings = self.app.settings_for(story)
            self.sampling = settings.sampling(session.defaults())
            prompt = build_prompt(session, self.store, story.tip_id, self.sampling)
            self.context_tokens = len(prompt.ids)
            self.generation = Generation(
                session, prompt, settings.branches, self.sampling, settings.seed
            )
            self.parent_id = story.tip_id
            self.branches = [Branch() for _ in range(settings.branches)]
            self.panel.show(settings.branches)
            self.started = clock()
            self.run_worker(
                self.generation.run,
                name="generation",
                group="generation",
                thread=True,
                exit_on_error=False,
            )
            self.frames.resume()
            self.panel.focus()
            self.update_status()

    def drain(self) -> None:
        """One frame: apply what the worker buffered since the last one."""
        generation = self.generation
        if generation is None:
            self.frames.pause()
            return
        ended = generation.finished.is_set()  # read first: the buffer is complete after it
        changed: set[int] = set()
        for item in generation.drain():
            if isinstance(item, TokenEvent | FinishEvent):
                self.branches[item.branch].apply(item)
                changed.add(item.branch)
            elif isinstance(item, Retrying):
                self.notify(
                    f"Out of memory: trying again with {item.branches} branches.",
                    severity="warning",
                )
                self.branches = [Branch() for _ in range(item.branches)]
                self.panel.show(item.branches)
            elif isinstance(item, Failed):
                self.notify(f"The model stopped: {item.error}", severity="error", timeout=10)
        self.paint(changed)
        if ended:
            self.finish_generation()

    def paint(self, changed: set[int]) -> None:
        elapsed = max(clock() - self.started, 1e-6)
        panes = self.panel.panes
        for index in changed:
            if index >= len(panes):
                continue
            branch = self.branches[index]
            if not branch.reason or branch.rate is None:  # a finished branch keeps its speed
                branch.rate = branch.tokens / elapsed
            panes[index].text = branch.text
            panes[index].rate = branch.rate
            panes[index].state = branch.reason
        total = sum(b.tokens for b in self.branches)
        self.rate = total / elapsed if total else None
        self.update_status()

    def finish_generation(self) -> None:
        self.frames.pause()
        self.generation = None
        self.store_branches()

    def store_branches(self) -> None:
        """Store every branch that wrote something and isn't stored yet, in one transaction.
        If the database refuses (locked, say), they stay here and storing is tried again."""
        if self.parent_id is None:
            return
        session = self.app.session
        with self.app.reporting():
            store_branches(
                self.store,
                self.parent_id,
                self.branches,
                session.name if session else None,
                self.sampling,
            )

    def stop_generation(self) -> None:
        """Stop the model now (within one step), keeping what each branch wrote."""
        generation = self.generation
        if generation is not None:
            generation.stop()
            self.drain()
            if self.generation is generation:  # the worker didn't answer in time
                self.finish_generation()

    # ----------------------------------------------------------------------- branch panel

    def selected(self, index: int) -> Branch | None:
        self.stop_generation()
        if not 0 <= index < len(self.branches):
            self.app.bell()
            return None
        branch = self.branches[index]
        self.store_branches()
        if branch.node_id is None and branch.text:
            return None  # not stored: the notification says why
        if branch.node_id is None:
            self.notify(f"Branch {index + 1} wrote nothing.", severity="warning")
            return None
        return branch

    def action_keep(self, number: int) -> None:
        branch = self.selected(number - 1)
        if branch is not None:
            with self.app.reporting():
                self.store.move_tip(branch.node_id)
            self.back_to_composer()

    def action_keep_highlighted(self) -> None:
        self.action_keep(self.panel.highlighted + 1)

    def action_highlight(self, step: int) -> None:
        panel = self.panel
        panel.highlight(panel.highlighted + step)

    def action_regenerate(self) -> None:
        self.stop_generation()
        if self.parent_id is not None:
            with self.app.reporting():
                self.store.move_tip(self.parent_id)
        self.view.show_path(self.store.path(self.story().tip_id))
        self.action_generate()

    def action_edit_branch(self) -> None:
        from tui.screens.dialogs import EditDialog

        branch = self.selected(self.panel.highlighted)
        if branch is None:
            return
        node_id = branch.node_id

        def edited(text: str | None) -> None:
            if text is None:
                return
            with self.app.reporting():
                if text == branch.text:
                    self.store.move_tip(node_id)
                else:
                    self.store.edit(node_id, text)
            self.back_to_composer()

        self.app.push_screen(EditDialog(branch.text, "Edit the branch, then keep it"), edited)

    def action_token_view(self) -> None:
        """The highlighted branch token by token; from the story view, the last model text."""
        from tui.screens.token_view import TokenScreen

        self.stop_generation()
        if self.focused is self.panel and self.branches:
            node_id = self.branches[self.panel.highlighted].node_id
        else:
            path = self.store.path(self.story().tip_id)
            node_id = next((n.id for n in reversed(path) if n.author == "model"), None)
        if node_id is None:
            self.notify("There is no model-written text here yet.", severity="warning")
            return
        records = self.store.token_records(node_id)
        if not records:
            self.notify(
                "This text has no token data: it was written or edited by you, or "
                "by a Taletree from before token data was kept.",
                severity="warning",
            )
            return
        self.app.push_screen(TokenScreen(self.story_id, node_id, records))

    def action_compare(self) -> None:
        from tui.screens.compare import CompareScreen

        self.stop_generation()
        stored = [b.node_id for b in self.branches if b.node_id is not None]
        if len(stored) < 2:
            self.notify("Compare needs two alternatives or more.", severity="warning")
            return
        self.app.push_screen(CompareScreen(self.story_id, stored))

    def action_stop(self) -> None:
        self.stop_generation()
        self.composer.focus()

    def back_to_composer(self) -> None:
        self.refresh_story()
        self.composer.focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return not (action == "keep" and parameters and parameters[0] > len(self.branches))

    # -------------------------------------------------------------------------- tree moves

    def move_tip(self, where: str) -> None:
        self.stop_generation()
        with self.app.reporting():
            if self.store.step(self.story_id, where) is None:
                self.app.bell()
            self.refresh_story()
