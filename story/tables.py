"""The tables under the story store: the connection, a story's and a node's rows read back,
and the writes every change to the tree is made of. The store (story/store.py) and its passage
edits (story/revisions.py) are built on it."""

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from story.database import guarded, now
from story.errors import NotFound, StoryError
from story.models import AUTHORS, Node, NodeDraft, Story
from story.tokens import TokenRecord, mean_of, pack, unpack
from story.validation import check_seed, check_settings, check_text

NODE_COLUMNS = (
    "id, story_id, parent_id, text, author, created, model, settings, seed, revises_id, "
    "last_child_id, explored, score"
)
STORY_COLUMNS = (
    "id, title, genre, memory, note, note_depth, root_id, tip_id, created, updated, settings, draft"
)

# The path from a node up to the root, with each row's distance from the node.
PATH_UP = """
WITH RECURSIVE up(id, parent_id, distance) AS (
    SELECT id, parent_id, 0 FROM nodes WHERE id = :node
    UNION ALL
    SELECT nodes.id, nodes.parent_id, up.distance + 1 FROM nodes JOIN up ON nodes.id = up.parent_id
)
"""


def settings_json(settings: dict[str, Any] | None, what: str) -> str | None:
    """Settings as stored: strict JSON (no NaN), after the checks."""
    if settings is None:
        return None
    return json.dumps(check_settings(settings, what), allow_nan=False)


def settings_from_json(text: str | None) -> dict[str, Any] | None:
    """Settings as read back; a damaged value (hand-edited, say) reads as no settings."""
    if text is None:
        return None
    try:
        settings = json.loads(text)
    except ValueError:
        return None
    return settings if isinstance(settings, dict) else None


def node_from_row(row: Sequence[Any]) -> Node:
    *fields, settings, seed, revises_id, last_child_id, explored, score = row
    return Node(
        *fields,
        settings_from_json(settings),
        seed,
        revises_id,
        last_child_id,
        bool(explored),
        score,
    )


def check_draft(draft: NodeDraft) -> None:
    if draft.author not in AUTHORS:
        raise StoryError(f"unknown author {draft.author!r}: use 'user' or 'model'")
    check_text(draft.text, "the text")
    if draft.model is not None:
        check_text(draft.model, "the model's name")
    if draft.seed is not None:
        check_seed(draft.seed)


class Tables:
    """A story database's tables, for the classes built on them."""

    def __init__(self, db: sqlite_utils.Database, path: Path):
        self.db = db
        self.conn = db.conn
        self.db_path = path

    # ----------------------------------------------------------------------------- reading

    def _one(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> Any:
        return self.conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        return self.conn.execute(sql, params).fetchall()

    @guarded
    def story(self, story_id: int) -> Story:
        row = self._one(f"SELECT {STORY_COLUMNS} FROM stories WHERE id = ?", (story_id,))
        if row is None:
            raise NotFound(f"there is no story {story_id}: `taletree list` shows the stories")
        *fields, settings, draft = row
        return Story(*fields, settings=settings_from_json(settings), draft=draft)

    @guarded
    def node(self, node_id: int) -> Node:
        row = self._one(f"SELECT {NODE_COLUMNS} FROM nodes WHERE id = ?", (node_id,))
        if row is None:
            raise NotFound(f"there is no node {node_id}")
        return node_from_row(row)

    @guarded
    def children(self, node_id: int) -> list[Node]:
        rows = self._all(
            f"SELECT {NODE_COLUMNS} FROM nodes WHERE parent_id = ? ORDER BY id", (node_id,)
        )
        return [node_from_row(row) for row in rows]

    @guarded
    def token_records(self, node_id: int) -> list[TokenRecord] | None:
        """What the model chose at each token of a node; None when not kept (a node written
        by the writer, or by a Taletree that didn't keep it yet)."""
        row = self._one("SELECT data FROM tokens WHERE node_id = ?", (node_id,))
        return unpack(row[0]) if row else None

    # ----------------------------------------------------------------------------- writing

    def _touch(self, story_id: int) -> None:
        self.conn.execute("UPDATE stories SET updated = ? WHERE id = ?", (now(), story_id))

    def _insert_node(self, story_id: int, parent_id: int | None, draft: NodeDraft) -> int:
        check_draft(draft)
        settings = settings_json(draft.settings, "the settings")
        cursor = self.conn.execute(
            """INSERT INTO nodes (story_id, parent_id, text, author, created, model, settings,
                                  seed, explored, score)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                story_id,
                parent_id,
                draft.text,
                draft.author,
                now(),
                draft.model,
                settings,
                draft.seed,
                int(draft.explored),
                draft.score,
            ),
        )
        if draft.tokens:
            self._insert_tokens(cursor.lastrowid, draft.tokens)  # type: ignore[arg-type]
        return cursor.lastrowid  # type: ignore[return-value]

    def _insert_tokens(self, node_id: int, records: list[TokenRecord]) -> None:
        mean = mean_of(records).logprob
        self.conn.execute(
            "INSERT INTO tokens (node_id, count, mean_logprob, data) VALUES (?, ?, ?, ?)",
            (node_id, len(records), mean, pack(records)),
        )

    def _set_tip(self, story_id: int, node_id: int) -> None:
        """Stand on a node, and make every node above it remember the way down to it. Explored
        passages on the way become part of the story."""
        self.conn.execute("UPDATE stories SET tip_id = ? WHERE id = ?", (node_id, story_id))
        self.conn.execute(
            PATH_UP + "UPDATE nodes SET explored = 0 WHERE explored AND id IN (SELECT id FROM up)",
            {"node": node_id},
        )
        self.conn.execute(
            PATH_UP + "UPDATE nodes SET last_child_id = up.id FROM up "
            "WHERE nodes.id = up.parent_id AND nodes.last_child_id IS NOT up.id",
            {"node": node_id},
        )
