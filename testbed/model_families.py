"""Tiny random-weight models of every popular causal family, built from configs with the
installed transformers (hidden size 64, 2 layers): what the family suite runs the engine on.

Each family's window (its position limit) is WINDOW, and a family with sliding-window attention
slides over SLIDE positions, so a prompt of a few dozen tokens is already longer than the slide.
"""

from collections.abc import Callable
from typing import Any

import transformers as hf

WINDOW = 128  # every family's position limit (where it has one)
SLIDE = 16  # the sliding window of the families that have one
SMALL = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": WINDOW,
}
MIXED = ["sliding_attention", "full_attention"]  # alternating layers, as Gemma 2 and 3 have


def rope(kind: str, **extra: Any) -> dict:
    return {"rope_parameters": {"rope_type": kind, "rope_theta": 10000.0, **extra}}


# Laid out by hand (fmt: off): one family a row, its config read across.
# fmt: off
FAMILIES: dict[str, tuple[Callable[..., Any], dict]] = {
    "gpt2": (hf.GPT2Config, {"n_positions": WINDOW, "n_embd": 64, "n_layer": 2, "n_head": 4}),
    "llama": (hf.LlamaConfig, SMALL),
    "llama-tied": (hf.LlamaConfig, {**SMALL, "tie_word_embeddings": True}),
    "llama-rope-linear": (hf.LlamaConfig, {**SMALL, **rope("linear", factor=2.0)}),
    "llama-rope-dynamic": (hf.LlamaConfig, {**SMALL, **rope("dynamic", factor=2.0)}),
    "llama-rope-llama3": (hf.LlamaConfig, {**SMALL, **rope(
        "llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
        original_max_position_embeddings=32)}),
    "llama-rope-yarn": (hf.LlamaConfig, {**SMALL, **rope(
        "yarn", factor=4.0, original_max_position_embeddings=32)}),
    "gpt_neox": (hf.GPTNeoXConfig, {**SMALL, "rotary_pct": 0.5}),
    "qwen2": (hf.Qwen2Config, SMALL),
    "qwen2-sliding": (hf.Qwen2Config, {**SMALL, "use_sliding_window": True,
                                       "sliding_window": SLIDE, "max_window_layers": 1}),
    "qwen3": (hf.Qwen3Config, {**SMALL, "head_dim": 16}),
    "qwen3_moe": (hf.Qwen3MoeConfig, {**SMALL, "head_dim": 16, "num_experts": 4,
                                      "num_experts_per_tok": 2, "moe_intermediate_size": 32}),
    "mistral": (hf.MistralConfig, {**SMALL, "sliding_window": None}),
    "mistral-sliding": (hf.MistralConfig, {**SMALL, "sliding_window": SLIDE}),
    "mixtral": (hf.MixtralConfig, {**SMALL, "num_local_experts": 4, "num_experts_per_tok": 2}),
    "phi": (hf.PhiConfig, {**SMALL}),
    "phi3": (hf.Phi3Config, {**SMALL, "pad_token_id": 0}),
    "gemma": (hf.GemmaConfig, {**SMALL, "head_dim": 16}),
    "gemma2": (hf.Gemma2Config, {**SMALL, "head_dim": 16, "sliding_window": SLIDE,
                                 "layer_types": MIXED}),
    "gemma3_text": (hf.Gemma3TextConfig, {**SMALL, "head_dim": 16, "sliding_window": SLIDE,
                                          "layer_types": MIXED}),
    "cohere2": (hf.Cohere2Config, {**SMALL, "sliding_window": SLIDE, "layer_types": MIXED}),
    "starcoder2": (hf.Starcoder2Config, {**SMALL, "sliding_window": SLIDE}),
    "opt": (hf.OPTConfig, {"hidden_size": 64, "ffn_dim": 128, "num_hidden_layers": 2,
                           "num_attention_heads": 4, "max_position_embeddings": WINDOW,
                           "word_embed_proj_dim": 64}),
    "stablelm": (hf.StableLmConfig, SMALL),
    "gpt_bigcode": (hf.GPTBigCodeConfig, {"n_positions": WINDOW, "n_embd": 64, "n_layer": 2,
                                          "n_head": 4}),
    "cohere": (hf.CohereConfig, SMALL),
    "olmo": (hf.OlmoConfig, SMALL),
    "olmo2": (hf.Olmo2Config, SMALL),
    "granite": (hf.GraniteConfig, {**SMALL, "attention_multiplier": 0.5,
                                   "embedding_multiplier": 2.0, "logits_scaling": 2.0}),
    "gpt_neo": (hf.GPTNeoConfig, {"hidden_size": 64, "num_layers": 2, "num_heads": 4,
                                  "attention_types": [[["global", "local"], 1]],
                                  "window_size": SLIDE, "max_position_embeddings": WINDOW}),
    "bloom": (hf.BloomConfig, {"hidden_size": 64, "n_layer": 2, "n_head": 4}),
    "mpt": (hf.MptConfig, {"d_model": 64, "n_heads": 4, "n_layers": 2, "max_seq_len": WINDOW}),
    "gptj": (hf.GPTJConfig, {"n_positions": WINDOW, "n_embd": 64, "n_layer": 2, "n_head": 4,
                             "rotary_dim": 8}),
    "codegen": (hf.CodeGenConfig, {"n_positions": WINDOW, "n_ctx": WINDOW, "n_embd": 64,
                                   "n_layer": 2, "n_head": 4, "rotary_dim": 8}),
    "falcon": (hf.FalconConfig, {"hidden_size": 64, "num_hidden_layers": 2,
                                 "num_attention_heads": 4, "max_position_embeddings": WINDOW}),
    "falcon-alibi": (hf.FalconConfig, {"hidden_size": 64, "num_hidden_layers": 2,
                                       "num_attention_heads": 4, "alibi": True,
                                       "max_position_embeddings": WINDOW}),
    "gpt_oss": (hf.GptOssConfig, {**SMALL, **rope("default"), "head_dim": 16,
                                  "num_local_experts": 4, "num_experts_per_tok": 2,
                                  "sliding_window": SLIDE, "layer_types": MIXED}),
    "ctrl": (hf.CTRLConfig, {"n_embd": 64, "n_layer": 2, "n_head": 4, "n_positions": WINDOW}),
    "bert-decoder": (hf.BertConfig, {"hidden_size": 64, "num_hidden_layers": 2,
                                     "num_attention_heads": 4, "intermediate_size": 128,
                                     "max_position_embeddings": WINDOW, "is_decoder": True}),
    # Recurrent models: no attention at all.
    "mamba": (hf.MambaConfig, {"hidden_size": 64, "num_hidden_layers": 2, "state_size": 4}),
    "rwkv": (hf.RwkvConfig, {"hidden_size": 64, "num_hidden_layers": 2,
                             "attention_hidden_size": 64, "intermediate_size": 128,
                             "context_length": WINDOW}),
    "recurrent_gemma": (hf.RecurrentGemmaConfig, {"hidden_size": 64, "num_hidden_layers": 3,
                                                  "num_attention_heads": 4,
                                                  "intermediate_size": 128, "lru_width": 64,
                                                  "attention_window_size": SLIDE}),
}
# Families the engine refuses, and why.
REFUSED = {
    "xlnet": ((hf.XLNetConfig, {"d_model": 64, "n_layer": 2, "n_head": 4}), "not causal"),
}
# fmt: on


def family_config(family: str, vocab_size: int, eos: int) -> Any:
    config_class, options = FAMILIES[family] if family in FAMILIES else REFUSED[family][0]
    common = {"vocab_size": vocab_size, "bos_token_id": eos, "eos_token_id": eos}
    if "tie_word_embeddings" not in options:
        common["tie_word_embeddings"] = False
    return config_class(**common, **options)


def sliding_window_of(config: Any) -> int | None:
    """The family's sliding window, where it has one."""
    window = getattr(config, "sliding_window", None) or getattr(config, "window_size", None)
    if getattr(config, "model_type", "") == "qwen2" and not config.use_sliding_window:
        return None
    return window
