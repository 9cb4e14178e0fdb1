"""Settings for one generation request, as plain dataclasses."""

from dataclasses import asdict, dataclass, field
from typing import Any

STOP_MODES = ("tokens", "sentence", "paragraph")
# The settings a model folder may suggest (generation_config.json) and a writer may override.
TUNABLE = ("max_new_tokens", "temperature", "top_k", "top_p", "min_p", "repetition_penalty")


def tunable_of(values: dict[str, Any]) -> dict[str, Any]:
    """The tunable settings present (not None) in a mapping such as a generation config."""
    return {name: values[name] for name in TUNABLE if values.get(name) is not None}


class SettingsError(ValueError):
    """A setting out of range; the message names it and the allowed values."""


@dataclass(frozen=True)
class SamplingSettings:
    max_new_tokens: int = 64
    temperature: float = 0.8  # 0 = greedy
    top_k: int = 0  # 0 = off
    top_p: float = 1.0  # 1 = off
    min_p: float = 0.0  # 0 = off
    repetition_penalty: float = 1.0  # 1 = off
    stop_mode: str = "tokens"  # tokens (the budget only), sentence, paragraph
    stop_strings: tuple[str, ...] = ()  # the text ends just before the first one
    # Every token whose text contains one of these is never chosen. A word the tokenizer
    # splits into pieces is banned by banning its pieces (banned_tokens).
    banned_strings: tuple[str, ...] = ()
    banned_tokens: tuple[int, ...] = ()
    ban_end_of_text: bool = False  # so a story can't simply stop
    top_alternatives: int = 10  # how many alternatives each token event reports
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        checks = [
            (self.max_new_tokens >= 1, "max_new_tokens must be 1 or more"),
            (self.temperature >= 0, "temperature must be 0 (greedy) or more"),
            (self.top_k >= 0, "top_k must be 0 (off) or more"),
            (0 < self.top_p <= 1, "top_p must be above 0 and at most 1"),
            (0 <= self.min_p < 1, "min_p must be from 0 up to (not including) 1"),
            (self.repetition_penalty > 0, "repetition_penalty must be above 0 (1 = off)"),
            (self.stop_mode in STOP_MODES, f"stop_mode must be one of {', '.join(STOP_MODES)}"),
            (0 <= self.top_alternatives <= 20, "top_alternatives must be from 0 to 20"),
            (all(self.stop_strings), "stop strings can't be empty"),
            (all(self.banned_strings), "banned strings can't be empty"),
        ]
        for ok, message in checks:
            if not ok:
                raise SettingsError(message)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def as_record(self) -> dict[str, Any]:
        """What a story node keeps, so the text can be reproduced."""
        record = asdict(self)
        record.pop("extra")
        return {k: list(v) if isinstance(v, tuple) else v for k, v in record.items()}
