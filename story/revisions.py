"""Working on a passage where it stands: edit it in place (every earlier text kept, with the
token data it had, and any of them restored), split it in two, merge it into its parent.

Built on the store's tables; the store is built on these in turn. Each is one transaction.
"""

from story.database import guarded, now, write_transaction
from story.errors import NotFound, StoryError
from story.models import Node, NodeDraft, Revision
from story.tables import Tables
from story.tokens import TokenRecord, split_text, unpack
from story.validation import check_text

REVISION_COLUMNS = "id, node_id, text, replaced, tokens IS NOT NULL"


def cut_records(
    text: str, records: list[TokenRecord] | None, at: int
) -> tuple[list[TokenRecord] | None, list[TokenRecord] | None]:
    """A node's token data cut where its text is cut, when the cut falls between two tokens
    (inside a token, neither part can keep it)."""
    if not records:
        return None, None
    written = 0
    for index, piece in enumerate(split_text(text, records)):
        if written == at:
            return records[:index] or None, records[index:] or None
        written += len(piece)
    return None, None


class Revisions(Tables):
    """Editing passages where they stand."""

    @guarded
    def revise(self, node_id: int, text: str) -> Node:
        """Edit a node in place: its text changes where it stands, everything below it stays,
        and the text it had is kept as a revision, with its token data."""
        check_text(text, "the text")
        with write_transaction(self.conn):
            node = self.node(node_id)
            if text != node.text:
                self._replace_text(node, text)
        return self.node(node_id)

    def _replace_text(
        self, node: Node, text: str, records: list[TokenRecord] | None = None
    ) -> None:
        row = self._one("SELECT data FROM tokens WHERE node_id = ?", (node.id,))
        self.conn.execute(
            "INSERT INTO revisions (node_id, text, tokens, replaced) VALUES (?, ?, ?, ?)",
            (node.id, node.text, row[0] if row else None, now()),
        )
        self.conn.execute("UPDATE nodes SET text = ? WHERE id = ?", (text, node.id))
        self.conn.execute("DELETE FROM tokens WHERE node_id = ?", (node.id,))
        if records:
            self._insert_tokens(node.id, records)
        self._touch(node.story_id)

    @guarded
    def extend(self, node_id: int, text: str, records: list[TokenRecord]) -> Node:
        """A model passage runs on with more of the model's text ("more"): its earlier text is
        kept as a revision, and its token data grows with the new tokens'."""
        check_text(text, "the text")
        with write_transaction(self.conn):
            node = self.node(node_id)
            before = self.token_records(node_id)
            self._replace_text(node, node.text + text, before + records if before else None)
        return self.node(node_id)

    @guarded
    def revisions(self, node_id: int) -> list[Revision]:
        """A node's earlier texts, the most recently replaced first."""
        rows = self._all(
            f"SELECT {REVISION_COLUMNS} FROM revisions WHERE node_id = ? ORDER BY id DESC",
            (node_id,),
        )
        return [Revision(*row[:4], bool(row[4])) for row in rows]

    @guarded
    def last_revision(self, story_id: int) -> Revision | None:
        """The story's latest edit in place: what undo brings back."""
        row = self._one(
            f"SELECT {', '.join('revisions.' + c for c in REVISION_COLUMNS.split(', '))} "
            "FROM revisions JOIN nodes ON nodes.id = revisions.node_id "
            "WHERE nodes.story_id = ? ORDER BY revisions.id DESC LIMIT 1",
            (story_id,),
        )
        return Revision(*row[:4], bool(row[4])) if row else None

    @guarded
    def restore(self, revision_id: int) -> Node:
        """Bring back an earlier text of a node, with its token data. The text it replaces is
        kept as a revision too, so a restore can be undone like any edit."""
        with write_transaction(self.conn):
            row = self._one(
                "SELECT node_id, text, tokens FROM revisions WHERE id = ?", (revision_id,)
            )
            if row is None:
                raise NotFound(f"there is no revision {revision_id}")
            node = self.node(row[0])
            self._replace_text(node, row[1], unpack(row[2]) if row[2] else None)
        return self.node(node.id)

    @guarded
    def split(self, node_id: int, at: int) -> tuple[Node, Node]:
        """Cut a node in two at character `at`: it keeps the first part, and a new node with
        the rest comes between it and its children. Who wrote it, and how, stays with both."""
        with write_transaction(self.conn):
            node = self.node(node_id)
            if not 0 < at < len(node.text):
                raise StoryError(
                    f"a passage is split inside its text: between characters 1 "
                    f"and {len(node.text) - 1}, not at {at}"
                )
            first, rest = cut_records(node.text, self.token_records(node.id), at)
            draft = NodeDraft(
                node.text[at:],
                node.author,
                model=node.model,
                settings=node.settings,
                seed=node.seed,
                tokens=rest,
            )
            tail = self._insert_node(node.story_id, node.id, draft)
            self.conn.execute(
                "UPDATE nodes SET parent_id = ? WHERE parent_id = ? AND id != ?",
                (tail, node.id, tail),
            )
            self.conn.execute(
                "UPDATE nodes SET last_child_id = ? WHERE id = ?", (node.last_child_id, tail)
            )
            self.conn.execute(
                "UPDATE nodes SET text = ?, last_child_id = ? WHERE id = ?",
                (node.text[:at], tail, node.id),
            )
            self.conn.execute("DELETE FROM tokens WHERE node_id = ?", (node.id,))
            if first:
                self._insert_tokens(node.id, first)
            if self.story(node.story_id).tip_id == node.id:
                self._set_tip(node.story_id, tail)
            self._touch(node.story_id)
        return self.node(node.id), self.node(tail)

    @guarded
    def merge(self, node_id: int) -> Node:
        """Join a node to its parent, when it is the parent's only child: the parent's text
        runs on with it (the parent's earlier text is kept as a revision), and the node's
        children become the parent's."""
        with write_transaction(self.conn):
            node = self.node(node_id)
            if node.parent_id is None:
                raise StoryError("the opening has no passage above it to join")
            parent = self.node(node.parent_id)
            if len(self.children(parent.id)) > 1:
                raise StoryError(
                    "only a passage without alternatives joins the one above it: "
                    "this one has siblings"
                )
            above, below = self.token_records(parent.id), self.token_records(node.id)
            joined = above + below if above and below else None
            self._replace_text(parent, parent.text + node.text, joined)
            self.conn.execute(
                "UPDATE nodes SET parent_id = ? WHERE parent_id = ?", (parent.id, node.id)
            )
            self.conn.execute(
                "UPDATE nodes SET last_child_id = ? WHERE id = ?", (node.last_child_id, parent.id)
            )
            self.conn.execute("UPDATE nodes SET revises_id = NULL WHERE revises_id = ?", (node.id,))
            self.conn.execute(
                "UPDATE revisions SET node_id = ? WHERE node_id = ?", (parent.id, node.id)
            )
            self.conn.execute(
                "UPDATE OR IGNORE bookmarks SET node_id = ? WHERE node_id = ?", (parent.id, node.id)
            )
            self.conn.execute("DELETE FROM bookmarks WHERE node_id = ?", (node.id,))
            self.conn.execute("DELETE FROM tokens WHERE node_id = ?", (node.id,))
            if self.story(node.story_id).tip_id == node.id:
                self._set_tip(node.story_id, parent.id)
            self.conn.execute("DELETE FROM nodes WHERE id = ?", (node.id,))
        return self.node(parent.id)
