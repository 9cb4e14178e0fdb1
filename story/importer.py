"""Read a taletree-story/1 JSON file into a StoryTree, checking every field before anything is
written: types, ids, times, text that can be stored, numbers finite and in range. The first
problem found is reported with where it is (`nodes[17].parent: …`), in one line."""

import json
from typing import Any

from story.errors import StoryError
from story.export import JSON_FORMAT, LOREBOOK_FORMAT
from story.lorebook import LoreEntry, check_entry
from story.models import AUTHORS, Bookmark, Node, Revision, StoryTree
from story.validation import (
    abbreviated,
    check_line,
    check_note_depth,
    check_score,
    check_seed,
    check_settings,
    check_text,
    check_time,
    check_title,
)


class InvalidImport(StoryError):
    pass


def fail(where: str, problem: str) -> InvalidImport:
    return InvalidImport(f"{where}: {problem}")


def expect(value: Any, kind: type | tuple[type, ...], where: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    # bool is an int to Python, but true is no node id.
    if isinstance(value, kind) and not (isinstance(value, bool) and kind is not bool):
        return value
    names = {str: "a string", int: "a whole number", dict: "an object", list: "a list"}
    wanted = names.get(kind, str(kind)) if isinstance(kind, type) else "a value of another kind"
    raise fail(
        where, f"should be {wanted}{' or null' if optional else ''}, not {abbreviated(value)}"
    )


def checked(check, value: Any, where: str, *args: Any) -> Any:
    """A validation check whose StoryError becomes an InvalidImport saying where."""
    try:
        return check(value, where, *args)
    except InvalidImport:
        raise
    except StoryError as error:
        raise InvalidImport(str(error)) from None


def not_a_number(constant: str) -> None:
    raise InvalidImport(f"{constant} is not valid JSON (numbers must be finite)")


def parse_story_json(text: str) -> StoryTree:
    return story_tree_from_document(parse_json(text))


def parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=not_a_number)
    except json.JSONDecodeError as error:
        raise InvalidImport(
            f"line {error.lineno} column {error.colno}: not valid JSON ({error.msg}); "
            "import reads what `taletree export --format json` writes"
        ) from error
    except RecursionError:
        raise InvalidImport("the JSON is nested too deeply to be a Taletree story") from None
    except ValueError as error:  # an integer of thousands of digits, say
        raise InvalidImport(f"not valid JSON here ({error})") from None


def parse_lorebook_json(text: str) -> list[LoreEntry]:
    """A lorebook file (taletree export --lorebook), or a story file's lorebook."""
    document = parse_json(text)
    expect(document, dict, "the file")
    if document.get("format") == JSON_FORMAT:
        return read_lore(document.get("lorebook", []))
    if document.get("format") != LOREBOOK_FORMAT:
        raise fail(
            "format",
            f"expected {LOREBOOK_FORMAT!r}, found "
            f"{abbreviated(document.get('format'))}: this is not a Taletree "
            "lorebook or story export",
        )
    return read_lore(document.get("entries"), "entries")


def read_lore(entries: Any, where: str = "lorebook") -> list[LoreEntry]:
    lore = []
    for index, entry in enumerate(expect(entries, list, where)):
        at = f"{where}[{index}]"
        expect(entry, dict, at)
        keys = expect(entry.get("keys", []), list, f"{at}.keys")
        flags = {
            name: expect(entry.get(name, False), bool, f"{at}.{name}")
            for name in ("always", "regex", "case_sensitive")
        }
        lore.append(
            checked(
                check_entry,
                LoreEntry(
                    tuple(keys),
                    entry.get("text"),
                    expect(entry.get("rank", 0), int, f"{at}.rank"),
                    placement=entry.get("placement", "top"),
                    depth=expect(entry.get("depth", 0), int, f"{at}.depth"),
                    **flags,
                ),
                at,
            )
        )
    return lore


def story_tree_from_document(document: Any) -> StoryTree:
    expect(document, dict, "the file")
    if document.get("format") != JSON_FORMAT:
        raise fail(
            "format",
            f"expected {JSON_FORMAT!r}, found {abbreviated(document.get('format'))}: "
            "this is not a Taletree story export, or one from a newer version",
        )
    title = checked(check_title, expect(document.get("title"), str, "title"), "title")
    note_depth = checked(check_note_depth, document.get("note_depth"), "note_depth")
    nodes_value = expect(document.get("nodes"), list, "nodes")
    if not nodes_value:
        raise fail("nodes", "a story needs at least its root node")
    nodes = read_nodes(nodes_value)
    ids = {node.id for node in nodes}
    tip = expect(document.get("tip"), int, "tip")
    if tip not in ids:
        raise fail("tip", f"{tip} is not the id of a node in this file")
    genre = expect(document.get("genre"), str, "genre", optional=True)
    settings = checked(check_settings, document.get("settings"), "settings")
    return StoryTree(
        title=title,
        genre=checked(check_line, genre, "genre") if genre is not None else None,
        memory=checked(check_text, document.get("memory", ""), "memory"),
        note=checked(check_text, document.get("note", ""), "note"),
        note_depth=note_depth,
        created=checked(check_time, document.get("created"), "created"),
        updated=checked(check_time, document.get("updated"), "updated"),
        tip_id=tip,
        nodes=nodes,
        bookmarks=read_bookmarks(expect(document.get("bookmarks", []), list, "bookmarks"), ids),
        revisions=read_revisions(nodes_value),
        lore=read_lore(document.get("lorebook", [])),
        settings=settings,
    )


