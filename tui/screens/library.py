"""The library: every story in the database, searchable as you type."""

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Input, Static

from common.text import quoted, safe_line
from story.models import StorySummary
from tui.actions import bindings
from tui.core.library import duplicate_story, export_story
from tui.display import local_time
from tui.messages import OpenStory
from tui.screens.base import TaletreeScreen, guarded

COLUMNS = ("Title", "Genre", "Nodes", "Words", "Yours", "Last edited")


def share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "–"


class LibraryScreen(TaletreeScreen):
    BINDINGS = bindings("library")
    SCOPES = ("library",)

    def __init__(self, context):
        super().__init__(context)
        self.damage_told: set[int] = set()  # damaged stories the writer was told of

    @property
    def store(self):
        return self.session.store

    def compose(self) -> ComposeResult:
        yield Static("Taletree", id="library-title")
        yield Input(placeholder="Search titles and text as you type  (/)", id="search")
        yield DataTable(id="stories", cursor_type="row", zebra_stripes=True)
        yield Static(id="library-hint")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        self.reload()

    @guarded
    def reload(self, select: int | None = None) -> None:
        """Fill the table with the stories matching the search (all when it is empty)."""
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
                Text(f"{s.words.total:,}", justify="right"),
                Text(share(s.words.user, s.words.total), justify="right"),
                local_time(s.updated),
                key=str(s.id),
            )
        if current is not None and any(s.id == current for s in stories):
            table.move_cursor(row=table.get_row_index(str(current)))
        self.show_hint(stories, query)
        for s in stories:
            if s.damage and s.id not in self.damage_told:
                self.damage_told.add(s.id)
                self.notify(
                    f"Story {s.id} is damaged: {safe_line(s.damage)}",
                    severity="warning",
                    timeout=10,
                )

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
            self.post_message(OpenStory(story_id))

    def action_new_story(self) -> None:
        from tui.screens.dialogs import NewStoryDialog

        def create(values: dict | None) -> None:
            if values is not None:
                story = self.store.create_story(**values)
                self.reload(select=story.id)
                self.post_message(OpenStory(story.id))

        genres = self.session.backend.genres() if self.session.backend else []
        self.app.push_screen(NewStoryDialog(self.context, genres), create)

    def action_rename_story(self) -> None:
        from tui.screens.dialogs import LineDialog

        story_id = self.chosen()
        if story_id is None:
            return

        def rename(title: str | None) -> None:
            if title is not None:
                self.store.rename_story(story_id, title)
                self.reload()

        title = self.store.story(story_id).title
        self.app.push_screen(LineDialog(self.context, "New title", title, "Rename"), rename)

    def action_duplicate_story(self) -> None:
        story_id = self.chosen()
        if story_id is not None:
            copy = duplicate_story(self.store, story_id)
            self.reload(select=copy.id)
            self.notify(f"Duplicated as {quoted(copy.title)}.")

    def action_delete_story(self) -> None:
        from tui.screens.dialogs import ConfirmDialog

        story_id = self.chosen()
        if story_id is None:
            return
        story = self.store.story(story_id)
        nodes = self.store.node_count(story_id)

        def delete(sure: bool | None) -> None:
            if sure:
                self.store.delete_story(story_id)
                self.reload()
                self.notify(f"Deleted {quoted(story.title)}.")

        question = f"Delete {safe_line(story.title)!r} and its whole tree ({nodes} nodes)?"
        self.app.push_screen(ConfirmDialog(self.context, question), delete)

    def action_export_story(self) -> None:
        from tui.screens.dialogs import ConfirmDialog, ExportDialog

        story_id = self.chosen()
        if story_id is None:
            return
        title = self.store.story(story_id).title
        safe_name = "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()

        def export(choice: tuple[str, str] | None) -> None:
            if choice is None:
                return
            fmt, path = choice
            target = Path(path).expanduser()

            def write(replace: bool | None) -> None:
                if replace is not None:  # (None: the writer chose not to replace the file)
                    export_story(self.store, story_id, fmt, target, replace=replace)
                    self.notify(f"Exported as {fmt} to {safe_line(path)}.")

            if target.is_file():
                question = f"{safe_line(path)} exists. Replace it?"
                self.app.push_screen(ConfirmDialog(self.context, question, "Replace"), write)
            else:
                write(replace=False)

        self.app.push_screen(ExportDialog(self.context, safe_name or "story"), export)
