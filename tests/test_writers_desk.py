"""The writer's desk in the core and line mode: passages edited where they stand with their
history, split and joined; the lorebook; what the model reads; steering one branch; counts.
In-process over a real database with the deterministic fake model."""

import io

import pytest

from story import NodeDraft
from story.lorebook import LoreEntry
from testbed.app_driver import make_session
from testbed.fake_model import FakeBackend
from tui.line_mode import LineWriter


@pytest.fixture
def desk(store, tmp_path):
    """A writer in line mode, after: opening, " She waited.", then model branch 1 kept."""
    backend = FakeBackend()
    session = make_session(store, tmp_path, backend)
    story = store.create_story("Lamp", opening="The lamp went out.")
    session.open_story(story.id)
    out = io.StringIO()
    writer = LineWriter(session, out)
    writer.handle("She waited.")
    writer.handle("/gen")
    writer.handle("/pick 1")
    return writer, session, backend, out


def said(out: io.StringIO) -> list[str]:
    lines = out.getvalue().splitlines()
    out.truncate(0)
    out.seek(0)
    return lines


def path_texts(session) -> list[str]:
    return [node.text for node in session.path()]


def test_an_earlier_passage_is_edited_where_it_stands_and_what_follows_stays(desk):
    writer, session, _backend, out = desk
    before = path_texts(session)
    said(out)
    writer.handle("/passages")
    assert [line[:8] for line in said(out)] == ["[1] user", "[2] user", "[3] mode"]
    writer.handle("/edit 2 She hid.")
    assert path_texts(session) == [before[0], " She hid.", before[2]]  # the end stays
    node = session.path()[1]
    [revision] = session.store.revisions(node.id)
    assert revision.text == " She waited."
    said(out)
    writer.handle("/undo")
    assert path_texts(session) == before
    assert said(out) == ["undone: … She waited."]


def test_history_lists_every_earlier_text_and_restores_any(desk):
    writer, session, _backend, out = desk
    writer.handle("/edit 2 First change.")
    writer.handle("/edit 2 Second change.")
    said(out)
    writer.handle("/history 2")
    lines = said(out)
    assert [line.split(": ", 1)[1] for line in lines] == ["First change.", "She waited."]
    assert all(line.startswith(f"[{n}] until ") for n, line in zip((1, 2), lines, strict=True))
    writer.handle("/restore 2 2")
    assert session.path()[1].text == " She waited."
    assert len(session.store.revisions(session.path()[1].id)) == 3  # nothing is ever lost
    kept = session.store.story_tree(session.story().id).revisions
    assert [r.text for r in kept] == [" She waited.", " First change.", " Second change."]


def test_a_model_passage_keeps_its_token_data_through_edit_and_restore(desk):
    writer, session, _backend, _out = desk
    model_node = session.path()[2]
    records = session.store.token_records(model_node.id)
    assert records
    writer.handle("/edit 3 Mine now.")
    assert session.store.token_records(model_node.id) is None  # no longer the model's tokens
    writer.handle("/undo")
    assert session.store.token_records(model_node.id) == records


def test_split_and_join_keep_the_story_and_the_tree(desk):
    writer, session, _backend, out = desk
    text = "".join(path_texts(session))
    model_text = session.path()[2].text
    word = model_text.split()[3]
    writer.handle(f"/split 3 {word}")
    assert len(session.path()) == 4 and "".join(path_texts(session)) == text
    first, second = session.path()[2:]
    assert first.author == second.author == "model" and second.parent_id == first.id
    assert session.story().tip_id == second.id
    writer.handle("/join 4")
    assert len(session.path()) == 3 and "".join(path_texts(session)) == text
    said(out)
    writer.handle("/join 3")  # the model's branch has three siblings: it can't join
    assert said(out) == [
        "! only a passage without alternatives joins the one above it: this one has siblings"
    ]


