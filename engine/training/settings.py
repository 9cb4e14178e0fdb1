"""What `taletree train` can be told, declared once: each field of TrainSettings carries its
help text, and the command line's flags are made from the fields. An architecture and (for an
LSTM) a token level bring their own defaults, laid under what the writer gives."""

from dataclasses import Field, dataclass, field, fields
from types import NoneType
from typing import Any, get_args

from engine.training.data import TrainingError

ARCHITECTURES = ("gpt2", "llama", "lstm")  # llama: GPT-2's shape with rotary positions
LEVELS = ("word", "char")
STARTS = ("random", "induction")  # induction: see engine/training/induction.py
LENGTHS = ("steps", "epochs", "minutes")  # how long to train: any one of them, else 1 epoch


def option(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


FINE_TUNING_RATE = 5e-5  # AdamW's rate for a model given by --from, unless one is chosen


@dataclass
class TrainSettings:
    arch: str = "gpt2"
    level: str = "word"  # lstm only: word or char
    # GPT-2 and Llama
    layers: int = option(4, "GPT-2, Llama: transformer blocks")
    heads: int = option(4, "GPT-2, Llama: attention heads per block")
    width: int = option(256, "GPT-2, Llama: the embedding width (a multiple of the heads)")
    context: int = option(512, "tokens per training window (and a transformer's window)")
    start: str = option(
        "random",
        "Llama: the weights to start from: random, or induction (random, with a circuit that "
        "copies names on wired in; needs 2 layers and 3 heads)",
    )
    # LSTM (the seed articles' word model by default)
    embedding: int = option(100, "LSTM: the token embedding width")
    hidden: int = option(512, "LSTM: the hidden state's width")
    lstm_layers: int = option(3, "LSTM: stacked layers")
    dropout: float = option(
        0.3, "dropout: GPT-2's in attention and between blocks, LSTM's between layers"
    )
    vocab_size: int = option(4096, "GPT-2, Llama and word LSTM: the vocabulary's size")
    batch_size: int = option(16, "windows per training step")
    learning_rate: float = option(1e-3, "AdamW's learning rate")
    steps: int | None = option(None, "train this many steps")
    epochs: float | None = option(None, "train this many passes over the corpus (default 1)")
    minutes: float | None = option(None, "train for this long")
    checkpoint_every: int = option(200, "steps between checkpoints (Ctrl+C keeps one too)")
    seed: int = option(0, "the seed of the weights and the batches")
    device: str | None = option(None, "where to train: cpu, cuda, cuda:N or mps")
    tune_tokens: int = option(80, "tokens per sample when trying generation settings")
    follow_tokens: int = option(
        60, "tokens per continuation when measuring how the model follows an opening"
    )

    def check(self) -> None:
        if self.arch not in ARCHITECTURES:
            raise TrainingError(f"unknown architecture {self.arch!r}: use gpt2, llama or lstm")
        if self.level not in LEVELS:
            raise TrainingError(f"unknown level {self.level!r}: use word or char")
        if self.start not in STARTS:
            raise TrainingError(f"unknown start {self.start!r}: use random or induction")
        if self.start == "induction" and self.arch != "llama":
            raise TrainingError("--start induction is for --arch llama")
        if self.start == "induction" and (self.layers < 2 or self.heads < 3):
            raise TrainingError("--start induction needs at least 2 layers and 3 heads")
        if self.arch != "lstm" and self.width % self.heads:
            raise TrainingError(f"width {self.width} must be a multiple of heads {self.heads}")
        for name in LENGTHS:
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise TrainingError(f"--{name} must be above 0")


# Over the fields' defaults: GPT-2 without dropout, the LSTM's learning rate and window, and the
# seed articles' LSTM sizes per level (GPT-2 sizes suit a CPU-trained demo model).
ARCH_DEFAULTS: dict[str, dict[str, Any]] = {
    "gpt2": {"dropout": 0.0},  # short runs learn faster without it, and each step is quicker
    "llama": {"dropout": 0.0},
    "lstm": {"learning_rate": 2e-3, "context": 100},
}
LEVEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "word": {"embedding": 100, "hidden": 512, "lstm_layers": 3, "dropout": 0.3},
    "char": {"embedding": 32, "hidden": 128, "lstm_layers": 1, "dropout": 0.0},
}


def options() -> list[Field]:
    """The fields a writer sets by flag (all but the architecture and level)."""
    return [f for f in fields(TrainSettings) if "help" in f.metadata]


def value_type(option: Field) -> type:
    """What a flag's text becomes: int, float or str (`int | None` is an int)."""
    return next(t for t in get_args(option.type) or (option.type,) if t is not NoneType)


def chosen_settings(arch: str, level: str, given: dict[str, Any]) -> TrainSettings:
    """The settings for an architecture and level: its defaults, under what was given (None:
    not given)."""
    chosen = {
        **ARCH_DEFAULTS.get(arch, {}),
        **(LEVEL_DEFAULTS.get(level, {}) if arch == "lstm" else {}),
    }
    chosen.update({name: value for name, value in given.items() if value is not None})
    if not any(chosen.get(name) for name in LENGTHS):
        chosen["epochs"] = 1
    return TrainSettings(arch=arch, level=level, **chosen)
