"""The story's lorebook: every entry, which fire now, and adding, editing and deleting them."""

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Static

from common.text import safe_line
from story.lorebook import LoreEntry, flags, shown_keys, where
from tui.actions import bindings
from tui.messages import BackToWriting
from tui.screens.base import Context, TaletreeScreen

COLUMNS = ("Keys", "Where", "Rank", "Flags", "Text", "Fires now")


class LorebookScreen(TaletreeScreen):
    BINDINGS = bindings("lorebook")
    SCOPES = ("lorebook",)

    def __init__(self, context: Context):
        super().__init__(context)
        self.entries: list[LoreEntry] = []

    def compose(self) -> ComposeResult:
        yield Static(id="lorebook-title")
        yield DataTable(id="entries", cursor_type="row", zebra_stripes=True)
        yield Static(id="lorebook-hint")
        yield Footer()

    def on_mount(self) -> None:
        title = f"Lorebook — {safe_line(self.session.story().title)}"
        self.query_one("#lorebook-title", Static).update(Text(title))
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.reload()
        self.query_one(DataTable).focus()

    def reload(self, select: int | None = None) -> None:
        self.entries = self.session.lore()
        fires = {f.entry.id: f.key for f in self.session.lore_test()}
        table = self.query_one(DataTable)
        table.clear()
        for entry in self.entries:
            key = fires.get(entry.id)
            table.add_row(
                Text(safe_line(shown_keys(entry))),
                where(entry),
                str(entry.rank),
                " ".join(flags(entry)),
                Text(safe_line(entry.text)[:40]),
                Text(f"yes ({key})" if key else "no", style="bold" if key else "dim"),
                key=str(entry.id),
            )
        if select is not None:
            table.move_cursor(row=table.get_row_index(str(select)))
        hint = "" if self.entries else "No entries yet: press n to add one."
        self.query_one("#lorebook-hint", Static).update(hint)

    def chosen(self) -> LoreEntry | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            self.notify("No entry chosen: press n to add one.", severity="warning")
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next(e for e in self.entries if str(e.id) == key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.call_later(self.run_action, "edit_entry")

    def action_new_entry(self) -> None:
        self.edit(LoreEntry((), ""))

    def action_edit_entry(self) -> None:
        entry = self.chosen()
        if entry is not None:
            self.edit(entry)

    def edit(self, entry: LoreEntry) -> None:
        from tui.screens.lore_dialog import LoreDialog

        def save(changed: LoreEntry | None) -> None:
            if changed is not None:
                self.reload(select=self.session.save_lore(changed).id)

        self.app.push_screen(LoreDialog(self.context, entry), save)

    def action_delete_entry(self) -> None:
        from tui.screens.dialogs import ConfirmDialog

        entry = self.chosen()
        if entry is None:
            return

        def delete(sure: bool | None) -> None:
            if sure:
                self.session.delete_lore(entry.id)  # type: ignore[arg-type]
                self.reload()

        question = f"Delete the entry {safe_line(shown_keys(entry) or 'always on')!r}?"
        self.app.push_screen(ConfirmDialog(self.context, question), delete)

    def action_test(self) -> None:
        self.reload()
        firing = len(self.session.lore_test())
        self.notify(f"{firing} of {len(self.entries)} entries fire at the story's end now.")

    def action_back(self) -> None:
        self.post_message(BackToWriting())
