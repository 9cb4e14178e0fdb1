"""`taletree write`: the line-mode writing loop, through a pipe, through prompt-toolkit's own
terminal input, and in-process with the fake model."""

import io
import os
import signal
import threading

import pytest

from testbed.app_driver import make_session
from testbed.fake_model import FakeBackend
from tests.conftest import run_cli, run_here
from tui.line_mode import LineWriter, prompt_reader, run


def writer_for(store, story, backend=None, live=False) -> tuple[LineWriter, io.StringIO]:
    out = io.StringIO()
    session = make_session(store, store.db_path.parent, backend or FakeBackend())
    session.open_story(story.id)
    return LineWriter(session, out, live=live), out


def test_text_gen_pick_and_moves(store, story):
    backend = FakeBackend()
    writer, out = writer_for(store, story, backend)
    writer.handle("She waited.")
    writer.handle("/gen")
    printed = out.getvalue()
    for number in range(4):
        assert f"[{number + 1}]{backend.first_text(number)}\n" in printed
    user = store.tip(story.id)
    assert user.text == " She waited." and len(store.children(user.id)) == 4
    writer.handle("/pick 2")
    kept = store.tip(story.id)
    assert kept.text == backend.first_text(1) and store.token_records(kept.id)
    writer.handle("/back")
    assert store.tip(story.id).id == user.id
    writer.handle("/forward")
    assert store.tip(story.id).id == kept.id
    out.truncate(0)
    writer.handle("/siblings")
    assert out.getvalue().count("\n") == 4 and "*[2] model:" in out.getvalue()
    writer.handle("/pick 3")
    assert store.tip(story.id).text == backend.first_text(2)
    out.truncate(0)
    out.seek(0)
    writer.handle("/tree")
    lines = out.getvalue().splitlines()
    assert lines[0] == "* user: The lamp went out."
    assert lines[1] == "  * user: She waited."
    assert [line[:12] for line in lines[2:]] == [
        "    - model:",
        "    - model:",
        "    * model:",
        "    - model:",
    ]
    out.truncate(0)
    out.seek(0)
    writer.handle("/show")
    assert out.getvalue() == store.path_text(store.tip(story.id).id) + "\n"


def test_context_before_the_first_gen_loads_the_model_and_shows_what_it_reads(store, story):
    writer, out = writer_for(store, story)
    writer.handle("She waited.")
    writer.handle("/context")
    lines = out.getvalue().splitlines()
    from engine.named_models import chosen_name, shown_name

    expected = shown_name(chosen_name(""))  # the default model where it is installed
    assert lines[0] == f"(loading {expected}…)" and lines[1].startswith("(ready: cpu, ")
    assert lines[2].startswith("what the model reads next: ")
    assert any("The lamp went out. She waited." in line for line in lines[3:])
    out.truncate(0)
    out.seek(0)
    writer.handle("/gen")  # the model is loaded once
    assert "(loading" not in out.getvalue() and "[4]" in out.getvalue()


def test_retry_keeps_the_earlier_alternatives(store, story):
    writer, _ = writer_for(store, story)
    writer.handle("/gen")
    writer.handle("/pick 1")
    writer.handle("/retry")
    assert len(store.children(story.root_id)) == 8
    assert store.tip(story.id).id == story.root_id


def test_settings_memory_note_and_export(store, story, tmp_path):
    backend = FakeBackend()
    writer, out = writer_for(store, story, backend)
    writer.handle("/set n 2")
    writer.handle("/set temperature 0.4")
    assert store.story(story.id).settings == {"branches": 2, "temperature": 0.4}
    writer.handle("/memory Mara keeps the light.")
    writer.handle("/note Keep it eerie.")
    saved = store.story(story.id)
    assert (saved.memory, saved.note) == ("Mara keeps the light.", "Keep it eerie.")
    writer.handle("/gen")
    request = backend.requests[-1]
    assert request.branches == 2 and request.settings.temperature == 0.4
    target = tmp_path / "lamp.json"
    writer.handle(f"/export json {target}")
    assert '"title": "Lamp"' in target.read_text()
    out.truncate(0)
    out.seek(0)
    writer.handle("/export md")
    assert out.getvalue().startswith("# Lamp")


