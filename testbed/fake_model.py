"""A deterministic stand-in for a model, for UI tests and the TUI benchmark.

It has the shape of the engine's Backend (engine/backend.py) and honours its request as a model
would, so a UI test catches a face or the core that sends the wrong one:

- the words: each branch's next word is chosen by its prompt (the request's ids), its own seed
  and the step alone, so the same prompt and seed write the same text, a re-roll with a branch's
  seed (`seeds`) writes that branch again, and any other prompt writes something else. A request
  without a seed draws one, as the engine does: DEFAULT_SEED the first time, then others from a
  fixed sequence (`drawn_seeds`); branch b's seed is the request's plus b.
- temperature 0 (greedy): the prompt alone chooses, so every branch writes the same words.
- bans: a banned token, or one whose text holds a banned string, is passed over for the next
  word of `words`; ban_end_of_text keeps a branch going past `end_after`.
- stop modes and stop strings, through the engine's own stop rule (engine/branches.py); the
  default words hold no sentence end, so sentence mode runs to max_new_tokens unless a test
  brings words that end one ("rang.").

A token is a word with a space before it: ids below len(words) are those words, and tokenize
gives every other word a new id of its own, so token_text undoes tokenize. Branch b gives each
of its tokens probability 0.5 / (b + 1), and lists the next two words of `words` as
alternatives, half and a third as likely.
"""

import itertools
import math
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import replace

from engine.branches import DecodingBranch, take_token
from engine.events import CANCELLED, END_OF_TEXT
from engine.request import GenerationRequest
from engine.settings import SETTING, SamplingSettings
from engine.stopping import StopRule

WORDS = (
    "the",
    "lamp",
    "went",
    "out",
    "and",
    "she",
    "waited",
    "by",
    "door",
    "rain",
    "fell",
    "on",
    "old",
    "stones",
    "a",
    "bell",
    "rang",
    "twice",
)
DEFAULT_SEED = 1234
NO_BANS = SamplingSettings()
SEED_STEP = 7919  # between drawn seeds: far apart, so no two requests share a branch's seed


def drawn_seeds() -> Iterator[int]:
    """The seeds a FakeBackend draws for requests that bring none, in order."""
    return itertools.count(DEFAULT_SEED, SEED_STEP)


def prompt_key(ids: Sequence[int]) -> int:
    return zlib.crc32(repr(list(ids)).encode())


def word_for(prompt: int, seed: int | None, step: int, words: Sequence[str]) -> int:
    """The index of the word a branch with `seed` (None: greedy) writes at `step`."""
    return zlib.crc32(f"{prompt}/{seed}/{step}".encode()) % len(words)


class FakeBackend:
    def __init__(
        self,
        rate: float = 0.0,
        words: tuple[str, ...] = WORDS,
        window: int = 512,
        name: str = "fake",
        end_after: int | None = None,
    ):
        self.name = name
        self.device = "cpu"
        self.serving_path = "scripted"
        self.window = window
        self.rate = rate  # tokens per second per branch; 0 = as fast as possible
        self.words = words
        self.vocabulary = list(words)  # grows as tokenize meets other words
        self.ids = {word: i for i, word in enumerate(words)}
        self.end_after = end_after  # every branch ends (end of text) after this many tokens
        self.requests: list[GenerationRequest] = []
        self.unseeded = drawn_seeds()

    def tokenize(self, text: str) -> list[int]:
        ids = []
        for word in text.split():
            if word not in self.ids:
                self.ids[word] = len(self.vocabulary)
                self.vocabulary.append(word)
            ids.append(self.ids[word])
        return ids

    def token_text(self, token_id: int) -> str:
        return " " + self.vocabulary[token_id]

    def tokenize_frame(self, text: str) -> list[int]:
        return self.tokenize(text)

    def story_frame(self) -> None:
        return None

    def generation_defaults(self) -> dict:
        return {"temperature": 0.7}

    def genres(self) -> list[str]:
        return []

    def genre_prefix(self, genre: str | None) -> list[int]:
        return []

    def cached_prefix(self, ids: Sequence[int]) -> int:
        """As a story cache would: what the last request read, where these tokens go on."""
        last = self.requests[-1].ids if self.requests else []
        return len(last) if list(ids[: len(last)]) == list(last) else 0

    def branch_seeds(self, seed: int, count: int) -> list[int]:
        return [seed + i for i in range(count)]

    def text_of(self, ids: Sequence[int], seed: int | None, count: int, settings=NO_BANS) -> str:
        """What a branch with `seed` (None: greedy) writes after `ids` in `count` tokens, with
        the bans of `settings` (its stop rule not applied)."""
        prompt = prompt_key(ids)
        return "".join(
            self.token_text(self.choose(prompt, seed, step, settings)) for step in range(count)
        )

    def first_text(self, branch: int) -> str:
        """What a branch of the first request wrote with the settings left as they are: the
        first drawn seed, and as many tokens as max_new_tokens says by default."""
        ids = self.requests[0].ids
        return self.text_of(ids, DEFAULT_SEED + branch, SETTING["max_new_tokens"].default)

    def choose(self, prompt: int, seed: int | None, step: int, settings: SamplingSettings) -> int:
        """The next word's id: the (prompt, seed, step) word, or the first after it that no
        ban rules out."""
        start = word_for(prompt, seed, step, self.words)
        for k in range(len(self.words)):
            index = (start + k) % len(self.words)
            banned = index in settings.banned_tokens or any(
                s in self.token_text(index) for s in settings.banned_strings
            )
            if not banned:
                return index
        raise ValueError("every word of the fake model is banned")

    def answer_logprobs(
        self, prompts: Sequence[Sequence[int]], answers: Sequence[int]
    ) -> list[list[float]]:
        """Each answer's log-probability after each prompt: a fixed function of both."""
        return [
            [-1.0 - zlib.crc32(repr([*ids, answer]).encode()) % 400 / 100 for answer in answers]
            for ids in prompts
        ]

    def stream(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator:
        cancel = cancel or threading.Event()
        self.requests.append(request)
        settings = request.settings
        if request.seed is None and request.seeds is None:
            request = replace(request, seed=next(self.unseeded))
        seeds = request.branch_seeds(self.branch_seeds, 31)
        branches = [DecodingBranch(b, seed, StopRule(settings)) for b, seed in enumerate(seeds)]
        prompt = prompt_key(request.ids)
        started = time.perf_counter()
        ends = self.end_after is not None and not settings.ban_end_of_text
        for step in range(settings.max_new_tokens):
            if all(b.finished for b in branches):
                return
            if self.rate:
                time.sleep(max(0.0, started + step / self.rate - time.perf_counter()))
            if cancel.is_set():
                yield from (b.finish(CANCELLED, b.pending()) for b in branches if not b.finished)
                return
            if ends and step == self.end_after:
                yield from (b.finish(END_OF_TEXT, b.pending()) for b in branches if not b.finished)
                return
            for branch in branches:
                if branch.finished:
                    continue
                seed = None if settings.greedy else branch.seed
                chosen = self.choose(prompt, seed, step, settings)
                probability = 0.5 / (1 + branch.index)
                # The chosen word, then the next two in the list, less likely.
                top = tuple(
                    ((chosen + k) % len(self.words), probability / (1 + k)) for k in range(3)
                )
                delta = self.token_text(chosen)
                yield from take_token(branch, delta, chosen, math.log(probability), top, settings)
