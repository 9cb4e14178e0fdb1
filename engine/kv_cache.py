"""The story's key/value cache, shared by every branch, for Hugging Face models.

One pre-allocated buffer per layer holds the story (batch 1). It lives between turns: a new
request prefills only the tokens after the longest common prefix. While N branches decode, each
layer also holds a [N, heads, max_new_tokens, head_dim] buffer for the branches' own tokens, and
the attention below reads the story's keys and values once for all N branches: the N queries are
folded into the query-length axis of one matmul against the single prefix copy. Nothing is
concatenated per step; buffers grow (by doubling) only when a story outgrows them.

A layer with a sliding window attends only to the last `window` positions, so its story buffer
keeps only those (and some slack, so moving to a sibling a little way back needs no recompute):
older positions are let go, and the layer says where its buffer starts (`offset`) to the masks.

The Hugging Face model code is used as it is: this module plugs in through its cache interface
(`Cache` layers) and its attention registry (an attention function named "taletree"). Models
that don't go through the registry are served by the general path instead (engine/general.py).
"""

import contextvars

import torch
from transformers import AttentionInterface, AttentionMaskInterface
from transformers.cache_utils import Cache, CacheLayerMixin
from transformers.integrations.sdpa_attention import repeat_kv, sdpa_attention_forward
from transformers.masking_utils import sdpa_mask

ATTENTION = "taletree"
# The cache whose layers the attention function reads while a forward pass runs.
ACTIVE_CACHE: contextvars.ContextVar["StoryCache"] = contextvars.ContextVar("taletree_cache")
# Positions a sliding layer keeps beyond its window: a move to a node up to this many tokens
# back from the story's end (a sibling, say) still finds every key it needs.
SLIDING_SLACK = 512


class Unsupported(Exception):
    """An attention feature this module can't serve exactly: the model takes the general
    path (the load-time check sees this and chooses it)."""


class StoryLayer(CacheLayerMixin):
    is_croppable = True

    def __init__(self, capacity: int, limit: int | None):
        super().__init__()
        self.capacity = capacity  # positions allocated for the story
        self.limit = limit  # the model's window: the most it may ever need (None: no limit)
        self.offset = 0  # the story position of the buffer's first entry
        self.length = 0  # story positions written (the next one's position)
        self.window: int | None = None  # a sliding layer's window, as the attention said
        self.is_sliding = False  # whether it has let positions go (the masks then need offset)
        self.branches = 0  # 0 while prefilling the story; N while branches decode
        self.branch_length = 0
        self.branch_keys: torch.Tensor | None = None
        self.branch_values: torch.Tensor | None = None

    @property
    def held(self) -> int:
        return self.length - self.offset

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        _, heads, _, dim = key_states.shape
        self.keys = key_states.new_zeros((1, heads, self.capacity, dim))
        self.values = value_states.new_zeros((1, heads, self.capacity, dim))
        self.is_initialized = True

    def reserve(self, needed: int) -> None:
        """Make room for the story up to position `needed`: double, copy once, up to the
        window."""
        wanted = needed - self.offset
        if self.limit is not None:
            wanted = min(wanted, self.limit)
        if wanted <= self.capacity or not self.is_initialized:
            self.capacity = max(self.capacity, wanted)
            return
        self.resize(
            max(
                wanted,
                2 * self.capacity if self.limit is None else min(self.limit, 2 * self.capacity),
            )
        )

    def resize(self, capacity: int, start: int = 0) -> None:
        """A new buffer of `capacity` holding the entries from `start` on."""
        for name in ("keys", "values"):
            old = getattr(self, name)
            new = old.new_zeros((*old.shape[:2], capacity, old.shape[3]))
            new[:, :, : self.held - start] = old[:, :, start : self.held]
            setattr(self, name, new)
        self.capacity = capacity

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        if not self.branches:
            at, count = self.held, key_states.shape[-2]
            if at + count > self.capacity:  # (a prefill chunk beyond what was reserved)
                self.resize(at + count)
            self.keys[:, :, at : at + count] = key_states
            self.values[:, :, at : at + count] = value_states
            self.length += count
            return self.keys[:, :, : at + count], self.values[:, :, : at + count]
        # One new position per branch; the attention function adds the shared story part.
        at = self.branch_length
        self.branch_keys[:, :, at] = key_states[:, :, 0]
        self.branch_values[:, :, at] = value_states[:, :, 0]
        self.branch_length = at + 1
        return self.branch_keys[:, :, : at + 1], self.branch_values[:, :, : at + 1]

    def let_go(self) -> None:
        """A sliding layer drops the positions no later query can see (keeping some slack)."""
        if self.window is None or not self.is_initialized:
            return
        start = self.length - (self.window - 1) - SLIDING_SLACK
        if start <= self.offset:
            return
        self.resize(
            max(self.capacity - (start - self.offset), self.window + SLIDING_SLACK),
            start - self.offset,
        )
        self.offset, self.is_sliding = start, True

    def can_keep(self, length: int) -> bool:
        """Whether the story can be cut back to `length` positions and still continue: a
        sliding layer must hold the window before that point."""
        needed_from = 0 if self.window is None else max(0, length - self.window + 1)
        return self.offset <= needed_from

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
        return self.held + self.branch_length + query_length, self.offset

    def get_max_length(self) -> int:
        return -1 if self.limit is None else self.limit


