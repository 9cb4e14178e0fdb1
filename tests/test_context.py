"""Context assembly: memory on top, the author's note near the end, trimmed from the front."""

import re

import pytest

from story import StoryError
from story.context import assemble, build_context, context_for, note_position


def byte_tokens(text: str) -> list[int]:
    """A byte-level tokenizer: one token per UTF-8 byte."""
    return list(text.encode())


def word_tokens(text: str) -> list[int]:
    return [len(piece) for piece in re.findall(r"\s*\S+|\s+", text)]


def test_memory_then_story_then_note_at_its_depth():
    body = "Line one.\nLine two.\nLine three.\nLine four.\n"
    text = assemble("The sea is cold.", body, "[Style: terse]", depth=2)
    assert text == (
        "The sea is cold.\nLine one.\nLine two.\n[Style: terse]\nLine three.\nLine four.\n"
    )


@pytest.mark.parametrize(
    ("depth", "expected"),
    [(0, "a\nb\nc\n[N]\n"), (1, "a\nb\n[N]\nc"), (3, "[N]\na\nb\nc"), (9, "[N]\na\nb\nc")],
)
def test_note_depth_counts_lines_from_the_end(depth, expected):
    assert assemble("", "a\nb\nc", "[N]", depth) == expected


def test_no_note_and_no_memory_is_just_the_story():
    assert assemble("", "Just this.", "", 3) == "Just this."
    assert note_position("", 3) == 0


def test_everything_fits_untrimmed():
    ctx = build_context("Memory.", "Once upon a time.", "Note.", 3, byte_tokens, budget=1000)
    assert ctx.dropped == 0
    assert ctx.text.startswith("Memory.\n") and "Once upon a time." in ctx.text
    assert ctx.tokens == len(ctx.text.encode())


def test_trims_from_the_front_to_the_budget_keeping_memory_and_note():
    body = " ".join(f"word{i}" for i in range(2000))
    ctx = build_context("MEMORY", body, "NOTE", 3, byte_tokens, budget=500, trim_step=100)
    assert ctx.tokens <= 500
    assert ctx.text.startswith("MEMORY\n") and "NOTE" in ctx.text
    assert ctx.text.rstrip().endswith("word1999")
    # One line of story, fewer than the depth: the note sits right under the memory.
    # Cut at the start of a word, never inside one.
    kept = ctx.text[len("MEMORY\nNOTE\n") :]
    assert re.match(r"word\d+ ", kept)
    assert body[ctx.dropped - 1] == " "
    # Trimmed in steps: a bigger budget would not have kept more than one step more.
    assert ctx.tokens > 500 - 100 - len("word1999 ")


def test_start_stays_put_while_the_story_grows_within_a_step():
    """The engine's cache relies on this: the context keeps its beginning between turns."""
    body = " ".join(f"w{i}" for i in range(3000))
    first = build_context("M", body, "", 3, byte_tokens, budget=2000, trim_step=500)
    grown = build_context("M", body + " a few more words", "", 3, byte_tokens, 2000, 500)
    assert first.dropped == grown.dropped > 0
    assert grown.text.startswith(first.text)


def test_a_huge_single_word_run_falls_back_to_word_starts():
    body = "x" * 50 + " " + " ".join(["yy"] * 400)
    ctx = build_context("", body, "", 0, word_tokens, budget=50, trim_step=10_000)
    assert 0 < ctx.tokens <= 50


def test_memory_and_note_too_long_is_a_clear_error():
    with pytest.raises(StoryError, match="memory and author's note alone take"):
        build_context("m " * 100, "story", "n " * 100, 3, word_tokens, budget=20)


def test_multibyte_text_counts_bytes_not_characters():
    body = "雪" * 300  # 3 bytes each
    ctx = build_context("", body, "", 0, byte_tokens, budget=90, trim_step=50)
    assert ctx.tokens <= 90


