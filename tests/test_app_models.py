"""Several models side by side in the app: panes titled with their model, the status line
saying what each holds, re-roll in the branch's own model, each model's context view, and a set
that won't fit refused before anything loads."""

from textual.widgets import Input

from common.errors import UserError
from testbed.app_driver import make_app, ready, streamed, wait_until, writing
from testbed.fake_model import FakeBackend
from tests.app_helpers import SIZE, Told, screen_text, write_and_generate
from tui.screens.context_view import ContextScreen
from tui.screens.settings import SettingsScreen

QUICK_WORDS = ("quick", "brown", "fox", "jumps", "over", "lazy", "dogs", "again.")
DEEP_WORDS = ("the", "deep", "river", "runs", "slow", "under", "ice", "tonight.")


def two_model_app(store, story, tmp_path, models="quick*2 deep*2"):
    quick = FakeBackend(words=QUICK_WORDS, name="quick")
    deep = FakeBackend(words=DEEP_WORDS, name="deep", window=64)
    store.update_story(story.id, settings={"models": models})
    app = make_app(store, tmp_path, story_id=story.id, named={"quick": quick, "deep": deep})
    return app, quick, deep


async def test_a_step_streams_each_models_share_into_panes_titled_with_it(store, story, tmp_path):
    app, quick, deep = two_model_app(store, story, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await write_and_generate(pilot)
        titles = [str(pane.border_title) for pane in screen.panel.panes]
        assert titles == ["1 · quick", "2 · quick", "3 · deep", "4 · deep"]
        shown = screen_text(app)
        assert "1 · quick" in shown and "4 · deep" in shown
        assert "quick + deep" in shown  # the status line: both models
        children = store.children(store.tip(story.id).id)
        assert [c.model for c in children] == ["quick", "quick", "deep", "deep"]
        assert len(quick.requests) == len(deep.requests) == 1

        await pilot.press("down", "down", "R")  # re-roll branch 3: deep writes it again
        await streamed(pilot)
        assert len(quick.requests) == 1 and len(deep.requests) == 2
        assert str(screen.panel.panes[2].border_title) == "3 · deep"
        assert len(store.children(store.tip(story.id).id)) == 5  # the old branch 3 stays

        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, ContextScreen))
        shown = screen_text(app)
        assert "quick" in shown and "deep" in shown
        assert "-token window" in shown and "64-token window" in shown


async def test_one_model_alone_keeps_its_panes_unlabelled(store, story, tmp_path):
    app, _, _ = two_model_app(store, story, tmp_path, models="")
    async with app.run_test(size=SIZE) as pilot:
        screen = await write_and_generate(pilot)
        assert [str(p.border_title) for p in screen.panel.panes] == ["1", "2", "3", "4"]


async def test_a_set_that_wont_fit_is_one_line_and_nothing_loads(store, story, tmp_path):
    app, quick, _ = two_model_app(store, story, tmp_path)
    session = app.session
    session.models.free = lambda: 2_000_000_000
    session.models.footprint = {"quick": 500_000_000, "deep": 3_000_000_000}.get
    told = Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        await wait_until(pilot, lambda: bool(told.notifications))
        assert [n.message for n in told.notifications] == [
            "these models need about 3.5 GB and 2.0 GB is free: drop deep (3.0 GB) from the "
            "models setting"
        ]
        assert session.models.held == {} and not session.models.loading
        writing(app)
        await pilot.press("enter")
        await pilot.pause()
        assert session.generation is None and not quick.requests


async def test_a_model_name_in_a_pane_title_is_shown_literally(store, story, tmp_path):
    hostile = "[bold red]x[bold]"
    app = make_app(
        store,
        tmp_path,
        story_id=story.id,
        named={"a": FakeBackend(name=hostile), "b": FakeBackend(name="b")},
    )
    store.update_story(story.id, settings={"models": "a b"})
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("enter")
        await streamed(pilot)
        assert "1 · [bold red]x[" in screen_text(app)  # (the pane is narrower than its title)


async def test_the_settings_form_sets_the_models_and_the_next_step_asks_them(
    store, story, tmp_path
):
    app, quick, deep = two_model_app(store, story, tmp_path, models="")
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, SettingsScreen))
        app.screen.query_one("#models", Input).value = "quick deep temperature=0"
        await pilot.press("ctrl+s")
        await ready(pilot)
        assert store.story(story.id).settings["models"] == "quick deep temperature=0"
        await pilot.press("enter")
        screen = await streamed(pilot)
        titles = [str(pane.border_title) for pane in screen.panel.panes]
        assert titles == ["1 · quick", "2 · quick", "3 · deep", "4 · deep"]
        assert [r.settings.temperature for r in deep.requests] == [0.0]
        assert quick.requests[0].settings.temperature == 0.7  # its own default


async def test_a_model_of_the_set_that_cant_load_is_named_and_the_step_waits_for_it(
    store, story, tmp_path
):
    app, quick, _ = two_model_app(store, story, tmp_path)
    session = app.session

    def load(request, progress):
        if request.name == "deep":
            raise UserError("no weights in deep")
        return quick

    session.models.loader = load
    told = Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        await wait_until(pilot, lambda: bool(told.notifications))
        assert [n.message for n in told.notifications] == [
            "deep can't be loaded: no weights in deep. Choose another in settings (f2)."
        ]
        await wait_until(pilot, lambda: quick in session.models.held.values())
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(told.notifications) == 2)
        assert "deep isn't loaded" in told.notifications[1].message
        assert session.generation is None and not quick.requests
