"""A Hugging Face causal model behind the engine's small interface, on the fast shared-prefix
path: prefill the story (reusing the cached prefix), then decode one step for all branches at
once over a single copy of the story's keys and values (engine/kv_cache.py).

Whether a model can take this path is checked when it loads (`serves_exactly`): a few tokens
are prefilled and decoded here and compared with the model's own attention. A model that gives
other numbers (its attention doesn't go through the registry, or uses a feature the shared
prefix lacks) takes the general path instead (engine/general.py).
"""

from collections.abc import Callable, Sequence
from typing import Any

import torch

from engine.internals import attention_of
from engine.kv_cache import ACTIVE_CACHE, StoryCache
from engine.scoring import windowed_logprobs
from engine.settings import suggested_by_model

PREFILL_CHUNK = 512  # tokens per forward pass while prefilling: bounds activation memory
PROBE = [3, 1, 4, 1, 5, 9, 2, 6]  # token ids (modulo the vocabulary) for the load-time check


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def window_of(config: Any) -> int | None:
    """The most tokens the model can attend to, by its position limit; None for a model with
    none (ALiBi: Bloom, MPT), which reads what it is given."""
    for name in ("n_positions", "max_position_embeddings", "n_ctx", "seq_length", "max_seq_len"):
        value = getattr(config, name, None)
        if isinstance(value, int) and value > 0:
            return value
    return None


def end_of_text_ids(model: Any, tokenizer: Any) -> set[int]:
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = set(configured) if isinstance(configured, list) else {configured}
    return (ids | {tokenizer.eos_token_id}) - {None}


def full_logits(model: Any, ids: Sequence[int], device: torch.device) -> torch.Tensor:
    """Logits at every position of one sequence, by the model alone (no cache), float32."""
    return (
        model(input_ids=torch.tensor([list(ids)], device=device), use_cache=False).logits[0].float()
    )


def tolerance(dtype: torch.dtype, reference: torch.Tensor) -> float:
    """How far two computations of the same logits may differ by rounding alone: float32
    rounding grows with the logits' size and the model's depth (SmolLM2's 30 layers, logits
    near 35, differ by 2e-3 between two exact orders of summing), half precision far more."""
    scale = max(1.0, float(reference.abs().max()))
    return max(1e-3, 1e-4 * scale) if dtype == torch.float32 else 5e-2 * scale


@torch.inference_mode()
def is_causal(model: Any) -> bool:
    """Whether what the model predicts at a position ignores the tokens after it, as a
    language model's must (XLNet's plain forward pass, say, reads both ways)."""
    device = model.device
    ids = [i % model.get_output_embeddings().out_features for i in PROBE]
    whole, shorter = full_logits(model, ids, device), full_logits(model, ids[:-1], device)
    return torch.allclose(whole[:-1], shorter, rtol=0, atol=tolerance(model.dtype, shorter))


