"""The story tree's operations, each against a real SQLite file."""

import pytest

from story import NodeDraft, Store, StoryError
from story.errors import NotFound


def texts(nodes):
    return [n.text for n in nodes]


@pytest.fixture
def story(store: Store):
    return store.create_story("The Lighthouse", genre="mystery", opening="The lamp went out.")


def test_new_story_has_a_root_holding_the_opening(store, story):
    assert story.title == "The Lighthouse" and story.genre == "mystery"
    root = store.node(story.root_id)
    assert root.text == "The lamp went out." and root.parent_id is None and root.author == "user"
    assert story.tip_id == story.root_id
    assert story.created == story.updated


def test_empty_opening_and_blank_titles(store):
    assert store.node(store.create_story("Untitled draft").root_id).text == ""
    with pytest.raises(StoryError, match="needs a title"):
        store.create_story("   ")
    with pytest.raises(StoryError, match="one line"):
        store.create_story("two\nlines")
    assert [s.title for s in store.list_stories()] == ["Untitled draft"]


def test_append_moves_the_tip_and_records_the_model(store, story):
    settings = {"temperature": 0.8, "top_p": 0.95}
    child = store.append(
        story.root_id,
        NodeDraft(" Someone knocked.", author="model", model="demo", settings=settings, seed=7),
    )
    assert child.parent_id == story.root_id
    assert (child.author, child.model, child.settings, child.seed) == ("model", "demo", settings, 7)
    assert store.story(story.id).tip_id == child.id
    assert store.story(story.id).updated >= story.updated
    stay = store.append(child.id, " Twice.", move_tip=False)
    assert store.story(story.id).tip_id == child.id and stay.author == "user"


def test_bad_drafts_are_refused_and_nothing_is_written(store, story):
    with pytest.raises(StoryError, match="unknown author"):
        store.append(story.root_id, NodeDraft("x", author="robot"))
    with pytest.raises(StoryError, match="seed"):
        store.append(story.root_id, NodeDraft("x", author="model", seed=-1))
    with pytest.raises(NotFound):
        store.append(9999, "x")
    assert store.children(story.root_id) == []


def test_alternatives_are_children_and_siblings(store, story):
    drafts = [NodeDraft(f" Branch {i}.", author="model", seed=i) for i in range(4)]
    branches = store.add_children(story.root_id, drafts)
    assert texts(store.children(story.root_id)) == [f" Branch {i}." for i in range(4)]
    assert store.story(story.id).tip_id == story.root_id  # choosing is a separate step
    more = store.add_children(story.root_id, [NodeDraft(" Branch 4.", author="model")])
    assert [n.id for n in store.siblings(branches[2].id)] == [b.id for b in branches + more]
    assert store.siblings(story.root_id) == [store.node(story.root_id)]


def test_edit_adds_a_revision_beside_the_original(store, story):
    original = store.append(story.root_id, NodeDraft(" A gull cried.", author="model", seed=3))
    below = store.append(original.id, " Then silence.")
    revision = store.edit_as_branch(original.id, " A gull screamed.")
    assert revision.id != original.id and revision.parent_id == original.parent_id
    assert revision.revises_id == original.id and revision.author == "user"
    assert store.node(original.id).text == " A gull cried."
    assert store.children(original.id) == [below]
    assert store.story(story.id).tip_id == revision.id


def test_editing_the_opening_changes_it_in_place(store, story):
    edited = store.edit_as_branch(story.root_id, "The lamp flickered.")
    assert edited.id == story.root_id and store.node(story.root_id).text == "The lamp flickered."


def test_path_and_its_text(store, story):
    a = store.append(story.root_id, " One.")
    store.append(story.root_id, " Other.")
    b = store.append(a.id, " Two.")
    assert [n.id for n in store.path(b.id)] == [story.root_id, a.id, b.id]
    assert store.path_text(b.id) == "The lamp went out. One. Two."
    with pytest.raises(NotFound):
        store.path(12345)


def test_tip_moves_parent_child_sibling_and_anywhere(store, story):
    a = store.append(story.root_id, " A.")
    b = store.append(story.root_id, " B.")
    c = store.append(story.root_id, " C.")
    b1 = store.append(b.id, " B1.")
    assert store.tip_to_parent(story.id).id == b.id
    assert store.tip_to_sibling(story.id, -1).id == a.id
    assert store.tip_to_sibling(story.id, -1) is None  # already the first
    assert store.tip_to_sibling(story.id, +1).id == b.id
    assert store.tip_to_sibling(story.id, +1).id == c.id
    assert store.tip_to_sibling(story.id, +1) is None
    assert store.tip_to_child(story.id) is None  # c is a leaf
    assert store.move_tip(b1.id).id == b1.id
    assert store.tip_to_parent(story.id).id == b.id
    assert store.tip_to_parent(story.id).id == story.root_id
    assert store.tip_to_parent(story.id) is None
    # Forward follows the way last taken (redo), not the first child.
    assert store.tip_to_child(story.id).id == b.id
    assert store.tip_to_child(story.id).id == b1.id


