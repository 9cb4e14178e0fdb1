"""The story's key/value cache, shared by every branch, for Hugging Face models.

One pre-allocated buffer per layer holds the story (batch 1). It lives between turns: a new
request prefills only the tokens after the longest common prefix. While N branches decode, each
layer also holds a [N, heads, max_new_tokens, head_dim] buffer for the branches' own tokens, and
the attention below reads the story's keys and values once for all N branches: the N queries are
folded into the query-length axis of one matmul against the single prefix copy. Nothing is
concatenated per step; buffers grow (by doubling) only when a story outgrows them.

The Hugging Face model code is used as it is: this module plugs in through its cache interface
(`Cache` layers) and its attention registry (an attention function named "taletree").
"""

import contextvars

import torch
from transformers import AttentionInterface, AttentionMaskInterface
from transformers.cache_utils import Cache, CacheLayerMixin
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import sdpa_mask

ATTENTION = "taletree"
# The cache whose layers the attention function reads while a forward pass runs.
ACTIVE_CACHE: contextvars.ContextVar["StoryCache"] = contextvars.ContextVar("taletree_cache")


class StoryLayer(CacheLayerMixin):
    is_sliding = False
    is_croppable = True

    def __init__(self, capacity: int, limit: int):
        super().__init__()
        self.capacity = capacity  # positions allocated for the story
        self.limit = limit  # the model's window: the most it may ever need
        self.length = 0  # story positions filled
        self.branches = 0  # 0 while prefilling the story; N while branches decode
        self.branch_length = 0
        self.branch_keys: torch.Tensor | None = None
        self.branch_values: torch.Tensor | None = None

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        _, heads, _, dim = key_states.shape
        shape = (1, heads, self.capacity, dim)
        self.keys = key_states.new_zeros(shape)
        self.values = value_states.new_zeros(shape)
        self.is_initialized = True

    def reserve(self, needed: int) -> None:
        """Make room for `needed` story positions: double, copy once, up to the window."""
        if needed <= self.capacity or not self.is_initialized:
            self.capacity = max(self.capacity, min(self.limit, needed))
            return
        capacity = min(self.limit, max(needed, 2 * self.capacity))
        for name in ("keys", "values"):
            old = getattr(self, name)
            new = old.new_zeros((*old.shape[:2], capacity, old.shape[3]))
            new[:, :, : self.length] = old[:, :, : self.length]
            setattr(self, name, new)
        self.capacity = capacity

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        if not self.branches:
            end = self.length + key_states.shape[-2]
            self.keys[:, :, self.length : end] = key_states
            self.values[:, :, self.length : end] = value_states
            self.length = end
            return self.keys[:, :, :end], self.values[:, :, :end]
        # One new position per branch; the attention function adds the shared story part.
        at = self.branch_length
        self.branch_keys[:, :, at] = key_states[:, :, 0]
        self.branch_values[:, :, at] = value_states[:, :, 0]
        self.branch_length = at + 1
        return self.branch_keys[:, :, : at + 1], self.branch_values[:, :, : at + 1]

    def start_branches(self, count: int, max_new_tokens: int) -> None:
        _, heads, _, dim = self.keys.shape
        shape = (count, heads, max_new_tokens, dim)
        if (
            self.branch_keys is None
            or self.branch_keys.shape[0] != count
            or (self.branch_keys.shape[2] < max_new_tokens)
        ):
            self.branch_keys = self.keys.new_zeros(shape)
            self.branch_values = self.values.new_zeros(shape)
        self.branches, self.branch_length = count, 0

    def end_branches(self) -> None:
        self.branches, self.branch_length = 0, 0

    def get_seq_length(self) -> int:
        return self.length + self.branch_length

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.get_seq_length() + query_length, 0

    def get_max_length(self) -> int:
        return self.limit


class StoryCache(Cache):
    def __init__(self, num_layers: int, limit: int, capacity: int = 256):
        super().__init__(
            layers=[StoryLayer(min(capacity, limit), limit) for _ in range(num_layers)]
        )
        self.ids: list[int] = []  # the token ids whose keys and values are stored

    @property
    def length(self) -> int:
        return self.layers[0].length

    def crop_to(self, length: int) -> None:
        """Forget everything after `length` story positions (the buffers stay allocated)."""
        for layer in self.layers:
            layer.length = min(layer.length, length)
        del self.ids[length:]

    def reserve(self, needed: int) -> None:
        for layer in self.layers:
            layer.reserve(needed)

    def start_branches(self, count: int, max_new_tokens: int) -> None:
        for layer in self.layers:
            layer.start_branches(count, max_new_tokens)

    def end_branches(self) -> None:
        for layer in self.layers:
            layer.end_branches()


def shared_prefix_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """Attention for N branches over one shared story prefix, plus each branch's own tokens.

    query: [N, heads, 1, dim]; key/value: the branches' own [N, kv_heads, b, dim]; the story's
    [1, kv_heads, P, dim] comes from the layer. Query heads are grouped per key/value head
    (grouped-query attention) and the branches folded in beside them, so the story part is one
    [1, kv_heads, N * group, P] product that reads the prefix once.
    """
    cache = ACTIVE_CACHE.get(None)  # None: the model is used directly (say, by HF generate)
    layer = cache.layers[module.layer_idx] if cache is not None else None
    if layer is None or not layer.branches:
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
    count, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    group = heads // kv_heads
    scale = scaling if scaling is not None else dim**-0.5
    story_keys = layer.keys[:, :, : layer.length]
    story_values = layer.values[:, :, : layer.length]
    prefix = layer.length

    grouped = query.view(count, kv_heads, group, dim)
    folded = grouped.transpose(0, 1).reshape(1, kv_heads, count * group, dim)
    story_scores = (folded @ story_keys.transpose(-1, -2)).view(kv_heads, count, group, prefix)
    own_scores = grouped @ key.transpose(-1, -2)
    scores = torch.cat([story_scores.transpose(0, 1), own_scores], dim=-1) * scale
    probs = scores.float().softmax(dim=-1).to(query.dtype)

    story_probs = probs[..., :prefix].transpose(0, 1).reshape(1, kv_heads, count * group, prefix)
    story_part = (story_probs @ story_values).view(kv_heads, count, group, dim).transpose(0, 1)
    output = story_part + probs[..., prefix:] @ value
    return output.reshape(count, heads, 1, dim).transpose(1, 2).contiguous(), None


AttentionInterface.register(ATTENTION, shared_prefix_attention)
AttentionMaskInterface.register(ATTENTION, sdpa_mask)
