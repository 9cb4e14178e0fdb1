"""What every face does with whole stories: open the database, export a story to a file or a
stream, and duplicate one."""

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from story.errors import StoryError
from story.export import FORMATS, render
from story.files import write_atomically
from story.models import Story

if TYPE_CHECKING:
    from story.store import Store

EXPORT_SUFFIXES = {".md": "md", ".txt": "txt", ".json": "json", ".twee": "twee", ".tw": "twee"}


def open_store(db: str | Path | None = None) -> "Store":
    """The story database: --db PATH, else $TALETREE_DB, else ./stories.db."""
    from story.database import database_path
    from story.store import Store

    return Store.open(database_path(db))


def export_format(fmt: str | None, target: str | None) -> str:
    """The format asked for, else the one the file's suffix names, else md."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise StoryError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    suffix = Path(target).suffix.lower() if target else ""
    return EXPORT_SUFFIXES.get(suffix, "md")


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
