"""The Textual app, driven key by key with Pilot over a real database and a fake model."""

import asyncio
import sqlite3
import threading

from common.text import safe_line
from testbed.app_driver import make_app, ready, streamed, wait_until, writing
from testbed.fake_model import DEFAULT_SEED, FakeBackend
from tests.app_helpers import SIZE, Told, screen_text, write_and_generate
from tui.screens.dialogs import ConfirmDialog, EditDialog, LineDialog, NewStoryDialog
from tui.screens.help import HelpScreen
from tui.screens.library import LibraryScreen
from tui.screens.settings import SettingsScreen
from tui.screens.tree import PREVIEW, TreeScreen
from tui.screens.writing import WritingScreen
from tui.widgets.branch_panel import BranchPanel
from tui.widgets.composer import Composer

OPENING = "The lamp went out."


def view_text(screen: WritingScreen) -> str:
    """The story as the story view holds it, line breaks included."""
    return "\n".join("".join(span[-1] for span in p) for p in screen.view.paragraphs)


async def test_enter_adds_the_text_and_streams_four_branches(store, story, tmp_path):
    backend = FakeBackend()
    app = make_app(store, tmp_path, backend, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await write_and_generate(pilot)
        user = store.tip(story.id)
        assert user.author == "user" and user.text == " She waited."  # a space joins the words
        children = store.children(user.id)
        assert [c.author for c in children] == ["model"] * 4
        assert [c.text for c in children] == [backend.first_text(b) for b in range(4)]
        assert [c.seed for c in children] == [DEFAULT_SEED + b for b in range(4)]
        assert children[0].model == "fake" and children[0].settings["max_new_tokens"] == 48
        assert isinstance(app.focused, BranchPanel)
        panes = screen.panel.panes
        assert len(panes) == 4 and all("tok/s" in p.border_subtitle for p in panes)
        shown = screen_text(app)
        for number in "1234":
            assert f"─ {number} ─" in shown
        assert backend.first_text(0).split()[-1] in shown  # panes follow their text
        assert app.screen.query_one(Composer).text == ""


async def test_branches_the_model_ended_at_once_say_so_and_cant_be_kept(store, story, tmp_path):
    app = make_app(store, tmp_path, FakeBackend(end_after=0), story_id=story.id)
    told = Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        session = app.session
        await wait_until(pilot, lambda: session.generation is None and session.branches)
        await pilot.pause()
        panes = writing(app).panel.panes
        assert all(p.border_subtitle.endswith("wrote nothing") for p in panes)
        await pilot.press("1")
        await wait_until(pilot, lambda: told.notifications)
        assert told.notifications[-1].message == "branch 1 wrote nothing"
        assert store.children(store.tip(story.id).id) == []  # nothing empty was stored


async def test_digit_keeps_that_branch_and_returns_to_the_composer(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await write_and_generate(pilot)
        second = app.session.branches[1]
        await pilot.press("2")
        await pilot.pause()
        assert store.tip(story.id).id == second.node_id
        assert isinstance(app.focused, Composer)
        assert app.screen.query_one(Composer).text == ""  # the digit never reached the composer
        assert second.text.split()[-1] in screen_text(app)
        assert not screen.panel.display  # nothing offered below the new tip yet


async def test_digits_while_streaming_keep_without_typing(store, story, tmp_path):
    app = make_app(store, tmp_path, FakeBackend(rate=40), story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: app.session.branches and app.session.branches[0].tokens >= 3
        )
        await pilot.press("7")  # there is no branch 7: nothing happens, nothing is typed
        await pilot.press("3")
        await wait_until(pilot, lambda: app.session.generation is None)
        kept = store.tip(story.id)
        assert kept.author == "model" and kept.text.strip()
        assert len(store.children(kept.parent_id)) == 4  # the others stay as alternatives
        assert app.screen.query_one(Composer).text == ""
        assert isinstance(app.focused, Composer)


async def test_arrows_highlight_and_enter_keeps_the_highlighted_branch(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await write_and_generate(pilot)
        await pilot.press("down", "down", "down", "up")
        assert screen.panel.highlighted == 2
        assert screen.panel.panes[2].has_class("-highlighted")
        third = app.session.branches[2].node_id
        await pilot.press("enter")
        await pilot.pause()
        assert store.tip(story.id).id == third


async def test_r_regenerates_and_earlier_alternatives_stay(store, story, tmp_path):
    backend = FakeBackend()
    app = make_app(store, tmp_path, backend, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        parent = store.tip(story.id).id
        first = [b.node_id for b in app.session.branches]
        await pilot.press("r")
        await wait_until(pilot, lambda: len(store.children(parent)) == 8)
        await streamed(pilot)
        assert [c.id for c in store.children(parent)][:4] == first
        assert store.tip(story.id).id == parent
        assert len(backend.requests) == 2


async def test_e_edits_the_branch_then_keeps_the_revision(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        original = store.node(app.session.branches[0].node_id)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, EditDialog))
        await pilot.press(*" Then silence.")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        revision = store.tip(story.id)
        assert revision.revises_id == original.id
        assert revision.text == original.text + " Then silence."
        assert store.node(original.id).text == original.text  # the model's text stays too
        assert isinstance(app.focused, Composer)


async def test_escape_stops_generation_and_keeps_what_was_written(store, story, tmp_path):
    app = make_app(store, tmp_path, FakeBackend(rate=20), story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: app.session.branches and app.session.branches[0].tokens >= 2
        )
        await pilot.press("escape")
        await pilot.pause()
        assert app.session.generation is None
        assert isinstance(app.focused, Composer)
        stored = store.children(store.tip(story.id).id)
        assert len(stored) == 4 and all(0 < len(c.text.split()) < 48 for c in stored)
        assert [b.reason for b in app.session.branches] == ["cancelled"] * 4


async def test_enter_in_an_empty_composer_only_asks(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await streamed(pilot)
        root = store.node(story.root_id)
        assert store.tip(story.id).id == root.id
        assert len(store.children(root.id)) == 4


async def test_ctrl_j_inserts_a_newline_in_the_composer(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("a", "ctrl+j", "b")
        assert app.screen.query_one(Composer).text == "a\nb"
        assert store.tip(story.id).id == story.root_id


async def test_alt_arrows_walk_the_tree_and_the_view_follows(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await write_and_generate(pilot)
        await pilot.press("1")
        first = store.tip(story.id)
        assert first.text in view_text(screen)
        await pilot.press("alt+up")
        assert store.tip(story.id).id == first.parent_id
        assert first.text not in view_text(screen)
        await pilot.press("alt+down")
        assert store.tip(story.id).id == first.id  # redo follows the child last stood on
        assert view_text(screen).endswith(first.text)
        await pilot.press("alt+right")
        second = store.tip(story.id)
        assert second.id == store.siblings(first.id)[1].id
        assert view_text(screen).endswith(second.text)
        await pilot.press("alt+left")
        assert store.tip(story.id).id == first.id
        await pilot.press("alt+left")  # no earlier alternative: stays put
        assert store.tip(story.id).id == first.id


async def test_tree_screen_jumps_bookmarks_and_deletes_in_place(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        branch_ids = [b.node_id for b in app.session.branches]
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        tree_screen = app.screen
        items_before = dict(tree_screen.items)
        shown = screen_text(app)
        assert "you   The lamp went out.  (1)" in shown and "● you   She waited.  (4)" in shown
        tree_screen.query_one("Tree").move_cursor(tree_screen.items[branch_ids[2]])
        await pilot.press("b")
        assert [b.node_id for b in store.bookmarks(story.id)] == [branch_ids[2]]
        assert "★" in str(tree_screen.items[branch_ids[2]].label)
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#ok")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        assert branch_ids[2] not in {c.id for c in store.children(branch_ids[0] - 1)}
        assert branch_ids[2] not in tree_screen.items
        # Updated in place: the widget's items for the surviving nodes are the same objects.
        assert all(tree_screen.items[i] is items_before[i] for i in tree_screen.items)
        tree_screen.query_one("Tree").move_cursor(tree_screen.items[branch_ids[3]])
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        assert store.tip(story.id).id == branch_ids[3]
        # New nodes written later join the same tree widget.
        await pilot.press("enter")
        await streamed(pilot)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        assert len(app.screen.items) == 9


async def test_library_lists_searches_and_opens(store, tmp_path):
    store.create_story("The Lighthouse", genre="mystery", opening="Fog rolled in.")
    store.create_story("Orchard", opening="Apples everywhere, ripe and red.")
    app = make_app(store, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        library = app.screen
        assert isinstance(library, LibraryScreen)
        shown = screen_text(app)
        for column in ("Title", "Genre", "Nodes", "Words", "Last edited"):
            assert column in shown
        assert "The Lighthouse" in shown and "mystery" in shown and "Orchard" in shown
        await pilot.press("slash", *"appl")
        table = library.query_one("DataTable")
        assert table.row_count == 1
        assert "Orchard" in screen_text(app) and "Lighthouse" not in screen_text(app)
        await pilot.press("enter", "enter")  # to the table, then open
        await ready(pilot)
        assert app.session.story().title == "Orchard"
        await pilot.press("ctrl+l")
        assert isinstance(app.screen, LibraryScreen)


async def test_library_new_rename_duplicate_export_and_delete(store, tmp_path):
    app = make_app(store, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewStoryDialog))
        await pilot.press(*"Night Train")
        await pilot.press("enter")
        await ready(pilot)
        created = store.find_story("Night Train")
        assert app.session.story_id == created.id
        assert isinstance(app.focused, Composer)
        await pilot.press("ctrl+l")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, LineDialog))
        await pilot.press("ctrl+a", "ctrl+k", *"Night Bus", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LibraryScreen))
        assert store.story(created.id).title == "Night Bus"
        await pilot.press("d")
        assert [s.title for s in store.list_stories()] == ["Night Bus (copy)", "Night Bus"]
        target = tmp_path / "bus.md"
        await pilot.press("x")
        await wait_until(pilot, lambda: not isinstance(app.screen, LibraryScreen))
        app.screen.query_one("#path").value = str(target)
        await pilot.press("enter")
        await wait_until(pilot, lambda: target.exists())
        assert "Night Bus" in target.read_text()
        target.write_text("the writer's own notes")
        for answer in ("escape", "enter"):  # the file is there now: asked, kept, then replaced
            await pilot.press("x")
            await wait_until(pilot, lambda: not isinstance(app.screen, LibraryScreen))
            app.screen.query_one("#path").value = str(target)
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            if answer == "escape":
                await pilot.press("escape")
                await wait_until(pilot, lambda: isinstance(app.screen, LibraryScreen))
                assert target.read_text() == "the writer's own notes"
            else:
                await pilot.click("#ok")
                await wait_until(pilot, lambda: "Night Bus" in target.read_text())
        await wait_until(pilot, lambda: isinstance(app.screen, LibraryScreen))
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("escape")  # cancelled: nothing goes
        assert len(store.list_stories()) == 2
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.click("#ok")
        await wait_until(pilot, lambda: len(store.list_stories()) == 1)


async def test_settings_are_kept_per_story_and_as_defaults(store, story, tmp_path):
    backend = FakeBackend()
    app = make_app(store, tmp_path, backend, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        form = app.screen
        form.query_one("#branches").value = "2"
        form.query_one("#temperature").value = "0.3"
        form.query_one("#memory").text = "Mara keeps the lighthouse."
        form.query_one("#top_p").value = "7"  # out of range: refused, nothing saved
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, SettingsScreen)
        assert store.story(story.id).settings is None
        form.query_one("#top_p").value = ""
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        saved = store.story(story.id)
        assert saved.settings == {"branches": 2, "temperature": 0.3}
        assert saved.memory == "Mara keeps the lighthouse."
        await pilot.press("enter")
        await streamed(pilot)
        assert len(app.session.branches) == 2
        request = backend.requests[-1]
        assert request.branches == 2 and request.settings.temperature == 0.3
        assert request.ids[: request.keep] == backend.tokenize("Mara keeps the lighthouse.")
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#max_new_tokens").value = "20"
        await pilot.press("ctrl+d")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
    config = (tmp_path / "config.toml").read_text()
    assert "max_new_tokens = 20" in config and "branches = 2" in config
    # Another story picks up the new defaults; this one keeps its own settings.
    other = store.create_story("Other")
    app = make_app(store, tmp_path, backend, story_id=other.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await streamed(pilot)
        assert backend.requests[-1].settings.max_new_tokens == 20


async def test_the_settings_form_keeps_a_genre_the_model_does_not_know(store, tmp_path):
    story = store.create_story("Dark", genre="noir")
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        assert app.screen.query_one("#genre").value == "noir"
        app.screen.query_one("#memory").text = "Rain on the glass."
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
    saved = store.story(story.id)
    assert (saved.genre, saved.memory) == ("noir", "Rain on the glass.")


async def test_help_lists_every_action_and_the_config_keymap_applies(store, story, tmp_path):
    from tui.actions import ACTIONS

    (tmp_path / "config.toml").write_text('[keys]\nkeep_highlighted = "space"\n')
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=(120, 80)) as pilot:
        await ready(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        table = app.screen.query_one("DataTable")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        assert sorted(str(r[3]) for r in rows) == sorted(a.id for a in ACTIONS)  # each once
        keep = next(r for r in rows if str(r[3]) == "keep_highlighted")
        assert str(keep[1]) == "space"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        await pilot.press("enter")
        await streamed(pilot)
        second = app.session.branches[1].node_id
        await pilot.press("down", "space")
        await pilot.pause()
        assert store.tip(story.id).id == second


async def test_command_palette_offers_the_registry_actions(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for expected in (
            "Tree",
            "Library",
            "Settings",
            "Ask the model for continuations",
            "Back to the parent (undo)",
            "Quit",
        ):
            assert expected in titles
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Tree")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))


async def test_the_composer_draft_survives_reopening(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press(*"Half a thought")
        await wait_until(pilot, lambda: store.story(story.id).draft == "Half a thought")
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert app.screen.query_one(Composer).text == "Half a thought"


MARKUP = ("[bold]", "[/]", "[link=x]", "\x1b[31m", "\x07", "[red]")


async def test_model_text_is_shown_literally(store, tmp_path):
    story = store.create_story("Marks", opening="Odd [b]text[/b] \x1b[2J here.")
    backend = FakeBackend(words=MARKUP)
    app = make_app(store, tmp_path, backend, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        assert "Odd [b]text[/b] ␛[2J here." in screen_text(app)
        await pilot.press("enter")
        await streamed(pilot)
        shown = screen_text(app)
        for branch in range(4):  # each pane ends with its branch's last word, as written
            assert safe_line(backend.first_text(branch).split()[-1]) in shown
        assert "\x1b" not in shown and "\x07" not in shown
        await pilot.press("1")
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        kept = safe_line(backend.first_text(0).strip())
        assert kept[: PREVIEW - 1] in screen_text(app)  # the tree's line for it, literally


async def test_a_model_that_fails_to_load_is_reported_and_the_app_runs_on(store, story, tmp_path):
    from common.errors import UserError
    from tui.app import TaletreeApp
    from tui.core.session import WritingSession

    def failing(request, progress):
        raise UserError("no weights in /nowhere")

    session = WritingSession(store, loader=failing)
    app = TaletreeApp(session, story_id=story.id, blink=False)
    told = Told()
    async with app.run_test(size=SIZE, notifications=True, message_hook=told) as pilot:
        await wait_until(pilot, lambda: session.models.state == "no model")
        messages = [n.message for n in told.notifications]
        assert any("can't be loaded: no weights in /nowhere" in m for m in messages)
        await pilot.press(*"Still here", "enter")
        assert store.tip(story.id).text == " Still here"  # the writer's text is kept anyway
        assert any("No model is loaded" in n.message for n in told.notifications)


class OutOfMemoryError(RuntimeError):
    pass


class SmallMemoryBackend(FakeBackend):
    def stream(self, request, cancel=None):
        if request.branches > 2:
            raise OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return super().stream(request, cancel)


async def test_out_of_memory_retries_with_fewer_branches(store, story, tmp_path):
    app = make_app(store, tmp_path, SmallMemoryBackend(), story_id=story.id)
    told = Told()
    async with app.run_test(size=SIZE, notifications=True, message_hook=told) as pilot:
        await write_and_generate(pilot, "Go.")
        assert len(app.session.branches) == 2
        assert len(store.children(store.tip(story.id).id)) == 2
        assert any("2 branches" in n.message for n in told.notifications)


async def test_a_locked_database_is_reported_and_nothing_is_lost(store, story, tmp_path):
    import story.database as database

    app = make_app(store, tmp_path, story_id=story.id)
    told = Told()
    async with app.run_test(size=SIZE, notifications=True, message_hook=told) as pilot:
        await ready(pilot)
        other = sqlite3.connect(store.db_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        previous = database.BUSY_TIMEOUT_S
        store.conn.execute("PRAGMA busy_timeout = 100")
        try:
            await pilot.press(*"Locked out", "enter")
            await pilot.pause()
            assert any("locked" in n.message for n in told.notifications)
            assert app.screen.query_one(Composer).text == "Locked out"  # still there to retry
        finally:
            other.execute("ROLLBACK")
            other.close()
            store.conn.execute(f"PRAGMA busy_timeout = {int(previous * 1000)}")
        await pilot.press("enter")
        await streamed(pilot)
        assert store.node(store.tip(story.id).id).text == " Locked out"


async def test_quitting_during_generation_stops_the_worker(store, story, tmp_path):
    app = make_app(store, tmp_path, FakeBackend(rate=10), story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: app.session.branches and app.session.branches[0].tokens >= 1
        )
        await pilot.press("ctrl+q")
    await asyncio.sleep(0)
    assert not [t for t in threading.enumerate() if "generation" in t.name.lower()]
    assert app.session.generation is None
    assert len(store.children(story.root_id)) == 4  # what streamed before quitting is kept


async def test_a_tiny_real_model_streams_in_the_app(store, story, tmp_path):
    from testbed.tiny_models import save_tiny_model
    from tui.app import TaletreeApp
    from tui.core.session import WritingSession

    folder = save_tiny_model(tmp_path / "tiny", "gpt2")
    session = WritingSession(store, model=str(folder))
    app = TaletreeApp(session, story_id=story.id, blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: session.backend is not None, timeout=60)
        assert session.backend.device == "cpu"
        await pilot.press("enter")
        await streamed(pilot)
        stored = store.children(story.root_id)
        # Random weights may end a branch at its first token: a branch with no text isn't kept.
        written = [b.text for b in app.session.branches if b.text]
        assert len(app.session.branches) == 4 and [c.text for c in stored] == written
        assert stored and all(c.model == str(folder) for c in stored)
        assert all(c.seed is not None and c.settings for c in stored)


async def test_the_story_follows_its_end_unless_the_writer_scrolled_up(store, tmp_path):
    story = store.create_story("Long", opening="\n".join(f"Line {i}." for i in range(200)))
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        view = screen.view
        await wait_until(pilot, lambda: view.max_scroll_y > 0)
        await wait_until(pilot, lambda: view.scroll_offset.y == view.max_scroll_y)
        assert "Line 199." in screen_text(app)
        await pilot.press("enter", "1")  # the story grows: the view follows
        await wait_until(pilot, lambda: view.scroll_offset.y == view.max_scroll_y)
        assert store.tip(story.id).text.split()[-1] in view.lines[-1].text
        view.scroll_to(y=0, animate=False)  # the writer reads the beginning
        await pilot.pause()
        await pilot.press("enter")
        await streamed(pilot)
        await pilot.press("1")
        await pilot.pause()
        assert view.scroll_offset.y == 0 and "Line 0." in screen_text(app)
