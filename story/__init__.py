"""The story tree, context assembly, the SQLite store and import/export. No torch, no Textual."""

from story.errors import StoryError
from story.models import Bookmark, Node, NodeDraft, SearchHit, Story, StorySummary, StoryTree
from story.store import Store

__all__ = [
    "Bookmark",
    "Node",
    "NodeDraft",
    "SearchHit",
    "Store",
    "Story",
    "StoryError",
    "StorySummary",
    "StoryTree",
]
