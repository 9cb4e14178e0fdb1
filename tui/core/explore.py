"""Exploring ahead: a budgeted best-first search over the story's continuations.

From a start node, the search keeps a frontier of passages not yet continued. Each round it
continues the most promising one, by its path's score plus a little seeded noise (so near-ties
take turns): one generation of N alternatives in one batch, over the engine's story cache. Each
new passage is scored and stored in the tree as explored (not part of the story until the writer
stands on it). A path is as good as the mean score of its passages, so paths of different
lengths compare, and a passage not yet continued is as promising as the path down to it (the
best way on from a passage is always one of those). The search stops
when its budget of expansions is spent, when nothing within the depth is left to continue, or
when cancelled; everything written so far stays. The best paths come back best first.

Scorers: `likely` (the passage's mean token log-probability, less a penalty for repeating the
story's recent words or its own, so neither nonsense nor loops win) and `ask` (a yes/no question
a judge prompt puts to the loaded model about the passage: log P(yes) - log P(no)). The writer's
own taste, learned from the picks they made between siblings, would be a third `Scorer`.

Like a generation, the search runs in a worker thread and fills a buffer the face drains; it
reads and writes the database through a connection of its own (SQLite allows one per thread).
"""

import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from common.errors import UserError, one_line

if TYPE_CHECKING:  # (the rest is imported where used: `taletree --help` reads the settings)
    from engine.backend import Backend
    from engine.settings import SamplingSettings
    from story.store import Store
    from tui.core.generation import Branch, Notice
    from tui.core.prompt import Prompt

MAX_DEPTH = 20
MAX_BUDGET = 500
MAX_QUESTION = 500  # characters
JUDGE = "{passage}\n\nQuestion about the text above: {question}\nAnswer (yes or no):"
JUDGE_CONTEXT = 600  # characters of the story before a passage the judge reads with it
REPEAT_PENALTY = 2.0  # what a passage whose every word triple repeats loses (mean log-prob)
RECENT_WORDS = 300  # the story's last words a passage should not repeat
NOISE = 0.1  # scale of the Gumbel noise on a leaf's promise

PromptAt = Callable[["Store", int], "Prompt"]


class ExploreError(UserError):
    """An exploration that can't be made as asked; the message says what to change."""


@dataclass(frozen=True)
class ExploreSettings:
    depth: int = 3  # passages below the start, at most
    budget: int = 12  # expansions: generations of N alternatives
    question: str | None = None  # asked of each passage (the ask scorer); None: likely
    best: int = 3  # paths brought back

    def check(self) -> "ExploreSettings":
        if not 1 <= self.depth <= MAX_DEPTH:
            raise ExploreError(f"the depth should be from 1 to {MAX_DEPTH}, not {self.depth}")
        if not 1 <= self.budget <= MAX_BUDGET:
            raise ExploreError(f"the budget should be from 1 to {MAX_BUDGET}, not {self.budget}")
        if self.question is not None:
            question = " ".join(self.question.split())
            if not question:
                raise ExploreError(
                    "ask takes a yes/no question, such as: Does this raise the stakes?"
                )
            if len(question) > MAX_QUESTION:
                raise ExploreError(f"the question is over {MAX_QUESTION} characters: shorten it")
            return ExploreSettings(self.depth, self.budget, question, self.best)
        return self


@dataclass(frozen=True)
class Writer:
    """One model the search asks at each expansion: its share of the branches, how it
    samples, and what it reads at a node."""

    backend: "Backend"
    sampling: "SamplingSettings"
    branches: int
    prompt_at: PromptAt


@dataclass
class Explored:
    """A passage the search wrote, as the search sees it."""

    node_id: int
    parent_id: int
    depth: int
    text: str
    path_scores: list[float]  # the scores from the start's first passage down to this one
    model: str = ""  # the model that wrote it

    @property
    def promise(self) -> float:
        """The mean score of the path down to here (the start, with no path: 0)."""
        return sum(self.path_scores) / len(self.path_scores) if self.path_scores else 0.0


@dataclass(frozen=True)
class ExploredPath:
    """One way on from the start: its passages, top down, and its score."""

    node_ids: tuple[int, ...]
    texts: tuple[str, ...]
    score: float  # the mean of its passages' scores
    models: tuple[str, ...] = ()  # the model of each passage

    @property
    def text(self) -> str:
        return "".join(self.texts)

    @property
    def end(self) -> int:
        return self.node_ids[-1]


