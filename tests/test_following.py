"""The measure of following the writer: what counts as naming the person again, mentioning the
thing, and copying the opening; and the openings it is measured on."""

import pytest

from engine.training.corpus import format_corpus, generate_corpus
from engine.training.following import (
    MEASURED,
    TRIAL,
    Opening,
    mentions,
    mostly_copied,
    score_following,
)

MIRA = Opening("mystery", "Mira", "key", "Mira found the brass key under the floorboards.")


def test_a_continuation_in_its_own_words_counts_and_a_copy_does_not():
    written = [
        (MIRA, " She ran to the station. Mira held the key tight."),  # person and thing
        (MIRA, " The keys were gone by morning."),  # the thing, as a plural
        (MIRA, " Nobody came."),  # neither
        (MIRA, " Mira found the brass key under the floorboards. Mira found the brass key"),
    ]
    following = score_following(written)
    assert following.continuations == 4
    assert following.person == 1 / 4  # the copy names Mira too, but doesn't count
    assert following.thing == 2 / 4
    assert following.copies == 1 / 4


def test_word_boundaries_and_case():
    assert mentions("MIRA laughed.", "Mira") and mentions("two keys", "key")
    assert not mentions("Miranda laughed.", "Mira") and not mentions("a keystone", "key")
    assert not mostly_copied("", MIRA.text)
    assert mostly_copied("found the brass key under the floorboards again", MIRA.text)
    assert not mostly_copied("found the brass key, then ran all the way to the sea", MIRA.text)


@pytest.mark.parametrize("openings", [MEASURED, TRIAL], ids=["measured", "trial"])
def test_each_opening_names_its_person_and_thing(openings):
    for opening in openings:
        assert mentions(opening.text, opening.person), opening
        assert mentions(opening.text, opening.thing), opening


def test_the_measured_openings_are_many_apart_from_the_trial_and_not_in_the_corpus():
    assert len(MEASURED) >= 20 and len({o.genre for o in MEASURED}) == 6
    assert not {o.person for o in MEASURED} & {o.person for o in TRIAL}
    corpus = format_corpus(generate_corpus(4000, seed=0))
    assert not any(o.text in corpus for o in (*MEASURED, *TRIAL))
    people_in_corpus = [o.person for o in MEASURED if mentions(corpus, o.person)]
    assert len(people_in_corpus) <= len(MEASURED) // 4, people_in_corpus


def test_a_reader_counts_the_person_carried_by_name_or_pronoun_before_anyone_new():
    from engine.training.reading_like import SHAPES, read_like_a_reader

    mirela = SHAPES[0]  # Mirela and the key; she
    cases = {
        " She turned it over in her hands. The key was cold.": "carried",
        " Then Thomas came in. Mirela looked up.": "new_person_first",
        ' "Who is there?" asked Boris. Mirela hid.': "new_person_first",
        " Q: What did Mirela find?\nA: A key.": "left",
        " Her list:\n- a key\n- a box": "left",
        " ## Chapter Two": "left",
        " <|im_start|>user\nMore!": "left",
        " The key, the key, the key, the key, the key, the key, the key.": "repeats",
    }
    for text, expected in cases.items():
        read = read_like_a_reader([(mirela, text)])
        counted = {name for name, share in vars(read).items() if share == 1.0}
        assert expected in counted, (text, read)
    copy = read_like_a_reader([(mirela, " " + mirela.text)])
    assert copy.copied == 1.0 and copy.carried == 0.0  # a copy carries nothing on
    plain = read_like_a_reader([(mirela, " The wind rose over the cottage.")])
    assert (plain.carried, plain.new_person_first, plain.left, plain.repeats) == (0, 0, 0, 0)


def test_a_letter_carries_its_addressee_as_you_and_a_story_told_of_her_does_not():
    from engine.training.reading_like import SHAPES, read_like_a_reader

    oskar = next(o for o in SHAPES if o.text.startswith("Dear Oskar"))
    mirela = SHAPES[0]
    to_him = " I hear it from my room and wonder whether you taught it the tune."
    assert read_like_a_reader([(oskar, to_him)]).carried == 1.0
    assert read_like_a_reader([(oskar, " He never wrote back.")]).carried == 0.0
    assert read_like_a_reader([(mirela, to_him)]).carried == 0.0


def test_the_shaped_openings_are_many_shapes_and_not_the_corpus_names():
    from engine.training.reading_like import SHAPES, TRIAL_SHAPES

    assert len(SHAPES) >= 20 and not {o.person for o in SHAPES} & {o.person for o in TRIAL_SHAPES}
    for opening in (*SHAPES, *TRIAL_SHAPES):
        assert mentions(opening.text, opening.person) and mentions(opening.text, opening.thing)
    shapes = [o.text for o in SHAPES]
    assert any(t.startswith('"') for t in shapes) and any(t.startswith("Dear") for t in shapes)
    assert any(" I " in f" {t}" for t in shapes)  # told in the first person
    corpus = format_corpus(generate_corpus(4000, seed=0))
    assert not any(o.text in corpus for o in (*SHAPES, *TRIAL_SHAPES))
    people_in_corpus = [o.person for o in SHAPES if mentions(corpus, o.person)]
    assert len(people_in_corpus) <= len(SHAPES) // 4, people_in_corpus
