"""The classic LSTM language model of the seed articles, and the engine backend that streams
branches from it. The LSTM's (h, c) state plays the part of the transformer's key/value cache:
kept after the story between turns, and copied once per branch when branches start.

A folder holds config.json (model_type "taletree_lstm"), model.safetensors and the tokenizer.
"""

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from engine.scoring import windowed_logprobs

MODEL_TYPE = "taletree_lstm"
State = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class LSTMConfig:
    vocab_size: int
    level: str = "word"  # word or char: how the tokenizer cuts text
    embedding: int = 100
    hidden: int = 512
    layers: int = 3
    dropout: float = 0.3


class LSTMLanguageModel(nn.Module):
    def __init__(self, config: LSTMConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embedding)
        self.lstm = nn.LSTM(
            config.embedding,
            config.hidden,
            config.layers,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, config.vocab_size)

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """ids [batch, time] -> logits [batch, time, vocab], and the state after them."""
        output, state = self.lstm(self.embed(ids), state)
        return self.head(self.drop(output)), state

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        config = {"model_type": MODEL_TYPE, **asdict(self.config)}
        (folder / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        save_file(
            {k: v.contiguous() for k, v in self.state_dict().items()},
            str(folder / "model.safetensors"),
        )

    @classmethod
    def load(cls, folder: Path) -> "LSTMLanguageModel":
        config = json.loads((folder / "config.json").read_text())
        config.pop("model_type", None)
        model = cls(LSTMConfig(**config))
        model.load_state_dict(load_file(str(folder / "model.safetensors")))
        return model.eval()


def is_lstm_folder(folder: Path) -> bool:
    try:
        return json.loads((folder / "config.json").read_text()).get("model_type") == MODEL_TYPE
    except (OSError, ValueError):
        return False


class LSTMModel:
    """The engine's interface over an LSTM: prefill, then one step for all branches at once."""

    window = None  # an LSTM reads any length
    serving_path = "LSTM state"

    def __init__(self, model: LSTMLanguageModel, tokenizer: Any, model_id: str, device, defaults):
        self.model = model.to(device).eval()
        self.tokenizer = tokenizer
        self.model_id = model_id
        self.device = torch.device(device)
        self.dtype = next(model.parameters()).dtype
        self.vocab_size = model.config.vocab_size
        self.eos_ids = {tokenizer.eos_token_id} - {None}
        self.defaults = defaults
        self.ids: list[int] = []  # the story the state has read
        self.state: State | None = None
        self.last_logits: torch.Tensor | None = None
        self.branch_state: State | None = None

    def generation_defaults(self) -> dict[str, Any]:
        return dict(self.defaults)

    @torch.inference_mode()
    def run(self, ids: Sequence[int], state: State | None) -> tuple[torch.Tensor, State]:
        logits, state = self.model(torch.tensor([list(ids)], device=self.device), state)
        return logits[0, -1].float(), state

    def cached_prefix(self, ids: Sequence[int]) -> int:
        """How much of `ids` the state has read: all it read, where they go on from it."""
        held = len(self.ids)
        return held if self.state is not None and list(ids[:held]) == self.ids else 0

    @torch.inference_mode()
    def prefill(self, ids: Sequence[int]) -> torch.Tensor:
        ids = list(ids)
        if not ids:
            raise ValueError("the context is empty: give at least one token")
        if ids == self.ids and self.last_logits is not None:
            return self.last_logits
        if self.state is not None and len(ids) > len(self.ids) and ids[: len(self.ids)] == self.ids:
            logits, state = self.run(ids[len(self.ids) :], self.state)  # only what's new
        else:
            logits, state = self.run(ids, None)
        self.ids, self.state, self.last_logits = ids, state, logits
        return logits

    def start_branches(self, count: int, max_new_tokens: int) -> None:
        h, c = self.state  # type: ignore[misc]
        self.branch_state = (h.repeat(1, count, 1), c.repeat(1, count, 1))

    @torch.inference_mode()
    def decode(self, tokens: torch.Tensor) -> torch.Tensor:
        logits, self.branch_state = self.model(tokens[:, None], self.branch_state)
        return logits[:, -1].float()

    def end_branches(self) -> None:
        self.branch_state = None

    @torch.inference_mode()
    def token_logprobs(self, ids: Sequence[int]) -> torch.Tensor:
        """log p(ids[i] | ids[:i]) for i = 1 … len - 1."""
        return windowed_logprobs(self.logits_of, ids, None, self.device)

    @torch.inference_mode()
    def next_logprobs(self, prompts: Sequence[Sequence[int]]) -> torch.Tensor:
        """log p(token | prompt) for every token, a row per prompt, the branches' state
        untouched."""
        return torch.stack([self.logits_of(list(p))[-1].log_softmax(-1) for p in prompts])

    def logits_of(self, ids: list[int]) -> torch.Tensor:
        return self.model(torch.tensor([ids], device=self.device))[0][0].float()