def test_a_new_export_format_is_one_row_that_every_face_offers(store, story, tmp_path, monkeypatch):
    from story.export import EXPORTS, ExportFormat, path_nodes

    def to_csv(tree):
        return ",".join(node.text.strip() for node in path_nodes(tree)) + "\n"

    monkeypatch.setitem(
        EXPORTS, "csv", ExportFormat("csv", "the path, between commas", (".csv",), to_csv)
    )
    store.append(store.tip(story.id).id, " It came back on.")
    expected = "The lamp went out.,It came back on.\n"
    db = store.db_path
    helped = " ".join(run_here("export", "--help").stdout.split())  # argparse wraps it
    assert "csv: the path, between commas" in helped
    assert run_here("export", "Lamp", "--format", "csv", db=db).stdout == expected
    named = tmp_path / "lamp.csv"  # the suffix chooses it
    result = run_here("export", "Lamp", "-o", str(named), db=db)
    assert result.returncode == 0 and named.read_text() == expected
    assert "2 nodes as csv" in result.stderr
    writer, out = writer_for(store, story)
    writer.handle("/export csv")
    assert out.getvalue() == expected
    refused = run_here("export", "Lamp", "--format", "pdf", db=db)
    assert refused.returncode == 2 and "invalid choice: 'pdf'" in refused.stderr
    assert "csv" in refused.stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("/frobnicate", "! unknown command /frobnicate: /help lists the commands"),
        ("/pick 9", "! /pick takes the number of an alternative"),
        ("/set top_p 7", "! top_p should be above 0 and at most 1, not 7.0"),
        ("/set colour blue", "! no setting 'colour': /set lists them"),
        ("/export docx", "! /export takes a format: md, txt, json, twee"),
        ("/back", "! at the opening already"),
        ("/open Nope", "! no story has the id or title 'Nope'"),
    ],
)
def test_bad_commands_say_what_to_do_and_change_nothing(store, story, line, message):
    writer, out = writer_for(store, story)
    before = store.story_tree(story.id)
    assert writer.handle(line) is True
    assert out.getvalue().startswith(message)
    assert store.story_tree(story.id) == before


def test_ctrl_c_stops_a_generation_without_leaving(store, story):
    writer, out = writer_for(store, story, FakeBackend(rate=20))
    timer = threading.Timer(0.4, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        writer.handle("/gen")
    finally:
        timer.cancel()
    assert "(stopped)" in out.getvalue()
    kept = store.children(story.root_id)
    assert len(kept) == 4 and all(0 < len(c.text.split()) < 48 for c in kept)
    assert writer.handle("/pick 1") is True  # still writing
    assert store.tip(story.id).id == kept[0].id


def test_through_prompt_toolkits_terminal_input(store, story, tmp_path, monkeypatch):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    writer, out = writer_for(store, story)
    with create_pipe_input() as terminal:
        terminal.send_text("Night fell.\r/gen\r/pick 4\r/nonsense\r\x04")
        run(writer, prompt_reader(writer, input=terminal, output=DummyOutput()))
    kept = store.tip(story.id)
    assert kept.author == "model" and store.node(kept.parent_id).text == " Night fell."
    assert "! unknown command /nonsense" in out.getvalue()
    history = list((tmp_path / "cfg" / "taletree" / "history").iterdir())
    assert len(history) == 1 and "/pick 4" in history[0].read_text()


def test_taletree_write_through_a_pipe_with_a_real_model(tmp_path):
    from testbed.tiny_models import save_tiny_model

    db = tmp_path / "stories.db"
    model = save_tiny_model(tmp_path / "tiny")
    assert run_cli("new", "Piped", "--opening", "Once.", db=db).returncode == 0
    script = "It rained.\n/set n 2\n/set max_new_tokens 8\n/gen\n/pick 1\n/what\n/show\n"
    result = run_cli(
        "write",
        "Piped",
        "--model",
        str(model),
        db=db,
        stdin=script,
        env={"XDG_CONFIG_HOME": str(tmp_path / "cfg")},
    )
    assert result.returncode == 0, result.stderr
    assert "[1]" in result.stdout and "[2]" in result.stdout and "[3]" not in result.stdout
    assert "! unknown command /what" in result.stdout
    shown = run_cli("show", "Piped", db=db).stdout
    assert shown.startswith("Once. It rained.") and len(shown) > len("Once. It rained.\n")
    assert shown.strip() in result.stdout


def test_taletree_write_with_a_missing_story_fails_cleanly(tmp_path):
    result = run_cli("write", "Nowhere", db=tmp_path / "stories.db", stdin="")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "taletree: no story has the id or title 'Nowhere': `taletree list` shows them"
    )


