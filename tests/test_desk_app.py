"""The writer's desk in the app, key by key with Pilot over a real database and the fake model:
passages edited where they stand with their history, split and joined; the lorebook; what the
model reads; re-rolling one branch, looking ahead, more; and the word counts."""

from textual.widgets import Checkbox, DataTable, Input, TextArea

from testbed.app_driver import make_app, streamed, wait_until
from testbed.fake_model import FakeBackend
from tests.app_helpers import SIZE, Told, screen_text, write_and_generate
from tui.screens.context_view import ContextScreen
from tui.screens.dialogs import EditDialog, PassageDialog
from tui.screens.history import HistoryScreen
from tui.screens.lore_dialog import LoreDialog
from tui.screens.lorebook import LorebookScreen
from tui.screens.writing import WritingScreen
from tui.widgets.composer import Composer


async def kept_one(pilot):
    """Write, generate, keep branch 1; the story view focused on its last passage."""
    screen = await write_and_generate(pilot)
    await pilot.press("1")
    screen.view.focus()
    await pilot.pause()
    return screen


async def replace_text(pilot, text: str) -> None:
    """Select everything in the editor and type over it."""
    pilot.app.screen.query_one(TextArea).select_all()
    await pilot.press(*text)


async def test_an_earlier_passage_is_edited_in_place_and_its_history_restored(
    store, story, tmp_path
):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await kept_one(pilot)
        ending = store.tip(story.id)
        assert screen.view.selected == 2  # the last passage, the model's
        await pilot.press("up")
        assert screen.view.selected_node().text == " She waited."
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PassageDialog))
        await replace_text(pilot, " She hid.")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        texts = [n.text for n in app.session.path()]
        assert texts == ["The lamp went out.", " She hid.", ending.text]  # the end stays
        assert "She hid." in screen_text(app) and ending.text.split()[-1] in screen_text(app)
        await pilot.press("h")
        await wait_until(pilot, lambda: isinstance(app.screen, HistoryScreen))
        assert "She waited." in screen_text(app)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        assert [n.text for n in app.session.path()][1] == " She waited."
        screen.view.focus()
        await pilot.press("u")  # undo the restore: back to the edit
        assert [n.text for n in app.session.path()][1] == " She hid."


async def test_split_at_the_cursor_and_join_back(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await kept_one(pilot)
        whole = "".join(n.text for n in app.session.path())
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PassageDialog))
        area = app.screen.query_one(TextArea)
        area.move_cursor((0, 10))
        await pilot.press("ctrl+b")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        path = app.session.path()
        assert len(path) == 4 and "".join(n.text for n in path) == whole
        assert len(path[2].text) == 10 and all(n.author == "model" for n in path[2:])
        screen.view.focus()
        await pilot.pause()
        await pilot.press("down", "j")  # the last passage joins the one above it
        assert len(app.session.path()) == 3
        assert "".join(n.text for n in app.session.path()) == whole


async def test_edit_as_a_new_branch_from_the_story_view(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await kept_one(pilot)
        original = app.session.path()[2]
        await pilot.press("b")
        await wait_until(pilot, lambda: isinstance(app.screen, EditDialog))
        await replace_text(pilot, " A gull screamed.")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.focused, Composer))
        tip = store.tip(story.id)
        assert tip.text == " A gull screamed." and tip.revises_id == original.id
        assert store.node(original.id).text == original.text


async def test_the_lorebook_screen_and_what_the_model_reads(store, story, tmp_path):
    backend = FakeBackend()
    app = make_app(store, tmp_path, backend, story_id=story.id)
    async with app.run_test(size=(120, 40)) as pilot:
        await kept_one(pilot)
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, LorebookScreen))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, LoreDialog))
        await pilot.press(*"lamp, keeper")
        app.screen.query_one("#lore-text", TextArea).text = "The lamp is cursed."
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: isinstance(app.screen, LorebookScreen))
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1 and "yes (lamp)" in str(table.get_row_at(0)[-1])
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, LoreDialog))
        app.screen.query_one("#keys", Input).value = "["
        app.screen.query_one("#regex", Checkbox).value = True
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, LoreDialog)  # refused: not a regular expression
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LorebookScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ContextScreen))
        shown = screen_text(app)
        assert "What the model reads next:" in shown and "of the 512-token window" in shown
        assert "lore: lamp (lamp)" in shown and "The lamp is cursed." in shown
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        await pilot.press("ctrl+g")
        await streamed(pilot)
        request = backend.requests[-1]
        assert backend.tokenize("The lamp is cursed.")[0] in request.ids


async def test_re_roll_one_branch_look_ahead_and_back(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    told = Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        screen = await write_and_generate(pilot)
        session = app.session
        before = [b.text for b in session.branches]
        first = store.node(session.branches[0].node_id)
        await pilot.press("R")  # branch 1 only, with a seed of its own
        await streamed(pilot)
        after = [b.text for b in session.branches]
        rerolled = store.node(session.branches[0].node_id)
        assert rerolled.seed != first.seed and rerolled.id != first.id
        backend = session.backend
        assert after[0] == backend.text_of(
            backend.requests[-1].ids, rerolled.seed, len(after[0].split())
        )
        assert after[0] != before[0] and after[1:] == before[1:]  # the others untouched
        assert len(store.children(session.parent_id)) == 5  # the old branch 1 stays
        tip = store.tip(story.id).id
        await pilot.press("down", "a")  # look ahead from branch 2
        await streamed(pilot)
        assert store.node(session.parent_id).text == after[1] and store.tip(story.id).id == tip
        assert "Looking ahead" in " ".join(n.message for n in told.notifications)
        await pilot.press("escape")
        await pilot.pause()
        assert [b.text for b in session.branches] == after
        assert screen.panel.has_focus


async def test_more_writes_on_in_the_selected_model_passage(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await kept_one(pilot)
        kept = store.tip(story.id)
        await pilot.press("m")
        await wait_until(
            pilot,
            lambda: (
                app.session.generation is None and len(store.node(kept.id).text) > len(kept.text)
            ),
        )
        grown = store.node(kept.id)
        assert grown.text.startswith(kept.text)
        assert store.revisions(kept.id)[0].text == kept.text
        assert grown.text.split()[-1] in screen_text(app)
        assert screen.view.nodes[-1].id == kept.id


async def test_the_status_line_counts_words_and_links_to_the_context(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=(120, 30)) as pilot:
        await kept_one(pilot)
        line = app.screen.status.render().plain
        assert "54 words, 11% yours" in line
        column = line.index("context")
        await pilot.click("#status", offset=(column + 2, 0))
        await wait_until(pilot, lambda: isinstance(app.screen, ContextScreen))