class StoryCache(Cache):
    def __init__(self, num_layers: int, limit: int | None, capacity: int = 256):
        first = capacity if limit is None else min(capacity, limit)
        super().__init__(layers=[StoryLayer(first, limit) for _ in range(num_layers)])
        self.ids: list[int] = []  # the token ids whose keys and values are stored

    @property
    def length(self) -> int:
        return self.layers[0].length

    def crop_to(self, length: int) -> int:
        """Forget everything after `length` story positions (the buffers stay allocated).
        Returns the length actually kept: 0 when a sliding layer let go of what continuing
        from there needs (everything is then computed again)."""
        if not all(layer.can_keep(length) for layer in self.layers):
            length = 0
            for layer in self.layers:
                layer.offset, layer.is_sliding = 0, False
        for layer in self.layers:
            layer.length = min(layer.length, length)
        del self.ids[length:]
        return length

    def reserve(self, needed: int) -> None:
        for layer in self.layers:
            layer.reserve(needed)

    def let_go(self) -> None:
        for layer in self.layers:
            layer.let_go()

    def start_branches(self, count: int, max_new_tokens: int) -> None:
        for layer in self.layers:
            layer.start_branches(count, max_new_tokens)

    def end_branches(self) -> None:
        for layer in self.layers:
            layer.end_branches()


def capped(scores: torch.Tensor, softcap: float | None) -> torch.Tensor:
    """Gemma 2's logit soft-capping: scores squashed into (-softcap, softcap)."""
    return scores if not softcap else torch.tanh(scores / softcap) * softcap


