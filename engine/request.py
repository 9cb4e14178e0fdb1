"""What a model is asked: one type that every backend, the generate loop and the tests' fake
take, so a new part of a request is one field here."""

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engine.settings import SamplingSettings, SettingsError


@dataclass(frozen=True)
class GenerationRequest:
    """`branches` continuations of the token ids `ids`, sampled by `settings`.

    `seed` fixes the whole request (drawn at random when None); `seeds` gives each branch's
    own seed instead (from a FinishEvent), to re-roll chosen branches alone. The first `keep`
    ids (the memory, story mode's turns) survive any trimming to the model's window."""

    ids: Sequence[int]
    branches: int
    settings: SamplingSettings
    seed: int | None = None
    seeds: Sequence[int] | None = None
    keep: int = 0

    def __post_init__(self) -> None:
        if self.branches < 1:
            raise SettingsError("branches must be 1 or more")
        if self.seeds is not None and len(self.seeds) != self.branches:
            raise SettingsError(f"{len(self.seeds)} seeds given for {self.branches} branches")

    def branch_seeds(self, spread: Callable[[int, int], list[int]], bits: int) -> list[int]:
        """Each branch's seed: those given, else `spread(seed, branches)` from the request's
        seed or one drawn of `bits` bits (what the backend's sampler takes)."""
        if self.seeds is not None:
            return list(self.seeds)
        return spread(secrets.randbits(bits) if self.seed is None else self.seed, self.branches)
