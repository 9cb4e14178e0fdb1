"""Plain records handed out by the store. They are snapshots: the store is the source of truth."""

from dataclasses import dataclass, field
from typing import Any, Literal

from story.lorebook import LoreEntry
from story.tokens import TokenRecord

Author = Literal["user", "model"]
AUTHORS: tuple[str, ...] = ("user", "model")
DEFAULT_NOTE_DEPTH = 3


@dataclass(frozen=True)
class Story:
    id: int
    title: str
    genre: str | None
    memory: str
    note: str
    note_depth: int
    root_id: int
    tip_id: int
    created: str
    updated: str
    # The writer's generation settings for this story (None: the defaults apply).
    settings: dict[str, Any] | None = None
    draft: str = ""  # the composer's unsent text


@dataclass(frozen=True)
class WordCount:
    """Words along a story's path: all of them, and those the writer wrote."""

    total: int = 0
    user: int = 0

    @property
    def model(self) -> int:
        return self.total - self.user


@dataclass(frozen=True)
class StorySummary:
    id: int
    title: str
    genre: str | None
    nodes: int
    updated: str
    words: WordCount = WordCount()  # along the current path, when counted (count_words=True)
    damage: str | None = None  # what is wrong with this row, when something is (edited by hand)


@dataclass(frozen=True)
class Node:
    id: int
    story_id: int
    parent_id: int | None
    text: str
    author: str
    created: str
    # What made a model node, so it can be reproduced: model id, sampling settings, seed.
    model: str | None = None
    settings: dict[str, Any] | None = None
    seed: int | None = None
    # An edit is a new sibling that remembers the node it revises.
    revises_id: int | None = None
    # The child the writer last stood on below this node: "forward" (redo) follows it.
    last_child_id: int | None = None
    # Written by an exploration ahead and not yet part of the story; its score there.
    explored: bool = False
    score: float | None = None


@dataclass(frozen=True)
class NodeDraft:
    """A node not yet stored: what a writer typed, or one of the model's alternatives."""

    text: str
    author: str = "user"
    model: str | None = None
    settings: dict[str, Any] | None = field(default=None)
    seed: int | None = None
    tokens: list[TokenRecord] | None = None  # what the model chose at each token, if known
    explored: bool = False  # written by an exploration ahead (not part of the story yet)
    score: float | None = None  # the score the exploration gave it


@dataclass(frozen=True)
class SearchHit:
    story_id: int
    title: str
    node_id: int | None  # None when the title matched
    snippet: str


@dataclass(frozen=True)
class Bookmark:
    node_id: int
    story_id: int
    label: str
    created: str


@dataclass(frozen=True)
class Revision:
    """An earlier text of a node edited in place."""

    id: int
    node_id: int
    text: str
    replaced: str  # when this text stopped being the node's
    has_tokens: bool = False  # its token data is kept with it


@dataclass(frozen=True)
class StoryTree:
    """A whole story detached from the database: what export reads and import writes.
    `nodes` lists parents before children, the root first; ids are only meaningful within,
    and a child's id need not be greater than its parent's (a split passage's isn't)."""

    title: str
    genre: str | None
    memory: str
    note: str
    note_depth: int
    created: str
    updated: str
    tip_id: int
    nodes: list[Node]
    bookmarks: list[Bookmark]
    revisions: list[Revision] = field(default_factory=list)  # oldest first, per node
    lore: list[LoreEntry] = field(default_factory=list)
    settings: dict[str, Any] | None = None  # the writer's generation settings for the story
