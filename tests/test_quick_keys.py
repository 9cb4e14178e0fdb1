"""Keys typed faster than the screen redraws: a writer who keeps a branch and at once presses
shift+tab, up and `e` gets the passage editor, not an `e` in the composer. Every action that
moves focus has moved it before the next key is handled.

The keys are posted all at once, as a terminal delivers a burst of typing (Pilot's `press`
waits for the app to settle after each key, which would hide the race)."""

import pytest
from textual import events

from testbed.app_driver import make_app, streamed, wait_until
from tests.app_helpers import SIZE, write_and_generate
from tui.screens.dialogs import EditDialog, PassageDialog
from tui.screens.writing import WritingScreen
from tui.widgets.composer import Composer


async def type_at_once(pilot, *keys: str) -> None:
    """Every key into the app's queue before any is handled, then let the app catch up."""
    for key in keys:
        pilot.app.post_message(events.Key(key, key if len(key) == 1 else None))
    await pilot.pause()


async def editing(pilot, dialog: type) -> str:
    """Wait for an editor dialog; the text it was opened on."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, dialog))
    return pilot.app.screen.query_one("TextArea").text


def composer(app) -> Composer:
    return next(s for s in app.screen_stack if isinstance(s, WritingScreen)).query_one(Composer)


@pytest.mark.parametrize(
    "bursts",
    [
        [("1", "shift+tab", "up", "e")],  # keep moves to the composer, shift+tab to the story
        # ctrl+g from the composer moves to the new branches; shift+tab from there, the story
        [("1",), ("ctrl+g", "shift+tab", "up", "e")],
    ],
    ids=["keep", "generate"],
)
async def test_an_action_then_shift_tab_up_e_opens_the_passage_editor(
    store, story, tmp_path, bursts
):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        for burst in bursts:
            await type_at_once(pilot, *burst)
        assert await editing(pilot, PassageDialog) == " She waited."
        assert composer(app).text == ""


async def test_regenerate_then_down_highlights_the_second_new_branch(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await write_and_generate(pilot)
        await type_at_once(pilot, "r", "down")
        await streamed(pilot)  # (`e` on a branch that hasn't written yet says it wrote nothing)
        assert screen.panel.highlighted == 1
        await type_at_once(pilot, "e")
        assert await editing(pilot, EditDialog) == app.session.branches[1].text
        assert composer(app).text == ""


async def test_escape_then_shift_tab_reaches_the_branches(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await write_and_generate(pilot)
        # escape from the branches goes back to the composer; shift+tab returns to them
        await type_at_once(pilot, "escape", "shift+tab", "down", "e")
        assert await editing(pilot, EditDialog) == app.session.branches[1].text
        assert screen.panel.highlighted == 1 and composer(app).text == ""


async def test_closing_a_dialog_then_up_e_opens_the_next_passage(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        await type_at_once(pilot, "1", "shift+tab", "up", "e")
        await editing(pilot, PassageDialog)
        await type_at_once(pilot, "escape", "up", "e")  # closed, and on to the opening
        assert await editing(pilot, PassageDialog) == "The lamp went out."
        assert composer(app).text == ""
