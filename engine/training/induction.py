"""A head start at copying, wired into a Llama trained from scratch.

Continuing a writer's story means naming their people again, and a name the vocabulary splits
into pieces (M + ira) is carried on by an induction circuit: a head that moves each token's
identity into the position after it, and a head in the next block that looks for the earlier
place where the current token stood and copies what came after it. Small models find this
circuit only after far more steps than a CPU run of minutes gives them: the demo model trained
for 12 minutes from plain random weights never named the opening's person again. So the first
two blocks start out holding it, written into their first heads' weights below, in three
reserved stretches of the residual stream:

    IDENTITY  the first dims of each token's embedding, which the match reads
    PREVIOUS  where the first head writes the previous token's IDENTITY (the embedding is zero
              there at the start, so the match reads nothing else)
    COPIED    where the second head writes the copied token's embedding

The first head looks one token back through its query and key biases alone: under rotary
positions the biases' score depends only on the distance, and these peak at one. The second
head matches on its slowest rotary pairs only, which barely turn over the distance between a
name and its next mention, so the match holds across the story. Training is free to change all
of it; the model only starts from there.
"""

import math

import torch
from torch import nn

ROPE_THETA = 1e6  # more of the rotary pairs turn slowly than at the usual 10,000
SLOW_FROM = 3 / 8  # the match uses the rotary pairs from this share of the head on
LOOK_BACK_SHARPNESS = 15.0  # how hard the first head looks one token back (logits, roughly)
MATCH_GAIN = 3.0  # how hard the second head prefers the matching position
COPY_GAIN = 3.0  # the copied embedding's weight in the residual stream


def slow_slots(head: int) -> list[int]:
    """A head's query/key slots that rotate slowest (transformers pairs slot i with i + head/2,
    turning faster the lower i is)."""
    half = head // 2
    first = round(half * SLOW_FROM)
    return [*range(first, half), *range(half + first, head)]


def look_back_biases(head: int, theta: float, distance: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Query and key biases whose rotary score peaks `distance` tokens back: for each pair, the
    query is (a, 0) and the key (a cos dθ, a sin dθ), so their product is a² cos((n - d)θ) at
    distance n, largest at n = d for every pair at once."""
    half = head // 2
    angles = distance * theta ** (-torch.arange(half, dtype=torch.float32) * 2 / head)
    size = math.sqrt(LOOK_BACK_SHARPNESS * math.sqrt(head))
    query = torch.cat([torch.full((half,), size), torch.zeros(half)])
    key = torch.cat([size * torch.cos(angles), size * torch.sin(angles)])
    return query, key


def wire_induction(model: nn.Module) -> None:
    """Write the circuit into the first head of the first two blocks of a LlamaForCausalLM
    built with attention_bias=True and rope_theta ROPE_THETA. Its three stretches (a head's
    slow slots twice, and a head) fit the residual stream when there are three heads or more."""
    config = model.config
    head = config.hidden_size // config.num_attention_heads
    slots = slow_slots(head)
    width = config.hidden_size
    identity = range(len(slots))
    previous = range(width - len(slots), width)
    copied = range(len(slots), len(slots) + head)
    first, second = (model.model.layers[i].self_attn for i in (0, 1))
    with torch.no_grad():
        model.model.embed_tokens.weight[:, previous] = 0
        for projection in (first.v_proj, second.q_proj, second.k_proj, second.v_proj):
            projection.weight[:head] = 0  # the first head's output rows
        for projection in (first.o_proj, second.o_proj):
            projection.weight[:, :head] = 0  # the first head's input columns
        query, key = look_back_biases(head, config.rope_parameters["rope_theta"], 1)
        first.q_proj.bias[:head], first.k_proj.bias[:head] = query, key
        for slot, (source, target) in enumerate(zip(identity, previous, strict=True)):
            first.v_proj.weight[slot, source] = 1.0
            # at the embeddings' own scale, so the next block's norm reads both alike
            first.o_proj.weight[target, slot] = config.initializer_range
        for slot, source, target in zip(slots, identity, previous, strict=True):
            second.q_proj.weight[slot, source] = MATCH_GAIN
            second.k_proj.weight[slot, target] = MATCH_GAIN
        for slot, dim in enumerate(copied):
            second.v_proj.weight[slot, dim] = 1.0
            second.o_proj.weight[dim, slot] = COPY_GAIN
