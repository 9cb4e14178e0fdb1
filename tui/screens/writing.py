"""The writing screen: the story, the branch panel, the composer and a status line, over the
writing session.

Enter in the composer adds the writer's text and asks the model for N continuations. They
stream in a worker thread into the session's buffer; a timer drains it about 30 times a second
and repaints only the panes that changed. The session stores the branches when they end.
"""

import time

from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer, TextArea

from common.errors import UserError
from common.text import NAME_LIMIT, shown_line
from story.models import Node, WordCount
from tui.actions import bindings
from tui.core.generation import Generation
from tui.core.session import Drained
from tui.display import offered_labels
from tui.messages import ModelChanged, ModelWanted
from tui.screens.base import Context, TaletreeScreen, guarded
from tui.widgets.branch_panel import BranchPanel
from tui.widgets.composer import Composer
from tui.widgets.status_bar import StatusBar
from tui.widgets.story_view import StoryView

clock = time.perf_counter  # (tests replace it to get steady speeds in snapshots)
FRAME_RATE = 30  # buffer drains per second while the model writes
DRAFT_DELAY = 0.4  # seconds of quiet typing before the composer's text is saved


class WritingScreen(TaletreeScreen):
    BINDINGS = [*bindings("writing"), *bindings("moves")]
    SCOPES = ("writing", "composer", "branches", "story", "moves")

    def __init__(self, context: Context):
        super().__init__(context)
        self.started = 0.0
        self.rate: float | None = None
        self.story_title = ""
        self.words = WordCount()
        self.draft_timer = None

    def compose(self) -> ComposeResult:
        yield StoryView(id="story")
        yield BranchPanel(id="branches")
        yield Composer(id="composer")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.composer = composer = self.query_one(Composer)
        self.panel = self.query_one(BranchPanel)
        self.view = self.query_one(StoryView)
        self.status = self.query_one(StatusBar)
        composer.load_text(self.session.draft)
        composer.move_cursor(composer.document.end)
        self.frames = self.set_interval(1 / FRAME_RATE, self.drain, pause=True)
        self.refresh_story()
        self.post_message(ModelWanted())
        composer.focus()

    def on_screen_resume(self) -> None:
        if self.is_mounted and self.session.generation is None:
            self.refresh_story()
            focused = self.focused
            lost = not isinstance(focused, Composer | BranchPanel | StoryView)
            if lost or (focused is self.panel and not self.session.branches):
                self.composer.focus()
        self.generate_if_asked()

    @on(ModelChanged)
    def model_changed(self) -> None:
        self.update_status()
        self.generate_if_asked()

    def generate_if_asked(self) -> None:
        """Branches asked for before the model was ready, or by a fork, start once it is."""
        if self.session.generation_due:
            self.call_later(self.run_action, "generate")

    # -------------------------------------------------------------------------------- view

    def refresh_story(self) -> None:
        """Show the current path, and the branches on offer below it."""
        session = self.session
        self.story_title = session.story().title  # the status line shows it every frame
        self.words = session.word_count()
        self.view.show_path(session.path())
        if session.generation is None:
            panes = self.show_panes()
            for pane, branch in zip(panes, session.branches, strict=True):
                pane.text, pane.state = branch.text, branch.reason
        self.update_status()

    def show_panes(self):
        """A pane for each branch on offer, titled with its model where several write."""
        return self.panel.show(len(self.session.branches), offered_labels(self.session))

    def update_status(self) -> None:
        session = self.session
        backend = session.backend
        backends = session.models.backends() or []
        if len(backends) > 1:  # each model and what it holds; where they run
            model = session.models.state
            device = ", ".join(dict.fromkeys(f"{b.device}, {b.serving_path}" for b in backends))
        elif backend is not None:
            model = shown_line(backend.name, NAME_LIMIT)
            device = f"{backend.device}, {backend.serving_path}, {session.reading_shown(backend)}"
        else:
            model, device = session.models.state, ""
        self.status.show(
            self.story_title,
            model,
            device,
            session.context_tokens,
            session.window(backend) if backend else None,
            self.rate,
            self.words,
        )

    # ------------------------------------------------------------------------------ drafts

    @on(TextArea.Changed, "#composer")
    def draft_changed(self) -> None:
        self.session.draft = self.composer.text
        if self.draft_timer is not None:
            self.draft_timer.stop()
        self.draft_timer = self.set_timer(DRAFT_DELAY, self.save_draft)

    @guarded
    def save_draft(self) -> None:
        self.session.save_draft()

    # ------------------------------------------------------------------------ writing loop

    def action_submit(self) -> None:
        typed = self.composer.text
        self.stop()
        if typed.strip():
            self.session.add_text(typed)  # if the database refuses, the text stays typed
            self.composer.clear()
            self.session.draft = ""
            self.session.save_draft()
            self.refresh_story()
        self.action_generate()

    def action_generate(self) -> None:
        session = self.session
        if session.generation is not None:
            return
        if not session.models_ready and not session.models.loading:
            requests = session.model_requests()
            unloaded = [r.label for r in requests if r not in session.models.held]
            said = f"{unloaded[0]} isn't loaded" if len(requests) > 1 else "No model is loaded"
            self.notify(f"{said}: choose another in settings (f2).", severity="error")
            return
        generation = session.generate_when_ready()
        if generation is None:
            self.notify(
                f"The model is still loading ({session.models.state}): the branches "
                "start as soon as it is ready."
            )
            return
        self.start(generation)

    def start(self, generation: Generation, panes: bool = True) -> None:
        """Run a generation, its branches streaming into fresh panes (or, with panes=False,
        into the panes already shown)."""
        if panes:
            self.show_panes()
        self.started = clock()
        self.run_worker(
            generation.run, name="generation", group="generation", thread=True, exit_on_error=False
        )
        self.frames.resume()
        self.panel.focus()
        self.update_status()

    @guarded
    def drain(self) -> None:
        """One frame: apply what the worker buffered since the last one."""
        drained = self.session.drain()
        if drained.ended:
            self.frames.pause()
        self.show_drained(drained)

    def show_drained(self, drained: Drained) -> None:
        if drained.restarted:
            self.show_panes()
        for notice in drained.notices:
            self.notify(notice.text, severity=notice.severity, timeout=10)  # type: ignore[arg-type]
        if drained.extended:  # "more" lengthened a passage: it and what is on offer changed
            self.refresh_story()
        else:
            self.paint(drained.changed)

    def paint(self, changed: set[int]) -> None:
        elapsed = max(clock() - self.started, 1e-6)
        panes = self.panel.panes
        branches = self.session.branches
        for index in changed:
            if index >= len(panes):
                continue
            pane, branch = panes[index], branches[index]
            if not pane.state or pane.rate is None:  # a finished branch keeps its speed
                pane.rate = branch.tokens / elapsed
            pane.text = branch.text
            pane.state = branch.reason
        total = sum(b.tokens for b in branches)
        self.rate = total / elapsed if total else None
        self.update_status()

    def stop(self) -> None:
        """Stop the model now (within one step), keeping what each branch wrote."""
        self.frames.pause()
        drained = self.session.stop_generation()
        if drained is not None:
            self.show_drained(drained)

    # ----------------------------------------------------------------------- branch panel

    def action_keep(self, number: int) -> None:
        self.session.keep(number - 1)
        self.back_to_composer()

    def action_keep_highlighted(self) -> None:
        self.action_keep(self.panel.highlighted + 1)

    def action_highlight(self, step: int) -> None:
        self.panel.highlight(self.panel.highlighted + step)

    def action_regenerate(self) -> None:
        self.stop()
        generation = self.session.regenerate()
        self.view.show_path(self.session.path())
        self.start(generation)

    def action_edit_branch(self) -> None:
        from tui.screens.dialogs import EditDialog

        index = self.panel.highlighted
        node_id = self.session.branch_node(index)

        def edited(text: str | None) -> None:
            if text is not None:
                self.session.edit_branch(index, text)
                self.back_to_composer()

        text = self.session.node(node_id).text
        self.app.push_screen(
            EditDialog(self.context, text, "Edit the branch, then keep it"), edited
        )

    def action_token_view(self) -> None:
        """The highlighted branch token by token; from the story view, the selected passage
        (or the last model text)."""
        from tui.screens.token_view import TokenScreen

        self.stop()
        session = self.session
        selected = self.view.selected_node()
        if self.focused is self.panel and session.branches:
            node_id = session.branch_node(self.panel.highlighted)
        elif selected is not None and selected.author == "model":
            node_id = selected.id
        else:
            node_id = session.last_model_node()
        records = session.token_records(node_id)
        self.app.push_screen(TokenScreen(self.context, node_id, records))

    def action_compare(self) -> None:
        from tui.screens.compare import CompareScreen

        self.stop()
        stored = [b.node_id for b in self.session.branches if b.node_id is not None]
        if len(stored) < 2:
            self.notify("Compare needs two alternatives or more.", severity="warning")
            return
        self.app.push_screen(CompareScreen(self.context, stored))

    def action_explore(self) -> None:
        """Explore ahead from the highlighted branch (from the panel), the selected passage
        (from the story), else the story's end."""
        from tui.screens.explore import explore_from

        self.stop()
        session = self.session
        selected = self.view.selected_node()
        if self.focused is self.panel and session.branches:
            start = session.branch_node(self.panel.highlighted)
        elif self.focused is self.view and selected is not None:
            start = selected.id
        else:
            start = session.story().tip_id
        explore_from(self, start)

    def action_stop(self) -> None:
        self.stop()
        if self.session.back_from_look_ahead():
            self.refresh_story()
            self.panel.focus()
            return
        self.composer.focus()

    def action_reroll(self) -> None:
        index = self.panel.highlighted
        generation = self.session.reroll(index)
        pane = self.panel.panes[index]
        pane.text, pane.state, pane.rate = "", "", None
        self.start(generation, panes=False)

    def action_look_ahead(self) -> None:
        number = self.panel.highlighted + 1
        self.start(self.session.look_ahead(number - 1))
        self.notify(f"Looking ahead from branch {number}: escape goes back to it and its siblings.")

    def back_to_composer(self) -> None:
        self.refresh_story()
        self.composer.focus()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return not (action == "keep" and parameters and parameters[0] > len(self.session.branches))

    # ---------------------------------------------------------------------- the passages

    def passage(self) -> Node:
        node = self.view.selected_node()
        if node is None:
            raise UserError("select a passage first: tab to the story, then up and down")
        return node

    def action_edit_passage(self) -> None:
        from tui.screens.dialogs import PassageDialog, Split

        node = self.passage()

        def edited(result: str | Split | None) -> None:
            if isinstance(result, Split):
                if result.text != node.text:
                    self.session.revise(node.id, result.text)
                self.session.split(node.id, result.at)
            elif result is not None:
                self.session.revise(node.id, result)
            self.refresh_story()
            self.view.focus()

        title = "Edit the passage where it stands (what follows it stays)"
        self.app.push_screen(PassageDialog(self.context, node.text, title), edited)

    def action_branch_passage(self) -> None:
        from tui.screens.dialogs import EditDialog

        node = self.passage()

        def edited(text: str | None) -> None:
            if text is not None:
                self.session.edit_as_branch(node.id, text)
                self.back_to_composer()

        title = "Edit the passage as a new branch (the original stays beside it)"
        self.app.push_screen(EditDialog(self.context, node.text, title), edited)

    def action_passage_history(self) -> None:
        from tui.screens.history import HistoryScreen

        self.app.push_screen(HistoryScreen(self.context, self.passage().id))

    def action_join_passage(self) -> None:
        self.session.merge(self.passage().id)
        self.refresh_story()

    def action_undo_edit(self) -> None:
        self.session.undo_edit()
        self.refresh_story()

    def action_more(self) -> None:
        generation = self.session.more(self.passage().id)
        self.start(generation)

    def action_context_view(self) -> None:
        from tui.screens.context_view import ContextScreen

        self.stop()
        self.app.push_screen(ContextScreen(self.context, self.session.context_reports()))

    def action_lorebook(self) -> None:
        from tui.screens.lorebook import LorebookScreen

        self.stop()
        self.app.push_screen(LorebookScreen(self.context))

    # -------------------------------------------------------------------------- tree moves

    def action_move(self, where: str) -> None:
        if self.session.step(where) is None:
            self.app.bell()
        self.refresh_story()
