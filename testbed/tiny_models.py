"""Tiny real models for engine tests: built from configs, random weights, saved as folders
the engine loads like any other model. Nothing is downloaded."""

from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import (
    AutoModelForCausalLM,
    GPT2Config,
    GPTNeoXConfig,
    LlamaConfig,
    PreTrainedTokenizerFast,
)

from engine.training.settings import TrainSettings
from testbed.model_families import family_config

TRAINING_TEXT = [
    "The keeper climbed the stairs of the lighthouse. The lamp was cold, and the sea was loud.",
    "She opened the door. Nobody was there! Only the wind, and a letter on the floor.",
    "Rain fell on the harbour; the boats knocked together like old friends arguing.",
    "Café, naïve, jalapeño — and a dragon 🐉 that spoke 日本語 and 中文 at dawn.",
] * 20
END = "<|end|>"


def byte_level_tokenizer(vocab_size: int = 400) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer: every string round-trips, emoji and CJK included."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[END],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(TRAINING_TEXT, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=END, bos_token=END)


def byte_level_gpt2(tokenizer, **sizes) -> GPT2Config:
    """A GPT-2 over `tokenizer` (whose end-of-text token starts a story too), its output layer
    its own unless `sizes` say tie_word_embeddings."""
    return GPT2Config(
        **{"tie_word_embeddings": False, **sizes},
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )


def config_for(kind: str, vocab: int, window: int, eos: int):
    common = {
        "vocab_size": vocab,
        "bos_token_id": eos,
        "eos_token_id": eos,
        "tie_word_embeddings": False,
    }
    if kind == "gpt2":
        return GPT2Config(n_positions=window, n_embd=64, n_layer=2, n_head=4, **common)
    if kind == "llama":
        return LlamaConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=window,
            **common,
        )
    if kind == "neox":
        return GPTNeoXConfig(
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            max_position_embeddings=window,
            rotary_pct=0.5,
            **common,
        )
    raise ValueError(kind)


def save_tiny_model(folder: Path, kind: str = "gpt2", window: int = 256, seed: int = 0) -> Path:
    tokenizer = byte_level_tokenizer()
    config = config_for(kind, len(tokenizer), window, tokenizer.eos_token_id)
    return save_random_model(folder, config, tokenizer, seed)


def save_family_model(folder: Path, family: str, seed: int = 0) -> Path:
    """A tiny model of one of the families in testbed/model_families.py."""
    tokenizer = byte_level_tokenizer()
    config = family_config(family, len(tokenizer), tokenizer.eos_token_id)
    return save_random_model(folder, config, tokenizer, seed)


def save_random_model(folder: Path, config, tokenizer, seed: int) -> Path:
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    # Random weights give nearly flat distributions; sharpen them so greedy choices are clear
    # (float rounding can't flip them) while sampling still varies.
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(8)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def tiny_char_lstm() -> TrainSettings:
    """A character-level LSTM small enough to train in a second: 2 steps."""
    return TrainSettings(
        arch="lstm",
        level="char",
        embedding=8,
        hidden=16,
        lstm_layers=1,
        dropout=0.0,
        steps=2,
        context=32,
        batch_size=2,
        tune_tokens=4,
    )


# A chat template of the usual shape (turns between start and end tokens), written for these
# tests: what story mode cuts around.
TURN_START, TURN_END = "<|turn|>", "<|/turn|>"
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|turn|>' + message['role'] + '\\n' + message['content'] + '<|/turn|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|turn|>assistant\\n' }}{% endif %}"
)


def save_tiny_chat_model(
    folder: Path, template: str = CHAT_TEMPLATE, extra_tokens: tuple[str, ...] = ()
) -> Path:
    """A tiny instruction-style model: turn tokens and a chat template (its chat_template.jinja),
    and any extra special tokens (a genre tag, say)."""
    tokenizer = byte_level_tokenizer()
    tokenizer.add_special_tokens(
        {"additional_special_tokens": [TURN_START, TURN_END, *extra_tokens]}
    )
    tokenizer.chat_template = template
    if "<BOS>" in extra_tokens:  # trained by Taletree, which marks stories so
        tokenizer.bos_token = "<BOS>"
    config = config_for("llama", len(tokenizer), 1024, tokenizer.eos_token_id)
    return save_random_model(folder, config, tokenizer, seed=0)
