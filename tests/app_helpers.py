"""Driving the Textual app in tests: a fake model, a temporary config, and waiting on state."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from tests.fake_model import FakeSession
from tui.app import TaletreeApp
from tui.screens.writing import WritingScreen

SIZE = (100, 30)


def make_app(store, tmp_path: Path, session: FakeSession | None = None, **options) -> TaletreeApp:
    session = session or FakeSession()
    return TaletreeApp(
        store,
        session_loader=lambda name, device, label, progress: session,
        blink=False,
        config_path=tmp_path / "config.toml",
        **options,
    )


async def wait_until(pilot, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until the predicate holds (instead of guessing a sleep)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {predicate.__doc__ or predicate}")
        await pilot.pause(0.02)
        await asyncio.sleep(0)


def screen_text(app: TaletreeApp) -> str:
    """What the terminal shows now, as plain text (the same render as an SVG screenshot)."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
    )
    compositor = app.screen._compositor
    console.print(compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def writing(app) -> WritingScreen:
    assert isinstance(app.screen, WritingScreen), type(app.screen).__name__
    return app.screen


async def ready(pilot) -> WritingScreen:
    """Wait until the writing screen is up and the model loaded."""
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen) and app.session)
    return app.screen


async def streamed(pilot) -> WritingScreen:
    """Wait until a generation has ended and its branches are stored."""
    screen = writing(pilot.app)
    await wait_until(
        pilot,
        lambda: (
            screen.generation is None
            and screen.branches
            and all(b.node_id for b in screen.branches)
        ),
    )
    return screen


async def write_and_generate(pilot, text: str = "She waited.") -> WritingScreen:
    await ready(pilot)
    await pilot.press(*text)
    await pilot.press("enter")
    return await streamed(pilot)
