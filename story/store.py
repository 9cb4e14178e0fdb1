"""The story tree in SQLite. Every public write is one transaction: a crash at any moment loses
at most the action in flight.

Nodes form a tree by parent_id. Node ids only grow, so siblings are listed oldest first by id;
a parent's id is usually smaller than its children's, but not always (a passage split in two
puts a newer node above older ones), so a whole tree is put in order by walking it.
"""

import heapq
import json
import re
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from story import migrations
from story.database import configure, connect, guarded, now, write_transaction
from story.errors import DatabaseUnusable, NotFound, StoryError, describe_sqlite_error
from story.lorebook import LoreEntry, check_entry
from story.models import (
    DEFAULT_NOTE_DEPTH,
    Bookmark,
    Node,
    NodeDraft,
    Revision,
    SearchHit,
    Story,
    StorySummary,
    StoryTree,
    WordCount,
)
from story.revisions import Revisions
from story.tables import NODE_COLUMNS, PATH_UP, node_from_row, settings_json
from story.tokens import TokenMean
from story.validation import (
    check_line,
    check_note_depth,
    check_text,
    check_time,
    check_title,
)

# Every node in the subtrees below a list of nodes (a JSON array of ids), those nodes included.
SUBTREES = """
WITH RECURSIVE down(id) AS (
    SELECT value FROM json_each(:roots)
    UNION ALL
    SELECT nodes.id FROM nodes JOIN down ON nodes.parent_id = down.id
)
"""


def row_damage(title: Any, updated: Any) -> str | None:
    """What is wrong with a story's row as the library lists it (a file edited by hand, or
    written by a version that checked less), so the library can show the rest and say so."""
    for check, value, what in (
        (check_title, title, "its title"),
        (check_time, updated, "its last-edited time"),
    ):
        try:
            check(value, what)
        except StoryError as error:
            return str(error)
    return None


def remove_database(path: Path) -> None:
    """A database file and the files SQLite keeps beside it."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def check_story_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """A story's fields as they will be stored, each checked."""
    checks = {
        "title": check_title,
        "genre": lambda value, what: check_line(value, what) if value else None,
        "memory": check_text,
        "note": check_text,
        "note_depth": check_note_depth,
        "settings": lambda value, what: settings_json(value or None, what),
    }
    return {
        name: checks[name](value, f"the {name.replace('_', ' ')}") for name, value in fields.items()
    }


