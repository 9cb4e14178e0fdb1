"""The story tree, context assembly, the SQLite store and import/export. No torch, no Textual."""

from story.errors import StoryError
from story.models import Bookmark, Node, NodeDraft, SearchHit, Story, StorySummary, StoryTree


def __getattr__(name: str):
    """`story.Store` on first use: the store brings sqlite-utils, which the command line's
    parser (reading story.export's formats for --help) shouldn't load."""
    if name == "Store":
        from story.store import Store

        return Store
    raise AttributeError(f"module 'story' has no attribute {name!r}")


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