def test_context_for_a_node_uses_the_story_settings(store):
    story = store.create_story("Cold", opening="First.\nSecond.\n", memory="MEM")
    store.update_story(story.id, note="[NOTE]", note_depth=1)
    tip = store.append(story.root_id, "Third.\nFourth.")
    ctx = context_for(store, tip.id, byte_tokens, budget=1000, scan_tokens=500)
    assert ctx.text == "MEM\nFirst.\nSecond.\nThird.\n[NOTE]\nFourth."


# ------------------------------------------------------------------------------ the lorebook


def entry(keys, text, **fields):
    from story.lorebook import LoreEntry

    return LoreEntry(tuple(keys), text, **fields)


def lore_context(body, lore, budget=10_000, scan=500, memory="Memory.", note=""):
    return build_context(memory, body, note, 1, word_tokens, budget, lore=lore, scan_tokens=scan)


def test_an_entry_goes_in_when_a_key_appears_on_word_boundaries_any_case():
    mara = entry(["Mara"], "Mara keeps the light.")
    assert "Mara keeps" in lore_context("Then MARA came.", [mara]).text
    assert "Mara keeps" not in lore_context("Then Maradona came.", [mara]).text
    cased = entry(["Mara"], "Cased.", case_sensitive=True)
    assert "Cased." not in lore_context("Then MARA came.", [cased]).text
    assert "Cased." in lore_context("Then Mara came.", [cased]).text
    pattern = entry([r"light(house)?s?\b"], "A regex fired.", regex=True)
    assert "A regex fired." in lore_context("The lighthouses.", [pattern]).text
    always = entry([], "Always here.", always=True)
    context = lore_context("Nothing.", [always])
    assert "Always here." in context.text and context.lore[0].key == "always"


def test_keys_are_looked_for_only_in_the_last_tokens_of_the_story():
    body = "Mara left. " + "The sea roared on. " * 50
    mara = entry(["Mara"], "Mara keeps the light.")
    assert "Mara keeps" not in lore_context(body, [mara], scan=100).text
    assert "Mara keeps" in lore_context(body, [mara], scan=1000).text


def test_entries_go_at_the_top_by_rank_or_at_their_depth():
    body = "One.\nTwo.\nThree.\n"
    lore = [
        entry(["One"], "Second by rank.", rank=2),
        entry(["Two"], "First by rank.", rank=1),
        entry(["Three"], "Deep.", placement="depth", depth=2),
    ]
    context = lore_context(body, lore, note="[Note]")
    assert context.text == (
        "Memory.\nFirst by rank.\nSecond by rank.\nOne.\nDeep.\nTwo.\n[Note]\nThree.\n"
    )
    assert [p.kind for p in context.parts] == [
        "memory",
        "lore",
        "lore",
        "story",
        "lore",
        "story",
        "note",
        "story",
    ]
    assert [p.label for p in context.parts if p.kind == "lore"] == [
        "lore: Two (Two)",
        "lore: One (One)",
        "lore: Three (Three)",
    ]
    assert all(p.tokens == len(word_tokens(p.text)) for p in context.parts)


def test_when_room_is_short_the_oldest_story_goes_first_then_the_last_ranked_entries():
    body = " ".join(f"w{i}" for i in range(400)) + " Mara Ivo"
    lore = [
        entry(["Mara"], " ".join(["mara"] * 40), rank=1),
        entry(["Ivo"], " ".join(["ivo"] * 40), rank=2),
    ]
    roomy = lore_context(body, lore, budget=1000)
    assert len(roomy.lore) == 2 and roomy.dropped == 0
    tight = lore_context(body, lore, budget=300)
    assert tight.tokens <= 300 and tight.dropped > 0  # old story text went first
    assert [f.entry.rank for f in tight.lore] == [1, 2]
    tighter = lore_context(body, lore, budget=100)
    assert [f.entry.rank for f in tighter.lore] == [1]  # the last-ranked entry left out
    assert [f.entry.rank for f in tighter.left_out] == [2]
    assert tighter.text.startswith("Memory.\n") and tighter.tokens <= 100
    assert tighter.text.endswith("Mara Ivo")  # the story's end always stays
