"""Every key, from the same registry as the bindings and the command palette."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.actions import ACTIONS, SCOPES, keys_of


class HelpScreen(Screen):
    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        yield Static(
            "Keys  (escape closes; every action is also in the command palette, ctrl+p)",
            id="help-title",
        )
        yield DataTable(id="keys", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Where", "Key", "Action", Text("Id (for [keys] in the config)"))
        keymap = self.app.keymap
        for scope, title in SCOPES.items():
            for action in (a for a in ACTIONS if a.scope == scope):
                table.add_row(
                    Text(title),
                    Text(keys_of(action, keymap), style="bold"),
                    Text(action.description),
                    Text(action.id, style="dim"),
                )
        table.focus()

    async def action_dismiss(self, result=None) -> None:
        self.dismiss(result)
