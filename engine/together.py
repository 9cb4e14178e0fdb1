"""Several models writing one step's branches side by side.

Each model reads the story its own way (its tokenizer, window and prompt), so each brings a
request of its own; they stream at once, each from a thread of its own, and their events come
out as one stream in the order they happen. A model's branches are numbered after those of the
models before it, so branch 2 of the second of two models asked for 2 each is branch 4 here.
"""

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from engine.events import Event, NoticeEvent
from engine.request import GenerationRequest

MAX_MODELS = 4  # in one step: more would split the branches too thin to compare

if TYPE_CHECKING:
    from engine.backend import Backend


@dataclass(frozen=True)
class Part:
    """One model's share of a step: its backend, and what it is asked."""

    backend: "Backend"
    request: GenerationRequest


def first_branches(parts: Sequence[Part]) -> list[int]:
    """The number of each part's first branch in the joint stream."""
    firsts, count = [], 0
    for part in parts:
        firsts.append(count)
        count += part.request.branches
    return firsts


def stream_together(
    parts: Sequence[Part], cancel: threading.Event | None = None
) -> Iterator[Event]:
    """Every part's events as they come, branches renumbered; a notice names its model when
    there are several. A part that fails stops the others (through `cancel`) and its error is
    raised here, once the others have ended."""
    cancel = cancel or threading.Event()
    if len(parts) == 1:  # nothing to join: no thread between the model and the face
        yield from parts[0].backend.stream(parts[0].request, cancel)
        return
    inbox: queue.Queue = queue.Queue()
    done = object()

    def run(index: int, part: Part) -> None:
        try:
            for event in part.backend.stream(part.request, cancel):
                inbox.put((index, event))
        except BaseException as error:  # handed to the consumer, which raises it
            cancel.set()
            inbox.put((index, error))
        finally:
            inbox.put((index, done))

    threads = [
        threading.Thread(target=run, args=(i, part), name=f"model-{i}", daemon=True)
        for i, part in enumerate(parts)
    ]
    for thread in threads:
        thread.start()
    firsts = first_branches(parts)
    failure: BaseException | None = None
    running = len(parts)
    try:
        while running:
            index, item = inbox.get()
            if item is done:
                running -= 1
            elif isinstance(item, BaseException):
                failure = failure or item
            elif isinstance(item, NoticeEvent):
                yield NoticeEvent(f"{parts[index].backend.name}: {item.text}")
            else:
                yield replace(item, branch=item.branch + firsts[index])
    finally:
        if running:
            cancel.set()  # the consumer stopped early: no part writes on
        for thread in threads:
            thread.join()
    if failure is not None:
        raise failure
