"""SVG snapshots of each screen at 100×30, compared cell by cell with the files in
tests/snapshots/ (Textual is pinned exactly so they don't churn). After an intended change of
the look, rewrite them with TALETREE_UPDATE_SNAPSHOTS=1 and look at the new files."""

import os
import time
from pathlib import Path

import pytest

import tui.screens.writing as writing_module
from testbed.app_driver import make_app, wait_until
from testbed.fake_model import FakeBackend
from tests.app_helpers import SIZE, write_and_generate
from tui.screens.help import HelpScreen
from tui.screens.settings import SettingsScreen
from tui.screens.tree import TreeScreen

SNAPSHOTS = Path(__file__).parent / "snapshots"
STAMP = "2026-03-14T09:26:00+00:00"


def check_snapshot(app, name: str, tmp_path: Path) -> None:
    svg = app.export_screenshot(title="Taletree")
    expected = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("TALETREE_UPDATE_SNAPSHOTS") == "1":
        expected.write_text(svg, encoding="utf-8")
        return
    if not expected.exists():
        pytest.fail(f"no snapshot {expected}: run with TALETREE_UPDATE_SNAPSHOTS=1 to make it")
    if svg != expected.read_text(encoding="utf-8"):
        actual = tmp_path / f"{name}.svg"
        actual.write_text(svg, encoding="utf-8")
        pytest.fail(f"the {name} screen differs from {expected}: see {actual}")


@pytest.fixture
def steady(monkeypatch):
    """Local time in UTC and a clock on which every branch writes at a steady 48 tok/s."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    ticks = iter([0.0])
    monkeypatch.setattr(writing_module, "clock", lambda: next(ticks, 1.0))
    yield
    monkeypatch.undo()
    time.tzset()


def stories(store):
    lighthouse = store.create_story(
        "The Lighthouse", genre="mystery", opening="The lamp went out. Mara climbed the stairs."
    )
    store.create_story("Orchard", opening="Apples everywhere.")
    store.create_story("Brackets [are] fine", genre="sci_fi", opening="Text.")
    store.conn.execute("UPDATE stories SET updated = ?, created = ?", (STAMP, STAMP))
    return lighthouse


async def test_library_snapshot(store, tmp_path, steady):
    stories(store)
    app = make_app(store, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        check_snapshot(app, "library", tmp_path)


async def test_writing_snapshot_with_four_streamed_branches(store, tmp_path, steady):
    story = stories(store)
    app = make_app(store, tmp_path, FakeBackend(), story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        await pilot.pause()
        check_snapshot(app, "writing", tmp_path)


async def test_tree_snapshot(store, tmp_path, steady):
    story = stories(store)
    app = make_app(store, tmp_path, FakeBackend(), story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        await pilot.press("2", "ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        await pilot.pause()
        check_snapshot(app, "tree", tmp_path)


@pytest.mark.parametrize(
    ("key", "screen", "name"), [("f2", SettingsScreen, "settings"), ("f1", HelpScreen, "help")]
)
async def test_settings_and_help_snapshots(store, tmp_path, steady, key, screen, name):
    story = stories(store)
    app = make_app(store, tmp_path, FakeBackend(), story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.session.backend is not None)
        await pilot.press(key)
        await wait_until(pilot, lambda: isinstance(app.screen, screen))
        await pilot.pause()
        check_snapshot(app, name, tmp_path)
