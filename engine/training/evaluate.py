"""Held-out scores: bits per character (fair across word, character and BPE models) and
perplexity per token."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from engine.scoring import bits_per_character
from engine.training.data import TrainingText
from engine.training.tokenizers import encode_story


@dataclass(frozen=True)
class Evaluation:
    bits_per_character: float
    perplexity: float  # per token of the model's own tokenizer
    tokens: int
    characters: int
    stories: int


def evaluate(
    token_logprobs: Callable[[Sequence[int]], torch.Tensor], tokenizer, stories: list[TrainingText]
) -> Evaluation:
    """Score each story's text given its <BOS> and genre token; the end token is not counted,
    so every model is scored on exactly the characters of the text."""
    nats, tokens, characters = 0.0, 0, 0
    for story in stories:
        ids = encode_story(tokenizer, story)
        prefix = len(ids) - len(tokenizer.encode(story.text, add_special_tokens=False)) - 1
        scores = token_logprobs(ids)[prefix - 1 : len(ids) - 2]
        nats -= float(scores.sum())
        tokens += scores.numel()
        characters += len(story.text)
    return Evaluation(
        bits_per_character=bits_per_character(nats, characters),
        perplexity=math.exp(nats / max(tokens, 1)),
        tokens=tokens,
        characters=characters,
        stories=len(stories),
    )
