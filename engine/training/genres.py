"""Telling a text's genre by its words: a check that a model writes the genre it was asked for.

The words that mark a genre are learnt from the tagged corpus itself: words seen several times
that (nearly) only one genre uses.
"""

import re
from collections import Counter

from engine.training.data import TrainingText

WORD = re.compile(r"[a-z]{4,}")


def genre_vocabulary(
    stories: list[TrainingText], share: float = 0.9, least: int = 3
) -> dict[str, set[str]]:
    per_genre: dict[str, Counter] = {}
    for story in stories:
        if story.genre:
            per_genre.setdefault(story.genre, Counter()).update(WORD.findall(story.text.lower()))
    total = sum(per_genre.values(), Counter())
    return {
        genre: {w for w, n in counts.items() if n >= least and n >= share * total[w]}
        for genre, counts in per_genre.items()
    }


def guess_genre(text: str, vocabulary: dict[str, set[str]]) -> str | None:
    """The genre whose own words the text uses most; None if it uses none."""
    words = WORD.findall(text.lower())
    scores = {genre: sum(w in marks for w in words) for genre, marks in vocabulary.items()}
    if not scores or max(scores.values()) == 0:
        return None
    return max(scores, key=scores.__getitem__)
