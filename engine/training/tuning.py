"""Choosing a model's generation defaults by trying them: with each candidate setting, write a
few samples per genre and continue the trial's openings (engine/training/following.py), and
keep the one whose samples are most often recognisably the asked genre, that most often carries
on with the opening's person and thing, and that repeats itself least."""

from dataclasses import dataclass
from typing import Any

from engine.events import FinishEvent
from engine.generate import generate
from engine.reading import genre_prefix
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from engine.training.following import TRIAL, Following, measure_following
from engine.training.genres import guess_genre

CANDIDATES = [
    {"temperature": t, "top_p": p, "repetition_penalty": r}
    for t in (0.5, 0.7, 0.9)  # a small model copies a name best when it samples surely
    for p in (0.9, 1.0)
    for r in (1.0, 1.15)
]


@dataclass(frozen=True)
class Trial:
    settings: dict[str, Any]
    genre_accuracy: float | None  # share of samples recognised as the asked genre
    distinct_bigrams: float  # unique word pairs over all word pairs: 1 = never repeats
    following: Following  # on the trial's openings
    score: float


def follows(following: Following) -> float:
    """One figure for following the writer: the person and the thing carried on, half each,
    less the share that only copied the opening."""
    return 0.5 * following.person + 0.5 * following.thing - following.copies


def trial_score(accuracy: float | None, diversity: float, following: Following) -> float:
    if accuracy is None:
        return 0.4 * diversity + 0.6 * follows(following)
    return 0.4 * accuracy + 0.2 * diversity + 0.4 * follows(following)


def room(model, wanted: int) -> int:
    """As many new tokens as wanted, or as the model's window leaves after the prompt."""
    return wanted if model.window is None else max(1, min(wanted, model.window - 3))


def write_samples(
    model, genres: list[str | None], settings: SamplingSettings, count: int, seed: int
) -> dict[str | None, list[str]]:
    samples = {}
    for genre in genres:
        finished = [
            e
            for e in generate(
                model,
                GenerationRequest(genre_prefix(model.tokenizer, genre), count, settings, seed=seed),
            )
            if isinstance(e, FinishEvent)
        ]
        samples[genre] = [f.text.strip() for f in sorted(finished, key=lambda f: f.branch)]
    return samples


def distinct_bigrams(texts: list[str]) -> float:
    pairs = [pair for t in texts for pair in zip(t.split(), t.split()[1:], strict=False)]
    return len(set(pairs)) / len(pairs) if pairs else 0.0


def try_settings(
    model,
    genres: list[str],
    vocabulary: dict[str, set[str]],
    max_new_tokens: int = 80,
    count: int = 3,
    seed: int = 1,
    follow_tokens: int = 60,
) -> list[Trial]:
    trials = []
    asked = genres or [None]
    max_new_tokens = room(model, max_new_tokens)
    for candidate in CANDIDATES:
        settings = SamplingSettings(max_new_tokens=max_new_tokens, **candidate)
        samples = write_samples(model, asked, settings, count, seed)
        texts = [t for ts in samples.values() for t in ts]
        accuracy = None
        if genres and vocabulary:
            hits = [guess_genre(t, vocabulary) == g for g in genres for t in samples[g]]
            accuracy = sum(hits) / len(hits)
        diversity = distinct_bigrams(texts)
        following = measure_following(
            model,
            SamplingSettings(max_new_tokens=room(model, follow_tokens), **candidate),
            TRIAL,
            count=2,
            seed=seed,
        )
        score = trial_score(accuracy, diversity, following)
        trials.append(Trial(candidate, accuracy, diversity, following, score))
    return trials


def best(trials: list[Trial]) -> Trial:
    return max(trials, key=lambda t: t.score)
