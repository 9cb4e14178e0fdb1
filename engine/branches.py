"""A branch as it is written, token by token, whatever writes it (a local model or a server):
its text through the stop rule, its token ids, and how it finishes."""

from collections.abc import Iterator
from dataclasses import dataclass, field

from engine import events
from engine.detokenize import IncrementalDecoder
from engine.events import Event, FinishEvent, TokenEvent
from engine.settings import SamplingSettings
from engine.stopping import StopRule


@dataclass
class DecodingBranch:
    index: int
    seed: int
    rule: StopRule
    decoder: IncrementalDecoder | None = None  # None: the text comes decoded (a server's)
    ids: list[int] = field(default_factory=list)
    text: str = ""
    finished: bool = False

    def unfinished_text(self) -> str:
        """The bytes of a character not yet complete, as text (at the end, they are shown)."""
        return self.decoder.flush() if self.decoder is not None else ""

    def pending(self) -> str:
        """Everything not shown yet: held by the stop rule, and an unfinished character."""
        return self.rule.release() + self.unfinished_text()

    def finish(self, reason: str, tail: str = "") -> FinishEvent:
        self.finished = True
        self.text += tail
        return FinishEvent(self.index, reason, tail, self.text, tuple(self.ids), self.seed)


def take_token(
    branch: DecodingBranch,
    delta: str,
    token_id: int,
    logprob: float,
    top: tuple[tuple[int, float], ...],
    settings: SamplingSettings,
) -> Iterator[Event]:
    """A token's text through the branch's stop rule: its event, and its finish if the text
    or the token budget ends the branch. A local model's and a server's tokens alike."""
    show, reason, belongs = branch.rule.feed(delta)
    if not belongs:
        yield branch.finish(reason, show)  # type: ignore[arg-type]
        return
    branch.ids.append(token_id)
    branch.text += show
    yield TokenEvent(branch.index, show, token_id, logprob, top)
    if reason is not None:
        tail = "" if reason == events.STOP_STRING else branch.unfinished_text()
        yield branch.finish(reason, tail)
    elif len(branch.ids) >= settings.max_new_tokens:
        yield branch.finish(events.LENGTH, branch.pending())
