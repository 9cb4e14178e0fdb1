"""Helpers for the app tests: reading the screen, what the app told the writer, sessions over
real models; the driving itself (the fake model, waiting on state) is testbed/app_driver.py."""

import html
import re
from collections import defaultdict

from textual.message import Message
from textual.notifications import Notification, Notify

from testbed.app_driver import ready, streamed
from tui.app import TaletreeApp
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


async def write_and_generate(pilot, text: str = "She waited.") -> WritingScreen:
    await ready(pilot)
    await pilot.press(*text)
    await pilot.press("enter")
    return await streamed(pilot)
