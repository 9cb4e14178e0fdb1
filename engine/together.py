"""Several models writing one step's branches side by side.

Each model reads the story its own way (its tokenizer, window and prompt), so each brings a
request of its own; they stream at once and their events come out as one stream in the order
they happen. Models in this process take turns, a step each, in the caller's thread (so each
step has every core); a model on a server streams from a thread of its own. A model's branches
are numbered after those of the models before it: branch 2 of the second of two models asked
for 2 each is branch 4 here.
"""

import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import TYPE_CHECKING

from engine.events import Event, NoticeEvent
from engine.request import GenerationRequest

if TYPE_CHECKING:
    from engine.backend import Backend


@dataclass(frozen=True)
class Part:
    """One model's share of a step: its backend, and what it is asked."""

    backend: "Backend"
    request: GenerationRequest


def stream_together(
    parts: Sequence[Part], cancel: threading.Event | None = None
) -> Iterator[Event]:
    """Every part's events as they come, branches renumbered; a notice names its model when
    there are several. A part that fails stops the others (through `cancel`) and its error is
    raised here, once the others have ended."""
    cancel = cancel or threading.Event()
    if len(parts) == 1:  # nothing to join
        yield from parts[0].backend.stream(parts[0].request, cancel)
        return
    # Each part's first branch in the joint stream: the branches of the parts before it.
    firsts = list(accumulate((part.request.branches for part in parts[:-1]), initial=0))

    def renumbered(index: int, event: Event) -> Event:
        if isinstance(event, NoticeEvent):
            return NoticeEvent(f"{parts[index].backend.name}: {event.text}")
        return replace(event, branch=event.branch + firsts[index])

    # Models in this process take turns, a step each, in the caller's thread: each step has
    # every core, as a model alone would (torch runs slower from a second thread here, and two
    # loops at once would fight over the cores). A server waits on the network, so each has a
    # thread of its own, and its events are taken between the local models' steps.
    local = {
        i: part.backend.stream(part.request, cancel)
        for i, part in enumerate(parts)
        if part.backend.device != "server"
    }
    inbox: queue.Queue = queue.Queue()
    done = object()

    def run(index: int) -> None:
        try:
            for event in parts[index].backend.stream(parts[index].request, cancel):
                inbox.put((index, event))
        except BaseException as error:  # handed to the caller, which raises it
            cancel.set()
            inbox.put((index, error))
        finally:
            inbox.put((index, done))

    threads = [
        threading.Thread(target=run, args=(i,), name=f"model-{i}", daemon=True)
        for i in range(len(parts))
        if i not in local
    ]
    for thread in threads:
        thread.start()
    servers = len(threads)
    failure: BaseException | None = None
    try:
        while local or servers:
            for index in list(local):
                try:
                    event = next(local[index])
                except StopIteration:
                    del local[index]
                    continue
                except Exception as error:
                    failure = failure or error
                    cancel.set()
                    del local[index]
                    continue
                yield renumbered(index, event)
            while servers:  # what the servers sent meanwhile; wait only when nothing is local
                try:
                    index, item = inbox.get(block=not local)
                except queue.Empty:
                    break
                if item is done:
                    servers -= 1
                elif isinstance(item, BaseException):
                    failure = failure or item
                else:
                    yield renumbered(index, item)
    finally:
        if local or servers:
            cancel.set()  # the caller stopped early: no part writes on
        for stream in local.values():
            stream.close()
        for thread in threads:
            thread.join()
    if failure is not None:
        raise failure
