"""How likely a model finds a text: per-token log-probabilities, and bits per character."""

import math
from collections.abc import Callable, Sequence

import torch


def next_token_logprobs(logits: torch.Tensor, ids: Sequence[int], device) -> torch.Tensor:
    """From logits [time, vocab] over `ids`: log p(ids[i] | ids[:i]) for i = 1 … len - 1."""
    targets = torch.tensor(list(ids[1:]), device=device)
    return logits[:-1].log_softmax(-1).gather(1, targets[:, None])[:, 0]


def bits_per_character(nats: float, characters: int) -> float:
    """Loss in bits per character of text: comparable across word, character and BPE models."""
    return nats / max(characters, 1) / math.log(2)


def windowed_logprobs(
    logits_of: Callable[[list[int]], torch.Tensor], ids: Sequence[int], window: int | None, device
) -> torch.Tensor:
    """log p(ids[i] | ids[:i]) for i = 1 … len - 1. A text longer than the window is read in
    windows overlapping by half: each position is scored once, with at least half a window of
    text before it."""
    if window is None:
        return next_token_logprobs(logits_of(list(ids)), ids, device)
    scores, position = [], 1
    while position < len(ids):
        begin = 0 if position == 1 else max(0, position - window // 2)
        end = min(len(ids), begin + window)
        piece = list(ids[begin:end])
        scores.append(next_token_logprobs(logits_of(piece), piece, device)[position - begin - 1 :])
        position = end
    return torch.cat(scores) if scores else torch.zeros(0, device=device)
