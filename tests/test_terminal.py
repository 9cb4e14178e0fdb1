"""The app in a real terminal (tmux), as a writer meets it: the real `taletree` command and the
bundled demo model; and a crash in the middle of streaming."""

import os
import re
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from engine.smollm2 import INSTALL, packaged_gguf
from story import Store
from tests.conftest import ROOT, run_cli
from tests.terminal import Terminal

pytestmark = pytest.mark.slow
TALETREE = str(Path(sys.executable).parent / "taletree")


@pytest.fixture
def environment(tmp_path):
    return {
        "TALETREE_DB": str(tmp_path / "stories.db"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "HF_HUB_OFFLINE": "1",
        "TERM": "xterm-256color",
    }


def finished_panes(screen: str) -> int:
    """Panes whose border says their branch is done."""
    return screen.count("tok/s · done")


def test_write_with_the_demo_model_in_a_real_terminal(environment, tmp_path):
    terminal = Terminal(
        [TALETREE, "new", "Terminal Tale", "--genre", "mystery", "--model", "demo"],
        environment,
        str(ROOT),
    )
    try:
        terminal.wait_for("taletree-demo  │  cpu", timeout=90)  # the model has loaded
        terminal.type("The inspector opened the door.")
        terminal.send("Enter")
        screen = terminal.wait_for(lambda s: finished_panes(s) == 4, timeout=90)
        assert all(f"─ {n} ─" in screen for n in "1234")
        # Keep the first branch that wrote something: an unseeded draw may end one at once.
        rates = [int(rate) for rate in re.findall(r"(\d+) tok/s · done", screen)]
        terminal.type(str(next(n for n, rate in enumerate(rates, 1) if rate > 0)))
        terminal.wait_for(lambda s: "─ 1 ─" not in s, timeout=10)
        # Edit the writer's earlier passage where it stands: the model's text after it stays.
        terminal.send("BTab")  # from the composer to the story
        terminal.send("Up", "e")
        terminal.wait_for("Edit the passage where it stands", timeout=10)
        terminal.send("End")
        terminal.type(" Slowly.")
        terminal.send("C-s")
        terminal.wait_for("The inspector opened the door. Slowly.", timeout=10)
        terminal.send("C-q")
        terminal.wait_for("EXITED 0", timeout=30)
    finally:
        terminal.close()
    db = Path(environment["TALETREE_DB"])
    shown = run_cli("show", "Terminal Tale", db=db)
    assert shown.returncode == 0
    opening, _, continuation = shown.stdout.partition("The inspector opened the door. Slowly.")
    assert opening == "" and continuation.strip()  # the writer's edited words, then the model's
    with Store.open(db) as store:
        story = store.find_story("Terminal Tale")
        kept = store.tip(story.id)
        assert kept.author == "model" and kept.model == "taletree-demo" and kept.seed is not None
        assert len(store.siblings(kept.id)) == 4
        assert continuation.strip() == kept.text.strip()  # the model's text stayed as it was
        edited = store.node(kept.parent_id)
        assert [r.text for r in store.revisions(edited.id)] == ["The inspector opened the door."]


@pytest.mark.skipif(packaged_gguf() is None, reason=f"the default model isn't installed: {INSTALL}")
def test_a_new_story_writes_with_the_default_model_in_story_mode(environment, tmp_path):
    """What `make run` opens: no model named, so SmolLM2, read in story mode, continuing the
    writer's prose in four branches."""
    terminal = Terminal([TALETREE, "new", "Lamp"], environment, str(ROOT))
    try:
        terminal.wait_for("SmolLM2-135M-Instruct  │  cpu, fast path, story mode", timeout=120)
        terminal.type("Mirela found the brass key under the floorboards.")
        terminal.send("Enter")
        terminal.wait_for(lambda s: finished_panes(s) == 4, timeout=120)
    finally:
        terminal.close()
    with Store.open(Path(environment["TALETREE_DB"])) as store:
        [story] = store.list_stories()
        tip = store.tip(story.id)
        written = store.children(tip.id)
        assert len(written) == 4 and {n.model for n in written} == {"SmolLM2-135M-Instruct"}
        assert all(n.text.strip() for n in written)


@pytest.mark.skipif(packaged_gguf() is None, reason=f"the default model isn't installed: {INSTALL}")
def test_two_models_write_one_step_side_by_side_each_labelled_and_each_its_own(
    environment, tmp_path
):
    """The default model writes 2 branches and the demo model 2, in one step; keeping one and
    writing on, each model's cache holds the story it read; re-roll uses the branch's model;
    the JSON export names the models."""
    config = Path(environment["XDG_CONFIG_HOME"]) / "taletree" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[models]\ndefault = 2\ndemo = 2\n")
    smol, demo = "SmolLM2-135M-Instruct", "taletree-demo"
    terminal = Terminal([TALETREE, "new", "Two voices"], environment, str(ROOT), size=(150, 60))
    try:
        terminal.wait_for(lambda s: f"{smol} " in s and f"+ {demo} " in s, timeout=180)
        terminal.type("Mirela found the brass key under the floorboards.")
        terminal.send("Enter")
        screen = terminal.wait_for(lambda s: finished_panes(s) == 4, timeout=120)
        for title in (f"1 · {smol}", f"2 · {smol}", f"3 · {demo}", f"4 · {demo}"):
            assert f"─ {title} ─" in screen
        rates = [int(rate) for rate in re.findall(r"(\d+) tok/s · done", screen)]
        terminal.type(str(next(n for n, rate in enumerate(rates, 1) if rate > 0)))
        terminal.wait_for(lambda s: "─ 1 · " not in s, timeout=10)
        terminal.type("The lock turned.")
        terminal.send("F3")  # what each model reads next, and what its cache holds of it
        terminal.wait_for(lambda s: s.count("in its cache from the last step") == 2, timeout=20)
        terminal.send("Escape")
        terminal.wait_for(lambda s: "in its cache" not in s, timeout=10)
        terminal.send("Enter")  # the writer's words join the story, and both models write on
        terminal.wait_for(lambda s: finished_panes(s) == 0, timeout=10)
        terminal.wait_for(lambda s: finished_panes(s) == 4, timeout=120)
        terminal.send("Down", "Down", "R")  # re-roll branch 3: the demo model's
        terminal.wait_for(lambda s: finished_panes(s) == 4 and "3 · " in s, timeout=60)
        time.sleep(1)
        terminal.wait_for(lambda s: finished_panes(s) == 4, timeout=60)
        terminal.send("C-q")
        terminal.wait_for("EXITED 0", timeout=30)
    finally:
        terminal.close()
    db = Path(environment["TALETREE_DB"])
    with Store.open(db) as store:
        [story] = store.list_stories()
        writer = store.tip(story.id)
        assert writer.author == "user" and writer.text == " The lock turned."
        written = store.children(writer.id)
        assert [n.model for n in written] == [smol, smol, demo, demo, demo]  # branch 3 again
        first_step = store.siblings(store.node(writer.parent_id).id)
        assert sorted(n.model for n in first_step) == [smol, smol, demo, demo]
    exported = run_cli("export", "Two voices", "--format", "json", db=db)
    assert exported.returncode == 0
    assert f'"model": "{smol}"' in exported.stdout and f'"model": "{demo}"' in exported.stdout


def test_kill_during_streaming_loses_nothing_kept_and_keeps_the_draft(environment, tmp_path):
    db = Path(environment["TALETREE_DB"])
    with Store.open(db) as store:
        story = store.create_story("Crash", opening="It began.")
    terminal = Terminal(
        [sys.executable, "-m", "tests.fake_app", str(db), str(story.id), "40"],
        environment,
        str(ROOT),
    )
    try:
        terminal.wait_for("fake  │  cpu", timeout=60)
        terminal.type("First.")
        terminal.send("Enter")
        terminal.wait_for(lambda s: finished_panes(s) == 4, timeout=30)
        terminal.type("1")  # kept: must survive
        terminal.wait_for(lambda s: "─ 1 ─" not in s, timeout=10)
        terminal.type("A draft in progress")
        deadline = time.monotonic() + 10
        while draft_of(db, story.id) != "A draft in progress":
            assert time.monotonic() < deadline, f"the draft was never saved:\n{terminal.screen()}"
            time.sleep(0.1)
        terminal.send("C-g")  # more branches, streaming when the process dies
        terminal.wait_for(lambda s: "tok/s" in s and finished_panes(s) == 0, timeout=10)
        os.kill(terminal.app_pid(), 9)
        terminal.wait_for("EXITED 137", timeout=10)
    finally:
        terminal.close()
    connection = sqlite3.connect(db)
    assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    connection.close()
    with Store.open(db) as store:
        kept = store.tip(story.id)
        assert kept.author == "model" and kept.text.strip()
        assert store.node(kept.parent_id).text == " First."
        assert len(store.children(kept.parent_id)) == 4
        assert store.story(story.id).draft == "A draft in progress"
    shown = run_cli("show", str(story.id), db=db)
    assert shown.stdout.startswith("It began. First." + kept.text)


def draft_of(db: Path, story_id: int) -> str | None:
    connection = sqlite3.connect(db)
    try:
        row = connection.execute("SELECT draft FROM stories WHERE id = ?", (story_id,)).fetchone()
    finally:
        connection.close()
    return row[0] if row else None
