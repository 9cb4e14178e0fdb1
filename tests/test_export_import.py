"""Export formats, validated import, and the lossless JSON round trip."""

import json
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from story import Bookmark, Node, NodeDraft, StoryError, StoryTree
from story.export import render, to_json, to_json_document, to_twee
from story.importer import InvalidImport, parse_story_json
from story.lorebook import LoreEntry
from story.models import Revision
from tests.conftest import run_cli

STAMP = "2026-01-02T03:04:05.000006+00:00"


def chain_tree(depth: int, title: str = "Deep") -> StoryTree:
    nodes = [
        Node(i, 0, i - 1 if i > 1 else None, f" step {i}", "user", STAMP)
        for i in range(1, depth + 1)
    ]
    return StoryTree(title, None, "", "", 3, STAMP, STAMP, depth, nodes, [])


@pytest.fixture
def branching(store):
    story = store.create_story("Fork Road", genre="adventure", opening="Two roads.", memory="M")
    store.update_story(story.id, note="[N]", note_depth=2)
    left = store.append(story.root_id, " Left.")
    store.add_children(
        story.root_id,
        [
            NodeDraft(
                " Right: [[x]]->y|z",
                author="model",
                model="demo",
                seed=9,
                settings={"temperature": 0.7},
            )
        ],
    )
    store.append(left.id, "\n:: not a passage\nMore.")
    store.bookmark(left.id, "choice")
    return store.story(story.id)


def test_markdown_and_text_are_the_current_path(store, branching):
    tree = store.story_tree(branching.id)
    assert render(tree, "txt") == "Two roads. Left.\n:: not a passage\nMore.\n"
    assert render(tree, "md") == "# Fork Road\n\nTwo roads. Left.\n:: not a passage\nMore.\n"


def test_twee_has_a_passage_per_node_and_a_link_per_child(store, branching):
    twee = to_twee(store.story_tree(branching.id))
    assert twee.startswith(":: StoryTitle\nFork Road\n\n:: StoryData\n")
    data = json.loads(twee.split(":: StoryData\n", 1)[1].split("\n\n", 1)[0])
    assert data["start"] == "n1" and data["format"] == "Harlowe" and len(data["ifid"]) == 36
    assert (
        ':: n1 [user] {"position": "0,0"}\n`Two roads.`\n\n[[Left.->n2]]\n[[Right: x y z->n3]]\n'
    ) in twee
    # The text is Harlowe verbatim: brackets in it stay text, not links.
    assert "\n` Right: [[x]]->y|z`\n" in twee
    # Laid out as a tree on Twine's map: rows by depth, one column per leaf.
    assert ':: n2 [user] {"position": "0,125"}' in twee
    assert ':: n4 [user] {"position": "0,250"}' in twee
    assert ':: n3 [model] {"position": "125,125"}' in twee
    # A line starting with "::" inside a passage can't open a new passage.
    assert "\n&#58;`: not a passage`\n`More.`\n" in twee
    assert twee.count("\n:: ") == 5  # StoryData and four nodes


def test_json_holds_everything_with_file_local_ids(store, branching):
    document = to_json_document(store.story_tree(branching.id))
    assert document["format"] == "taletree-story/1"
    assert [n["id"] for n in document["nodes"]] == [1, 2, 3, 4]
    assert document["nodes"][2] == {
        "id": 3,
        "parent": 1,
        "author": "model",
        "created": document["nodes"][2]["created"],
        "text": " Right: [[x]]->y|z",
        "model": "demo",
        "settings": {"temperature": 0.7},
        "seed": 9,
    }
    assert document["bookmarks"][0]["node"] == 2 and document["tip"] == 4
    assert (document["memory"], document["note"], document["note_depth"]) == ("M", "[N]", 2)


def test_import_of_an_export_re_exports_identically(store, branching):
    first = to_json(store.story_tree(branching.id))
    imported = store.add_story_tree(parse_story_json(first))
    assert imported.id != branching.id
    assert to_json(store.story_tree(imported.id)) == first