def general_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    mask: torch.Tensor | None,
    scale: float,
    softcap: float | None,
) -> torch.Tensor:
    """Plain attention with the features sdpa lacks (soft-capping), scores in float32.
    query [b, heads, q, d]; key/value [b, kv_heads, k, d]; returns [b, q, heads, d]."""
    key = repeat_kv(key, query.shape[1] // key.shape[1])
    value = repeat_kv(value, query.shape[1] // value.shape[1])
    scores = capped(torch.matmul(query.float() * scale, key.float().transpose(-1, -2)), softcap)
    q_length, k_length = query.shape[2], key.shape[2]
    if mask is None:  # causal, the queries being the last positions
        causal = torch.ones(q_length, k_length, dtype=torch.bool, device=query.device)
        mask = causal.tril(k_length - q_length)
    if mask.dtype == torch.bool:
        scores = scores.masked_fill(~mask, float("-inf"))
    else:
        scores = scores + mask[..., :k_length].float()
    probs = scores.softmax(dim=-1).to(value.dtype)
    return torch.matmul(probs, value).transpose(1, 2).contiguous()


def story_attention(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    sliding_window: int | None = None,
    softcap: float | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """The attention function the model calls (registered as "taletree"): the story is
    prefilled with the model's own masks; branches decode against the shared prefix."""
    if kwargs.get("s_aux") is not None or kwargs.get("sinks") is not None:
        raise Unsupported("attention sinks")
    cache = ACTIVE_CACHE.get(None)  # None: the model is used directly (say, by HF generate)
    layer = cache.layers[module.layer_idx] if cache is not None else None
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    if layer is not None:
        layer.window = sliding_window
    if layer is None or not layer.branches:
        if softcap:
            return general_attention(query, key, value, attention_mask, scale, softcap), None
        return sdpa_attention_forward(
            module,
            query,
            key,
            value,
            attention_mask,
            scaling=scaling,
            dropout=dropout,
            sliding_window=sliding_window,
            **kwargs,
        )
    return shared_prefix_attention(query, key, value, layer, scale, sliding_window, softcap), None


def scores_of(query: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """query @ keys^T, in float32. Half-precision scores go wrong for large query and key
    norms: float16 overflows past 65504, and bfloat16 keeps 8 bits, so a score of 3000 is off
    by up to 8 (torch's own attention keeps its scores in float32 too). The keys are read in
    float32 for it: a few percent more memory traffic per step than the weights already cost."""
    return query.float() @ keys.float().transpose(-1, -2)


def shared_prefix_attention(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    layer: StoryLayer,
    scale: float,
    window: int | None,
    softcap: float | None,
) -> torch.Tensor:
    """Attention for N branches over one shared story prefix, plus each branch's own tokens.

    query: [N, heads, 1, dim]; key/value: the branches' own [N, kv_heads, b, dim]; the story's
    [1, kv_heads, P, dim] comes from the layer. Query heads are grouped per key/value head
    (grouped-query attention) and the branches folded in beside them, so the story part is one
    [1, kv_heads, N * group, P] product that reads the prefix once. A sliding layer reads only
    the positions within its window. The query is scaled before the products, and the scores
    and the softmax are float32.
    """
    count, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    group = heads // kv_heads
    position = layer.length + layer.branch_length - 1  # of the token each branch just wrote
    first = 0 if window is None else max(0, position - window + 1)  # the oldest position seen
    story_from = max(first, layer.offset) - layer.offset
    story_keys = layer.keys[:, :, story_from : layer.held]
    story_values = layer.values[:, :, story_from : layer.held]
    own_from = max(0, first - layer.length)
    key, value = key[:, :, own_from:], value[:, :, own_from:]
    prefix = story_keys.shape[2]

    grouped = query.view(count, kv_heads, group, dim) * scale
    folded = grouped.transpose(0, 1).reshape(1, kv_heads, count * group, dim)
    story_scores = scores_of(folded, story_keys).view(kv_heads, count, group, prefix)
    own_scores = scores_of(grouped, key)
    scores = torch.cat([story_scores.transpose(0, 1), own_scores], dim=-1)
    probs = capped(scores, softcap).softmax(dim=-1).to(query.dtype)

    story_probs = probs[..., :prefix].transpose(0, 1).reshape(1, kv_heads, count * group, prefix)
    story_part = (story_probs @ story_values).view(kv_heads, count, group, dim).transpose(0, 1)
    output = story_part + probs[..., prefix:] @ value
    return output.reshape(count, heads, 1, dim).transpose(1, 2).contiguous()


AttentionInterface.register(ATTENTION, story_attention)
AttentionMaskInterface.register(ATTENTION, sdpa_mask)
