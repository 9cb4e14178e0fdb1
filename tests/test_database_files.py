"""Opening stories.db: migrations, and every kind of bad file, through the real command line.
A bad file gives one line naming it and what to do, exit code 2, and is left byte for byte."""

import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from story import Store, migrations
from story.errors import DatabaseUnusable
from tests.conftest import run_cli


def snapshot(path: Path) -> tuple[bytes, list[str]]:
    """The file's bytes, and which files sit beside it (no stray -wal or -shm)."""
    return path.read_bytes(), sorted(p.name for p in path.parent.iterdir())


def assert_refused(result, *phrases: str) -> None:
    assert result.returncode == 2, result
    message = result.stderr.strip()
    assert "\n" not in message and message.startswith("taletree: "), message
    assert "Traceback" not in result.stderr
    for phrase in phrases:
        assert phrase in message, message


def make_story_db(path: Path, nodes: int = 200) -> None:
    with Store.open(path) as store:
        story = store.create_story("Kept", opening="Start.")
        tip = story.root_id
        for i in range(nodes):
            tip = store.append(tip, f" Sentence number {i} with some words to fill pages.").id


def test_a_new_database_gets_every_migration_and_wal(db_path):
    with Store.open(db_path) as store:
        assert migrations.applied(store.db) == [m.__name__ for m in migrations.MIGRATIONS]
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def test_an_old_database_is_upgraded_in_place_keeping_its_stories(db_path):
    # A file as the first version left it: only the first migration, and a story in it.
    old = sqlite_utils.Database(db_path)
    migrations.apply(old, migrations.MIGRATIONS[:1])
    old["stories"].insert(
        {
            "id": 1,
            "title": "From long ago",
            "root_id": 1,
            "tip_id": 2,
            "created": "2020-01-01T00:00:00+00:00",
            "updated": "2020-01-01T00:00:00+00:00",
        }
    )
    old["nodes"].insert_all(
        [
            {
                "id": 1,
                "story_id": 1,
                "text": "An old harbour.",
                "author": "user",
                "created": "2020-01-01T00:00:00+00:00",
            },
            {
                "id": 2,
                "story_id": 1,
                "parent_id": 1,
                "text": " Gulls everywhere.",
                "author": "model",
                "created": "2020-01-01T00:00:01+00:00",
                "model": "gpt2",
                "seed": 5,
            },
        ]
    )
    old.close()
    assert run_cli("list", db=db_path).returncode == 0
    with Store.open(db_path) as store:
        assert migrations.applied(store.db) == [m.__name__ for m in migrations.MIGRATIONS]
        assert store.path_text(2) == "An old harbour. Gulls everywhere."
        assert store.node(2).seed == 5
        assert [h.node_id for h in store.search("gulls")] == [2]  # old text is searchable
        store.bookmark(2, "works too")


def test_a_database_from_a_newer_version_is_refused_untouched(db_path):
    make_story_db(db_path, nodes=3)
    conn = sqlite3.connect(db_path)
    conn.execute(
        "INSERT INTO _taletree_migrations (name, applied_at) VALUES ('m999_from_the_future', '')"
    )
    conn.commit()
    conn.close()
    before = snapshot(db_path)
    with pytest.raises(DatabaseUnusable, match="newer version of Taletree"):
        Store.open(db_path)
    for command in (["list"], ["rename", "1", "Changed"]):
        assert_refused(run_cli(*command, db=db_path), str(db_path), "newer version", "upgrade")
    assert snapshot(db_path) == before


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path):
    novel = tmp_path / "my-novel.db"
    novel.write_text("Chapter one. It was a dark and stormy night.\n" * 50)
    before = snapshot(novel)
    assert_refused(run_cli("list", db=novel), str(novel), "not an SQLite file", "--db")
    assert_refused(run_cli("new", "X", db=novel), str(novel))
    assert snapshot(novel) == before


