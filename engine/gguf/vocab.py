"""A GGUF model's own vocabulary (llama.cpp's tokenizer), behind the few tokenizer calls the
engine makes of a transformers tokenizer: encode, decode, the special tokens and the pieces.

Text goes in and out as llama.cpp tokenizes and detokenizes it, so a story is cut into the very
tokens the model was converted with; decoding a run of ids renders each piece the way
llama.cpp does, and bytes that end inside a character come out as U+FFFD (the incremental
decoder holds them back until the next token completes them).
"""

import ctypes
from collections.abc import Sequence
from typing import Any

from engine.gguf.binding import llama

LLAMA_TOKEN_ATTR_CONTROL = 1 << 3


class VocabTokenizer:
    def __init__(self, vocab: Any):
        self.lib = llama()
        self.vocab = vocab
        self.size = self.lib.llama_vocab_n_tokens(vocab)
        self.texts = [self.raw_text(t) for t in range(self.size)]
        self.ids = {text: i for i, text in reversed(list(enumerate(self.texts)))}
        self.bos_token_id = self.token_or_none(self.lib.llama_vocab_bos(vocab))
        self.eos_token_id = self.token_or_none(self.lib.llama_vocab_eos(vocab))
        self.bos_token = self.text_of(self.bos_token_id)
        self.eos_token = self.text_of(self.eos_token_id)
        self.unk_token = None
        self.chat_template: str | None = None  # the file's tokenizer.chat_template, if any
        self.all_special_tokens = [
            self.texts[t]
            for t in range(self.size)
            if self.lib.llama_vocab_get_attr(vocab, t) & LLAMA_TOKEN_ATTR_CONTROL
        ]
        self.end_ids = {t for t in range(self.size) if self.lib.llama_vocab_is_eog(vocab, t)}

    def __len__(self) -> int:
        return self.size

    def token_or_none(self, token: int) -> int | None:
        return token if 0 <= token < self.size else None

    def text_of(self, token: int | None) -> str | None:
        return None if token is None else self.texts[token]

    def raw_text(self, token: int) -> str:
        text = self.lib.llama_vocab_get_text(self.vocab, token)
        return (text or b"").decode("utf-8", errors="replace")

    def get_vocab(self) -> dict[str, int]:
        """Each token's text as the GGUF stores it -> its id (the genre tags are found here)."""
        return dict(self.ids)

    def encode(
        self, text: str, add_special_tokens: bool = False, split_special_tokens: bool = False
    ) -> list[int]:
        """Token ids of the text; with split_special_tokens, a special token's name in it
        (`<|im_end|>`) is read as plain text, as a story's text must be."""
        data = text.encode("utf-8")
        room = len(data) + 8
        while True:
            tokens = (ctypes.c_int32 * room)()
            count = self.lib.llama_tokenize(
                self.vocab,
                data,
                len(data),
                tokens,
                room,
                add_special_tokens,
                not split_special_tokens,
            )
            if count >= 0:
                return list(tokens[:count])
            room = -count

    def decode(
        self,
        ids: Sequence[int],
        skip_special_tokens: bool = True,
        clean_up_tokenization_spaces: bool = False,
    ) -> str:
        ids = list(ids)
        if not ids:
            return ""
        tokens = (ctypes.c_int32 * len(ids))(*ids)
        room = 16 * len(ids) + 16
        while True:
            text = ctypes.create_string_buffer(room)
            count = self.lib.llama_detokenize(
                self.vocab, tokens, len(ids), text, room, False, not skip_special_tokens
            )
            if count >= 0:
                return text.raw[:count].decode("utf-8", errors="replace")
            room = -count

    def convert_ids_to_tokens(self, ids: Sequence[int]) -> list[str]:
        """Each token's text as it reads in a story (special tokens as their names)."""
        return [self.decode([t], skip_special_tokens=False) for t in ids]

    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        return "".join(tokens)
