"""A deterministic stand-in for a model, for UI tests and the TUI benchmark.

It has the shape of the engine's Backend (engine/backend.py). Branch b of a request with seed s
writes words chosen by (s, b, step) alone, at `rate` tokens per second per step, so a test knows
what each pane will hold and how fast. A request without a seed draws one, as the engine does:
DEFAULT_SEED the first time, then others from a fixed sequence (`drawn_seeds`). A token is a
word with a space before it; its id is the word's place in `words`. Branch b gives each of its
tokens probability 0.5 / (b + 1), and lists the next two words of `words` as alternatives, half
and a third as likely.
"""

import itertools
import math
import threading
import time
import zlib
from collections.abc import Iterator, Sequence

from engine.events import CANCELLED, END_OF_TEXT, LENGTH, FinishEvent, TokenEvent
from engine.request import GenerationRequest
from engine.settings import SETTING

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
SEED_STEP = 7919  # between drawn seeds: far apart, so no two requests share a branch's seed


def drawn_seeds() -> Iterator[int]:
    """The seeds a FakeBackend draws for requests that bring none, in order."""
    return itertools.count(DEFAULT_SEED, SEED_STEP)


def word_for(seed: int, branch: int, step: int, words: tuple[str, ...]) -> str:
    return words[zlib.crc32(f"{seed}/{branch}/{step}".encode()) % len(words)]


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
        self.end_after = end_after  # every branch ends (end of text) after this many tokens
        self.requests: list[GenerationRequest] = []
        self.unseeded = drawn_seeds()

    def tokenize(self, text: str) -> list[int]:
        return [zlib.crc32(word.encode()) % 50_000 for word in text.split()]

    def token_text(self, token_id: int) -> str:
        return " " + self.words[token_id % len(self.words)]

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

    def branch_seeds(self, seed: int, count: int) -> list[int]:
        return [seed + i for i in range(count)]

    def text_of(self, seed: int, branch: int, count: int) -> str:
        return "".join(" " + word_for(seed, branch, step, self.words) for step in range(count))

    def first_text(self, branch: int) -> str:
        """What a branch of the first request writes with the settings left as they are: the
        first drawn seed, and as many tokens as max_new_tokens says by default."""
        return self.text_of(DEFAULT_SEED, branch, SETTING["max_new_tokens"].default)

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
        settings, branches = request.settings, request.branches
        seed = next(self.unseeded) if request.seed is None else request.seed
        texts = [""] * branches
        started = time.perf_counter()
        steps = settings.max_new_tokens if self.end_after is None else self.end_after
        for step in range(steps):
            if self.rate:
                time.sleep(max(0.0, started + step / self.rate - time.perf_counter()))
            if cancel.is_set():
                for b in range(branches):
                    yield FinishEvent(b, CANCELLED, "", texts[b], (), seed + b)
                return
            for b in range(branches):
                word = word_for(seed, b, step, self.words)
                chosen = self.words.index(word)
                texts[b] += " " + word
                probability = 0.5 / (1 + b)
                # The chosen word, then the next two in the list, less likely.
                top = tuple(
                    ((chosen + k) % len(self.words), probability / (1 + k)) for k in range(3)
                )
                yield TokenEvent(b, " " + word, chosen, math.log(probability), top)
        reason = LENGTH if self.end_after is None else END_OF_TEXT
        for b in range(branches):
            ids = tuple(self.words.index(w) for w in texts[b].split())
            yield FinishEvent(b, reason, "", texts[b], ids, seed + b)