@pytest.mark.parametrize("damage", ["scribbled", "truncated"])
def test_a_damaged_database_is_refused_untouched(db_path, damage):
    make_story_db(db_path)
    data = bytearray(db_path.read_bytes())
    assert len(data) > 8 * 4096
    if damage == "scribbled":
        data[2 * 4096 : 6 * 4096] = bytes(range(256)) * 64
    else:
        data = data[: len(data) // 2]
    db_path.write_bytes(bytes(data))
    before = snapshot(db_path)
    for command in (["list"], ["show", "1"], ["rename", "1", "New"], ["new", "Other"]):
        assert_refused(run_cli(*command, db=db_path), str(db_path), "damaged", "backup")
    assert snapshot(db_path) == before


def test_a_read_only_database_is_refused_untouched(db_path):
    make_story_db(db_path, nodes=3)
    db_path.chmod(0o444)
    before = snapshot(db_path)
    for command in (["list"], ["new", "Other"]):
        assert_refused(run_cli(*command, db=db_path), str(db_path), "read-only", "writable")
    assert snapshot(db_path) == before


def test_a_missing_folder_or_a_folder_as_the_file(tmp_path):
    missing = tmp_path / "nowhere" / "stories.db"
    assert_refused(run_cli("list", db=missing), "does not exist")
    assert not missing.parent.exists()
    assert_refused(run_cli("list", db=tmp_path), str(tmp_path), "not a file")


LOCK_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE stories SET title = 'held' WHERE id = 1")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
conn.execute("ROLLBACK")
"""


def test_a_database_locked_by_another_program(db_path):
    make_story_db(db_path, nodes=3)
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(db_path), "12"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = run_cli("rename", "1", "Changed", db=db_path)
        assert time.monotonic() - started >= 4  # it waited for the other writer first
        assert_refused(result, str(db_path), "locked by another program", "try again")
        # Reading is not blocked by a writer (WAL).
        listed = run_cli("list", db=db_path)
        assert listed.returncode == 0 and "Kept" in listed.stdout
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    with Store.open(db_path) as store:
        assert store.story(1).title == "Kept"


def test_a_database_written_before_revisions_and_the_lorebook_is_upgraded(tmp_path):
    """tests/data/stories-v0.1.0.db was written by Taletree as it was before passages could be
    edited in place (migrations m001 to m005): opening it adds revisions and the lorebook and
    keeps everything it held."""
    db = tmp_path / "stories.db"
    shutil.copy(Path(__file__).parent / "data" / "stories-v0.1.0.db", db)
    assert run_cli("list", db=db).returncode == 0
    with Store.open(db) as store:
        assert migrations.applied(store.db) == [m.__name__ for m in migrations.MIGRATIONS]
        story = store.find_story("Written before revisions")
        assert (story.settings, story.draft) == ({"branches": 2}, "Half a thought")
        assert store.path_text(story.tip_id) == "The lamp went out. She waited. Rain fell."
        kept = store.node(story.tip_id)
        assert kept.seed == 5 and len(store.token_records(kept.id)) == 2
        assert [b.label for b in store.bookmarks(story.id)] == ["the wait"]
        store.revise(kept.id, " Snow fell.")
        assert [r.text for r in store.revisions(kept.id)] == [" Rain fell."]
        from story.lorebook import LoreEntry

        store.add_lore(story.id, LoreEntry(("Mara",), "Mara keeps the light."))
        assert [e.keys for e in store.lore(story.id)] == [("Mara",)]


TWO_CONNECTIONS = """
import sys
from story import Store
first = Store.open(sys.argv[1])
first.create_story("Before", opening="Written before the second connection.")
second = Store.open(sys.argv[1])  # as the explore worker opens its own
print("open", flush=True)
sys.stdin.readline()
first.create_story("After", opening="Written after another program looked in.")
second.close()
first.close()
"""


def test_a_second_connection_keeps_the_firsts_locks_so_nothing_is_lost(db_path):
    """Opening a database must not open and close the file itself: on Linux, closing any
    descriptor of a file drops every lock the process holds on it, so another program that
    looked in and closed would take itself for the last one, fold the write-ahead log into the
    file and delete it while Taletree is still writing to it."""
    make_story_db(db_path, nodes=3)
    writer = subprocess.Popen(
        [sys.executable, "-c", TWO_CONNECTIONS, str(db_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "open"
        reader = sqlite3.connect(db_path)  # another program, looking in and closing
        assert reader.execute("SELECT count(*) FROM stories").fetchone() == (2,)
        reader.close()
        assert db_path.with_name(db_path.name + "-wal").exists()  # still Taletree's
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.wait(timeout=30) == 0
    finally:
        writer.kill()
        writer.wait()
        writer.stdin.close()
        writer.stdout.close()
    with Store.open(db_path) as store:
        titles = {s.title for s in store.list_stories()}
    assert {"Kept", "Before", "After"} <= titles
