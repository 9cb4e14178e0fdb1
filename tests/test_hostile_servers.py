"""Servers that misbehave on purpose, on loopback: what they say reaches the writer literally,
on one line, without the API key, in every face; markup in it is text, never an action."""

import json

import pytest

from testbed.app_driver import wait_until
from tests.app_helpers import SIZE, Told
from tests.conftest import run_cli
from tests.servers.stand_in import ListsOneModel, serve

KEY = "sk-hostile-0123456789abcdefghijklmnopqrstuvwxyz"
# A clipboard write (OSC 52), a screen clear, the key as the server saw it, and Textual markup
# that would crash the app ([/]) or close it when clicked ([@click=app.quit]).
HOSTILE = (
    "\x1b]52;c;cHduZWQ=\x07\x1b[2J bad request; you sent Authorization: Bearer "
    + KEY
    + " [@click=app.quit]click me[/] [/]\n\rsecond line \u202eenil driht"
)


class Hostile(ListsOneModel):
    """An OpenAI-compatible server that lists a model, then answers every completion with
    `reply` (a status and a body)."""

    reply: tuple[int, bytes] = (200, b"")

    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        status, body = Hostile.reply
        self.send_response(status)
        self.send_header("content-type", "text/event-stream" if status == 200 else "text/plain")
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def hostile():
    server, url = serve(Hostile)
    yield url
    server.shutdown()
    server.server_close()


def error_event(message: str) -> bytes:
    return b"data: " + json.dumps({"error": {"message": message}}).encode() + b"\n\n"


