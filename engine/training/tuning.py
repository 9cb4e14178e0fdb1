"""Choosing a model's generation defaults by trying them: write a few samples per genre with
each candidate setting, and keep the one whose samples are most often recognisably the asked
genre while repeating themselves least."""

from dataclasses import dataclass
from typing import Any

from engine.events import FinishEvent
from engine.generate import generate
from engine.settings import SamplingSettings
from engine.training.data import genre_prefix
from engine.training.genres import guess_genre

CANDIDATES = [
    {"temperature": t, "top_p": p, "repetition_penalty": r}
    for t in (0.7, 0.9, 1.1)
    for p in (0.9, 1.0)
    for r in (1.0, 1.15)
]


@dataclass(frozen=True)
class Trial:
    settings: dict[str, Any]
    genre_accuracy: float | None  # share of samples recognised as the asked genre
    distinct_bigrams: float  # unique word pairs over all word pairs: 1 = never repeats
    score: float


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
                model, genre_prefix(model.tokenizer, genre), count, settings, seed=seed
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
        score = diversity if accuracy is None else 0.6 * accuracy + 0.4 * diversity
        trials.append(Trial(candidate, accuracy, diversity, score))
    return trials


def best(trials: list[Trial]) -> Trial:
    return max(trials, key=lambda t: t.score)
