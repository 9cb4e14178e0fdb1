"""The general path: any causal model, served exactly by its own attention and its own cache.

Models the shared-prefix path can't serve exactly (their attention doesn't go through the
registry, like GPT-J, Falcon or Bloom's ALiBi; or it has features the fast path lacks, like
attention sinks) run here: the story is prefilled once into the model's own cache, kept between
requests and cut back to the common prefix where the cache allows it; each branch then decodes
with its own copy of that cache, in one batch. Slower and heavier than the shared prefix (N
copies of the story's keys and values), but exactly what the model itself computes.

A model whose cache gives other numbers than reading the whole sequence (or that keeps no
cache at all, like XLNet, or breaks with one) is served without a cache: every step reads each
branch whole. Slowest of all, and still exact.
"""

import copy
from collections.abc import Sequence
from typing import Any

import torch

from engine.hf_model import PREFILL_CHUNK, TransformersModel, common_prefix, full_logits


class GeneralModel(TransformersModel):
    def __init__(self, model: Any, tokenizer: Any, model_id: str, *, remembers: bool = True):
        super().__init__(model, tokenizer, model_id)
        self.remembers = remembers  # whether the model's own cache is used between steps
        self.serving_path = "general path" if remembers else "general path, no cache"
        self.ids: list[int] = []  # the story the cache holds
        self.cache: Any = None
        self.rows: torch.Tensor | None = None  # without a cache: each branch's tokens so far
        self.branch_cache: Any = None

    def run(self, ids: Sequence[int] | torch.Tensor, cache: Any) -> tuple[torch.Tensor, Any]:
        """The last position's logits of each row, and the cache after it."""
        tensor = ids if isinstance(ids, torch.Tensor) else torch.tensor([list(ids)])
        output = self.model(input_ids=tensor.to(self.device), cache=cache, use_cache=True)
        return output.logits[:, -1].float(), output.cache

    def read_whole(self, rows: torch.Tensor) -> torch.Tensor:
        """Without a cache: the last position's logits of each row, read from its start."""
        return self.model(input_ids=rows, use_cache=False).logits[:, -1].float()

    def cached_prefix(self, ids: Sequence[int]) -> int:
        """How many of these tokens the model's own cache holds (none where it isn't kept)."""
        return common_prefix(self.ids, ids) if self.remembers and self.cache is not None else 0

    @torch.inference_mode()
    def prefill(self, ids: Sequence[int]) -> torch.Tensor:
        ids = list(ids)
        if not ids:
            raise ValueError("the context is empty: give at least one token")
        if not self.remembers:
            self.ids = ids
            return self.read_whole(torch.tensor([ids], device=self.device))[0]
        keep = min(common_prefix(self.ids, ids), len(ids) - 1)
        if self.cache is None or keep == 0 or not self.cut_back(keep):
            self.cache, keep = None, 0
        try:
            for start in range(keep, len(ids), PREFILL_CHUNK):
                logits, self.cache = self.run(ids[start : start + PREFILL_CHUNK], self.cache)
        except BaseException:
            self.forget()
            raise
        self.ids = ids
        return logits[0]

    def cut_back(self, length: int) -> bool:
        """Cut the cache back to `length` tokens, where the model's cache allows it (a sliding
        window cache past its window does not): False means compute everything again."""
        try:
            self.cache.crop(length)
        except (AttributeError, RuntimeError, ValueError, NotImplementedError):
            return False
        return self.cache.get_seq_length() == length

    def start_branches(self, count: int, max_new_tokens: int) -> None:
        if not self.remembers:
            self.rows = torch.tensor([self.ids] * count, device=self.device)
            return
        try:
            self.branch_cache = copy.deepcopy(self.cache)
            self.branch_cache.batch_repeat_interleave(count)
        except (AttributeError, NotImplementedError, RuntimeError):
            # A cache that can't be copied per branch: each branch reads the story itself.
            _, self.branch_cache = self.run(torch.tensor([self.ids] * count), None)

    @torch.inference_mode()
    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        if not self.remembers:
            self.rows = torch.cat([self.rows, tokens[:, None]], dim=1)
            return self.read_whole(self.rows)
        logits, self.branch_cache = self.run(tokens[:, None], self.branch_cache)
        return logits

    def end_branches(self) -> None:
        self.branch_cache, self.rows = None, None

    def forget(self) -> None:
        self.cache, self.ids = None, []

    def why_not_exact(self) -> str | None:
        """Why stepping with the model's own cache doesn't give what reading the whole
        sequence does, if it doesn't."""
        return self.mismatch(lambda ids: full_logits(self.model, ids, self.device))