def assert_shown_safely(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert KEY not in text and KEY[:12] not in text
    assert "␛[2J" in text or "…" in text  # shown, as a visible symbol (or cut off after it)


def test_an_error_in_a_stream_is_one_literal_line_without_the_key(hostile):
    Hostile.reply = (200, error_event(HOSTILE))
    result = run_cli(
        "generate", "--model", hostile, "--prompt", "Once", env={"TALETREE_API_KEY": KEY}
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "the server stopped with an error" in result.stderr
    assert_shown_safely(result.stderr)
    assert "Bearer ***" in result.stderr


def test_line_mode_says_the_streams_error_literally(hostile, tmp_path):
    Hostile.reply = (200, error_event(HOSTILE))
    db = tmp_path / "stories.db"
    assert run_cli("new", "Hostile", "--opening", "Once.", db=db).returncode == 0
    result = run_cli(
        "write", "Hostile", "--model", hostile, db=db, stdin="/gen\n", env={"TALETREE_API_KEY": KEY}
    )
    assert result.returncode == 0, result.stderr
    [said] = [line for line in result.stdout.splitlines() if line.startswith("! ")]
    assert "the server stopped with an error" in said
    assert_shown_safely(said)


def test_taletree_explore_says_the_streams_error_in_one_line(hostile, tmp_path):
    Hostile.reply = (200, error_event(HOSTILE))
    db = tmp_path / "stories.db"
    assert run_cli("new", "Hostile", "--opening", "Once.", db=db).returncode == 0
    result = run_cli("explore", "Hostile", "--model", hostile, db=db, env={"TALETREE_API_KEY": KEY})
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "the server stopped with an error" in result.stderr
    assert_shown_safely(result.stderr)


def test_a_key_that_straddles_where_a_refusal_is_cut_leaks_no_part_of_it(hostile):
    from engine.remote.client import SAID_LIMIT

    body = ("refused: " + "x" * (SAID_LIMIT - 20) + KEY + " trailing").encode()
    Hostile.reply = (401, body)
    result = run_cli(
        "generate", "--model", hostile, "--prompt", "Once", env={"TALETREE_API_KEY": KEY}
    )
    assert result.returncode == 2 and "refused the API key (401" in result.stderr
    assert KEY[:6] not in result.stderr.replace("sk-hostile", "")  # not even its start
    assert "sk-host" not in result.stderr


def test_a_stream_error_quoting_only_the_keys_tail_shows_none_of_it(hostile):
    Hostile.reply = (200, error_event(f"invalid key ...{KEY[-10:]} (ends {KEY[-6:]}); {KEY[5:17]}"))
    result = run_cli(
        "generate", "--model", hostile, "--prompt", "Once", env={"TALETREE_API_KEY": KEY}
    )
    assert result.returncode == 2 and result.stdout == ""
    assert "the server stopped with an error" in result.stderr
    assert "invalid key ...*** (ends ***); ***" in result.stderr
    said = result.stderr
    assert not any(KEY[i : i + 6] in said for i in range(len(KEY) - 5)), said


def test_any_six_characters_of_the_key_in_a_row_go_and_nothing_else_does():
    from engine.remote.client import without_secret

    key = "sk-abcdef123456"
    assert without_secret(f"Bearer {key}!", key) == "Bearer ***!"
    assert without_secret("tail f123456, head sk-ab, middle cdef12.", key) == (
        "tail ***, head sk-ab, middle ***."  # five in a row say too little to go
    )
    assert without_secret("f123456sk-abc", key) == "***"  # two parts side by side: one mark
    assert without_secret("no secret here", "") == "no secret here"
    assert without_secret("short key: abc", "abc") == "short key: ***"


async def test_the_app_shows_a_hostile_model_name_and_error_as_text(store, tmp_path):
    """A story (an imported one, say) that names its model with markup and escapes: the
    app neither crashes nor obeys it; the notification says it literally."""
    from tui.app import TaletreeApp
    from tui.core.config_file import read_config
    from tui.core.session import WritingSession

    story = store.create_story("Marked", opening="Once.")
    store.update_story(story.id, settings={"model": "/no/[@click=app.quit]such[/] [/]\x1b[2J"})
    config = tmp_path / "config.toml"
    config.write_text('[keys]\n"[/]" = "x"\n', encoding="utf-8")
    session = WritingSession(store, read_config(config), config_path=config)
    app = TaletreeApp(session, story_id=story.id, blink=False)
    told = Told()
    async with app.run_test(size=SIZE, message_hook=told) as pilot:
        await wait_until(
            pilot, lambda: any("can't be loaded" in n.message for n in told.notifications)
        )
        messages = [n.message for n in told.notifications]
        assert any("[@click=app.quit]such[/] [/]␛[2J" in m for m in messages)
        assert any("names no action '[/]'" in m for m in messages)
        assert all(not n.markup for n in told.notifications)
        assert app.is_running and app.return_code is None


def test_at_a_terminal_a_notice_never_lands_inside_a_samples_line(hostile, tmp_path):
    import sys

    from tests.conftest import ROOT
    from tests.terminal import Terminal

    text = b'data: {"choices": [{"index": 0, "text": "Hi. Once"}]}\n\n'
    Hostile.reply = (200, text + error_event("boom"))
    command = [sys.executable, "-m", "tui", "generate", "--model", hostile, "--prompt", "Go."]
    terminal = Terminal(command, {"HOME": str(tmp_path), "TERM": "xterm-256color"}, str(ROOT))
    try:
        screen = terminal.wait_for("EXITED", timeout=60)
    finally:
        terminal.close()
    lines = screen.splitlines()
    assert "Go.Hi. Once" in lines  # the sample, alone on its line
    assert any(
        line.startswith(
            "taletree: branch 1 cut off, keeping what it wrote: the server "
            "stopped with an error: boom"
        )
        for line in lines
    )


class KeepsAlive(ListsOneModel):
    """A server that never finishes an answer: keep-alives and empty events, never silent
    (for at most 20 seconds, so a test that fails still ends)."""

    def do_POST(self):
        import time

        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        deadline = time.monotonic() + 20
        try:
            while time.monotonic() < deadline:
                self.wfile.write(b": keep-alive\n\n" + b'data: {"choices": []}\n\n')
                self.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass  # the client gave up


def test_a_stream_that_never_ends_is_given_up_after_the_limit_in_one_line():
    import time

    server, url = serve(KeepsAlive)
    try:
        started = time.monotonic()
        result = run_cli(
            "generate", "--model", url, "--prompt", "Once", env={"TALETREE_STREAM_LIMIT": "1"}
        )
        took = time.monotonic() - started
        bad = run_cli(
            "generate", "--model", url, "--prompt", "Once", env={"TALETREE_STREAM_LIMIT": "soon"}
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "kept one answer going for over 1 s without finishing it" in result.stderr
    assert "TALETREE_STREAM_LIMIT" in result.stderr and took < 15
    assert bad.returncode == 2 and "should be a number of seconds above 0" in bad.stderr