def test_at_a_terminal_each_branch_grows_on_its_own_line(store, story):
    backend = FakeBackend(rate=200)
    writer, out = writer_for(store, story, backend, live=True)
    writer.handle("/gen")
    printed = out.getvalue()
    assert "\x1b[4F\x1b[J" in printed  # the four lines were redrawn in place as they grew
    final = printed.rsplit("\x1b[J", 1)[-1]  # what stays once done: each branch whole
    assert [line[:3] for line in final.splitlines()[:4]] == ["[1]", "[2]", "[3]", "[4]"]
    assert f"[2]{backend.first_text(1)}" in final


def test_a_model_that_cant_load_is_one_line_and_the_writing_goes_on(tmp_path):
    """Reproduced before the writing core: `/set model /nonexistent` then `/gen` ended the
    whole session with exit 2."""
    db = tmp_path / "stories.db"
    assert run_cli("new", "Going on", "--opening", "Once.", db=db).returncode == 0
    script = "/set model /nonexistent\n/gen\nStill writing.\n/show\n"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_STATE_HOME": str(tmp_path / "state")}
    result = run_cli("write", "Going on", db=db, stdin=script, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    failed = [line for line in lines if line.startswith("! ")]
    assert failed == ["! /nonexistent is not a folder: pass a model folder or a hub id"]
    assert lines[-1] == "Once. Still writing."


def test_an_unexpected_error_in_a_command_is_one_line_saved_to_the_log(
    store, story, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))

    class Broken(FakeBackend):
        def stream(self, *args, **kwargs):
            raise ZeroDivisionError("a bug in a backend")

    writer, out = writer_for(store, story, Broken())
    assert writer.handle("/gen") is True
    assert writer.handle("/show") is True  # the writing goes on
    printed = out.getvalue()
    assert "! The model stopped: a bug in a backend" in printed
    writer.session.branches = None  # a broken state: the next command fails unexpectedly
    out.truncate(0)
    out.seek(0)
    writer.handle("/pick 1")
    [line] = out.getvalue().splitlines()
    log = tmp_path / "state" / "taletree" / "errors.log"
    assert line.startswith("! unexpected error, a bug in Taletree (TypeError:")
    assert line.endswith(f"the traceback is in {log}")
    assert "Traceback (most recent call last)" in log.read_text() and writer.bugs == 1


def test_models_sets_the_step_and_gen_asks_them_all_each_labelled(store, story):
    quick = FakeBackend(name="quick", words=("quick", "brown", "fox", "jumps."))
    deep = FakeBackend(name="deep", words=("the", "deep", "river", "runs."), window=64)
    out = io.StringIO()
    session = make_session(store, store.db_path.parent, named={"quick": quick, "deep": deep})
    session.open_story(story.id)
    writer = LineWriter(session, out)
    writer.handle("/models quick*1 deep*3 temperature=0")
    assert out.getvalue().splitlines()[-3:] == [
        "quick: 1 branch",
        "deep: 3 branches temperature=0.0",
        "(/gen asks them all; /models off goes back to one)",
    ]
    writer.handle("/gen")
    printed = out.getvalue()
    assert "(loading quick…)" in printed and "(ready: deep: cpu, scripted, raw text)" in printed
    labels = [line.split("]")[0] + "]" for line in printed.splitlines() if line.startswith("[")]
    assert labels == ["[1 · quick]", "[2 · deep]", "[3 · deep]", "[4 · deep]"]
    assert [len(quick.requests), len(deep.requests)] == [1, 1]
    writer.handle("/reroll 3")
    assert [len(quick.requests), len(deep.requests)] == [1, 2]
    out.truncate(0)
    out.seek(0)
    writer.handle("/context")
    lines = out.getvalue().splitlines()
    assert lines[0] == "quick:" and "deep:" in lines
    assert any("64-token window" in line for line in lines)
    writer.handle("/models off")
    assert out.getvalue().splitlines()[-1].startswith("(one model writes every branch: ")
    writer.handle("/models quick*9")
    assert "! models: 'quick*9' should end *N" in out.getvalue()
    assert session.settings()["models"] == ""  # nothing half-set