class TransformersModel:
    """What both ways of serving a transformers model share: the model, its tokenizer, window
    and vocabulary, scoring, and the load-time check that it gives the model's own numbers.
    Each way brings the engine's steps (prefill, start_branches, decode, end_branches) and
    `forget`, which empties its cache."""

    serving_path = ""  # how it is served, as the writer sees it (status line, --verbose)

    def __init__(self, model: Any, tokenizer: Any, model_id: str):
        self.model = model
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.device = model.device
        self.dtype = model.dtype
        self.window = window_of(model.config)
        self.vocab_size = model.get_output_embeddings().out_features
        self.eos_ids = end_of_text_ids(model, tokenizer)

    def generation_defaults(self) -> dict[str, Any]:
        """The sampling settings the model's authors chose (generation_config.json), if any."""
        return suggested_by_model(self.model.generation_config.to_diff_dict())

    @torch.inference_mode()
    def token_logprobs(self, ids: Sequence[int]) -> torch.Tensor:
        """log p(ids[i] | ids[:i]) for i = 1 … len - 1."""
        return windowed_logprobs(
            lambda piece: full_logits(self.model, piece, self.device), ids, self.window, self.device
        )

    @torch.inference_mode()
    def next_logprobs(self, prompts: Sequence[Sequence[int]]) -> torch.Tensor:
        """log p(token | prompt) for every token of the vocabulary, a row per prompt: one
        forward pass over the batch, without the cache (the story cache stays as it is). The
        prompts are padded on the right, which a causal model's last real token never sees.
        A prompt longer than the window is read from its end."""
        rows = [list(p)[-self.window :] if self.window else list(p) for p in prompts]
        longest = max(map(len, rows))
        ids = torch.tensor([r + [r[-1]] * (longest - len(r)) for r in rows], device=self.device)
        mask = torch.tensor([[1] * len(r) + [0] * (longest - len(r)) for r in rows])
        logits = self.model(
            input_ids=ids, attention_mask=mask.to(self.device), use_cache=False
        ).logits
        last = torch.tensor([len(r) - 1 for r in rows], device=self.device)
        return logits[torch.arange(len(rows), device=self.device), last].float().log_softmax(-1)

    @torch.inference_mode()
    def mismatch(self, reference: Callable[[list[int]], torch.Tensor]) -> str | None:
        """Prefill a few tokens and decode two branches one step, and compare with
        `reference` (a sequence's logits at every position) on the same sequences: None if
        they agree but for rounding, else why not, in words (an error on the way included:
        the model then takes another path, and the writer can see why)."""
        ids = [i % self.vocab_size for i in PROBE]
        picks = [ids[0], ids[1]]
        try:
            ours = [self.prefill(ids)]
            self.start_branches(2, 2)
            ours.append(self.decode(torch.tensor(picks, device=self.device)))
        except Exception as error:
            return f"fails ({type(error).__name__}: {first_line(error)})"
        finally:
            self.end_branches()
            self.forget()
        theirs = [reference(ids)[-1], torch.stack([reference([*ids, t])[-1] for t in picks])]
        for a, b in zip(ours, theirs, strict=True):
            if not torch.allclose(a, b, rtol=0, atol=tolerance(self.dtype, b)):
                return f"differs from the model's own logits by {float((a - b).abs().max()):.2g}"
        return None

    def serves_exactly(self) -> bool:
        return self.why_not_exact() is None

    def why_not_exact(self) -> str | None:
        raise NotImplementedError


def first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


class HFModel(TransformersModel):
    serving_path = "fast path"

    def __init__(self, model: Any, tokenizer: Any, model_id: str):
        super().__init__(model, tokenizer, model_id)
        self.cache = StoryCache(model.config.num_hidden_layers, limit=self.window)
        self.position = 0  # where the branches' next token goes

    def forward(self, ids: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """Logits of the last position of each row, in float32."""
        token = ACTIVE_CACHE.set(self.cache)
        try:
            output = self.model(
                input_ids=ids,
                position_ids=positions,
                cache=self.cache,
                use_cache=True,
                logits_to_keep=1,
            )
        finally:
            ACTIVE_CACHE.reset(token)
        return output.logits[:, -1].float()

    def cached_prefix(self, ids: Sequence[int]) -> int:
        """How many of these tokens the story cache holds already: a prefill reads the rest."""
        return common_prefix(self.cache.ids, ids)

    @torch.inference_mode()
    def prefill(self, ids: Sequence[int]) -> torch.Tensor:
        """Bring the story cache to `ids`, computing only what differs from what it holds.
        Returns the logits for the token after them, [vocab]."""
        if not ids:
            raise ValueError("the context is empty: give at least one token")
        if self.window is not None and len(ids) > self.window:
            raise ValueError(f"{len(ids)} tokens don't fit the model's window of {self.window}")
        # Keep at least the last token to run: its logits are what we need.
        keep = self.cache.crop_to(min(common_prefix(self.cache.ids, ids), len(ids) - 1))
        self.cache.reserve(len(ids))
        try:
            for start in range(keep, len(ids), PREFILL_CHUNK):
                chunk = list(ids[start : start + PREFILL_CHUNK])
                tensor = torch.tensor([chunk], device=self.device)
                positions = torch.arange(start, start + len(chunk), device=self.device)[None]
                logits = self.forward(tensor, positions)
                self.cache.ids.extend(chunk)
                self.cache.let_go()
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

    def forget(self) -> None:
        self.cache.crop_to(0)

    def why_not_exact(self) -> str | None:
        """Why the shared-prefix path doesn't give the model's own numbers, if it doesn't:
        checked against its plain (eager) attention when it loads."""
        return self.mismatch(self.eager_logits)

    def eager_logits(self, ids: Sequence[int]) -> torch.Tensor:
        native = attention_of(self.model)
        try:
            self.model.set_attn_implementation("eager")
            return full_logits(self.model, ids, self.device)
        finally:
            self.model.set_attn_implementation(native)
