"""Sampling filters on hand-made logits, and the counter-based randomness."""

import math

import pytest
import torch

from engine.sampling import (
    apply_repetition_penalty,
    branch_seeds,
    filter_logits,
    sample,
    seed_keys,
    token_keys,
    uniform_noise,
)
from engine.settings import SamplingSettings

LOGITS = torch.log(torch.tensor([[0.5, 0.2, 0.15, 0.1, 0.05]]))


def kept(settings):
    return (filter_logits(LOGITS, settings) > float("-inf"))[0].tolist()


def test_top_k_keeps_the_k_most_likely():
    assert kept(SamplingSettings(temperature=1, top_k=2)) == [True, True, False, False, False]


@pytest.mark.parametrize(
    ("top_p", "expected"),
    [(0.45, 1), (0.6, 2), (0.75, 3), (0.9, 4), (0.99, 5)],
)
def test_top_p_keeps_the_smallest_set_that_covers_p(top_p, expected):
    assert sum(kept(SamplingSettings(temperature=1, top_p=top_p))) == expected


def test_top_p_on_a_big_vocabulary_uses_candidates_and_agrees_with_the_full_sort():
    torch.manual_seed(0)
    peaked = torch.randn(3, 5000) * 4  # a peaked distribution: the candidates cover p
    flat = torch.randn(2, 5000) * 0.01  # flat: the full sort is needed
    for logits in (peaked, flat):
        fast = filter_logits(logits, SamplingSettings(temperature=1, top_p=0.9))
        probs = logits.softmax(-1)
        for row in range(logits.shape[0]):
            order = probs[row].argsort(descending=True)
            cumulative = probs[row][order].cumsum(0)
            needed = int((cumulative - probs[row][order] <= 0.9).sum())
            assert int((fast[row] > float("-inf")).sum()) == needed


def test_min_p_drops_tokens_far_below_the_best():
    assert kept(SamplingSettings(temperature=1, min_p=0.35)) == [True, True, False, False, False]


def test_temperature_sharpens_and_flattens():
    cold = filter_logits(LOGITS, SamplingSettings(temperature=0.5)).softmax(dim=-1)[0]
    hot = filter_logits(LOGITS, SamplingSettings(temperature=2.0)).softmax(dim=-1)[0]
    assert cold[0] > 0.5 > hot[0]
    assert cold.sum().item() == pytest.approx(1.0) and hot.sum().item() == pytest.approx(1.0)


def test_repetition_penalty_follows_the_sign():
    logits = torch.tensor([[2.0, -2.0, 2.0]])
    seen = torch.tensor([[True, True, False]])
    assert apply_repetition_penalty(logits, seen, 2.0).tolist() == [[1.0, -4.0, 2.0]]


def test_greedy_is_argmax_and_sampling_follows_the_distribution():
    keys = seed_keys(branch_seeds(7, 4000), torch.device("cpu"))
    vocab = token_keys(5, torch.device("cpu"))
    logits = LOGITS.expand(4000, -1)
    assert sample(logits, SamplingSettings(temperature=0), keys, vocab, 0).unique().tolist() == [0]
    drawn = sample(logits, SamplingSettings(temperature=1), keys, vocab, 0)
    frequencies = torch.bincount(drawn, minlength=5).float() / 4000
    expected = torch.tensor([0.5, 0.2, 0.15, 0.1, 0.05])
    assert torch.allclose(frequencies, expected, atol=0.03)


def test_noise_depends_on_seed_and_step_only():
    tokens = token_keys(1000, torch.device("cpu"))
    a = uniform_noise(seed_keys([1, 2, 3], torch.device("cpu")), tokens, 5)
    b = uniform_noise(seed_keys([2], torch.device("cpu")), tokens, 5)
    assert torch.equal(a[1], b[0])  # a branch's noise ignores the branches beside it
    assert not torch.equal(a[0], a[1])
    later = uniform_noise(seed_keys([1], torch.device("cpu")), tokens, 6)
    assert not torch.equal(a[0], later[0])
    assert a.min().item() > 0 and a.max().item() < 1
    assert abs(a.mean().item() - 0.5) < 0.02


def test_branch_seeds_are_stable_and_distinct():
    seeds = branch_seeds(42, 8)
    assert seeds == branch_seeds(42, 8) and len(set(seeds)) == 8
    assert all(0 <= s < 2**63 for s in seeds)
    assert branch_seeds(42, 3) == seeds[:3]
    assert math.isfinite(float(seeds[0]))


@pytest.mark.parametrize(
    "settings",
    [
        SamplingSettings(temperature=0.8, top_k=50),
        SamplingSettings(temperature=0.8, top_k=50, top_p=0.9),
        SamplingSettings(temperature=1.0, min_p=0.2),
        SamplingSettings(temperature=1.0),  # nothing removed: the whole row is drawn from
    ],
)
def test_drawing_among_the_kept_tokens_is_the_whole_vocabularys_draw(settings):
    """The same tokens as Gumbel noise over every token of the vocabulary gives, tied logits
    included (ties resolve to the lowest token id either way)."""
    vocab, branches = 4000, 4
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(branches, vocab, generator=generator) * 3
    logits[:, 100:110] = logits[:, 100:101]  # ties
    keys, tokens = (
        seed_keys(branch_seeds(7, branches), torch.device("cpu")),
        token_keys(vocab, "cpu"),
    )
    for step in range(40):
        log_probs = filter_logits(logits, settings).log_softmax(dim=-1)
        gumbel = -torch.log(-torch.log(uniform_noise(keys, tokens, step)))
        whole = (log_probs + gumbel).argmax(dim=-1)
        assert sample(logits, settings, keys, tokens, step).tolist() == whole.tolist()
