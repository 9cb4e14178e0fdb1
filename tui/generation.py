"""One generation request, run in a worker thread. No Textual here.

The worker never touches a widget: it appends what happens to a buffer, and the writing screen
drains that buffer at a steady frame rate. Putting into a deque never waits for the screen, so
tokens flow at the model's speed whatever the UI is doing.
"""

import threading
from collections import deque
from dataclasses import dataclass

from engine.settings import SamplingSettings
from tui.model_session import ModelSession, Prompt


@dataclass(frozen=True)
class Retrying:
    """Out of memory: trying again with fewer branches."""

    branches: int
    reason: str


@dataclass(frozen=True)
class Failed:
    error: Exception


@dataclass(frozen=True)
class Done:
    pass


def is_out_of_memory(error: BaseException) -> bool:
    # torch.cuda.OutOfMemoryError and torch.OutOfMemoryError, without importing torch here.
    return type(error).__name__ == "OutOfMemoryError" or "out of memory" in str(error).lower()


class Generation:
    def __init__(
        self,
        session: ModelSession,
        prompt: Prompt,
        branches: int,
        settings: SamplingSettings,
        seed: int | None = None,
    ):
        self.session = session
        self.seed = seed
        self.prompt = prompt
        self.branches = branches
        self.settings = settings
        self.cancel = threading.Event()
        self.buffer: deque = deque()
        self.finished = threading.Event()

    def run(self) -> None:
        """The worker's body: stream events into the buffer until done, failed or cancelled."""
        try:
            while True:
                try:
                    for event in self.session.stream(
                        self.prompt, self.branches, self.settings, self.seed, self.cancel
                    ):
                        self.buffer.append(event)
                    self.buffer.append(Done())
                    return
                except Exception as error:
                    if not is_out_of_memory(error) or self.branches == 1:
                        raise
                    self.branches = max(1, self.branches // 2)
                    self.buffer.append(Retrying(self.branches, str(error).splitlines()[0]))
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
