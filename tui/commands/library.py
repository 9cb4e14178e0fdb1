"""Commands on the stories in the database: path, list, show, search, export, import, rename,
delete."""

import argparse
import sys
from pathlib import Path

from common.errors import UserError
from common.text import quoted, safe_line, shown_line

SNIPPET_LIMIT = 160  # characters of a search hit's text on its line


def cmd_path(args: argparse.Namespace) -> None:
    from story.database import database_path
    from tui.core.bugs import log_path
    from tui.core.config_file import config_path

    print(f"database  {database_path(args.db)}")
    print(f"config    {config_path()}")
    print(f"error log {log_path()}")


def cmd_list(args: argparse.Namespace) -> None:
    from tui.core.library import open_store
    from tui.display import local_time

    with open_store(args.db) as store:
        stories = store.list_stories()
        if not stories:
            print(f"no stories yet in {store.db_path}: `taletree new TITLE` starts one")
            return
        width = min(48, max(5, *(len(safe_line(s.title)) for s in stories)))
        print(f"{'ID':>5}  {'TITLE':<{width}}  {'NODES':>6}  LAST EDITED")
        for s in stories:
            title = safe_line(s.title)
            title = title if len(title) <= width else title[: width - 1] + "…"
            print(f"{s.id:>5}  {title:<{width}}  {s.nodes:>6}  {local_time(s.updated)}")
        for s in stories:
            if s.damage:
                print(f"taletree: story {s.id} is damaged: {safe_line(s.damage)}", file=sys.stderr)


def cmd_show(args: argparse.Namespace) -> None:
    from common.text import safe_prose
    from tui.core.library import open_store

    with open_store(args.db) as store:
        text = store.path_text(store.find_story(args.story).tip_id)
    text = text if text.endswith("\n") or not text else text + "\n"
    sys.stdout.write(safe_prose(text) if sys.stdout.isatty() else text)


def cmd_search(args: argparse.Namespace) -> None:
    from tui.core.library import open_store

    # Private-use characters mark the matches, so they survive safe_line() and can then be
    # turned into bold (on a terminal) or dropped.
    marks = ("\ue000", "\ue001")
    bold = ("\x1b[1m", "\x1b[0m") if sys.stdout.isatty() else ("", "")
    with open_store(args.db) as store:
        hits = store.search(args.query, limit=args.limit, marks=marks)
    if not hits:
        print(f"nothing matches {args.query!r}")
        return
    for hit in hits:
        where = f"story {hit.story_id} {quoted(hit.title)}"
        where += f" node {hit.node_id}" if hit.node_id is not None else " (title)"
        snippet = shown_line(hit.snippet, SNIPPET_LIMIT)
        if snippet.count(marks[0]) > snippet.count(marks[1]):  # the cut fell inside a match
            snippet += marks[1]
        print(f"{where}: {snippet.replace(marks[0], bold[0]).replace(marks[1], bold[1])}")


def cmd_export(args: argparse.Namespace) -> None:
    """To a terminal the text is shown with its control characters visible (an escape
    sequence in a story must not reach the terminal); to a file or a pipe, exactly."""
    from common.text import safe_prose
    from story.export import export_format, to_lorebook_json
    from story.files import write_atomically
    from tui.core.library import export_story, open_store

    to_stdout = args.output in (None, "-")
    target = None if to_stdout else Path(args.output)
    replace = args.force or (target is not None and asked_to_replace(target))
    with open_store(args.db) as store:
        story = store.find_story(args.story)
        if args.lorebook:
            entries = store.lore(story.id)
            text, what = to_lorebook_json(entries), f"{len(entries)} lore entries as json"
            if target is not None:
                write_atomically(target, text, replace=replace)
        else:
            fmt = export_format(args.format, args.output).name
            text = export_story(store, story.id, fmt, target, replace=replace)
            what = f"{store.node_count(story.id)} nodes as {fmt}"
    if to_stdout:
        sys.stdout.write(safe_prose(text) if sys.stdout.isatty() else text)
        return
    print(f"exported {what} to {args.output}", file=sys.stderr)


def asked_to_replace(target: Path) -> bool:
    """At a terminal, whether the writer wants the file already at `target` replaced."""
    if not (target.is_file() and sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    print(f"{safe_line(str(target))} exists: replace it? [y/N] ", end="", file=sys.stderr)
    return input().strip().lower() in ("y", "yes")


IMPORT_LIMIT = 256 * 2**20  # bytes: far more than any story (100,000 nodes take 26 MB)


def read_capped(name: str, limit: int = IMPORT_LIMIT) -> bytes:
    """A file's bytes (stdin for -), refused once it passes `limit` (/dev/zero never ends)."""
    try:
        if name == "-":
            raw = sys.stdin.buffer.read(limit + 1)
        else:
            with open(name, "rb") as file:
                raw = file.read(limit + 1)
    except OSError as error:
        raise UserError(f"{name} can't be read ({error.strerror})") from error
    except MemoryError:
        raise UserError(f"{name} can't be read: there isn't enough memory for it") from None
    if len(raw) > limit:
        raise UserError(
            f"{name} is larger than the {limit // 2**20} MB an import reads: "
            "is it a Taletree JSON export?"
        )
    return raw


def cmd_import(args: argparse.Namespace) -> None:
    from story.importer import parse_lorebook_json, parse_story_json
    from tui.core.library import open_store

    raw = read_capped(args.file)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserError(
            f"{args.file} is not UTF-8 text (byte {error.start}): is it a Taletree JSON export?"
        ) from error
    try:
        if args.lorebook:
            entries = parse_lorebook_json(text)
        else:
            tree = parse_story_json(text)
    except UserError as error:
        raise UserError(f"{args.file}: {error}") from error
    except MemoryError:
        raise UserError(f"{args.file} is too large to import in the memory there is") from None
    with open_store(args.db) as store:
        if args.lorebook:
            story = store.find_story(args.lorebook)
            store.add_lore_entries(story.id, entries)
            print(f"added {len(entries)} lore entries to story {story.id} {quoted(story.title)}")
            return
        story = store.add_story_tree(tree)
    print(f"imported story {story.id} {quoted(story.title)} ({len(tree.nodes)} nodes)")


def cmd_rename(args: argparse.Namespace) -> None:
    from tui.core.library import open_store

    with open_store(args.db) as store:
        story = store.find_story(args.story)
        renamed = store.rename_story(story.id, args.title)
    print(f"renamed story {story.id} to {quoted(renamed.title)}")


def cmd_delete(args: argparse.Namespace) -> None:
    from tui.core.library import open_store

    with open_store(args.db) as store:
        story = store.find_story(args.story)
        nodes = store.node_count(story.id)
        if not args.yes:
            if not sys.stdin.isatty():
                raise UserError(f"not deleting story {story.id} without confirmation: pass --yes")
            answer = input(f"Delete story {story.id} {quoted(story.title)} ({nodes} nodes)? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("kept")
                return
        store.delete_story(story.id)
    print(f"deleted story {story.id} {quoted(story.title)} ({nodes} nodes)")