@dataclass(frozen=True)
class Progress:
    expansions: int
    passages: int
    budget: int
    elapsed: float

    @property
    def seconds_left(self) -> float | None:
        if not self.expansions:
            return None
        return self.elapsed / self.expansions * (self.budget - self.expansions)


@dataclass
class ExploreDrained:
    """What one drain of the exploration's buffer brought."""

    progress: Progress | None = None
    notices: list["Notice"] = field(default_factory=list)
    ended: bool = False
    paths: list[ExploredPath] = field(default_factory=list)  # once ended: best first


def word_triples(words: Sequence[str]) -> list[tuple[str, ...]]:
    return [tuple(words[i : i + 3]) for i in range(len(words) - 2)]


def repeated_share(passage: str, recent: str) -> float:
    """The share of a passage's word triples already in the recent story or earlier in the
    passage itself: 0 for fresh text, 1 for a loop."""
    words = passage.lower().split()
    triples = word_triples(words)
    if not triples:
        return 0.0
    seen = set(word_triples(recent.lower().split()[-RECENT_WORDS:]))
    repeated = 0
    for triple in triples:
        repeated += triple in seen
        seen.add(triple)
    return repeated / len(triples)


class Scorer(Protocol):
    """How good a new passage is, given the story text before it: higher is better. (The
    writer's own taste, learned from the picks they made between siblings, would be one.)"""

    def __call__(self, before: str, branches: list["Branch"]) -> list[float]: ...


def likely(before: str, branches: list["Branch"]) -> list[float]:
    """Mean token log-probability, less the repetition penalty. A passage without token data
    (a server that sends text only) is scored on repetition alone."""
    scores = []
    for branch in branches:
        records = branch.records
        mean = sum(r.logprob for r in records) / len(records) if records else 0.0
        scores.append(mean - REPEAT_PENALTY * repeated_share(branch.text, before))
    return scores


class Ask:
    """log P(yes) - log P(no) for a yes/no question a judge prompt puts to the model about the
        passage (with a little of the story before it); the passages of one expansion are judged in
    one batch."""

    def __init__(self, backend: "Backend", question: str):
        self.backend, self.question = backend, question
        self.answers = answer_tokens(backend)

    def judge_ids(self, before: str, passage: str) -> list[int]:
        text = (before[-JUDGE_CONTEXT:] + passage).strip()
        return self.backend.tokenize(JUDGE.format(passage=text, question=self.question))

    def __call__(self, before: str, branches: list["Branch"]) -> list[float]:
        prompts = [self.judge_ids(before, branch.text) for branch in branches]
        answered = self.backend.answer_logprobs(prompts, self.answers)  # one batch
        return [yes - no for yes, no in answered]


def answer_tokens(backend: "Backend") -> tuple[int, int]:
    """The tokens of yes and no as the model would write them after "Answer …:"; refused when
    its vocabulary has no single token for each."""
    for yes, no in ((" yes", " no"), ("yes", "no"), (" Yes", " No")):
        yes_ids, no_ids = backend.tokenize(yes), backend.tokenize(no)
        if len(yes_ids) == 1 and len(no_ids) == 1 and yes_ids != no_ids:
            return yes_ids[0], no_ids[0]
    raise ExploreError(
        f"{backend.name}'s vocabulary has no single token for yes and for no, so its answer "
        "to a question can't be read: explore with the likely scorer"
    )


def scorer_for(settings: ExploreSettings, backend: "Backend") -> Scorer:
    return Ask(backend, settings.question) if settings.question else likely


def best_paths(nodes: dict[int, Explored], count: int) -> list[ExploredPath]:
    """The best `count` paths from the start to a passage the search didn't continue (or
    continued without writing anything), best first; ties go to the earlier written."""
    continued = {n.parent_id for n in nodes.values()}
    ends = [n for n in nodes.values() if n.node_id not in continued]
    ends.sort(key=lambda n: (-n.promise, n.node_id))
    paths = []
    for end in ends[:count]:
        chain, node = [], end
        while node is not None:
            chain.append(node)
            node = nodes.get(node.parent_id)
        chain.reverse()
        paths.append(
            ExploredPath(
                tuple(n.node_id for n in chain),
                tuple(n.text for n in chain),
                end.promise,
                tuple(n.model for n in chain),
            )
        )
    return paths