def test_edit_as_a_new_branch_keeps_the_original_beside_it(desk):
    writer, session, _backend, _out = desk
    original = session.path()[1]
    writer.handle("/branch 2 She ran.")
    edited = session.path()[1]
    assert edited.text == " She ran." and edited.revises_id == original.id
    assert session.store.node(original.id).text == " She waited."
    assert len(session.path()) == 2  # the branch starts anew below the edit


def test_the_lorebook_puts_entries_in_when_their_keys_appear(desk):
    writer, _session, backend, out = desk
    writer.handle("/lore add LAMP, keeper = The lamp is cursed.")
    writer.handle("/lore add ghost = A ghost walks the stairs.")
    said(out)
    writer.handle("/lore test")
    [fired] = said(out)
    assert fired.startswith("fires: #1 [LAMP, keeper]") and fired.endswith("(on 'LAMP')")
    writer.handle("/gen")
    request = backend.requests[-1]
    assert backend.tokenize("The lamp is cursed.") == request.ids[: request.keep + 4][-4:]
    said(out)
    writer.handle("/context")
    lines = said(out)
    assert lines[0].startswith("what the model reads next: ")
    assert "of the 512-token window" in lines[0]
    assert any("lore: LAMP (LAMP): The lamp is cursed." in line for line in lines)
    assert not any("ghost" in line for line in lines)
    writer.handle("/lore set 2 always yes")
    writer.handle("/lore set 2 placement depth")
    writer.handle("/lore set 2 depth 1")
    writer.handle("/context")
    assert any("lore: ghost (always): A ghost walks the stairs." in line for line in said(out))
    writer.handle("/lore del 1")
    writer.handle("/lore set 2 regex yes")
    writer.handle("/lore set 2 keys [")
    assert said(out)[-1].startswith("! the lore entry has a key that isn't a valid regular")
    refusals = {
        "/lore set 2 rank high": "! rank should be a whole number, not 'high'",
        "/lore set 2 case maybe": "! case should be yes or no, not 'maybe'",
        "/lore set 2 colour red": "! a lore entry's fields are keys, text,",
    }
    for typed, refused in refusals.items():
        writer.handle(typed)
        assert said(out)[-1].startswith(refused)
    writer.handle("/lore set 2 case on")
    writer.handle("/lore set 2 text Two lines\\nof lore")
    assert said(out)[-1].endswith("rank 0, depth 1, always, regex, case: Two lines␤of lore")


def test_reroll_one_branch_look_ahead_and_more(desk):
    writer, session, backend, _out = desk
    writer.handle("/gen")
    before = [b.text for b in session.branches]
    parent = session.parent_id
    first = session.store.node(session.branches[0].node_id)
    writer.handle("/reroll 1")
    after = [b.text for b in session.branches]
    rerolled = session.store.node(session.branches[0].node_id)
    assert rerolled.seed != first.seed
    assert after[0] == backend.text_of(
        backend.requests[-1].ids, rerolled.seed, len(after[0].split())
    )
    assert after[0] != before[0] and after[1:] == before[1:]  # the others untouched
    assert len(session.store.children(parent)) == 5  # the old branch 1 stays in the tree
    tip = session.story().tip_id
    writer.handle("/ahead 3")
    third = session.store.node(session.parent_id)
    assert third.text == before[2] and session.story().tip_id == tip  # nothing kept yet
    assert len(session.store.children(third.id)) == 4
    writer.handle("/return")
    assert [b.text for b in session.branches][:4] == after
    writer.handle("/pick 1")
    kept = session.story().tip_id
    text = session.store.node(kept).text
    writer.handle("/more")
    grown = session.store.node(kept)
    assert grown.text.startswith(text) and len(grown.text) > len(text)
    assert session.store.revisions(kept)[0].text == text
    records = session.store.token_records(kept)
    assert sum(r.chars for r in records) == len(grown.text)


def test_word_counts_by_author(desk):
    _writer, session, _backend, _out = desk
    count = session.word_count()
    assert count.user == 6 and count.model == 48 and count.total == 54