@pytest.mark.slow
def test_a_10000_deep_chain_and_1000_children_round_trip(store):
    deep = chain_tree(10_000)
    wide_nodes = [Node(1, 0, None, "", "user", STAMP)] + [
        Node(i, 0, 1, f" child {i}", "model", STAMP, seed=i) for i in range(2, 1002)
    ]
    wide = StoryTree(
        "Wide", "fantasy", "", "", 3, STAMP, STAMP, 500, wide_nodes, [Bookmark(7, 0, "", STAMP)]
    )
    for tree in (deep, wide):
        text = to_json(tree)
        stored = store.add_story_tree(parse_story_json(text))
        assert to_json(store.story_tree(stored.id)) == text
    assert len(store.path(store.find_story("Deep").tip_id)) == 10_000
    assert len(store.children(store.find_story("Wide").root_id)) == 1000


texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


@st.composite
def story_trees(draw) -> StoryTree:
    count = draw(st.integers(1, 40))
    nodes = []
    for i in range(1, count + 1):
        parent = None if i == 1 else draw(st.integers(1, i - 1))
        author = draw(st.sampled_from(["user", "model"]))
        model_fields = {}
        if author == "model":
            model_fields = {
                "model": draw(st.one_of(st.none(), texts)),
                "seed": draw(st.one_of(st.none(), st.integers(0, 2**63 - 1))),
                "settings": draw(st.one_of(st.none(), st.dictionaries(texts, st.floats(0, 2)))),
            }
        revises = draw(st.one_of(st.none(), st.integers(1, i)))
        nodes.append(
            Node(i, 0, parent, draw(texts), author, STAMP, revises_id=revises, **model_fields)
        )
    # Some nodes remember the child last visited below them.
    for index, node in enumerate(nodes):
        children = [n.id for n in nodes if n.parent_id == node.id]
        if children and draw(st.booleans()):
            nodes[index] = replace(node, last_child_id=draw(st.sampled_from(children)))
    marked = draw(st.sets(st.integers(1, count), max_size=3))
    revisions = [
        Revision(0, node_id, draw(texts), STAMP)
        for node_id in draw(st.lists(st.integers(1, count), max_size=4))
    ]
    revisions.sort(key=lambda r: r.node_id)  # a file lists each node's revisions with it
    keys = st.lists(texts.filter(lambda t: t.strip() == t and t), min_size=1, max_size=3)
    lore = sorted(
        (
            LoreEntry(
                tuple(draw(keys)),
                draw(texts),
                draw(st.integers(-5, 5)),
                placement=draw(st.sampled_from(["top", "depth"])),
                depth=draw(st.integers(0, 5)),
                case_sensitive=draw(st.booleans()),
            )
            for _ in range(draw(st.integers(0, 3)))
        ),
        key=lambda e: e.rank,
    )
    settings = draw(st.one_of(st.none(), st.fixed_dictionaries({"branches": st.integers(1, 8)})))
    return StoryTree(
        title=draw(
            texts.filter(lambda t: t.strip() == t and t and "\n" not in t and "\r" not in t)
        ),
        genre=draw(st.one_of(st.none(), st.sampled_from(["horror", "romance"]))),
        memory=draw(texts),
        note=draw(texts),
        note_depth=draw(st.integers(0, 10)),
        created=STAMP,
        updated=STAMP,
        tip_id=draw(st.integers(1, count)),
        nodes=nodes,
        bookmarks=[Bookmark(n, 0, draw(texts), STAMP) for n in sorted(marked)],
        revisions=revisions,
        lore=lore,
        settings=settings,
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=story_trees())
def test_json_round_trip_over_random_trees(store, tree):
    text = to_json(tree)
    stored = store.add_story_tree(parse_story_json(text))
    assert to_json(store.story_tree(stored.id)) == text


def valid_document() -> dict:
    return json.loads(to_json(chain_tree(3, title="Valid")))


