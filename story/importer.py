"""Read a taletree-story/1 JSON file into a StoryTree, checking everything before anything is
written. The first problem found is reported with where it is (`nodes[17].parent: …`)."""

import json
from typing import Any

from story.errors import StoryError
from story.export import JSON_FORMAT
from story.models import AUTHORS, Bookmark, Node, StoryTree


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
    raise fail(where, f"should be {wanted}{' or null' if optional else ''}, not {value!r}")


def parse_story_json(text: str) -> StoryTree:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidImport(
            f"line {error.lineno} column {error.colno}: not valid JSON ({error.msg}); "
            "import reads what `taletree export --format json` writes"
        ) from error
    return story_tree_from_document(document)


def story_tree_from_document(document: Any) -> StoryTree:
    expect(document, dict, "the file")
    if document.get("format") != JSON_FORMAT:
        raise fail(
            "format",
            f"expected {JSON_FORMAT!r}, found {document.get('format')!r}: "
            "this is not a Taletree story export, or one from a newer version",
        )
    title = expect(document.get("title"), str, "title")
    if not title.strip() or "\n" in title:
        raise fail("title", "should be one non-empty line")
    note_depth = expect(document.get("note_depth"), int, "note_depth")
    if note_depth < 0:
        raise fail("note_depth", f"should be 0 or more, not {note_depth}")
    nodes_value = expect(document.get("nodes"), list, "nodes")
    if not nodes_value:
        raise fail("nodes", "a story needs at least its root node")
    nodes = read_nodes(nodes_value)
    ids = {node.id for node in nodes}
    tip = expect(document.get("tip"), int, "tip")
    if tip not in ids:
        raise fail("tip", f"{tip} is not the id of a node in this file")
    bookmarks = []
    for index, entry in enumerate(expect(document.get("bookmarks", []), list, "bookmarks")):
        where = f"bookmarks[{index}]"
        expect(entry, dict, where)
        node_id = expect(entry.get("node"), int, f"{where}.node")
        if node_id not in ids:
            raise fail(f"{where}.node", f"{node_id} is not the id of a node in this file")
        if node_id in {b.node_id for b in bookmarks}:
            raise fail(f"{where}.node", f"node {node_id} is bookmarked twice")
        label = expect(entry.get("label", ""), str, f"{where}.label")
        created = expect(entry.get("created"), str, f"{where}.created")
        bookmarks.append(Bookmark(node_id, 0, label, created))
    return StoryTree(
        title=title,
        genre=expect(document.get("genre"), str, "genre", optional=True),
        memory=expect(document.get("memory", ""), str, "memory"),
        note=expect(document.get("note", ""), str, "note"),
        note_depth=note_depth,
        created=expect(document.get("created"), str, "created"),
        updated=expect(document.get("updated"), str, "updated"),
        tip_id=tip,
        nodes=nodes,
        bookmarks=bookmarks,
    )


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
            raise fail(f"{where}.author", f"should be 'user' or 'model', not {author!r}")
        seen.add(node_id)
        nodes.append(
            Node(
                id=node_id,
                story_id=0,
                parent_id=parent,
                text=expect(entry.get("text"), str, f"{where}.text"),
                author=author,
                created=expect(entry.get("created"), str, f"{where}.created"),
                model=expect(entry.get("model"), str, f"{where}.model", optional=True),
                settings=expect(entry.get("settings"), dict, f"{where}.settings", optional=True),
                seed=expect(entry.get("seed"), int, f"{where}.seed", optional=True),
                revises_id=expect(entry.get("revises"), int, f"{where}.revises", optional=True),
                last_child_id=expect(
                    entry.get("last_child"), int, f"{where}.last_child", optional=True
                ),
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
        if node.seed is not None and not 0 <= node.seed < 2**63:
            raise fail(f"nodes[{index}].seed", f"should be from 0 to 2**63 - 1, not {node.seed}")
    return nodes
