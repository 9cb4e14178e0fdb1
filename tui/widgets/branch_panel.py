"""The alternatives the model offers, one numbered pane each, side by side."""

from textual.containers import Grid

from tui.actions import bindings
from tui.widgets.branch_pane import BranchPane

COLUMNS = 4


class BranchPanel(Grid, can_focus=True):
    BINDINGS = bindings("branches")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.highlighted = 0

    @property
    def panes(self) -> list[BranchPane]:
        return list(self.query_children(BranchPane))

    def show(self, count: int, models: list[str] | None = None) -> list[BranchPane]:
        """Make `count` empty panes (none hides the panel), each titled with its model where
        `models` names them."""
        self.remove_children()
        models = models or [""] * count
        panes = [BranchPane(n + 1, models[n]) for n in range(count)]
        self.styles.grid_size_columns = max(1, min(count, COLUMNS))
        self.styles.grid_size_rows = max(1, -(-count // COLUMNS))
        self.display = count > 0
        if panes:
            self.mount_all(panes)
        self.highlighted = 0
        self.set_class(count > COLUMNS, "-two-rows")
        for pane in panes:
            pane.set_class(pane.number == 1, "-highlighted")
        return panes

    def highlight(self, index: int, panes: list[BranchPane] | None = None) -> None:
        panes = panes if panes is not None else self.panes
        if not panes:
            return
        self.highlighted = index % len(panes)
        for i, pane in enumerate(panes):
            pane.set_class(i == self.highlighted, "-highlighted")
