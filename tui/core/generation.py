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


def store_branches(
    store: "Store",
    parent_id: int,
    branches: list[Branch],
    model: str | None,
    settings: SamplingSettings | None,
) -> None:
    """Store every branch that wrote something and isn't stored yet, in one transaction, as
    children of parent_id. If the database refuses (locked, say) they stay unstored, so
    storing can be tried again."""
    unsaved = [b for b in branches if b.text and b.node_id is None]
    if not unsaved:
        return
    drafts = [
        NodeDraft(
            b.text,
            "model",
            model=model,
            settings=settings.as_record() if settings else None,
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


class Generation:
    def __init__(
        self,
        backend: "Backend",
        prompt: Prompt,
        branches: int,
        settings: SamplingSettings,
        seed: int | None = None,
        slots: list[int] | None = None,
    ):
        self.backend = backend
        self.prompt = prompt
        self.branches = branches
        self.settings = settings
        self.seed = seed
        # Which branch on offer each branch of the request fills (re-rolling one of them).
        self.slots = slots or list(range(branches))
        self.cancel = threading.Event()
        self.buffer: deque = deque()
        if prompt.notice:
            self.buffer.append(Notice(prompt.notice, "warning"))
        self.finished = threading.Event()

    def run(self) -> None:
        """The worker's body: stream events into the buffer until done, failed or cancelled."""
        try:
            while True:
                try:
                    request = GenerationRequest(
                        self.prompt.ids,
                        self.branches,
                        self.settings,
                        seed=self.seed,
                        keep=self.prompt.keep,
                    )
                    for event in self.backend.stream(request, self.cancel):
                        notice = isinstance(event, NoticeEvent)
                        self.buffer.append(Notice(event.text, "warning") if notice else event)
                    return
                except Exception as error:
                    if not is_out_of_memory(error) or self.branches == 1:
                        raise
                    self.branches = max(1, self.branches // 2)
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
