"""The `models` setting: several models writing one step side by side, as a writer types it.

    default*2 demo*2 temperature=1.1

Each model is named as the `model` setting names one; `*N` gives it N of the step's branches,
and each KEY=VALUE after it is a setting of its own, laid over the story's for that model alone.
A model without `*N` takes an even part of the `branches` setting. Names with spaces are quoted,
as in a shell. Blank: the `model` setting alone writes every branch.
"""

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from engine.settings import MAX_BRANCHES, SETTING, SettingsError, parse
from engine.together import MAX_MODELS

# What a model may set for itself: how it runs, reads and samples. The story's shape (its
# seed, the lorebook's scan) and the set itself are the story's alone.
OWN_SETTINGS = tuple(
    name
    for name in SETTING
    if name not in ("model", "models", "branches", "seed", "lore_scan_tokens")
)
PLAIN = re.compile(r"[^\s'\"\\]+")  # a word needing no quotes


@dataclass(frozen=True)
class ModelShare:
    name: str  # as the model setting names it: default, demo, a path, a server's address
    branches: int | None = None  # None: an even part of the branches setting
    settings: dict[str, Any] = field(default_factory=dict)  # its own, checked


def model_shares(text: str) -> list[ModelShare]:
    """The models a `models` setting lists, each checked; [] for a blank one. A SettingsError
    names the first word that can't be read and what to write instead."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise SettingsError(f"models has an unclosed quote: {text!r}") from None
    shares: list[ModelShare] = []
    for word in words:
        key, equals, value = word.partition("=")
        if equals and key.isidentifier():
            if not shares:
                raise SettingsError(f"models: {word!r} comes before any model: name one first")
            if key not in OWN_SETTINGS:
                raise SettingsError(
                    f"models: {key} isn't a setting a model has of its own: "
                    f"{', '.join(OWN_SETTINGS)}"
                )
            try:
                checked = parse(key, value)
            except SettingsError as error:
                raise SettingsError(f"models: {error}") from None
            last = shares[-1]
            shares[-1] = ModelShare(last.name, last.branches, {**last.settings, key: checked})
            continue
        name, star, count = word.rpartition("*") if "*" in word else (word, "", "")
        if star and not (count.isdigit() and 1 <= int(count) <= MAX_BRANCHES):
            raise SettingsError(
                f"models: {word!r} should end *N, N the model's branches, from 1 to {MAX_BRANCHES}"
            )
        if not name:
            raise SettingsError(f"models: {word!r} names no model")
        if any(share.name == name for share in shares):
            raise SettingsError(f"models names {name} twice: name each model once")
        shares.append(ModelShare(name, int(count) if star else None))
    if len(shares) > MAX_MODELS:
        raise SettingsError(f"models lists {len(shares)}: at most {MAX_MODELS} write side by side")
    given = sum(share.branches or 0 for share in shares)
    if given > MAX_BRANCHES:
        raise SettingsError(f"models asks for {given} branches: at most {MAX_BRANCHES} in a step")
    return shares


def shares_text(shares: list[ModelShare]) -> str:
    """A list of models as the setting writes it (model_shares reads it back the same)."""
    words = []
    for share in shares:
        words.append(share.name + (f"*{share.branches}" if share.branches else ""))
        words += [f"{key}={'' if v is None else v}" for key, v in share.settings.items()]
    return " ".join(w if PLAIN.fullmatch(w) else shlex.quote(w) for w in words)


def branch_counts(shares: list[ModelShare], branches: int) -> list[int]:
    """Each model's branches: its own *N, else an even part of what `branches` leaves (at
    least one each; the first take one more where it doesn't divide)."""
    unsaid = [i for i, share in enumerate(shares) if share.branches is None]
    left = max(branches - sum(share.branches or 0 for share in shares), len(unsaid))
    counts = [share.branches or 0 for share in shares]
    for place, i in enumerate(unsaid):
        counts[i] = left // len(unsaid) + (place < left % len(unsaid))
    if sum(counts) > MAX_BRANCHES:
        raise SettingsError(
            f"the models ask for {sum(counts)} branches: at most {MAX_BRANCHES} in a step; "
            "give each model fewer (*N)"
        )
    return counts