class Exploration:
    """One exploration; the face runs `run` in a worker thread and drains `buffer`."""

    def __init__(
        self,
        writers: Sequence[Writer],
        db_path: Path,
        start_id: int,
        settings: ExploreSettings,
        seed: int,
    ):
        self.writers = writers  # every model of the step writes its share of each expansion
        self.db_path = db_path
        self.start_id = start_id
        self.settings = settings
        self.seed = seed
        self.score: Scorer = scorer_for(settings, writers[0].backend)  # the first judges
        self.nodes: dict[int, Explored] = {}
        self.expansions = 0
        self.cancel = threading.Event()
        self.finished = threading.Event()
        self.buffer: deque = deque()
        self.paths: list[ExploredPath] = []

    # ---------------------------------------------------------------------------- the worker

    def run(self) -> None:
        from story.store import Store
        from tui.core.generation import Failed

        try:
            with Store.open(self.db_path) as store:
                self.search(store)
        except Exception as error:
            self.buffer.append(Failed(error))
        finally:
            self.paths = best_paths(self.nodes, self.settings.best)
            self.finished.set()

    def search(self, store: "Store") -> None:
        noise = random.Random(self.seed)
        started = time.perf_counter()
        start = Explored(self.start_id, -1, 0, "", [])
        frontier = [start]
        while self.expansions < self.settings.budget and not self.cancel.is_set():
            leaf = self.most_promising(frontier, noise)
            if leaf is None:
                break  # everything within the depth is continued
            frontier.remove(leaf)
            for node in self.expand(store, leaf):
                self.nodes[node.node_id] = node
                if node.depth < self.settings.depth:
                    frontier.append(node)
            self.expansions += 1
            elapsed = time.perf_counter() - started
            self.buffer.append(
                Progress(self.expansions, len(self.nodes), self.settings.budget, elapsed)
            )

    def most_promising(self, frontier: list[Explored], noise: random.Random) -> Explored | None:
        if not frontier:
            return None
        gumbel = [-math.log(-math.log(noise.random() or 1e-12)) for _ in frontier]
        chosen = max(range(len(frontier)), key=lambda i: frontier[i].promise + NOISE * gumbel[i])
        return frontier[chosen]

    def expand(self, store: "Store", leaf: Explored) -> list[Explored]:
        """One step of every model below `leaf` (N alternatives in all), scored and stored
        as explored."""
        from engine.events import FinishEvent, TokenEvent
        from engine.together import Part, stream_together
        from story.models import NodeDraft
        from tui.core.generation import Ask, new_branches

        asks = [
            Ask(w.backend, w.prompt_at(store, leaf.node_id), w.branches, w.sampling)
            for w in self.writers
        ]
        seed = self.seed + self.expansions * sum(a.branches for a in asks)  # each its own seed
        parts = [Part(ask.backend, ask.request(seed)) for ask in asks]
        branches = new_branches(asks)
        for event in stream_together(parts, self.cancel):
            if isinstance(event, TokenEvent | FinishEvent):
                branches[event.branch].apply(event)
        written = [b for b in branches if b.text]
        if not written:
            return []
        before = store.path_text(leaf.node_id)
        scores = self.score(before, written)
        drafts = [
            NodeDraft(
                b.text,
                "model",
                model=b.model,
                settings=b.sampling.as_record() if b.sampling else None,
                seed=b.seed,
                tokens=b.records or None,
                explored=True,
                score=score,
            )
            for b, score in zip(written, scores, strict=True)
        ]
        stored = store.add_children(leaf.node_id, drafts)
        return [
            Explored(
                n.id, leaf.node_id, leaf.depth + 1, n.text, [*leaf.path_scores, s], b.model or ""
            )
            for n, s, b in zip(stored, scores, written, strict=True)
        ]

    # ------------------------------------------------------------------------------ the face

    def drain(self) -> ExploreDrained:
        from tui.core.generation import Failed, Notice

        drained = ExploreDrained(ended=self.finished.is_set())
        while self.buffer:
            item = self.buffer.popleft()
            if isinstance(item, Progress):
                drained.progress = item
            elif isinstance(item, Failed):
                stopped = f"The exploration stopped: {one_line(item.error)}"
                drained.notices.append(Notice(stopped, "error"))
        if drained.ended:
            drained.paths = self.paths
        return drained

    def stop(self, wait: float = 10.0) -> None:
        """Cancel and wait for the worker (the engine stops within one step)."""
        self.cancel.set()
        self.finished.wait(wait)
