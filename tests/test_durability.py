"""Two processes on one database, and kill -9 in the middle of writing."""

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from story import Store
from tests.conftest import ROOT

WRITER = """
import sys
from story import Store
path, story_id, name, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with Store.open(path) as store:
    root = store.story(story_id).root_id
    for i in range(count):
        store.append(root, f" {name}-{i}.", move_tip=(i % 3 == 0))
        store.tip_to_parent(story_id)
        print(i, flush=True)
"""


def spawn(script: str, *args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def test_two_processes_writing_at_once_lose_nothing(db_path: Path):
    with Store.open(db_path) as store:
        shared = store.create_story("Shared", opening="Both write here.")
    writers = [spawn(WRITER, db_path, shared.id, name, 150) for name in ("left", "right")]
    for writer in writers:
        out, _ = writer.communicate(timeout=120)
        assert writer.returncode == 0
        assert out.split()[-1] == "149"
    with Store.open(db_path) as store:
        texts = {n.text for n in store.children(shared.root_id)}
        expected = {f" {name}-{i}." for name in ("left", "right") for i in range(150)}
        assert texts == expected
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


APPENDER = """
import sys
from story import Store
with Store.open(sys.argv[1]) as store:
    story = store.create_story("Crash test", opening="Start.")
    print("story", story.id, flush=True)
    tip = story.root_id
    for i in range(100_000):
        tip = store.append(tip, f" word{i}").id
        print(i, flush=True)
"""


def read_acknowledged(process: subprocess.Popen, wanted: int) -> list[str]:
    lines = []
    while len(lines) < wanted:
        line = process.stdout.readline()
        assert line, "the writer stopped early"
        lines.append(line.strip())
    return lines


def test_kill_9_while_appending_loses_nothing_already_saved(db_path: Path):
    rng = random.Random(4)
    for _ in range(3):
        process = spawn(APPENDER, db_path)
        lines = read_acknowledged(process, rng.randrange(20, 200))
        os.kill(process.pid, signal.SIGKILL)  # mid-write, most likely
        process.wait()
        # It may have saved and acknowledged more before the kill landed: those
        # acknowledgements wait in the pipe, and count as saved too.
        lines += [line for line in process.stdout.read().split() if line.isdigit()]
        process.stdout.close()
        story_id = int(lines[0].split()[1])
        last_saved = int(lines[-1])
        with Store.open(db_path) as store:
            assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            text = store.path_text(store.story(story_id).tip_id)
            words = text.split()[1:]
            # Every acknowledged append is there, in order; at most one more made it.
            assert words[: last_saved + 1] == [f"word{i}" for i in range(last_saved + 1)]
            assert len(words) - (last_saved + 1) in (0, 1)


IMPORTER = """
import sys
from story import Store
from story.importer import parse_story_json
tree = parse_story_json(open(sys.argv[2], encoding="utf-8").read())
with Store.open(sys.argv[1]) as store:
    for i in range(1000):
        store.add_story_tree(tree)
        print(i, flush=True)
"""


def test_kill_9_during_a_big_import_leaves_whole_stories_only(db_path: Path, tmp_path: Path):
    from story.export import to_json
    from tests.test_export_import import chain_tree

    export = tmp_path / "big.json"
    export.write_text(to_json(chain_tree(3000)), encoding="utf-8")
    process = spawn(IMPORTER, db_path, export)
    acknowledged = read_acknowledged(process, 2)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()
    with Store.open(db_path) as store:
        counts = [s.nodes for s in store.list_stories()]
        assert len(counts) >= len(acknowledged)
        assert set(counts) == {3000}
