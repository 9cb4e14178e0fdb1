"""One generation request, run in a worker thread, and the branches it fills.

The worker never touches a face: it appends what happens to a buffer, and the face drains that
buffer at a steady rate (the app about 30 times a second, line mode likewise). Putting into a
deque never waits for the face, so tokens flow at the model's speed whatever the face is doing.
"""

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from engine.events import NO_TOKEN, FinishEvent, NoticeEvent, TokenEvent
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from engine.together import Part, stream_together
from story.models import NodeDraft
from story.tokens import TokenRecord
from tui.core.prompt import Prompt

if TYPE_CHECKING:
    from engine.backend import Backend
    from story.store import Store


@dataclass
class Branch:
    """One alternative on offer: as it streams in, then as stored."""

    text: str = ""
    tokens: int = 0
    # Why it ended; "" while streaming; "stored" for one stored earlier, "explored" for the
    # best paths an exploration brought back (its text: the whole path).
    reason: str = ""
    seed: int | None = None
    node_id: int | None = None  # once stored
    records: list[TokenRecord] = field(default_factory=list)
    text_only: bool = False  # some of its text came without token data: no records kept
    model: str | None = None  # the model writing it (its name, as its node keeps it)
    sampling: SamplingSettings | None = None  # how that model samples it
    # An explored path's: the models that wrote its passages, top down, each once.
    path_models: tuple[str, ...] = ()

    @property
    def models(self) -> tuple[str, ...]:
        """The models that wrote it: one, or for an explored path, each of its passages'."""
        return self.path_models or ((self.model,) if self.model else ())

    def apply(self, event: TokenEvent | FinishEvent) -> None:
        if isinstance(event, TokenEvent):
            self.text += event.delta
            self.tokens += 1
            if event.token_id == NO_TOKEN:
                # Text without token data (a server that gives text only, or token data it
                # sent that can't be true): records of part of the text would misalign.
                self.text_only = True
                self.records.clear()
            elif not self.text_only:
                self.records.append(
                    TokenRecord(event.token_id, event.logprob, len(event.delta), event.top)
                )
            return
        if event.delta and self.records:  # text held back until the end joins the last token
            last = self.records[-1]
            self.records[-1] = replace(last, chars=last.chars + len(event.delta))
        self.text, self.reason, self.seed = event.text, event.reason, event.seed
        self.tokens = max(self.tokens, len(event.token_ids))


def store_branches(store: "Store", parent_id: int, branches: list[Branch]) -> None:
    """Store every branch that wrote something and isn't stored yet, in one transaction, as
    children of parent_id, each with its model and settings. If the database refuses (locked,
    say) they stay unstored, so storing can be tried again."""
    unsaved = [b for b in branches if b.text and b.node_id is None]
    if not unsaved:
        return
    drafts = [
        NodeDraft(
            b.text,
            "model",
            model=b.model,
            settings=b.sampling.as_record() if b.sampling else None,
            seed=b.seed,
            tokens=b.records or None,
        )
        for b in unsaved
    ]
    nodes = store.add_children(parent_id, drafts)
    for branch, node in zip(unsaved, nodes, strict=True):
        branch.node_id = node.id


@dataclass(frozen=True)
class Notice:
    """Something the writer should be told, in one line."""

    text: str
    severity: str = "information"  # information, warning or error


@dataclass(frozen=True)
class Retrying:
    """Out of memory: trying again with fewer branches."""

    branches: int


@dataclass(frozen=True)
class Failed:
    error: Exception


def is_out_of_memory(error: BaseException) -> bool:
    # torch.cuda.OutOfMemoryError and torch.OutOfMemoryError, without importing torch here.
    return type(error).__name__ == "OutOfMemoryError" or "out of memory" in str(error).lower()


@dataclass(frozen=True)
class Ask:
    """One model's part of a generation: what it reads, how many branches it writes, how."""

    backend: "Backend"
    prompt: Prompt
    branches: int
    sampling: SamplingSettings

    def request(self, seed: int | None) -> GenerationRequest:
        return GenerationRequest(
            self.prompt.ids, self.branches, self.sampling, seed=seed, keep=self.prompt.keep
        )


def new_branches(asks: list[Ask]) -> list[Branch]:
    """The branches some asks fill, empty, each knowing its model (each ask's after the one
    before it, as engine/together.py numbers them)."""
    return [
        Branch(model=ask.backend.name, sampling=ask.sampling)
        for ask in asks
        for _ in range(ask.branches)
    ]


class Generation:
    """One step: one model's branches, or several models' side by side (each model's after
    the one before it), streamed as one."""

    def __init__(
        self,
        asks: list[Ask],
        seed: int | None = None,
        slots: list[int] | None = None,
        notices: tuple[str, ...] = (),
    ):
        self.asks = asks
        self.seed = seed
        # Which branch on offer each branch of the request fills (re-rolling one of them).
        self.slots = slots or list(range(self.branches))
        self.cancel = threading.Event()
        self.buffer: deque = deque()
        for text in [*notices, *(a.prompt.notice for a in asks if a.prompt.notice)]:
            self.buffer.append(Notice(text, "warning"))
        self.finished = threading.Event()

    @property
    def branches(self) -> int:
        return sum(ask.branches for ask in self.asks)

    def new_branches(self) -> list[Branch]:
        return new_branches(self.asks)

    def run(self) -> None:
        """The worker's body: stream events into the buffer until done, failed or cancelled."""
        try:
            while True:
                try:
                    parts = [Part(ask.backend, ask.request(self.seed)) for ask in self.asks]
                    for event in stream_together(parts, self.cancel):
                        notice = isinstance(event, NoticeEvent)
                        self.buffer.append(Notice(event.text, "warning") if notice else event)
                    return
                except Exception as error:
                    if not is_out_of_memory(error) or self.branches == len(self.asks):
                        raise
                    self.asks = [replace(a, branches=max(1, a.branches // 2)) for a in self.asks]
                    self.buffer.append(Retrying(self.branches))
        except Exception as error:
            self.buffer.append(Failed(error))
        finally:
            self.finished.set()

    def drain(self) -> list:
        items = []
        while self.buffer:
            items.append(self.buffer.popleft())
        return items

    def stop(self, wait: float = 5.0) -> None:
        """Cancel and wait for the worker to end (the engine stops within one step)."""
        self.cancel.set()
        self.finished.wait(wait)
