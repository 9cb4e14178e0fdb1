"""A passage's earlier texts, the most recently replaced first; enter brings one back (the
text it replaces is kept too, so nothing is lost either way)."""

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from common.text import safe_line
from tui.actions import bindings
from tui.display import local_time
from tui.messages import BackToWriting
from tui.screens.base import Context, TaletreeScreen

PREVIEW = 90


class HistoryScreen(TaletreeScreen):
    BINDINGS = bindings("history")
    SCOPES = ("history",)

    def __init__(self, context: Context, node_id: int):
        super().__init__(context)
        self.node_id = node_id

    def compose(self) -> ComposeResult:
        yield Static(id="history-title")
        yield OptionList(id="revisions")
        yield Footer()

    def on_mount(self) -> None:
        current = self.session.node(self.node_id).text
        self.revisions = self.session.revisions(self.node_id)
        title = f"Earlier texts of: {safe_line(current.strip())[:60] or '(empty)'}"
        self.query_one("#history-title", Static).update(Text(title))
        options = self.query_one(OptionList)
        for revision in self.revisions:
            label = Text(f"until {local_time(revision.replaced)}  ", style="dim")
            label.append(safe_line(revision.text.strip())[:PREVIEW] or "(empty)")
            options.add_option(Option(label, id=str(revision.id)))
        if not self.revisions:
            options.add_option(Option(Text("This passage has not been edited."), disabled=True))
        else:
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.call_later(self.run_action, "restore")

    def action_restore(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is None or not self.revisions:
            return
        self.session.restore(self.revisions[options.highlighted].id)
        self.notify("Restored; the text it replaced is kept in the history.")
        self.post_message(BackToWriting())

    def action_back(self) -> None:
        self.post_message(BackToWriting())
