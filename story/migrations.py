"""The schema, as an ordered list of named migrations (the way simonw/llm keeps its own).

Each migration runs once, inside the transaction that records its name, so a database is
never left half-upgraded. A name we don't know means a newer Taletree wrote the file.
Never edit or reorder a migration that has shipped: append a new one.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from story.database import write_transaction
from story.errors import DatabaseUnusable

MIGRATIONS_TABLE = "_taletree_migrations"
Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


@migration
def m001_stories_and_nodes(db: sqlite_utils.Database) -> None:
    db["stories"].create(
        {
            "id": int,
            "title": str,
            "genre": str,
            "memory": str,
            "note": str,
            "note_depth": int,
            "root_id": int,
            "tip_id": int,
            "created": str,
            "updated": str,
        },
        pk="id",
        not_null={"title", "memory", "note", "note_depth", "created", "updated"},
        # A migration is history: its values stay as written, whatever the store's default
        # (DEFAULT_NOTE_DEPTH, which every insert passes) becomes later.
        defaults={"memory": "", "note": "", "note_depth": 3},
    )
    db["nodes"].create(
        {
            "id": int,
            "story_id": int,
            "parent_id": int,
            "text": str,
            "author": str,
            "created": str,
            "model": str,
            "settings": str,  # JSON
            "seed": int,
            "revises_id": int,
            "last_child_id": int,
        },
        pk="id",
        not_null={"story_id", "text", "author", "created"},
        foreign_keys=[("story_id", "stories", "id"), ("parent_id", "nodes", "id")],
    )
    db["nodes"].create_index(["parent_id"])
    db["nodes"].create_index(["story_id"])


@migration
def m002_bookmarks(db: sqlite_utils.Database) -> None:
    db["bookmarks"].create(
        {"node_id": int, "story_id": int, "label": str, "created": str},
        pk="node_id",
        not_null={"story_id", "label", "created"},
        defaults={"label": ""},
        foreign_keys=[("node_id", "nodes", "id"), ("story_id", "stories", "id")],
    )
    db["bookmarks"].create_index(["story_id"])


@migration
def m003_full_text_search(db: sqlite_utils.Database) -> None:
    # No stemming: search follows the writer's typing by prefix ("stirr" finds "stirred"),
    # which a stemmed index can't do. Accents are ignored: "cafe" finds "café".
    tokenize = "unicode61 remove_diacritics 2"
    db["nodes"].enable_fts(["text"], create_triggers=True, tokenize=tokenize)
    db["stories"].enable_fts(["title"], create_triggers=True, tokenize=tokenize)


@migration
def m004_story_settings_and_draft(db: sqlite_utils.Database) -> None:
    # settings: the writer's generation settings for this story (JSON; NULL = the defaults).
    # draft: what the writer typed in the composer but hasn't added yet.
    db["stories"].add_column("settings", str)
    db["stories"].add_column("draft", str, not_null_default="")


@migration
def m005_token_data(db: sqlite_utils.Database) -> None:
    # What the model chose at each token of a node it wrote (story/tokens.py packs it), and
    # the mean log-probability, so a tree can show weak and strong branches without unpacking.
    db["tokens"].create(
        {"node_id": int, "count": int, "mean_logprob": float, "data": bytes},
        pk="node_id",
        not_null={"count", "mean_logprob", "data"},
        foreign_keys=[("node_id", "nodes", "id")],
    )


@migration
def m006_revisions(db: sqlite_utils.Database) -> None:
    # Every earlier text of a node edited in place, newest last: when it was replaced, and the
    # token data it had (a model's text keeps its token view when restored).
    db["revisions"].create(
        {"id": int, "node_id": int, "text": str, "tokens": bytes, "replaced": str},
        pk="id",
        not_null={"node_id", "text", "replaced"},
        foreign_keys=[("node_id", "nodes", "id")],
    )
    db["revisions"].create_index(["node_id"])


@migration
def m007_lorebook(db: sqlite_utils.Database) -> None:
    # A story's lorebook (world info): entries whose keys, found near the end of the story,
    # put their text into what the model reads. keys: a JSON list of strings.
    db["lore"].create(
        {
            "id": int,
            "story_id": int,
            "keys": str,
            "text": str,
            "rank": int,
            "always": int,
            "regex": int,
            "case_sensitive": int,
            "placement": str,
            "depth": int,
        },
        pk="id",
        not_null={
            "story_id",
            "keys",
            "text",
            "rank",
            "always",
            "regex",
            "case_sensitive",
            "placement",
            "depth",
        },
        defaults={
            "rank": 0,
            "always": 0,
            "regex": 0,
            "case_sensitive": 0,
            "placement": "top",
            "depth": 0,
        },
        foreign_keys=[("story_id", "stories", "id")],
    )
    db["lore"].create_index(["story_id"])


@migration
def m008_explored_nodes(db: sqlite_utils.Database) -> None:
    # Passages written by an exploration ahead of the story: kept in the tree but not part of
    # the story until the writer stands on one (explored = 1), each with the score the search
    # gave it (a higher score is better; NULL for a passage nothing scored).
    db["nodes"].add_column("explored", int, not_null_default=0)
    db["nodes"].add_column("score", float)


def refuse_foreign(db: sqlite_utils.Database, path: Path) -> None:
    """An SQLite database holding tables, none of them Taletree's record of its upgrades, is
    another program's: refused before anything is written to it."""
    listed = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
    names = [row[0] for row in db.execute(listed)]
    if names and MIGRATIONS_TABLE not in names:
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise DatabaseUnusable(
            f"{path} is an SQLite database, but not Taletree's (it holds {shown}): pass --db "
            "with another path, or move the file aside"
        )


def applied(db: sqlite_utils.Database) -> list[str]:
    if not db[MIGRATIONS_TABLE].exists():
        return []
    return [row[0] for row in db.execute(f"SELECT name FROM {MIGRATIONS_TABLE} ORDER BY rowid")]


def unknown(db: sqlite_utils.Database) -> list[str]:
    """Migrations recorded in the file that this version doesn't have: a newer version's."""
    known = {m.__name__ for m in MIGRATIONS}
    return [name for name in applied(db) if name not in known]


def pending(db: sqlite_utils.Database, migrations: list[Migration] = MIGRATIONS) -> list[Migration]:
    done = set(applied(db))
    return [m for m in migrations if m.__name__ not in done]


def apply(db: sqlite_utils.Database, migrations: list[Migration] = MIGRATIONS) -> list[str]:
    """Apply the pending migrations, each in its own transaction; return their names.

    Pending steps are read again inside each write transaction, so two processes opening a
    new database at the same moment don't both run the same step.
    """
    names: list[str] = []
    if not pending(db, migrations):
        return names  # the common case: no write lock taken, so a busy writer elsewhere is fine
    while True:
        with write_transaction(db.conn):
            todo = pending(db, migrations)
            if not todo:
                return names
            step = todo[0]
            db[MIGRATIONS_TABLE].create(
                {"name": str, "applied_at": str}, pk="name", if_not_exists=True
            )
            step(db)
            db[MIGRATIONS_TABLE].insert(
                {"name": step.__name__, "applied_at": datetime.now(UTC).isoformat()}
            )
        names.append(step.__name__)
