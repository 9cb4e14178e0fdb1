"""The library: every story in the database, searchable as you type."""

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from story.models import StorySummary
from tui.actions import bindings
from tui.terminal_text import safe_line

COLUMNS = ("Title", "Genre", "Nodes", "Words", "Last edited")


class LibraryScreen(Screen):
    BINDINGS = bindings("library")
    SCOPES = ("library",)

    @property
    def store(self):
        return self.app.store

    def compose(self) -> ComposeResult:
        yield Static("Taletree", id="library-title")
        yield Input(placeholder="Search titles and text as you type  (/)", id="search")
        yield DataTable(id="stories", cursor_type="row", zebra_stripes=True)
        yield Static(id="library-hint")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#search", Input).cursor_blink = self.app.blink
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self, select: int | None = None) -> None:
        """Fill the table with the stories matching the search (all when it is empty)."""
        from tui.cli import when

        with self.app.reporting():
            stories = self.store.list_stories(count_words=True)
            query = self.query_one("#search", Input).value
            if query.strip():
                matched = {hit.story_id for hit in self.store.search(query, limit=200)}
                stories = [s for s in stories if s.id in matched]
            table = self.query_one(DataTable)
            current = select if select is not None else self.selected_id()
            table.clear()
            for s in stories:
                genre = (s.genre or "").replace("_", " ")
                table.add_row(
                    Text(safe_line(s.title)),
                    Text(safe_line(genre)),
                    Text(str(s.nodes), justify="right"),
                    Text(f"{s.words:,}", justify="right"),
                    when(s.updated),
                    key=str(s.id),
                )
            if current is not None and any(s.id == current for s in stories):
                table.move_cursor(row=table.get_row_index(str(current)))
            self.show_hint(stories, query)

    def show_hint(self, stories: list[StorySummary], query: str) -> None:
        hint = self.query_one("#library-hint", Static)
        if stories:
            hint.update("")
        elif query.strip():
            hint.update(Text(f"Nothing matches {query!r}."))
        else:
            hint.update("No stories yet: press n to start one.")

    def selected_id(self) -> int | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        return int(key.value)

    @on(Input.Changed, "#search")
    def search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#search")
    def search_done(self) -> None:
        self.query_one(DataTable).focus()

    def on_key(self, event) -> None:
        if event.key == "down" and self.focused is self.query_one("#search"):
            self.query_one(DataTable).focus()
            event.stop()

    @on(DataTable.RowSelected)
    def row_selected(self) -> None:
        self.action_open_story()

    def action_search(self) -> None:
        self.query_one("#search").focus()

    def chosen(self) -> int | None:
        story_id = self.selected_id()
        if story_id is None:
            self.notify("No story chosen: press n to start one.", severity="warning")
        return story_id

    def action_open_story(self) -> None:
        story_id = self.chosen()
        if story_id is not None:
            self.app.open_story(story_id)

    def action_new_story(self) -> None:
        from tui.screens.dialogs import NewStoryDialog

        def create(values: dict | None) -> None:
            if values is None:
                return
            with self.app.reporting():
                story = self.store.create_story(**values)
                self.reload(select=story.id)
                self.app.open_story(story.id)

        self.app.push_screen(NewStoryDialog(), create)

    def action_rename_story(self) -> None:
        from tui.screens.dialogs import LineDialog

        story_id = self.chosen()
        if story_id is None:
            return

        def rename(title: str | None) -> None:
            if title is not None:
                with self.app.reporting():
                    self.store.rename_story(story_id, title)
                    self.reload()

        title = self.store.story(story_id).title
        self.app.push_screen(LineDialog("New title", title, "Rename"), rename)

    def action_duplicate_story(self) -> None:
        from dataclasses import replace

        story_id = self.chosen()
        if story_id is None:
            return
        with self.app.reporting():
            tree = self.store.story_tree(story_id)
            copy = self.store.add_story_tree(replace(tree, title=f"{tree.title} (copy)"))
            self.reload(select=copy.id)
            self.notify(f"Duplicated as {copy.title!r}.")

    def action_delete_story(self) -> None:
        from tui.screens.dialogs import ConfirmDialog

        story_id = self.chosen()
        if story_id is None:
            return
        story = self.store.story(story_id)
        nodes = next(s.nodes for s in self.store.list_stories() if s.id == story_id)

        def delete(sure: bool | None) -> None:
            if sure:
                with self.app.reporting():
                    self.store.delete_story(story_id)
                    self.reload()
                    self.notify(f"Deleted {story.title!r}.")

        question = f"Delete {safe_line(story.title)!r} and its whole tree ({nodes} nodes)?"
        self.app.push_screen(ConfirmDialog(question), delete)

    def action_export_story(self) -> None:
        from tui.screens.dialogs import ExportDialog

        story_id = self.chosen()
        if story_id is None:
            return
        title = self.store.story(story_id).title
        safe_name = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()
        self.app.push_screen(
            ExportDialog(safe_name or "story"), lambda choice: self.export(story_id, choice)
        )

    def export(self, story_id: int, choice: tuple[str, str] | None) -> None:
        from story.export import render
        from tui.cli import CommandError, write_atomically

        if choice is None:
            return
        fmt, path = choice
        with self.app.reporting():
            text = render(self.store.story_tree(story_id), fmt)
            try:
                write_atomically(Path(path).expanduser(), text)
            except CommandError as error:
                self.notify(str(error), severity="error")
                return
            except OSError as error:
                self.notify(f"{path} can't be written ({error.strerror})", severity="error")
                return
            self.notify(f"Exported as {fmt} to {path}.")
