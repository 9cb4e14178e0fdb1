"""Stories out of the database: prose (md, txt), the lossless JSON, and Twee 3 for Twine.

The JSON format, taletree-story/1, is documented in docs/story-json.md. Nodes are listed flat,
parents first, each naming its parent, so a tree 10,000 levels deep is as easy as a wide one.
Node ids in the file are renumbered 1, 2, 3… in creation order, so exporting an imported story
gives the very same file.
"""

import json
import math
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from story.errors import StoryError
from story.lorebook import LoreEntry
from story.models import Node, StoryTree

JSON_FORMAT = "taletree-story/1"
LOREBOOK_FORMAT = "taletree-lorebook/1"
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


def lore_document(entry: LoreEntry) -> dict[str, Any]:
    return {
        "keys": list(entry.keys),
        "text": entry.text,
        "rank": entry.rank,
        "always": entry.always,
        "regex": entry.regex,
        "case_sensitive": entry.case_sensitive,
        "placement": entry.placement,
        "depth": entry.depth,
    }


def to_lorebook_json(entries: list[LoreEntry]) -> str:
    """A lorebook on its own (taletree export --lorebook), to use in another story."""
    document = {"format": LOREBOOK_FORMAT, "entries": [lore_document(e) for e in entries]}
    return strict_json(document, indent=2) + "\n"


def to_json_document(tree: StoryTree) -> dict[str, Any]:
    local = local_ids(tree)
    revisions: dict[int, list[dict[str, str]]] = {}
    for revision in tree.revisions:
        revisions.setdefault(revision.node_id, []).append(
            {"text": revision.text, "replaced": revision.replaced}
        )
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
            "revisions": revisions.get(node.id),
            "explored": True if node.explored else None,
            "score": node.score,
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
        **({"settings": tree.settings} if tree.settings else {}),
        **({"lorebook": [lore_document(e) for e in tree.lore]} if tree.lore else {}),
        "nodes": nodes,
    }


# JSON escapes the C0 controls itself; DEL and the C1 controls (U+009B opens a terminal escape
# sequence) are escaped too, so the file can be printed anywhere.
UNESCAPED_CONTROLS = re.compile("[\x7f-\x9f]")


def finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such a number (from a database an older version wrote)
    becomes null, so the file is always strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def strict_json(value: Any, **options: Any) -> str:
    text = json.dumps(finite(value), ensure_ascii=False, allow_nan=False, **options)
    return UNESCAPED_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def to_json(tree: StoryTree) -> str:
    """Readable and diffable: the story's fields indented, then one node per line."""
    document = to_json_document(tree)
    nodes = document.pop("nodes")
    head = strict_json(document, indent=2)[:-2]
    lines = ",\n    ".join(strict_json(node) for node in nodes)
    body = f'  "nodes": [\n    {lines}\n  ]' if nodes else '  "nodes": []'
    return f"{head},\n{body}\n}}\n"


# What Harlowe (and Twee) would read as markup anywhere in a link's label: links, hooks,
# macros, HTML, variables, emphasis, verbatim and escapes. Labels keep everything else.
LABEL_MARKUP = re.compile(r"->|<-|[][`*/'^~$_(){}<>|\\=#&\"%+@]")


def harlowe_literal(text: str) -> str:
    """Passage text that Harlowe shows exactly as written: each line in verbatim markup (`…`,
    which shows its content as plain text, HTML included), backticks and a line's leading colon
    as HTML character references outside it. No line can then start a Twee passage (::) or a
    Harlowe line markup (#, *, ---), and nothing is a link, macro, hook or tag."""
    lines = []
    for line in text.split("\n"):
        encoded = ""
        if line.startswith(":"):
            encoded, line = "&#58;", line[1:]
        for index, piece in enumerate(line.split("`")):
            if index:
                encoded += "&#96;"
            if piece:
                encoded += f"`{piece}`"
        lines.append(encoded)
    return "\n".join(lines)


def link_label(text: str) -> str:
    """A child's first words, without anything Harlowe would read as markup."""
    words = " ".join(LABEL_MARKUP.sub(" ", " ".join(text.split()[:LINK_WORDS])).split())
    return (words + "…" if len(text.split()) > LINK_WORDS else words) or "…"


def story_title_line(title: str) -> str:
    """The StoryTitle passage's text: a title that starts like a passage header (::) is moved
    off the line start by a space, which Twee readers trim."""
    return " " + title if title.startswith("::") else title


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
    """Each node a passage, each child a link: the branching story as playable fiction. The
    writer's text reads literally when played (harlowe_literal, link_label)."""
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
        f":: StoryTitle\n{story_title_line(tree.title)}\n",
        ":: StoryData\n" + json.dumps(data, indent=2) + "\n",
    ]
    for node in tree.nodes:
        body = harlowe_literal(node.text.strip("\n"))
        links = "\n".join(
            f"[[{link_label(child.text)}->n{local[child.id]}]]"
            for child in children.get(node.id, [])
        )
        column, row = layout[node.id]
        position = json.dumps({"position": f"{column * TWINE_SPACING},{row * TWINE_SPACING}"})
        passage = f":: n{local[node.id]} [{node.author}] {position}\n{body}\n"
        parts.append(passage + (f"\n{links}\n" if links else ""))
    return "\n".join(parts)


@dataclass(frozen=True)
class ExportFormat:
    name: str
    what: str  # for --help: what a file of this format holds
    suffixes: tuple[str, ...]  # a file named so is written in this format
    write: Callable[[StoryTree], str]


# Every face reads this table: a new format is one row here and its writer above.
EXPORTS = {
    export.name: export
    for export in (
        ExportFormat("md", "the current path as Markdown", (".md",), to_markdown),
        ExportFormat("txt", "the current path as plain text", (".txt",), to_text),
        ExportFormat("json", "the whole tree, lossless", (".json",), to_json),
        ExportFormat("twee", "the whole tree for Twine", (".twee", ".tw"), to_twee),
    )
}


def export_format(name: str | None, target: str | None = None) -> ExportFormat:
    """The format named, else the one the target file's suffix names, else md."""
    if name is None:
        suffix = Path(target).suffix.lower() if target else ""
        return next((f for f in EXPORTS.values() if suffix in f.suffixes), EXPORTS["md"])
    if name not in EXPORTS:
        raise StoryError(f"unknown export format {name!r}: use one of {', '.join(EXPORTS)}")
    return EXPORTS[name]


def render(tree: StoryTree, fmt: str) -> str:
    return export_format(fmt).write(tree)
