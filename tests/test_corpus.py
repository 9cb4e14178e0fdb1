"""The demo corpus generator, and reading corpora."""

import random
import re

import pytest

from engine.training.corpus import GENRES, cast_of, format_corpus, generate_corpus, write_story
from engine.training.data import TrainingError, read_corpus, split_held_out
from engine.training.genres import genre_vocabulary, guess_genre
from engine.training.wordlists import first_name


@pytest.fixture(scope="module")
def corpus():
    return generate_corpus(600, seed=5)


def test_the_same_seed_writes_the_same_corpus(corpus):
    assert generate_corpus(600, seed=5) == corpus
    assert generate_corpus(600, seed=6) != corpus
    assert len({text for _, text in corpus}) == len(corpus)  # varied, no repeats


def test_stories_have_genres_paragraphs_dialogue_and_recurring_names(corpus):
    assert {genre for genre, _ in corpus} == set(GENRES)
    with_dialogue = 0
    for _, text in corpus:
        paragraphs = text.split("\n")
        assert len(paragraphs) >= 5 and all(p.strip() for p in paragraphs)
        with_dialogue += '"' in text
        names = re.findall(r"\b[A-Z][a-z]+\b", text)
        assert max(names.count(n) for n in set(names)) >= 3  # a character who recurs
    assert with_dialogue / len(corpus) > 0.8


def test_the_openings_person_thing_and_place_come_back_by_name():
    carried_thing = carried_home = further_in = as_owner = 0
    for number in range(300):
        genre = GENRES[number % len(GENRES)]
        rng = random.Random(number)
        cast = cast_of(genre, random.Random(number))
        opening, *rest = write_story(genre, rng).split("\n")
        assert cast["hero"] in opening and cast["thing"] in opening
        assert sum(cast["hero"] in p for p in rest) >= 3  # named again, paragraph after paragraph
        carried_thing += any(cast["thing"] in p for p in rest)
        carried_home += any(cast["home"] in p for p in rest) or cast["home"] not in opening
        further_in += cast["hero"] not in opening.split()[:2]  # after a thing, a place, a time
        as_owner += f"{cast['hero']}'s" in opening
    assert carried_thing / 300 > 0.95 and carried_home / 300 > 0.5
    assert further_in / 300 > 0.7 and as_owner / 300 > 0.03


def test_names_are_many_and_pronounceable():
    rng = random.Random(0)
    names = {first_name(rng) for _ in range(100_000)}
    assert len(names) > 20_000
    assert all(re.fullmatch(r"[A-Z][a-z]{2,8}", n) for n in names)
    assert not any(re.search(r"[^aeiouy]{4}", n.lower()) for n in names)


def test_names_start_and_end_in_many_ways():
    """Vowel starts (Astrid), clusters (Clara, Freya) and -ya endings (Priya), so that a name a
    writer brings is one the corpus could have held."""
    rng = random.Random(0)
    names = [first_name(rng) for _ in range(10_000)]

    def share(pattern: str) -> float:
        return sum(re.match(pattern, n) is not None for n in names) / len(names)

    assert share("[AEIOU]") > 0.05
    assert share("(Bl|Cl|Fr|Gl|Kr|Pl)") > 0.05
    assert share(".*ya$") > 0.005


def test_openings_take_many_shapes(corpus):
    first = [text.split("\n")[0] for _, text in corpus]

    def share(pattern):
        return sum(bool(re.match(pattern, f)) for f in first) / len(first)

    assert share('"') > 0.05  # a line of dialogue
    assert share("I ") > 0.03  # first person
    assert share("Rain fell") > 0.02  # a line of description
    assert share(r"[A-Z][a-z]+( [A-Z][a-z]+)? (was halfway|ran,)") > 0.05  # mid-action
    assert len({re.sub(r"[A-Z][a-z]+", "X", f.split(",")[0])[:20] for f in first}) > 20


def test_genres_differ_enough_to_be_told_apart(corpus):
    training, held_out = corpus[:500], corpus[500:]
    from engine.training.data import TrainingText

    vocabulary = genre_vocabulary([TrainingText(g, t) for g, t in training])
    guessed = [guess_genre(text, vocabulary) == genre for genre, text in held_out]
    assert sum(guessed) / len(guessed) > 0.95


def test_the_full_demo_corpus_is_a_few_megabytes():
    text = format_corpus(generate_corpus(4000, seed=0))
    assert 2_000_000 < len(text.encode()) < 6_000_000


def test_written_corpus_reads_back_with_its_genre_tags(tmp_path, corpus):
    path = tmp_path / "corpus.txt"
    path.write_text(format_corpus(corpus[:40]), encoding="utf-8")
    stories = read_corpus(str(path))
    assert [(s.genre, s.text) for s in stories] == corpus[:40]
    training, held = split_held_out(stories)
    assert len(held) == 2 and held[0] == stories[19] and len(training) == 38
    assert split_held_out(stories[:5]) == (stories[:5], stories[:5])  # too few to spare


def test_line_by_line_and_csv(tmp_path):
    lines = tmp_path / "lines.txt"
    lines.write_text("<horror> One dark night.\nA plain story.\n\n", encoding="utf-8")
    stories = read_corpus(str(lines), line_by_line=True)
    assert [(s.genre, s.text) for s in stories] == [
        ("horror", "One dark night."),
        (None, "A plain story."),
    ]
    table = tmp_path / "stories.csv"
    table.write_text('title,body,kind\nA,"Line one,\nline two",Romance\nB,Second,\n')
    stories = read_corpus(str(table), column="body", genre_column="kind")
    assert [(s.genre, s.text) for s in stories] == [
        ("romance", "Line one,\nline two"),
        (None, "Second"),
    ]


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        (None, {}, "no such file"),
        ("\n\n  \n", {}, "no stories"),
        ("a,b\n1,2\n", {"column": "text"}, "has no column 'text' (its columns: a, b)"),
        (b"\xff\xfe\x00bad", {}, "can't be read as UTF-8"),
    ],
)
def test_bad_corpora(tmp_path, content, options, message):
    path = tmp_path / "corpus.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(TrainingError, match=re.escape(message)):
        read_corpus(str(path), **options)
