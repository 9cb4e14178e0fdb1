"""The generate loop: one context, N branches, streamed token by token.

prefill the context once (the cache keeps what it can from the last request)
for each step:
    stop here if cancelled
    penalise, ban, filter and sample the next token of every branch   (on the device)
    start copying the tokens and their probabilities to the host      (the one copy)
    launch the next step's batched forward pass for all branches      (on the device)
    turn this step's tokens into text deltas and stop decisions       (on the host)

On a GPU the host's work overlaps the device's next step, so the GPU never waits for Python;
on the CPU, where a launch is the work itself, the step is decoded after the host's work
instead, so a token's text is shown as soon as it is sampled.
"""

import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import torch

from engine import events
from engine.branches import DecodingBranch, take_token
from engine.detokenize import IncrementalDecoder
from engine.events import Event
from engine.request import GenerationRequest
from engine.sampling import apply_repetition_penalty, branch_seeds, sample, seed_keys, token_keys
from engine.settings import SamplingSettings
from engine.stopping import StopRule
from engine.window import fit_window


class StepModel(Protocol):
    """What a model kind provides to the loop (a transformer with its story cache, an LSTM
    with its state): prefill the context, then one decoding step for all branches at once."""

    tokenizer: Any
    device: torch.device
    serving_path: str  # how it runs, in words: fast path, general path, LSTM state
    window: int | None
    vocab_size: int
    eos_ids: set[int]

    def generation_defaults(self) -> dict[str, Any]: ...
    def prefill(self, ids: Sequence[int]) -> torch.Tensor: ...
    def cached_prefix(self, ids: Sequence[int]) -> int: ...  # of ids, what needn't be read
    def start_branches(self, count: int, max_new_tokens: int) -> None: ...
    def decode(self, tokens: torch.Tensor) -> torch.Tensor: ...
    def end_branches(self) -> None: ...


class HostCopy:
    """One step's packed results on their way to the host: the copy starts at once (into
    pinned memory on a GPU, so it doesn't wait for work launched after it), and is waited for
    only when the host reads it."""

    def __init__(self, packed: torch.Tensor):
        self.ready: torch.cuda.Event | None = None
        if packed.device.type == "cuda":
            self.host = torch.empty(packed.shape, dtype=packed.dtype, pin_memory=True)
            self.host.copy_(packed, non_blocking=True)
            self.ready = torch.cuda.Event()
            self.ready.record()
        else:
            self.host = packed.to("cpu")

    def rows(self) -> list[list[float]]:
        if self.ready is not None:
            self.ready.synchronize()
        return self.host.tolist()


def banned_token_mask(
    model: StepModel, settings: SamplingSettings, eos_ids: set[int]
) -> torch.Tensor:
    mask = torch.zeros(model.vocab_size, dtype=torch.bool, device=model.device)
    banned = set(settings.banned_tokens) | (eos_ids if settings.ban_end_of_text else set())
    if settings.banned_strings:
        vocabulary = model.tokenizer.convert_ids_to_tokens(list(range(len(model.tokenizer))))
        decode = model.tokenizer.convert_tokens_to_string
        for token_id, piece in enumerate(vocabulary):
            if piece is not None and any(s in decode([piece]) for s in settings.banned_strings):
                banned.add(token_id)
    valid = [t for t in banned if 0 <= t < model.vocab_size]
    mask[valid] = True
    return mask


def generate(
    model: StepModel,
    request: GenerationRequest,
    *,
    cancel: threading.Event | None = None,
    overlap: bool | None = None,
) -> Iterator[Event]:
    """Stream the request's branches, all at once. Set `cancel` from any thread to stop within
    one step. `overlap` launches each step before the host reads the last (default: on a GPU
    only)."""
    settings, branches = request.settings, request.branches
    tokenizer = model.tokenizer
    ids = list(request.ids)
    if not ids:
        ids = [
            tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
        ]
    ids = fit_window(ids, model.window, settings.max_new_tokens, request.keep)
    eos_ids = model.eos_ids
    seeds = request.branch_seeds(branch_seeds, 63)
    states = [
        DecodingBranch(i, s, StopRule(settings), IncrementalDecoder(tokenizer, ids))
        for i, s in enumerate(seeds)
    ]
    device = model.device
    keys = seed_keys(list(seeds), device)
    vocab = token_keys(model.vocab_size, device)
    banned = banned_token_mask(model, settings, eos_ids)
    # The repetition penalty counts only what each branch has written itself: counting the
    # story too (as Hugging Face does) makes the writer's own names and things less likely,
    # and a model penalised so drops the story's people (SmolLM2 over bench.follow's openings:
    # 0.75 carried on and 0.087 the thing, against 0.825 and 0.25 counting its own alone).
    seen = torch.zeros(branches, model.vocab_size, dtype=torch.bool, device=device)
    alternatives = min(settings.top_alternatives, model.vocab_size)
    overlap = device.type == "cuda" if overlap is None else overlap

    logits = model.prefill(ids).expand(branches, -1)
    model.start_branches(branches, settings.max_new_tokens)
    try:
        for step in range(settings.max_new_tokens):
            if cancel is not None and cancel.is_set():
                for branch in states:
                    if not branch.finished:
                        yield branch.finish(events.CANCELLED, branch.pending())
                return
            model_logprobs = logits.log_softmax(dim=-1)
            shaped = apply_repetition_penalty(logits, seen, settings.repetition_penalty)
            shaped = shaped.masked_fill(banned, float("-inf"))
            tokens = sample(shaped, settings, keys, vocab, step)
            seen.scatter_(1, tokens[:, None], True)
            # Pack what the host needs into one tensor: one device-to-host copy per step.
            chosen = model_logprobs.gather(1, tokens[:, None])
            top = torch.topk(model_logprobs, alternatives, dim=-1) if alternatives else None
            packed = [tokens[:, None].float(), chosen]
            if top is not None:
                packed += [top.indices.float(), top.values.exp()]
            results = HostCopy(torch.cat(packed, dim=1))
            more = step + 1 < settings.max_new_tokens
            if more and overlap:  # the device computes the next step while the host reads
                logits = model.decode(tokens)
            for branch, row in zip(states, results.rows(), strict=True):
                if branch.finished:
                    continue
                yield from advance(branch, row, alternatives, eos_ids, settings)
            if all(branch.finished for branch in states):
                return
            if more and not overlap:
                logits = model.decode(tokens)
        for branch in states:
            if not branch.finished:
                yield branch.finish(events.LENGTH, branch.pending())
    finally:
        model.end_branches()


def advance(
    branch: DecodingBranch,
    row: list[float],
    alternatives: int,
    eos_ids: set[int],
    settings: SamplingSettings,
) -> Iterator[Event]:
    """One sampled token for one branch (a row of the step's packed results): its event, and
    its finish if it ends the branch."""
    token_id, logprob = int(row[0]), row[1]
    if token_id in eos_ids:
        yield branch.finish(events.END_OF_TEXT, branch.pending())
        return
    top = tuple(
        (int(t), p) for t, p in zip(row[2 : 2 + alternatives], row[2 + alternatives :], strict=True)
    )
    delta = branch.decoder.push(token_id)  # type: ignore[union-attr]
    yield from take_token(branch, delta, token_id, logprob, top, settings)
