"""From logits to the next token of every branch: small pure functions on [branches, vocab].

Randomness is counter-based: the noise for a branch at a step is a hash of (branch seed, step,
token id). So a branch depends on its own seed only, never on how many branches ran beside it:
one branch can be re-rolled alone, on any device, and nothing here needs a host sync.
"""

import hashlib

import torch

from engine.settings import SamplingSettings

MASK32 = 0xFFFFFFFF


def mix32(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash (xor-shift-multiply) on int64 tensors holding values < 2**32.
    The multipliers are below 2**31, so no product overflows int64."""
    x = x ^ (x >> 16)
    x = (x * 0x21F0AAAD) & MASK32
    x = x ^ (x >> 15)
    x = (x * 0x735A2D97) & MASK32
    return x ^ (x >> 15)


def branch_seeds(seed: int, count: int) -> list[int]:
    """Independent 63-bit seeds for the branches of one request."""
    return [
        int.from_bytes(hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).digest()) >> 1
        for i in range(count)
    ]


def seed_keys(seeds: list[int], device: torch.device) -> torch.Tensor:
    """Each branch seed folded to a 32-bit key."""
    low = torch.tensor([s & MASK32 for s in seeds], dtype=torch.int64, device=device)
    high = torch.tensor([(s >> 32) & MASK32 for s in seeds], dtype=torch.int64, device=device)
    return mix32(mix32(low) ^ high)


def token_keys(vocab_size: int, device: torch.device) -> torch.Tensor:
    return mix32(torch.arange(vocab_size, dtype=torch.int64, device=device))


def uniform_noise(keys: torch.Tensor, tokens: torch.Tensor, step: int) -> torch.Tensor:
    """Uniforms in (0, 1), fixed by (branch key, step, token): [branches, vocab] for the token
    keys of the whole vocabulary [vocab], or [branches, k] for each branch's own [branches, k]."""
    step_keys = mix32(keys ^ mix32(torch.full_like(keys, (step * 0x9E3779B1) & MASK32)))
    bits = mix32(step_keys[:, None] ^ (tokens if tokens.dim() == 2 else tokens[None, :]))
    return ((bits >> 8).to(torch.float32) + 0.5) / float(1 << 24)


def apply_repetition_penalty(
    logits: torch.Tensor, seen: torch.Tensor, penalty: float
) -> torch.Tensor:
    """Make tokens already in the text less likely: divide positive logits by the penalty,
    multiply negative ones (the CTRL paper's rule, as Hugging Face applies it)."""
    if penalty == 1.0:
        return logits
    penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalised, logits)


TOP_P_CANDIDATES = 1024


def top_p_threshold(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    """Per row, the smallest logit that top-p keeps: tokens are kept, most likely first, until
    the ones before cover top_p. [rows, 1]."""
    if logits.device.type == "cpu" and logits.shape[-1] > TOP_P_CANDIDATES:
        # Sorting the whole vocabulary dominates a CPU step; the answer nearly always lies among
        # the top candidates. Checking that needs the value on the host: free on the CPU only.
        values = torch.topk(logits, TOP_P_CANDIDATES, dim=-1).values
        probs = (values - logits.logsumexp(dim=-1, keepdim=True)).exp()
        covered = probs.cumsum(dim=-1)[:, -1] >= top_p
        if bool(covered.all()):
            return kept_minimum(values, probs, top_p)
    values = torch.sort(logits, dim=-1, descending=True).values
    return kept_minimum(values, values.softmax(dim=-1), top_p)


def kept_minimum(values: torch.Tensor, probs: torch.Tensor, top_p: float) -> torch.Tensor:
    keep = (probs.cumsum(dim=-1) - probs) < top_p  # a prefix of each sorted row
    return values.masked_fill(~keep, float("inf")).min(dim=-1, keepdim=True).values


def filter_logits(logits: torch.Tensor, settings: SamplingSettings) -> torch.Tensor:
    """Temperature, then top-k, top-p and min-p: removed tokens get -inf."""
    logits = logits / settings.temperature
    if settings.top_k and settings.top_k < logits.shape[-1]:
        kth = torch.topk(logits, settings.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if settings.top_p < 1.0:
        logits = logits.masked_fill(logits < top_p_threshold(logits, settings.top_p), float("-inf"))
    if settings.min_p > 0.0:
        probs = logits.softmax(dim=-1)
        floor = probs.max(dim=-1, keepdim=True).values * settings.min_p
        logits = logits.masked_fill(probs < floor, float("-inf"))
    return logits


def sample(
    logits: torch.Tensor,
    settings: SamplingSettings,
    keys: torch.Tensor,
    tokens: torch.Tensor,
    step: int,
) -> torch.Tensor:
    """The next token per branch: argmax when greedy, else the Gumbel-max trick with the
    branch's own noise (argmax of log p + Gumbel noise draws from p)."""
    if settings.greedy:
        return logits.argmax(dim=-1)
    log_probs = filter_logits(logits.float(), settings).log_softmax(dim=-1)
    candidates = kept_tokens(log_probs)
    if candidates is not None:  # the same draw, with noise for the kept tokens only
        gumbel = -torch.log(-torch.log(uniform_noise(keys, tokens[candidates], step)))
        choice = (log_probs.gather(1, candidates) + gumbel).argmax(dim=-1, keepdim=True)
        return candidates.gather(1, choice)[:, 0]
    gumbel = -torch.log(-torch.log(uniform_noise(keys, tokens, step)))
    return (log_probs + gumbel).argmax(dim=-1)


def kept_tokens(log_probs: torch.Tensor) -> torch.Tensor | None:
    """On the CPU, when top-k, top-p or min-p left a few tokens per row: each row's kept token
    ids, in vocabulary order (so ties resolve as over the whole row), padded with removed ones
    that can't win. Hashing noise for the whole vocabulary costs more than the rest of the
    draw; counting the kept tokens needs the host, which is free on the CPU only."""
    if log_probs.device.type != "cpu":
        return None
    kept = int(torch.isfinite(log_probs).sum(dim=-1).max())
    if kept * 8 > log_probs.shape[-1]:
        return None
    return torch.topk(log_probs, kept, dim=-1).indices.sort(dim=-1).values
