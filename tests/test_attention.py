"""The shared-prefix attention against torch's own, in half precision with large query and key
norms: scores that overflow float16 must not turn into NaN or wrong weights."""

import pytest
import torch
import torch.nn.functional as F

from engine.kv_cache import StoryLayer, shared_prefix_attention

HEADS, KV_HEADS, DIM, STORY, OWN, BRANCHES = 8, 2, 64, 40, 3, 4


def story_layer(keys: torch.Tensor, values: torch.Tensor, own: int) -> StoryLayer:
    layer = StoryLayer(capacity=keys.shape[2], limit=None)
    layer.keys, layer.values, layer.is_initialized = keys, values, True
    layer.length, layer.branches, layer.branch_length = keys.shape[2], BRANCHES, own
    return layer


def torch_attention(query, story_keys, story_values, keys, values, scale, window):
    """Each branch on its own, by torch's scaled_dot_product_attention."""
    rows = []
    for n in range(query.shape[0]):
        k = torch.cat([story_keys[0], keys[n]], dim=1)[None, :, -window:]
        v = torch.cat([story_values[0], values[n]], dim=1)[None, :, -window:]
        rows.append(
            F.scaled_dot_product_attention(query[n : n + 1], k, v, scale=scale, enable_gqa=True)
        )
    return torch.cat(rows).transpose(1, 2)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("norm", [4.0, 40.0, 120.0])  # 120: scaled scores past float16's range
@pytest.mark.parametrize("window", [None, 20])
def test_large_norms_in_half_precision_match_torch(dtype, norm, window):
    generator = torch.Generator().manual_seed(int(norm))

    def tensor(*shape, scale=1.0):
        return (torch.randn(*shape, generator=generator) * scale).to(dtype)

    # Queries and keys all pointing much the same way: huge dot products.
    query = (tensor(BRANCHES, HEADS, 1, DIM).float().abs() * norm).to(dtype)
    story_keys = (tensor(1, KV_HEADS, STORY, DIM).float().abs() * norm).to(dtype)
    keys = (tensor(BRANCHES, KV_HEADS, OWN, DIM).float().abs() * norm).to(dtype)
    story_values, values = tensor(1, KV_HEADS, STORY, DIM), tensor(BRANCHES, KV_HEADS, OWN, DIM)
    scale = DIM**-0.5
    layer = story_layer(story_keys, story_values, OWN)

    ours = shared_prefix_attention(query, keys, values, layer, scale, window, None)
    inputs = (query, story_keys, story_values, keys, values)
    theirs = torch_attention(*inputs, scale, window or STORY + OWN)
    truth = torch_attention(*(t.double() for t in inputs), scale, window or STORY + OWN)
    assert not ours.isnan().any() and not ours.isinf().any()
    # Rounding to half precision alone: within what torch's own attention gets.
    allowed = max(2 * (theirs.double() - truth).abs().max().item(), 1e-2)
    assert (ours.double() - truth).abs().max().item() <= allowed