def read_revisions(entries: list[Any]) -> list[Revision]:
    """Each node's earlier texts (nodes are checked already), oldest first."""
    revisions = []
    for index, entry in enumerate(entries):
        for number, revision in enumerate(
            expect(entry.get("revisions", []), list, f"nodes[{index}].revisions")
        ):
            where = f"nodes[{index}].revisions[{number}]"
            expect(revision, dict, where)
            text = checked(check_text, revision.get("text"), f"{where}.text")
            replaced = checked(check_time, revision.get("replaced"), f"{where}.replaced")
            revisions.append(Revision(0, entry["id"], text, replaced))
    return revisions


def read_bookmarks(entries: list[Any], ids: set[int]) -> list[Bookmark]:
    bookmarks: list[Bookmark] = []
    for index, entry in enumerate(entries):
        where = f"bookmarks[{index}]"
        expect(entry, dict, where)
        node_id = expect(entry.get("node"), int, f"{where}.node")
        if node_id not in ids:
            raise fail(f"{where}.node", f"{node_id} is not the id of a node in this file")
        if node_id in {b.node_id for b in bookmarks}:
            raise fail(f"{where}.node", f"node {node_id} is bookmarked twice")
        label = checked(check_text, entry.get("label", ""), f"{where}.label")
        created = checked(check_time, entry.get("created"), f"{where}.created")
        bookmarks.append(Bookmark(node_id, 0, label, created))
    return bookmarks


def read_nodes(entries: list[Any]) -> list[Node]:
    """Parents must come before their children: that rules out cycles and orphans in one pass."""
    seen: set[int] = set()
    nodes = []
    for index, entry in enumerate(entries):
        where = f"nodes[{index}]"
        expect(entry, dict, where)
        node_id = expect(entry.get("id"), int, f"{where}.id")
        if node_id in seen:
            raise fail(f"{where}.id", f"{node_id} is used by an earlier node too")
        parent = expect(entry.get("parent"), int, f"{where}.parent", optional=True)
        if index == 0 and parent is not None:
            raise fail(f"{where}.parent", "the first node is the root and has no parent")
        if index > 0 and parent is None:
            raise fail(f"{where}.parent", "only the first node (the root) may have no parent")
        if parent is not None and parent not in seen:
            raise fail(f"{where}.parent", f"{parent} is not the id of an earlier node")
        author = entry.get("author")
        if author not in AUTHORS:
            raise fail(f"{where}.author", f"should be 'user' or 'model', not {abbreviated(author)}")
        seen.add(node_id)
        model = expect(entry.get("model"), str, f"{where}.model", optional=True)
        seed = entry.get("seed")
        nodes.append(
            Node(
                id=node_id,
                story_id=0,
                parent_id=parent,
                text=checked(check_text, entry.get("text"), f"{where}.text"),
                author=author,
                created=checked(check_time, entry.get("created"), f"{where}.created"),
                model=checked(check_text, model, f"{where}.model") if model is not None else None,
                settings=checked(check_settings, entry.get("settings"), f"{where}.settings"),
                seed=checked(check_seed, seed, f"{where}.seed") if seed is not None else None,
                revises_id=expect(entry.get("revises"), int, f"{where}.revises", optional=True),
                last_child_id=expect(
                    entry.get("last_child"), int, f"{where}.last_child", optional=True
                ),
                explored=expect(entry.get("explored", False), bool, f"{where}.explored"),
                score=checked(check_score, entry.get("score"), f"{where}.score"),
            )
        )
    parent_of = {node.id: node.parent_id for node in nodes}
    for index, node in enumerate(nodes):
        if node.revises_id is not None and node.revises_id not in seen:
            raise fail(f"nodes[{index}].revises", f"{node.revises_id} is not the id of a node")
        if node.last_child_id is not None and parent_of.get(node.last_child_id) != node.id:
            raise fail(
                f"nodes[{index}].last_child", f"{node.last_child_id} is not a child of this node"
            )
    return nodes
