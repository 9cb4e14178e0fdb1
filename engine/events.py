"""What generate() yields, in order, as it happens."""

from dataclasses import dataclass

# Why a branch finished.
LENGTH = "length"  # max_new_tokens reached
STOP_STRING = "stop_string"
END_OF_TEXT = "end_of_text"
SENTENCE = "sentence"
PARAGRAPH = "paragraph"
CANCELLED = "cancelled"
ERROR = "error"  # the server failed mid-way: the branch keeps what it wrote


@dataclass(frozen=True)
class TokenEvent:
    branch: int
    delta: str  # text this token adds; may be "" while a character or stop string is incomplete
    token_id: int  # NO_TOKEN where a server gives text only
    logprob: float  # under the model's own distribution (before sampling filters); nan: unknown
    top: tuple[tuple[int, float], ...]  # the most likely tokens here: (token id, probability)


@dataclass(frozen=True)
class FinishEvent:
    branch: int
    reason: str
    delta: str  # text held back until the end (e.g. a partial stop string that never completed)
    text: str  # the branch's whole text: every delta of this branch, concatenated
    token_ids: tuple[int, ...]
    seed: int  # generate again with this branch seed to get this branch alone


@dataclass(frozen=True)
class NoticeEvent:
    """Something about the request the writer should be told, in one line: a setting the
    server can't honour, a busy server being retried, a branch cut off by a failure."""

    text: str


NO_TOKEN = -1  # the token id of text from a server that doesn't say which tokens it chose
Event = TokenEvent | FinishEvent | NoticeEvent