def test_lore_entries_are_checked(store, tmp_path):
    from common.errors import UserError

    session = make_session(store, tmp_path)
    session.open_story(store.create_story("X").id)
    with pytest.raises(UserError, match="needs a key, or to be always on"):
        session.save_lore(LoreEntry((), "Text."))
    with pytest.raises(UserError, match="placement should be top or depth"):
        session.save_lore(LoreEntry(("a",), "Text.", placement="middle"))
    entry = session.save_lore(LoreEntry((" a ", ""), "Text."))
    assert entry.keys == ("a",) and entry.id is not None
    store.append(store.story(session.story_id).root_id, NodeDraft("no match"))
    assert session.lore_test() == []


def test_search_and_exports_see_the_current_text(desk):
    writer, session, _backend, _out = desk
    passage = session.path()[1]
    store = session.store
    assert passage.id in [h.node_id for h in store.search("waited")]
    writer.handle("/edit 2 She hid under the stairs.")
    assert [h.snippet for h in store.search("stairs")] == ["She hid under the stairs."]
    assert passage.id not in [h.node_id for h in store.search("waited")]
    assert "She hid under the stairs." in store.path_text(session.story().tip_id)


def test_a_regular_expression_key_that_backtracks_forever_is_named_not_run_forever(desk):
    import time

    writer, _session, _backend, out = desk
    writer.handle("She said: " + "a" * 40 + "!")
    writer.handle("/lore add (a|aa)+$ = The echo.")
    writer.handle("/lore set 1 regex yes")
    said(out)
    started = time.monotonic()
    for command in ("/lore test", "/gen", "/context"):
        writer.handle(command)
        assert said(out)[-1] == (
            "! the lore key '(a|aa)+$' takes too long to match the story: simplify it, or "
            "unmark regex"
        )
    assert time.monotonic() - started < 5  # each search gave up within its time
    writer.handle("/lore set 1 regex no")  # the writer fixes it, and writing goes on
    writer.handle("/gen")
    assert said(out)[-1].startswith("(/pick N")


def test_a_key_nested_too_deep_for_a_regular_expression_is_one_line(desk):
    writer, session, _backend, out = desk
    writer.handle("/lore add lamp = The lamp is cursed.")
    writer.handle("/lore set 1 regex yes")
    said(out)
    writer.handle("/lore set 1 keys " + "(" * 499 + "a" + ")" * 499)  # within the length limit
    [line] = said(out)
    assert line.startswith("! the lore entry has a key too deeply nested or too large")
    assert [e.keys for e in session.lore()] == [("lamp",)]  # unchanged


def test_ten_thousand_entries_of_64_keys_import_and_the_right_ones_fire(tmp_path):
    """A lorebook at the limit of keys per entry, ten thousand entries: imported whole, and
    /lore test names exactly the entries whose keys are at the story's end (one pass over the
    story's words; not a search per key)."""
    import json

    from story.export import LOREBOOK_FORMAT
    from tests.conftest import run_cli

    def key(entry: int, number: int) -> str:
        return f"k{entry}x{number}" + (" stone" if number % 2 else "")

    entries = [
        {"keys": [key(e, n) for n in range(64)], "text": f"Entry {e}."} for e in range(10_000)
    ]
    lore = tmp_path / "lore.json"
    lore.write_text(json.dumps({"format": LOREBOOK_FORMAT, "entries": entries}))
    db = tmp_path / "stories.db"
    assert run_cli("new", "Big", "--opening", "Once.", db=db).returncode == 0
    imported = run_cli("import", str(lore), "--lorebook", "Big", db=db)
    assert imported.returncode == 0, imported.stderr
    story_end = f"They found {key(4321, 7)} and {key(17, 63).upper()} by the door."
    result = run_cli("write", "Big", db=db, stdin=f"{story_end}\n/lore test\n")
    assert result.returncode == 0, result.stderr
    fires = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("fires:")]
    assert sorted(fires) == ["#18", "#4322"]