def test_forward_after_a_jump_follows_the_jump(store, story):
    a = store.append(story.root_id, " A.")
    a1 = store.append(a.id, " A1.")
    b = store.append(story.root_id, " B.")
    store.move_tip(a1.id)
    store.move_tip(story.root_id)
    assert store.tip_to_child(story.id).id == a.id
    store.move_tip(b.id)
    store.move_tip(story.root_id)
    assert store.tip_to_child(story.id).id == b.id


def test_delete_subtree_moves_the_tip_out_first(store, story):
    a = store.append(story.root_id, " A.")
    a1 = store.append(a.id, " A1.")
    a2 = store.append(a1.id, " A2.")
    b = store.append(story.root_id, " B.", move_tip=False)
    store.bookmark(a1.id, "good bit")
    store.move_tip(a2.id)
    assert store.delete_subtree(a.id) == 3
    assert store.story(story.id).tip_id == story.root_id
    assert store.children(story.root_id) == [store.node(b.id)]
    assert store.bookmarks(story.id) == []
    assert store.search("A2") == []
    with pytest.raises(StoryError, match="delete the story"):
        store.delete_subtree(story.root_id)


def test_delete_subtree_keeps_the_tip_when_it_is_elsewhere(store, story):
    a = store.append(story.root_id, " A.")
    b = store.append(story.root_id, " B.")
    assert store.delete_subtree(a.id) == 1
    assert store.story(story.id).tip_id == b.id


def test_bookmarks(store, story):
    a = store.append(story.root_id, " A.")
    store.bookmark(a.id, "the turn")
    store.bookmark(a.id, "the real turn")  # relabel, not a second one
    assert [(b.node_id, b.label) for b in store.bookmarks(story.id)] == [(a.id, "the real turn")]
    store.unbookmark(a.id)
    assert store.bookmarks(story.id) == []


def test_stories_rename_update_find_delete(store, story):
    other = store.create_story("Harbour", opening="Boats.")
    store.append(other.root_id, " More boats.")
    assert store.rename_story(story.id, "  The Lamp  ").title == "The Lamp"
    assert store.find_story("The Lamp").id == story.id
    assert store.find_story(str(other.id)).id == other.id
    updated = store.update_story(story.id, memory="Set in 1890.", note="[Tone: eerie]", genre="")
    assert (updated.memory, updated.note, updated.genre) == ("Set in 1890.", "[Tone: eerie]", None)
    with pytest.raises(StoryError, match="no field"):
        store.update_story(story.id, tip_id=1)
    with pytest.raises(StoryError, match="depth"):
        store.update_story(story.id, note_depth=-1)
    store.create_story("Harbour")
    with pytest.raises(StoryError, match="2 stories are titled 'Harbour'"):
        store.find_story("Harbour")
    with pytest.raises(NotFound, match="taletree list"):
        store.find_story("Nope")
    store.delete_story(other.id)
    assert "Boats." not in [h.snippet for h in store.search("boats")]
    assert [s.title for s in store.list_stories()].count("Harbour") == 1
    with pytest.raises(NotFound):
        store.story(other.id)


def test_list_counts_nodes_newest_first(store, story):
    store.create_story("Second")
    store.append(story.root_id, " touched")
    summaries = store.list_stories()
    assert [s.title for s in summaries] == ["The Lighthouse", "Second"]
    assert [s.nodes for s in summaries] == [2, 1]


def test_search_titles_and_text_with_prefixes_and_punctuation(store, story):
    store.append(story.root_id, " The keeper's logbook was missing.")
    hits = store.search("logb", marks=("<", ">"))
    assert [(h.story_id, h.snippet) for h in hits] == [
        (story.id, "The keeper's <logbook> was missing.")
    ]
    assert store.search("lighthouse")[0].node_id is None
    assert len(store.search('"keeper (log')) == 1  # quotes and brackets are not query syntax
    assert store.search("keeper OR lamp") == []  # OR is a word here, not an operator
    assert store.search("  ") == []
    assert store.search("the keep")[0].node_id is not None  # typing: the last word is a prefix
    store.append(story.root_id, " Un café noir.")
    assert "café" in store.search("cafe")[0].snippet  # accents don't matter


def test_words_along_the_path_are_counted_by_author_only_when_asked(store):
    story = store.create_story("Count", opening="One two three.")
    tip = store.append(story.root_id, NodeDraft(" Four five.", author="model"))
    store.add_children(story.root_id, [NodeDraft(" Not on the path at all.")])
    count = store.words(tip.id)
    assert (count.total, count.user, count.model) == (5, 3, 2)
    assert [s.words.total for s in store.list_stories(count_words=True)] == [5]
    assert [s.words.total for s in store.list_stories()] == [0]
