"""The Textual app driven headless, over the fake model (or any loader): for the tests and for
the TUI benchmark. It waits on the app's state rather than guessing sleeps, and says what the
app was doing when a wait runs out."""

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from testbed.fake_model import FakeBackend
from tui.app import TaletreeApp
from tui.core.config_file import read_config
from tui.core.session import WritingSession
from tui.screens.writing import WritingScreen


def make_session(
    store,
    tmp_path: Path,
    backend: FakeBackend | None = None,
    *,
    named: dict[str, FakeBackend] | None = None,
    **options,
) -> WritingSession:
    """A writing session over the store whose every model is the fake one (or, for a model
    `named` names, its own fake), with a config file of its own in tmp_path."""
    backend = backend or FakeBackend()
    named = named or {}
    config_path = tmp_path / "config.toml"
    return WritingSession(
        store,
        read_config(config_path),
        config_path=config_path,
        loader=lambda request, progress: named.get(request.name, backend),
        **options,
    )


def make_app(
    store,
    tmp_path: Path,
    backend: FakeBackend | None = None,
    *,
    story_id: int | None = None,
    **options,
) -> TaletreeApp:
    session = make_session(store, tmp_path, backend, **options)
    return TaletreeApp(session, story_id=story_id, blink=False)


async def wait_until(pilot, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until the predicate holds (instead of guessing a sleep)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out waiting for {predicate.__doc__ or predicate}: {app_state(pilot.app)}"
            )
        await pilot.pause(0.02)
        await asyncio.sleep(0)


def app_state(app) -> str:
    """What the app was doing, for a test that waited in vain."""
    session = app.session
    generation = session.generation
    running = (
        "none"
        if generation is None
        else f"finished={generation.finished.is_set()}, {len(generation.buffer)} events waiting"
    )
    branches = session.branches or []
    return (
        f"screen {type(app.screen).__name__}, model "
        f"{session.backend.name if session.backend else session.models.state!r}, generation "
        f"{running}, {len(branches)} branches ({sum(bool(b.node_id) for b in branches)} "
        f"stored), workers {[w.name for w in app.workers]}"
    )


def writing(app) -> WritingScreen:
    assert isinstance(app.screen, WritingScreen), type(app.screen).__name__
    return app.screen


async def ready(pilot) -> WritingScreen:
    """Wait until the writing screen is up and the models loaded."""
    app = pilot.app
    await wait_until(
        pilot, lambda: isinstance(app.screen, WritingScreen) and app.session.models_ready
    )
    return app.screen


async def streamed(pilot, timeout: float = 10.0) -> WritingScreen:
    """Wait until a generation has ended and its branches are stored: every branch that wrote
    something (a model with random weights may end a branch at once, and the core stores no
    empty branch)."""
    screen = writing(pilot.app)
    session = pilot.app.session
    await wait_until(
        pilot,
        lambda: (
            session.generation is None
            and any(b.node_id for b in session.branches)
            and all(b.node_id for b in session.branches if b.text)
        ),
        timeout,
    )
    return screen