@pytest.mark.parametrize(
    ("damage", "where"),
    [
        (lambda d: d.update(format="taletree-story/9"), "format:"),
        (lambda d: d.pop("title"), "title:"),
        (lambda d: d.update(nodes=[]), "nodes:"),
        (
            lambda d: d["nodes"][2].update(parent=7),
            "nodes[2].parent: 7 is not the id of an earlier",
        ),
        (lambda d: d["nodes"][1].update(id=1), "nodes[1].id: 1 is used by an earlier node"),
        (lambda d: d["nodes"][1].update(parent=None), "nodes[1].parent: only the first"),
        (lambda d: d["nodes"][0].update(parent=2), "nodes[0].parent: the first node"),
        (lambda d: d["nodes"][2].update(author="ghost"), "nodes[2].author"),
        (lambda d: d["nodes"][1].update(text=5), "nodes[1].text should be text, not int"),
        (lambda d: d["nodes"][1].update(seed=-3), "nodes[1].seed"),
        (lambda d: d["nodes"][1].update(last_child=1), "nodes[1].last_child"),
        (lambda d: d.update(tip=99), "tip: 99"),
        (lambda d: d.update(tip=True), "tip: should be a whole number"),
        (lambda d: d.update(bookmarks=[{"node": 42, "created": STAMP}]), "bookmarks[0].node"),
        (lambda d: d.update(note_depth=-1), "note_depth"),
    ],
)
def test_invalid_files_say_where_and_write_nothing(tmp_path, db_path, damage, where):
    document = valid_document()
    damage(document)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    result = run_cli("import", str(bad), db=db_path)
    assert result.returncode == 2
    assert where in result.stderr and str(bad) in result.stderr
    assert result.stderr.count("\n") == 1
    assert "no stories yet" in run_cli("list", db=db_path).stdout


def test_not_json_not_utf8_and_missing_files(tmp_path, db_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "taletree-story/1",\n  "title": }', encoding="utf-8")
    result = run_cli("import", str(broken), db=db_path)
    assert result.returncode == 2 and "line 2 column" in result.stderr
    binary = tmp_path / "picture.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    assert "not UTF-8" in run_cli("import", str(binary), db=db_path).stderr
    missing = run_cli("import", str(tmp_path / "nope.json"), db=db_path)
    assert missing.returncode == 2 and "can't be read" in missing.stderr
    with pytest.raises(InvalidImport, match="the file: should be an object"):
        parse_story_json("[1, 2]")
    with pytest.raises(StoryError, match="unknown export format"):
        render(chain_tree(1), "pdf")


def test_revisions_lore_and_settings_travel_with_the_json(store, db_path, tmp_path):
    from story.lorebook import LoreEntry

    story = store.create_story("Kept", opening="Once.")
    node = store.append(story.root_id, " Twice.")
    store.revise(node.id, " Thrice.")
    store.add_lore(
        story.id,
        LoreEntry(
            ("Mara", "keeper"),
            "Mara keeps the light.",
            rank=2,
            placement="depth",
            depth=1,
            regex=False,
        ),
    )
    store.update_story(story.id, settings={"branches": 2, "temperature": 0.5})
    document = to_json_document(store.story_tree(story.id))
    assert document["nodes"][1]["revisions"] == [
        {"text": " Twice.", "replaced": document["nodes"][1]["revisions"][0]["replaced"]}
    ]
    assert document["lorebook"] == [
        {
            "keys": ["Mara", "keeper"],
            "text": "Mara keeps the light.",
            "rank": 2,
            "always": False,
            "regex": False,
            "case_sensitive": False,
            "placement": "depth",
            "depth": 1,
        }
    ]
    assert document["settings"] == {"branches": 2, "temperature": 0.5}
    copy = store.add_story_tree(parse_story_json(to_json(store.story_tree(story.id))))
    assert [r.text for r in store.revisions(store.path(copy.tip_id)[1].id)] == [" Twice."]
    assert store.lore(copy.id)[0].keys == ("Mara", "keeper") and copy.settings["branches"] == 2
    # A lorebook alone, into another story.
    lore_file = tmp_path / "lore.json"
    assert run_cli("export", "1", "--lorebook", "-o", str(lore_file), db=db_path).returncode == 0
    assert json.loads(lore_file.read_text())["format"] == "taletree-lorebook/1"
    other = store.create_story("Other")
    result = run_cli("import", str(lore_file), "--lorebook", "Other", db=db_path)
    assert result.stdout == "added 1 lore entries to story 3 'Other'\n"
    assert [e.text for e in store.lore(other.id)] == ["Mara keeps the light."]
    bad = tmp_path / "bad-lore.json"
    bad.write_text('{"format": "taletree-lorebook/1", "entries": [{"keys": [], "text": "x"}]}')
    refused = run_cli("import", str(bad), "--lorebook", "Other", db=db_path)
    assert (
        refused.returncode == 2 and "entries[0] needs a key, or to be always on" in refused.stderr
    )
