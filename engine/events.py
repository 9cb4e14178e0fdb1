"""What generate() yields, in order, as it happens."""

from dataclasses import dataclass

# Why a branch finished.
LENGTH = "length"  # max_new_tokens reached
STOP_STRING = "stop_string"
END_OF_TEXT = "end_of_text"
SENTENCE = "sentence"
PARAGRAPH = "paragraph"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class TokenEvent:
    branch: int
    delta: str  # text this token adds; may be "" while a character or stop string is incomplete
    token_id: int
    logprob: float  # under the model's own distribution (before sampling filters)
    top: tuple[tuple[int, float], ...]  # the most likely tokens here: (token id, probability)


@dataclass(frozen=True)
class FinishEvent:
    branch: int
    reason: str
    delta: str  # text held back until the end (e.g. a partial stop string that never completed)
    text: str  # the branch's whole text: every delta of this branch, concatenated
    token_ids: tuple[int, ...]
    seed: int  # generate again with this branch seed to get this branch alone


Event = TokenEvent | FinishEvent
