"""Stories out of the database: prose (md, txt), the lossless JSON, and Twee 3 for Twine.

The JSON format, taletree-story/1, is documented in docs/story-json.md. Nodes are listed flat,
parents first, each naming its parent, so a tree 10,000 levels deep is as easy as a wide one.
Node ids in the file are renumbered 1, 2, 3… in creation order, so exporting an imported story
gives the very same file.
"""

import json
import re
import uuid
from typing import Any

from story.errors import StoryError
from story.models import Node, StoryTree

JSON_FORMAT = "taletree-story/1"
FORMATS = ("md", "txt", "json", "twee")
TWINE_STORY_FORMAT = ("Harlowe", "3.3.9")
LINK_WORDS = 8
TWINE_SPACING = 125  # Twine's passage cards are 100 units square


def path_nodes(tree: StoryTree) -> list[Node]:
    by_id = {node.id: node for node in tree.nodes}
    path, node = [], by_id[tree.tip_id]
    while True:
        path.append(node)
        if node.parent_id is None:
            return path[::-1]
        node = by_id[node.parent_id]


def to_text(tree: StoryTree) -> str:
    """The current path, read as the story."""
    text = "".join(node.text for node in path_nodes(tree))
    return text if text.endswith("\n") or not text else text + "\n"


def to_markdown(tree: StoryTree) -> str:
    return f"# {tree.title}\n\n{to_text(tree)}"


def local_ids(tree: StoryTree) -> dict[int, int]:
    """Database ids to the file's ids: 1, 2, 3… in creation order (parents come first)."""
    return {node.id: number for number, node in enumerate(tree.nodes, start=1)}


def to_json_document(tree: StoryTree) -> dict[str, Any]:
    local = local_ids(tree)
    nodes = []
    for node in tree.nodes:
        entry: dict[str, Any] = {
            "id": local[node.id],
            "parent": local[node.parent_id] if node.parent_id is not None else None,
            "author": node.author,
            "created": node.created,
            "text": node.text,
        }
        optional = {
            "model": node.model,
            "settings": node.settings,
            "seed": node.seed,
            "revises": local.get(node.revises_id),  # type: ignore[arg-type]
            "last_child": local.get(node.last_child_id),  # type: ignore[arg-type]
        }
        entry.update({key: value for key, value in optional.items() if value is not None})
        nodes.append(entry)
    return {
        "format": JSON_FORMAT,
        "title": tree.title,
        "genre": tree.genre,
        "memory": tree.memory,
        "note": tree.note,
        "note_depth": tree.note_depth,
        "created": tree.created,
        "updated": tree.updated,
        "tip": local[tree.tip_id],
        "bookmarks": [
            {"node": local[b.node_id], "label": b.label, "created": b.created}
            for b in tree.bookmarks
        ],
        "nodes": nodes,
    }


def to_json(tree: StoryTree) -> str:
    """Readable and diffable: the story's fields indented, then one node per line."""
    document = to_json_document(tree)
    nodes = document.pop("nodes")
    head = json.dumps(document, ensure_ascii=False, indent=2)[:-2]
    lines = ",\n    ".join(json.dumps(node, ensure_ascii=False) for node in nodes)
    body = f'  "nodes": [\n    {lines}\n  ]' if nodes else '  "nodes": []'
    return f"{head},\n{body}\n}}\n"


def twee_escape_line(line: str) -> str:
    # Twee 3: a content line that starts with "::" would open a new passage.
    return "\\" + line if line.startswith("::") else line


def link_label(text: str) -> str:
    """A child's first words, stripped of what Twine would read as link syntax."""
    words = " ".join(text.split()[:LINK_WORDS])
    words = re.sub(r"->|<-|\||\[|\]", " ", words)
    words = " ".join(words.split())
    return (words + "…" if len(text.split()) > LINK_WORDS else words) or "(empty)"


def tree_layout(tree: StoryTree, children: dict[int, list[Node]]) -> dict[int, tuple[int, int]]:
    """(column, row) per node for Twine's map: rows by depth, each leaf in a column of its own,
    a parent above its first child. Iterative, so a 10,000-deep chain is fine."""
    place: dict[int, tuple[int, int]] = {}
    next_column = 0
    stack = [(tree.nodes[0], 0)]
    while stack:
        node, depth = stack.pop()
        place[node.id] = (next_column, depth)
        kids = children.get(node.id, [])
        if kids:
            stack.extend((child, depth + 1) for child in reversed(kids))
        else:
            next_column += 1
    return place


def to_twee(tree: StoryTree) -> str:
    """Each node a passage, each child a link: the branching story as playable fiction."""
    local = local_ids(tree)
    children: dict[int, list[Node]] = {}
    for node in tree.nodes:
        if node.parent_id is not None:
            children.setdefault(node.parent_id, []).append(node)
    layout = tree_layout(tree, children)
    story_format, version = TWINE_STORY_FORMAT
    ifid = uuid.uuid5(uuid.NAMESPACE_URL, f"taletree:{tree.title}:{tree.created}")
    data = {
        "ifid": str(ifid).upper(),
        "format": story_format,
        "format-version": version,
        "start": f"n{local[tree.nodes[0].id]}",
    }
    parts = [
        f":: StoryTitle\n{tree.title}\n",
        ":: StoryData\n" + json.dumps(data, indent=2) + "\n",
    ]
    for node in tree.nodes:
        body = "\n".join(twee_escape_line(line) for line in node.text.strip("\n").split("\n"))
        links = "\n".join(
            f"[[{link_label(child.text)}->n{local[child.id]}]]"
            for child in children.get(node.id, [])
        )
        column, row = layout[node.id]
        position = json.dumps({"position": f"{column * TWINE_SPACING},{row * TWINE_SPACING}"})
        passage = f":: n{local[node.id]} [{node.author}] {position}\n{body}\n"
        parts.append(passage + (f"\n{links}\n" if links else ""))
    return "\n".join(parts)


def render(tree: StoryTree, fmt: str) -> str:
    writers = {"md": to_markdown, "txt": to_text, "json": to_json, "twee": to_twee}
    if fmt not in writers:
        raise StoryError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    return writers[fmt](tree)
