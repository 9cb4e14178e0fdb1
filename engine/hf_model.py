"""A Hugging Face causal model behind the engine's small interface:
prefill the story (reusing the cached prefix), then decode one step for all branches at once."""

from collections.abc import Sequence
from typing import Any

import torch

from engine.cpu_matmul import can_pack, pack_linear_layers
from engine.kv_cache import ACTIVE_CACHE, StoryCache
from engine.scoring import windowed_logprobs
from engine.settings import suggested_by_model

PREFILL_CHUNK = 512  # tokens per forward pass while prefilling: bounds activation memory


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def window_of(config: Any) -> int:
    for name in ("n_positions", "max_position_embeddings", "n_ctx", "seq_length"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return 2048


def end_of_text_ids(model: Any, tokenizer: Any) -> set[int]:
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = set(configured) if isinstance(configured, list) else {configured}
    return (ids | {tokenizer.eos_token_id}) - {None}


class HFModel:
    def __init__(self, model: Any, tokenizer: Any, model_id: str):
        self.model = model
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.device = model.device
        self.dtype = model.dtype
        self.window = window_of(model.config)
        self.vocab_size = model.get_output_embeddings().weight.shape[0]
        if can_pack(model):
            pack_linear_layers(model)
        self.cache = StoryCache(model.config.num_hidden_layers, limit=self.window)
        self.position = 0  # where the branches' next token goes
        self.eos_ids = end_of_text_ids(model, tokenizer)

    def generation_defaults(self) -> dict[str, Any]:
        """The sampling settings the model's authors chose (generation_config.json), if any."""
        return suggested_by_model(self.model.generation_config.to_diff_dict())

    def forward(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Logits of the last position of each row, in float32."""
        token = ACTIVE_CACHE.set(self.cache)
        try:
            output = self.model(
                input_ids=ids,
                position_ids=positions,
                past_key_values=self.cache,
                use_cache=True,
                logits_to_keep=1,
            )
        finally:
            ACTIVE_CACHE.reset(token)
        return output.logits[:, -1].float()

    @torch.inference_mode()
    def prefill(self, ids: Sequence[int]) -> torch.Tensor:
        """Bring the story cache to `ids`, computing only what differs from what it holds.
        Returns the logits for the token after them, [vocab]."""
        if not ids:
            raise ValueError("the context is empty: give at least one token")
        if len(ids) > self.window:
            raise ValueError(f"{len(ids)} tokens don't fit the model's window of {self.window}")
        # Keep at least the last token to run: its logits are what we need.
        keep = min(common_prefix(self.cache.ids, ids), len(ids) - 1)
        self.cache.crop_to(keep)
        self.cache.reserve(len(ids))
        try:
            for start in range(keep, len(ids), PREFILL_CHUNK):
                chunk = list(ids[start : start + PREFILL_CHUNK])
                tensor = torch.tensor([chunk], device=self.device)
                positions = torch.arange(start, start + len(chunk), device=self.device)[None]
                logits = self.forward(tensor, positions)
                self.cache.ids.extend(chunk)
        except BaseException:
            self.cache.crop_to(len(self.cache.ids))
            raise
        self.position = len(ids)
        return logits[0]

    def start_branches(self, count: int, max_new_tokens: int) -> None:
        self.cache.start_branches(count, max_new_tokens)

    @torch.inference_mode()
    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        """One step for every branch: tokens [N] -> logits [N, vocab]."""
        positions = torch.full((tokens.shape[0], 1), self.position, device=self.device)
        logits = self.forward(tokens[:, None], positions)
        self.position += 1
        return logits

    def end_branches(self) -> None:
        self.cache.end_branches()

    @torch.inference_mode()
    def token_logprobs(self, ids: Sequence[int]) -> torch.Tensor:
        """log p(ids[i] | ids[:i]) for i = 1 … len - 1."""

        def logits_of(piece: list[int]) -> torch.Tensor:
            tensor = torch.tensor([piece], device=self.device)
            return self.model(input_ids=tensor, use_cache=False).logits[0].float()

        return windowed_logprobs(logits_of, ids, self.window, self.device)
