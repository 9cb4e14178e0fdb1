"""Exploring ahead: the search runs in a worker while a progress bar shows the passages written,
the budget left and the time left; then the best paths side by side, each with its score and
the words its neighbour doesn't have. 1–3 keeps a whole path; escape stops the search early
(everything written stays in the tree) or goes back to writing."""

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Footer, ProgressBar, Static

from common.text import quoted
from tui.actions import bindings
from tui.core.explore import (
    Exploration,
    ExploredPath,
    ExploreDrained,
    ExploreSettings,
    Progress,
)
from tui.display import branch_labels
from tui.messages import BackToWriting
from tui.screens.base import Context, TaletreeScreen, guarded
from tui.screens.compare import word_diff

FRAME_RATE = 10  # drains per second: progress, not tokens


def progress_text(progress: Progress | None, budget: int) -> str:
    if progress is None:
        return f"Exploring: 0 of {budget} expansions"
    left = progress.seconds_left
    time_left = f" · about {left:.0f} s left" if left is not None else ""
    spent = f"{progress.expansions} of {budget} expansions"
    return f"Exploring: {spent} · {progress.passages} passages written{time_left}"


def explore_from(screen: TaletreeScreen, start_id: int) -> None:
    """Ask how to explore (the form), then explore from a node. What the writer can fix (no
    model yet, a model that can't answer a question) is said where the form was."""
    from tui.screens.dialogs import ExploreDialog

    def explore(settings: ExploreSettings | None) -> None:
        if settings is not None:
            exploration = screen.session.explore(settings, start_id)
            screen.app.push_screen(ExploreScreen(screen.context, exploration))

    screen.app.push_screen(ExploreDialog(screen.context), explore)


class ExploreScreen(TaletreeScreen):
    BINDINGS = bindings("explore")
    SCOPES = ("explore",)

    def __init__(self, context: Context, exploration: Exploration):
        super().__init__(context)
        self.exploration, self.settings = exploration, exploration.settings
        self.paths: list[ExploredPath] = []

    def compose(self) -> ComposeResult:
        question = self.settings.question
        scorer = f"yes to {quoted(question)}" if question else "likely"
        title = f"Explore ahead — depth {self.settings.depth}, scored by {scorer}"
        yield Static(Text(title), id="explore-title")
        yield ProgressBar(total=self.settings.budget, show_eta=False, id="explore-progress")
        yield Static(Text(progress_text(None, self.settings.budget)), id="explore-status")
        yield Horizontal(id="explore-paths")
        yield Footer()

    def on_mount(self) -> None:
        self.run_worker(
            self.exploration.run, name="explore", group="explore", thread=True, exit_on_error=False
        )
        self.frames = self.set_interval(1 / FRAME_RATE, self.drain)

    @property
    def running(self) -> bool:
        return self.session.exploration is not None

    @guarded
    def drain(self) -> None:
        self.show(self.session.drain_exploration())

    def show(self, drained: ExploreDrained) -> None:
        for notice in drained.notices:
            self.notify(notice.text, severity=notice.severity, timeout=10)  # type: ignore[arg-type]
        if drained.progress is not None:
            self.query_one(ProgressBar).update(progress=drained.progress.expansions)
            status = progress_text(drained.progress, self.settings.budget)
            self.query_one("#explore-status", Static).update(Text(status))
        if drained.ended:
            self.frames.stop()
            self.show_paths(drained.paths)

    def show_paths(self, paths: list[ExploredPath]) -> None:
        self.paths = paths
        status = self.query_one("#explore-status", Static)
        if not paths:
            status.update(Text("Nothing was written: escape goes back."))
            return
        status.update(Text("The best paths: 1–3 keeps one whole; escape goes back."))
        body = self.query_one("#explore-paths", Horizontal)
        models = branch_labels([tuple(dict.fromkeys(p.models)) for p in paths])
        for number, path in enumerate(paths, 1):
            neighbour = paths[1] if number == 1 and len(paths) > 1 else paths[max(0, number - 2)]
            column = VerticalScroll(
                Static(word_diff(path.text, neighbour.text)), classes="explored-path"
            )
            tag = f" · {models[number - 1]}" if models[number - 1] else ""
            column.border_title = Text(f"{number}{tag}")  # a model's name: never markup
            passages = len(path.node_ids)
            column.border_subtitle = f"score {path.score:.2f} · {passages} passages"
            body.mount(column)

    def action_keep(self, number: int) -> None:
        if self.running or not 1 <= number <= len(self.paths):
            self.app.bell()
            return
        self.session.keep(number - 1)
        self.post_message(BackToWriting())

    def action_back(self) -> None:
        """Stop the search (what it wrote stays, its best paths shown), or go back."""
        if self.running:
            drained = self.session.stop_exploration()
            if drained is not None:
                self.show(drained)
            return
        self.post_message(BackToWriting())
