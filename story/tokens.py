"""What the model chose at each token of a node it wrote, packed small for the database.

For each token: its id, its log-probability, how many characters of the node's text it wrote,
and the most likely alternatives there with their probabilities. Packed as columns of fixed-
width numbers (probabilities as 16-bit floats), then compressed: about 64 bytes a token with
ten alternatives, so 100,000 generated tokens take a few megabytes.
"""

import math
import struct
import zlib
from dataclasses import dataclass

from story.errors import StoryError

FORMAT_VERSION = 1
HEADER = struct.Struct("<BIB")  # version, token count, alternatives per token


@dataclass(frozen=True)
class TokenRecord:
    token_id: int
    logprob: float
    chars: int  # characters of the node's text this token wrote (0 inside a split character)
    top: tuple[tuple[int, float], ...]  # (token id, probability), most likely first


@dataclass(frozen=True)
class TokenMean:
    """What a node's token data says of it as a whole."""

    count: int  # tokens
    logprob: float  # the mean log-probability of the tokens chosen

    @property
    def probability(self) -> float:
        """The average token probability (the geometric mean)."""
        return math.exp(self.logprob)


def mean_of(records: list[TokenRecord]) -> TokenMean:
    return TokenMean(len(records), sum(r.logprob for r in records) / len(records))


def pack(records: list[TokenRecord]) -> bytes:
    count = len(records)
    width = max((len(r.top) for r in records), default=0)
    top_ids, top_probs = [], []
    for r in records:
        padded = list(r.top) + [(-1, 0.0)] * (width - len(r.top))
        top_ids += [t for t, _ in padded]
        top_probs += [p for _, p in padded]
    raw = b"".join(
        [
            HEADER.pack(FORMAT_VERSION, count, width),
            struct.pack(f"<{count}i", *(r.token_id for r in records)),
            struct.pack(f"<{count}f", *(r.logprob for r in records)),
            struct.pack(f"<{count}I", *(r.chars for r in records)),
            struct.pack(f"<{count * width}i", *top_ids),
            struct.pack(f"<{count * width}e", *top_probs),
        ]
    )
    return zlib.compress(raw, 6)


def unpack(data: bytes) -> list[TokenRecord]:
    try:
        raw = zlib.decompress(data)
        version, count, width = HEADER.unpack_from(raw)
        if version != FORMAT_VERSION:
            raise StoryError(f"token data of version {version} is newer than this Taletree")
        offset = HEADER.size
        columns = []
        for code, length in (
            ("i", count),
            ("f", count),
            ("I", count),
            ("i", count * width),
            ("e", count * width),
        ):
            columns.append(struct.unpack_from(f"<{length}{code}", raw, offset))
            offset += struct.calcsize(f"<{length}{code}")
    except (zlib.error, struct.error) as error:
        raise StoryError(f"the token data is damaged ({error})") from error
    ids, logprobs, chars, top_ids, top_probs = columns
    records = []
    for i in range(count):
        row = zip(
            top_ids[i * width : (i + 1) * width],
            top_probs[i * width : (i + 1) * width],
            strict=True,
        )
        top = tuple((t, float(p)) for t, p in row if t >= 0)
        records.append(TokenRecord(ids[i], logprobs[i], chars[i], top))
    return records


def split_text(text: str, records: list[TokenRecord]) -> list[str]:
    """The node's text cut at its tokens (what each token wrote)."""
    pieces, start = [], 0
    for r in records:
        pieces.append(text[start : start + r.chars])
        start += r.chars
    if start < len(text) and pieces:
        pieces[-1] += text[start:]
    return pieces


def forked(
    text: str, records: list[TokenRecord], position: int, token_id: int, token_text: str
) -> tuple[str, list[TokenRecord]]:
    """A node's text and records up to the token at `position`, then another token there
    (one of the alternatives the model offered, with the probability it gave it)."""
    if not 0 <= position < len(records):
        raise StoryError("there is no token to fork at there")
    at = records[position]
    probability = dict(at.top).get(token_id, 0.0)
    chosen = TokenRecord(token_id, math.log(max(probability, 1e-12)), len(token_text), at.top)
    kept = "".join(split_text(text, records)[:position])
    return kept + token_text, [*records[:position], chosen]
