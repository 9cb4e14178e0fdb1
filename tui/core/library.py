"""What every face does with whole stories: open the database, export a story to a file or a
stream, and duplicate one."""

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from story.export import render
from story.files import write_atomically
from story.models import Story

if TYPE_CHECKING:
    from story.store import Store


def open_store(db: str | Path | None = None) -> "Store":
    """The story database: --db PATH, else $TALETREE_DB, else ./stories.db."""
    from story.database import database_path
    from story.store import Store

    return Store.open(database_path(db))


def export_story(
    store: "Store", story_id: int, fmt: str, target: Path | None = None, *, replace: bool = False
) -> str:
    """A story in a format; written whole to `target` (or not at all) when one is given. A
    file already there is replaced only if `replace` says so, and only if it is a regular
    file."""
    text = render(store.story_tree(story_id), fmt)
    if target is not None:
        write_atomically(target.expanduser(), text, replace=replace)
    return text


def duplicate_story(store: "Store", story_id: int) -> Story:
    tree = store.story_tree(story_id)
    return store.add_story_tree(replace(tree, title=f"{tree.title} (copy)"))
