"""Exact text deltas from a stream of token ids.

Decoding one token at a time is wrong in two ways: a byte-level token can hold half of a UTF-8
character, and SentencePiece-style tokenizers decide a word's leading space from its neighbours.
So each new token is decoded together with a few tokens before it, and the delta is what that
adds; text ending in an incomplete character (U+FFFD) is held back until the next token
completes it. Only the incomplete character is held, never a whole word.
"""

from collections.abc import Sequence
from typing import Any

REPLACEMENT = "\ufffd"
CONTEXT_TOKENS = 4  # tokens of context decoded with the first new token


class IncrementalDecoder:
    def __init__(self, tokenizer: Any, context_ids: Sequence[int] = ()):
        self.tokenizer = tokenizer
        self.ids = list(context_ids[-CONTEXT_TOKENS:])
        # ids[prefix:read] were decoded as text already emitted; ids[read:] not yet.
        self.prefix = 0
        self.read = len(self.ids)

    def decode(self, ids: Sequence[int]) -> str:
        return self.tokenizer.decode(
            ids, skip_special_tokens=True, clean_up_tokenization_spaces=False
        )

    def push(self, token_id: int) -> str:
        """Add a token; return the text it completes (possibly "")."""
        self.ids.append(token_id)
        before = self.decode(self.ids[self.prefix : self.read])
        after = self.decode(self.ids[self.prefix :])
        if len(after) > len(before) and not after.endswith(REPLACEMENT):
            self.prefix, self.read = self.read, len(self.ids)
            return after[len(before) :]
        return ""

    def flush(self) -> str:
        """Whatever is still held back (an incomplete character stays as U+FFFD)."""
        before = self.decode(self.ids[self.prefix : self.read])
        after = self.decode(self.ids[self.prefix :])
        self.prefix, self.read = self.read, len(self.ids)
        return after[len(before) :]
