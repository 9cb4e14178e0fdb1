"""Driving the Textual app in tests: a fake model, a temporary config, and waiting on state."""

import asyncio
import html
import re
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from textual.message import Message
from textual.notifications import Notification, Notify

from tests.fake_model import FakeBackend
from tui.app import TaletreeApp
from tui.core.config_file import read_config
from tui.core.session import WritingSession
from tui.screens.writing import WritingScreen

SIZE = (100, 30)


def model_session(store, model: str) -> WritingSession:
    """A writing session that loads `model` for real: a GGUF file, a server's address."""
    from tui.core.config_file import Config
    from tui.core.model_holder import LoadOptions

    return WritingSession(store, Config(), model=model, load_options=LoadOptions())


def line_mode_generation(store, model: str) -> str:
    """What line mode prints for one /gen of 8 tokens with `model`, on a story of its own."""
    import io

    from tui.line_mode import LineWriter

    story = store.create_story("Lines", opening="The lamp went out.")
    session = model_session(store, model)
    session.open_story(story.id)
    out = io.StringIO()
    writer = LineWriter(session, out)
    writer.handle("/set max_new_tokens 8")
    writer.handle("/gen")
    return out.getvalue()


def make_session(
    store, tmp_path: Path, backend: FakeBackend | None = None, **options
) -> WritingSession:
    """A writing session over the store whose every model is the fake one, with a config file
    of its own in tmp_path."""
    backend = backend or FakeBackend()
    config_path = tmp_path / "config.toml"
    return WritingSession(
        store,
        read_config(config_path),
        config_path=config_path,
        loader=lambda request, progress: backend,
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


# A character run in Textual's SVG screenshot: where it starts, how wide it is, its line.
SCREENSHOT_TEXT = re.compile(
    r'<text [^>]*?x="([\d.]+)"[^>]*?textLength="([\d.]+)"[^>]*?-line-(\d+)\)">(.*?)</text>',
    re.S,
)


def screen_text(app: TaletreeApp) -> str:
    """What the terminal shows now, as plain text: read back from the app's own screenshot
    (App.export_screenshot), each run of characters put at the column it starts on."""
    from rich.cells import cell_len

    rows: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for x, length, line, content in SCREENSHOT_TEXT.findall(app.export_screenshot()):
        text = html.unescape(content).replace("\xa0", " ")
        if text == "\n":  # each row's end, drawn as a character of its own
            continue
        column = round(float(x) / (float(length) / len(text)))
        rows[int(line)].append((column, text))
    lines = []
    for y in range(app.size[1]):
        line = ""
        for column, text in sorted(rows[y]):
            line += " " * (column - cell_len(line)) + text
        lines.append(line)
    return "\n".join(lines)


class Told:
    """What the app told the writer: every notification as it was posted (pass one to
    run_test as its message_hook)."""

    def __init__(self) -> None:
        self.notifications: list[Notification] = []

    def __call__(self, message: Message) -> None:
        if isinstance(message, Notify):
            self.notifications.append(message.notification)


def writing(app) -> WritingScreen:
    assert isinstance(app.screen, WritingScreen), type(app.screen).__name__
    return app.screen


async def ready(pilot) -> WritingScreen:
    """Wait until the writing screen is up and the model loaded."""
    app = pilot.app
    await wait_until(
        pilot, lambda: isinstance(app.screen, WritingScreen) and app.session.backend is not None
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


async def write_and_generate(pilot, text: str = "She waited.") -> WritingScreen:
    await ready(pilot)
    await pilot.press(*text)
    await pilot.press("enter")
    return await streamed(pilot)