def parents_first(nodes: list[Node]) -> list[Node]:
    """The nodes of a tree with every parent before its children, the root first, and
    otherwise oldest first (creation order)."""
    children: dict[int | None, list[Node]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    ready = [(node.id, node) for node in children.get(None, [])]
    heapq.heapify(ready)
    ordered = []
    while ready:
        _, node = heapq.heappop(ready)
        ordered.append(node)
        for child in children.get(node.id, []):
            heapq.heappush(ready, (child.id, child))
    return ordered


def lore_from_row(row: Sequence[Any]) -> LoreEntry:
    entry_id, story_id, keys, text, rank, always, regex, case_sensitive, placement, depth = row
    return LoreEntry(
        tuple(json.loads(keys)),
        text,
        rank,
        bool(always),
        bool(regex),
        bool(case_sensitive),
        placement,
        depth,
        entry_id,
        story_id,
    )


LORE_COLUMNS = "id, story_id, keys, text, rank, always, regex, case_sensitive, placement, depth"


class Store(Revisions):
    """A story database. Open one with Store.open(path); use it from one thread."""

    @classmethod
    def open(cls, path: str | Path) -> "Store":
        """Open a story database, or create one. A file that is not Taletree's (nor empty) is
        refused before anything is written to it; a file created here and left unfinished (a
        full disk, say) is removed."""
        path = Path(path).absolute()
        created = not path.exists()
        conn = connect(path)
        try:
            db = sqlite_utils.Database(conn)
            migrations.refuse_foreign(db, path)
            newer = migrations.unknown(db)
            if newer:
                raise DatabaseUnusable(
                    f"{path} was written by a newer version of Taletree (it has the "
                    f"{newer[0]} upgrade): upgrade taletree to open it"
                )
            configure(conn)
            migrations.apply(db)
        except BaseException as error:
            conn.close()
            if created:
                remove_database(path)
            if isinstance(error, sqlite3.Error):
                raise describe_sqlite_error(path, error) or error from error
            raise
        return cls(db, path)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------- reading

    @guarded
    def find_story(self, ref: str | int) -> Story:
        """A story by id, or else by its exact title."""
        ref = str(ref).strip()
        if ref.isdigit():
            row = self._one("SELECT id FROM stories WHERE id = ?", (int(ref),))
            if row:
                return self.story(row[0])
        ids = [row[0] for row in self._all("SELECT id FROM stories WHERE title = ?", (ref,))]
        if not ids:
            raise NotFound(f"no story has the id or title {ref!r}: `taletree list` shows them")
        if len(ids) > 1:
            listed = ", ".join(map(str, ids))
            raise StoryError(f"{len(ids)} stories are titled {ref!r} (ids {listed}): use an id")
        return self.story(ids[0])

    @guarded
    def list_stories(self, count_words: bool = False) -> list[StorySummary]:
        """Every story, the most recently edited first, with its size (words along its
        current path only when asked: that reads each whole path)."""
        rows = self._all(
            """SELECT id, title, genre,
                      (SELECT count(*) FROM nodes WHERE nodes.story_id = stories.id), updated,
                      tip_id
               FROM stories ORDER BY updated DESC, id DESC"""
        )
        return [
            StorySummary(
                *row[:5],
                words=self.words(row[5]) if count_words else WordCount(),
                damage=row_damage(row[1], row[4]),
            )
            for row in rows
        ]

    @guarded
    def node_count(self, story_id: int) -> int:
        """How many nodes a story's tree has, every alternative counted."""
        return self._one("SELECT count(*) FROM nodes WHERE story_id = ?", (story_id,))[0]

    @guarded
    def words(self, node_id: int) -> WordCount:
        """How many words the story has along the path down to this node, and how many of
        them the writer wrote (the rest are the model's)."""
        # Words are counted per node, so one split across two nodes counts twice: close
        # enough for a size shown in a list, and it never holds a whole long story in memory.
        rows = self._all(
            PATH_UP + "SELECT nodes.text, nodes.author FROM up JOIN nodes ON nodes.id = up.id",
            {"node": node_id},
        )
        counts = [(len(text.split()), author) for text, author in rows]
        return WordCount(sum(n for n, _ in counts), sum(n for n, a in counts if a == "user"))

    @guarded
    def tip(self, story_id: int) -> Node:
        return self.node(self.story(story_id).tip_id)

    @guarded
    def siblings(self, node_id: int) -> list[Node]:
        """The alternatives at this node's place in the tree, itself included, oldest first."""
        node = self.node(node_id)
        return [node] if node.parent_id is None else self.children(node.parent_id)

    @guarded
    def path(self, node_id: int) -> list[Node]:
        """The nodes from the root down to this one."""
        rows = self._all(
            PATH_UP + f"SELECT {', '.join('nodes.' + c for c in NODE_COLUMNS.split(', '))} "
            "FROM up JOIN nodes ON nodes.id = up.id ORDER BY up.distance DESC",
            {"node": node_id},
        )
        if not rows:
            raise NotFound(f"there is no node {node_id}")
        return [node_from_row(row) for row in rows]

    def path_text(self, node_id: int) -> str:
        """The story as read along the path: the node texts joined as they are."""
        return "".join(node.text for node in self.path(node_id))

    @guarded
    def story_tree(self, story_id: int) -> StoryTree:
        """The whole story in one snapshot, parents before children (for export)."""
        story = self.story(story_id)
        rows = self._all(
            f"SELECT {NODE_COLUMNS} FROM nodes WHERE story_id = ? ORDER BY id", (story_id,)
        )
        revisions = self._all(
            "SELECT revisions.id, revisions.node_id, revisions.text, revisions.replaced "
            "FROM revisions JOIN nodes ON nodes.id = revisions.node_id "
            "WHERE nodes.story_id = ? ORDER BY revisions.id",
            (story_id,),
        )
        return StoryTree(
            title=story.title,
            genre=story.genre,
            memory=story.memory,
            note=story.note,
            note_depth=story.note_depth,
            created=story.created,
            updated=story.updated,
            tip_id=story.tip_id,
            nodes=parents_first([node_from_row(row) for row in rows]),
            bookmarks=self.bookmarks(story_id),
            revisions=[Revision(*row) for row in revisions],
            lore=self.lore(story_id),
            settings=story.settings,
        )

    @guarded
    def token_means(self, story_id: int) -> dict[int, TokenMean]:
        """Each model node's token count and mean log-probability, where known (kept as the
        node is stored)."""
        rows = self._all(
            """SELECT tokens.node_id, tokens.count, tokens.mean_logprob FROM tokens
               JOIN nodes ON nodes.id = tokens.node_id WHERE nodes.story_id = ?""",
            (story_id,),
        )
        return {node_id: TokenMean(count, mean) for node_id, count, mean in rows}

    @guarded
    def bookmarks(self, story_id: int) -> list[Bookmark]:
        rows = self._all(
            "SELECT node_id, story_id, label, created FROM bookmarks WHERE story_id = ? "
            "ORDER BY node_id",
            (story_id,),
        )
        return [Bookmark(*row) for row in rows]

    @guarded
    def search(
        self, query: str, limit: int = 50, marks: tuple[str, str] = ("", "")
    ) -> list[SearchHit]:
        """Full-text search over titles and node text; the last word matches as a prefix, so
        results can follow the writer's typing. `marks` wrap the matched words in snippets."""
        match = fts_query(query)
        if not match:
            return []
        titles = self._all(
            """SELECT stories.id, stories.title FROM stories_fts
               JOIN stories ON stories.rowid = stories_fts.rowid
               WHERE stories_fts MATCH ? ORDER BY stories_fts.rank LIMIT ?""",
            (match, limit),
        )
        hits = [SearchHit(story_id, title, None, title) for story_id, title in titles]
        texts = self._all(
            """SELECT stories.id, stories.title, nodes.id,
                      snippet(nodes_fts, 0, :open, :close, '…', 12)
               FROM nodes_fts JOIN nodes ON nodes.rowid = nodes_fts.rowid
               JOIN stories ON stories.id = nodes.story_id
               WHERE nodes_fts MATCH :match AND NOT nodes.explored
               ORDER BY nodes_fts.rank LIMIT :limit""",
            {"match": match, "open": marks[0], "close": marks[1], "limit": limit - len(hits)},
        )
        return hits + [SearchHit(s, title, n, snippet.strip()) for s, title, n, snippet in texts]

    # ----------------------------------------------------------------------------- writing

    @guarded
    def create_story(
        self,
        title: str,
        *,
        genre: str | None = None,
        opening: str = "",
        memory: str = "",
        note: str = "",
        note_depth: int = DEFAULT_NOTE_DEPTH,
    ) -> Story:
        fields = check_story_fields(
            {
                "title": title,
                "genre": genre,
                "memory": memory,
                "note": note,
                "note_depth": note_depth,
            }
        )
        check_text(opening, "the opening")
        stamp = now()
        with write_transaction(self.conn):
            cursor = self.conn.execute(
                """INSERT INTO stories (title, genre, memory, note, note_depth, created, updated)
                   VALUES (:title, :genre, :memory, :note, :note_depth, :stamp, :stamp)""",
                {**fields, "stamp": stamp},
            )
            story_id = cursor.lastrowid
            root = self._insert_node(story_id, None, NodeDraft(opening))  # type: ignore[arg-type]
            self.conn.execute(
                "UPDATE stories SET root_id = ?, tip_id = ? WHERE id = ?", (root, root, story_id)
            )
        return self.story(story_id)  # type: ignore[arg-type]

    @guarded
    def update_story(self, story_id: int, **fields: Any) -> Story:
        """Change title, genre, memory, note, note_depth or settings (the writer's generation
        settings for this story, a mapping; None: back to the defaults), in one transaction."""
        allowed = {"title", "genre", "memory", "note", "note_depth", "settings"}
        unknown = set(fields) - allowed
        if unknown:
            raise StoryError(f"a story has no field {sorted(unknown)[0]!r}")
        fields = check_story_fields(fields)
        with write_transaction(self.conn):
            self.story(story_id)
            if fields:
                self.db["stories"].update(story_id, fields)
            if set(fields) - {"settings"}:  # new settings alone are no edit of the story
                self._touch(story_id)
        return self.story(story_id)

    @guarded
    def save_draft(self, story_id: int, text: str) -> None:
        """Keep the composer's unsent text; it doesn't count as an edit of the story."""
        with write_transaction(self.conn):
            self.story(story_id)
            self.conn.execute("UPDATE stories SET draft = ? WHERE id = ?", (text, story_id))

    def rename_story(self, story_id: int, title: str) -> Story:
        return self.update_story(story_id, title=title)

    @guarded
    def delete_story(self, story_id: int) -> None:
        with write_transaction(self.conn):
            self.story(story_id)
            self.conn.execute("DELETE FROM bookmarks WHERE story_id = ?", (story_id,))
            self.conn.execute("DELETE FROM lore WHERE story_id = ?", (story_id,))
            for table in ("tokens", "revisions"):
                self.conn.execute(
                    f"DELETE FROM {table} WHERE node_id IN "
                    "(SELECT id FROM nodes WHERE story_id = ?)",
                    (story_id,),
                )
            self.conn.execute("DELETE FROM nodes WHERE story_id = ?", (story_id,))
            self.conn.execute("DELETE FROM stories WHERE id = ?", (story_id,))

    @guarded
    def append(self, parent_id: int, draft: NodeDraft | str, *, move_tip: bool = True) -> Node:
        """Add a child below a node; by default the writer then stands on it."""
        if isinstance(draft, str):
            draft = NodeDraft(draft)
        with write_transaction(self.conn):
            parent = self.node(parent_id)
            node_id = self._insert_node(parent.story_id, parent_id, draft)
            if move_tip:
                self._set_tip(parent.story_id, node_id)
            self._touch(parent.story_id)
        return self.node(node_id)

    @guarded
    def add_children(self, parent_id: int, drafts: Iterable[NodeDraft]) -> list[Node]:
        """Add alternatives below a node, all at once (the model's N branches); the tip stays."""
        with write_transaction(self.conn):
            parent = self.node(parent_id)
            ids = [self._insert_node(parent.story_id, parent_id, draft) for draft in drafts]
            self._touch(parent.story_id)
        return [self.node(node_id) for node_id in ids]

    @guarded
    def edit_as_branch(self, node_id: int, text: str, *, move_tip: bool = True) -> Node:
        """An edit as a new branch: a sibling that remembers the node it revises; the original
        stays, with its subtree. The opening (the root) has no siblings: it is edited in place,
        its earlier text kept as a revision."""
        if self.node(node_id).parent_id is None:
            return self.revise(node_id, text)
        with write_transaction(self.conn):
            node = self.node(node_id)
            revision_id = self._insert_node(node.story_id, node.parent_id, NodeDraft(text))
            self.conn.execute(
                "UPDATE nodes SET revises_id = ? WHERE id = ?", (node_id, revision_id)
            )
            if move_tip:
                self._set_tip(node.story_id, revision_id)
            self._touch(node.story_id)
        return self.node(revision_id)

    @guarded
    def move_tip(self, node_id: int) -> Node:
        with write_transaction(self.conn):
            node = self.node(node_id)
            self._set_tip(node.story_id, node_id)
        return self.node(node_id)

    def tip_to_parent(self, story_id: int) -> Node | None:
        """Step back (undo); None at the opening."""
        tip = self.tip(story_id)
        return None if tip.parent_id is None else self.move_tip(tip.parent_id)

    def tip_to_child(self, story_id: int) -> Node | None:
        """Step forward (redo) along the child last stood on, else the first; None at a leaf."""
        tip = self.tip(story_id)
        children = [c for c in self.children(tip.id) if not c.explored]
        if not children:
            return None
        chosen = next((c for c in children if c.id == tip.last_child_id), children[0])
        return self.move_tip(chosen.id)

    def tip_to_sibling(self, story_id: int, step: int) -> Node | None:
        """Move to the previous (-1) or next (+1) alternative; None past either end."""
        tip = self.tip(story_id)
        siblings = [s for s in self.siblings(tip.id) if not s.explored or s.id == tip.id]
        index = [s.id for s in siblings].index(tip.id) + step
        if not 0 <= index < len(siblings):
            return None
        return self.move_tip(siblings[index].id)

    def step(self, story_id: int, direction: str) -> Node | None:
        """A move along the tree: parent, child, previous or next (sibling); None at an end."""
        moves = {
            "parent": lambda: self.tip_to_parent(story_id),
            "child": lambda: self.tip_to_child(story_id),
            "previous": lambda: self.tip_to_sibling(story_id, -1),
            "next": lambda: self.tip_to_sibling(story_id, +1),
        }
        if direction not in moves:
            raise StoryError(f"no move {direction!r}: use one of {', '.join(moves)}")
        return moves[direction]()

    def _delete_subtrees(self, story_id: int, roots: list[int], fallback_tip: int) -> int:
        """Delete whole subtrees; if the tip was inside one, stand on fallback_tip instead."""
        params = {"roots": json.dumps(roots)}
        tip_id = self.story(story_id).tip_id
        tip_inside = self._one(
            SUBTREES + "SELECT 1 FROM down WHERE id = :tip", {**params, "tip": tip_id}
        )
        if tip_inside:
            self._set_tip(story_id, fallback_tip)
        self.conn.execute(
            SUBTREES + "UPDATE nodes SET last_child_id = NULL WHERE last_child_id IN down", params
        )
        # sqlite3 reports no rowcount for a statement that starts with WITH: count first.
        count = self._one(SUBTREES + "SELECT count(*) FROM down", params)[0]
        self.conn.execute(SUBTREES + "DELETE FROM bookmarks WHERE node_id IN down", params)
        self.conn.execute(SUBTREES + "DELETE FROM tokens WHERE node_id IN down", params)
        self.conn.execute(SUBTREES + "DELETE FROM revisions WHERE node_id IN down", params)
        self.conn.execute(SUBTREES + "DELETE FROM nodes WHERE id IN down", params)
        self._touch(story_id)
        return count

    @guarded
    def delete_subtree(self, node_id: int) -> int:
        """Delete a node and everything below it; returns how many nodes went."""
        with write_transaction(self.conn):
            node = self.node(node_id)
            if node.parent_id is None:
                raise StoryError(
                    "the opening can't be deleted on its own: delete the story instead"
                )
            return self._delete_subtrees(node.story_id, [node_id], node.parent_id)

    @guarded
    def bookmark(self, node_id: int, label: str = "") -> Bookmark:
        with write_transaction(self.conn):
            node = self.node(node_id)
            self.db["bookmarks"].upsert(
                {"node_id": node_id, "story_id": node.story_id, "label": label, "created": now()},
                pk="node_id",
            )
            self._touch(node.story_id)
        return next(b for b in self.bookmarks(node.story_id) if b.node_id == node_id)

    @guarded
    def unbookmark(self, node_id: int) -> None:
        with write_transaction(self.conn):
            node = self.node(node_id)
            self.conn.execute("DELETE FROM bookmarks WHERE node_id = ?", (node_id,))
            self._touch(node.story_id)

    # ------------------------------------------------------------------------------ lorebook

    @guarded
    def lore(self, story_id: int) -> list[LoreEntry]:
        """A story's lorebook entries, by rank, then as they were added."""
        rows = self._all(
            f"SELECT {LORE_COLUMNS} FROM lore WHERE story_id = ? ORDER BY rank, id", (story_id,)
        )
        return [lore_from_row(row) for row in rows]

    def _lore_values(self, entry: LoreEntry) -> dict[str, Any]:
        checked = check_entry(entry)
        return {
            "keys": json.dumps(list(checked.keys), ensure_ascii=False),
            "text": checked.text,
            "rank": checked.rank,
            "always": checked.always,
            "regex": checked.regex,
            "case_sensitive": checked.case_sensitive,
            "placement": checked.placement,
            "depth": checked.depth,
        }

    @guarded
    def add_lore(self, story_id: int, entry: LoreEntry) -> LoreEntry:
        [entry_id] = self.add_lore_entries(story_id, [entry])
        return self.lore_entry(entry_id)

    @guarded
    def add_lore_entries(self, story_id: int, entries: Iterable[LoreEntry]) -> list[int]:
        """Add entries to a story's lorebook, all or none; their new ids."""
        rows = [{**self._lore_values(entry), "story_id": story_id} for entry in entries]
        with write_transaction(self.conn):
            self.story(story_id)
            ids = [self.db["lore"].insert(row).last_pk for row in rows]
            self._touch(story_id)
        return ids

    @guarded
    def lore_entry(self, entry_id: int) -> LoreEntry:
        row = self._one(f"SELECT {LORE_COLUMNS} FROM lore WHERE id = ?", (entry_id,))
        if row is None:
            raise NotFound(f"there is no lore entry {entry_id}")
        return lore_from_row(row)

    @guarded
    def update_lore(self, entry: LoreEntry) -> LoreEntry:
        """Change a stored entry (entry.id says which) to this one."""
        values = self._lore_values(entry)
        with write_transaction(self.conn):
            stored = self.lore_entry(entry.id)  # type: ignore[arg-type]
            self.db["lore"].update(stored.id, values)
            self._touch(stored.story_id)  # type: ignore[arg-type]
        return self.lore_entry(stored.id)  # type: ignore[arg-type]

    @guarded
    def delete_lore(self, entry_id: int) -> None:
        with write_transaction(self.conn):
            stored = self.lore_entry(entry_id)
            self.conn.execute("DELETE FROM lore WHERE id = ?", (entry_id,))
            self._touch(stored.story_id)  # type: ignore[arg-type]

    @guarded
    def add_story_tree(self, tree: StoryTree) -> Story:
        """Store a whole story at once (import, duplicate), with new ids, in one transaction:
        its nodes, bookmarks, revisions (without their token data), lorebook and settings.

        tree.nodes must list parents before children; the first node is the root.
        """
        title = check_title(tree.title)
        check_note_depth(tree.note_depth)
        with write_transaction(self.conn):
            cursor = self.conn.execute(
                """INSERT INTO stories (title, genre, memory, note, note_depth, created, updated)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (
                    title,
                    tree.genre or None,
                    tree.memory,
                    tree.note,
                    tree.note_depth,
                    tree.created,
                    tree.updated,
                ),
            )
            story_id = cursor.lastrowid
            first = self._one("SELECT coalesce(max(id), 0) + 1 FROM nodes")[0]
            new_id = {node.id: first + i for i, node in enumerate(tree.nodes)}
            self.conn.executemany(
                f"INSERT INTO nodes ({NODE_COLUMNS}) VALUES ({', '.join('?' * 13)})",
                (
                    (
                        new_id[node.id],
                        story_id,
                        new_id[node.parent_id] if node.parent_id is not None else None,
                        node.text,
                        node.author,
                        node.created,
                        node.model,
                        settings_json(node.settings, "the settings"),
                        node.seed,
                        new_id.get(node.revises_id),  # type: ignore[arg-type]
                        new_id.get(node.last_child_id),  # type: ignore[arg-type]
                        int(node.explored),
                        node.score,
                    )
                    for node in tree.nodes
                ),
            )
            root = new_id[tree.nodes[0].id]
            self.conn.execute(
                "UPDATE stories SET root_id = ?, tip_id = ? WHERE id = ?",
                (root, new_id[tree.tip_id], story_id),
            )
            self.conn.executemany(
                "INSERT INTO bookmarks (node_id, story_id, label, created) VALUES (?, ?, ?, ?)",
                ((new_id[b.node_id], story_id, b.label, b.created) for b in tree.bookmarks),
            )
            self.conn.executemany(
                "INSERT INTO revisions (node_id, text, replaced) VALUES (?, ?, ?)",
                ((new_id[r.node_id], r.text, r.replaced) for r in tree.revisions),
            )
            for entry in tree.lore:
                self.db["lore"].insert({**self._lore_values(entry), "story_id": story_id})
            if tree.settings:
                settings = settings_json(tree.settings, "the settings")
                self.conn.execute(
                    "UPDATE stories SET settings = ? WHERE id = ?", (settings, story_id)
                )
        return self.story(story_id)  # type: ignore[arg-type]


def fts_query(text: str) -> str:
    """Quote each word for FTS5 (so punctuation can't be read as query syntax); the last word
    matches as a prefix."""
    words = re.findall(r"\w+", text)
    if not words:
        return ""
    quoted = ['"' + word.replace('"', '""') + '"' for word in words]
    return " ".join(quoted) + "*"
