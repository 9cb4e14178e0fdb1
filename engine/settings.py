"""The settings a writer can choose, declared once in SETTINGS, and the engine's settings for
one generation request.

Each row of SETTINGS says a setting's name, type, valid values, defaults, label, help text and
command-line flag. The engine's checks below, the config file, the settings form, `/set` in
line mode and the flags of `taletree generate` are all made from it, so they can't disagree.
"""

import math
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from common.errors import UserError
from common.text import quoted

STOP_MODES = ("tokens", "sentence", "paragraph")
PROMPT_MODES = ("auto", "story", "raw")  # how a model reads the story (engine/reading.py)
MAX_BRANCHES = 8
MAX_MODELS = 4  # in one step: more would split the branches too thin to compare
MAX_NEW_TOKENS = 32768
DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")


class SettingsError(UserError):
    """A setting out of range; the message names it and the allowed values."""


@dataclass(frozen=True)
class Setting:
    name: str
    kind: type  # int, float or str
    label: str  # in the settings form
    help: str  # one line, for the form's hint, `--help` and `/set`
    # What a writer starts with. None: the model's own suggestion (its generation_config.json)
    # where it has one, else the fallback.
    default: Any
    fallback: Any  # what the engine uses when neither the writer nor the model says
    allowed: str  # the valid values, in words
    valid: Callable[[Any], bool]
    choices: tuple[tuple[str, str], ...] = ()  # (label, value) offered in the form
    flag: str | None = None  # the command-line flag (taletree generate)
    blank: str = ""  # what an empty field means, shown in the form; "" = a value is needed
    # What the form's empty field shows, where not `blank` (and the model suggests no value).
    placeholder: str | None = None
    model_suggests: bool = False  # a model's generation_config.json may set it
    sampling: bool = True  # a field of SamplingSettings


# Laid out by hand (the formatter skips it): a setting's row reads across, like a table's.
SETTINGS: tuple[Setting, ...] = (
    Setting("model", str, "Model", "default (SmolLM2-135M-Instruct), default-gguf (the same "
            "on llama.cpp), demo (the small bundled model), a model folder, a GGUF file, a "
            "cached hub id, or a server's address (http://gpu-box:8000/v1)", "", "",
            "default, default-gguf, demo, a model folder, a GGUF file, a cached hub id or a "
            "server's address", lambda v: True, flag="--model",
            blank="the default model (SmolLM2-135M-Instruct)",
            placeholder="default, demo, or a model folder, a GGUF file, a hub id, a server",
            sampling=False),
    Setting("models", str, "Models side by side", "up to 4 models writing each step "
            "together, each with *N, its share of the branches, and KEY=VALUE, its own settings: "
            "default*2 demo*2 temperature=1.1", "", "",
            "model names as above, each with *N (its branches) and KEY=VALUE (its own settings)",
            lambda v: valid_models(v), blank="the model above, alone",
            placeholder="default*2 demo*2 temperature=1.1", sampling=False),
    Setting("device", str, "Device", "where the model runs: auto picks a GPU when there is one",
            "auto", "auto", "auto, cpu, cuda, cuda:N or mps",
            lambda v: DEVICE.fullmatch(v) is not None,
            choices=(("auto", "auto"), ("cpu", "cpu"), ("cuda", "cuda"), ("mps", "mps")),
            flag="--device", blank="auto", sampling=False),
    Setting("prompt", str, "Prompt", "how the model reads the story: story mode frames it in "
            "an instruction-tuned model's chat template as the model's own unfinished answer; "
            "raw gives it the text alone; auto picks story mode where the model has a template",
            "auto", "auto", "auto, story or raw", lambda v: v in PROMPT_MODES,
            choices=(("auto", "auto"), ("story mode", "story"), ("raw text", "raw")),
            flag="--prompt-mode", blank="auto", sampling=False),
    Setting("branches", int, f"Branches (1–{MAX_BRANCHES})",
            "how many alternatives the model writes at once", 4, 4,
            f"from 1 to {MAX_BRANCHES}", lambda v: 1 <= v <= MAX_BRANCHES, sampling=False),
    Setting("max_new_tokens", int, "Max new tokens", "the most tokens each alternative writes",
            48, 48, f"from 1 to {MAX_NEW_TOKENS}", lambda v: 1 <= v <= MAX_NEW_TOKENS,
            flag="--max-new-tokens", model_suggests=True),
    Setting("temperature", float, "Temperature", "randomness: 0 always takes the most likely "
            "token", None, 0.8, "0 (greedy) or more", lambda v: v >= 0, flag="--temperature",
            blank="the model's default", placeholder="", model_suggests=True),
    Setting("top_k", int, "Top-k", "sample only among the k most likely tokens (0 = off)",
            None, 0, "0 (off) or more", lambda v: v >= 0, flag="--top-k", blank="off",
            model_suggests=True),
    Setting("top_p", float, "Top-p", "sample among the most likely tokens that cover p of the "
            "probability (1 = off)", None, 1.0, "above 0 and at most 1", lambda v: 0 < v <= 1,
            flag="--top-p", blank="off", model_suggests=True),
    Setting("min_p", float, "Min-p", "drop tokens less likely than min-p times the most likely "
            "one (0 = off)", None, 0.0, "from 0 up to (not including) 1",
            lambda v: 0 <= v < 1, flag="--min-p", blank="off", model_suggests=True),
    Setting("repetition_penalty", float, "Repetition penalty", "make tokens the model has "
            "already written in this passage less likely (1 = off)", None, 1.0,
            "above 0 (1 = off)", lambda v: v > 0, flag="--repetition-penalty", blank="off",
            model_suggests=True),
    Setting("stop_mode", str, "Stop at", "where each alternative ends: the token budget, the "
            "end of a sentence or of a paragraph", "sentence", "tokens", " or ".join(STOP_MODES),
            lambda v: v in STOP_MODES,
            choices=(("the token budget", "tokens"), ("end of sentence", "sentence"),
                     ("end of paragraph", "paragraph")), flag="--stop-mode"),
    Setting("seed", int, "Seed", "the same seed writes the same alternatives", None, None,
            "from 0 to 2**63 - 1", lambda v: 0 <= v < 2**63, flag="--seed", blank="random",
            sampling=False),
    Setting("lore_scan_tokens", int, "Lore scans (tokens)", "how many tokens at the story's "
            "end the lorebook's keys are looked for in", 500, 500, "from 1 to 100000",
            lambda v: 1 <= v <= 100_000, sampling=False),
    Setting("context_limit", int, "Context limit", "how many tokens of the story a model "
            "without a fixed window reads (an LSTM; an ALiBi model such as Bloom), and the most "
            "a GGUF model reads", 2048, 2048,
            "from 16 to 1000000", lambda v: 16 <= v <= 1_000_000, flag="--context-limit",
            sampling=False),
)  # fmt: skip
SETTING: dict[str, Setting] = {s.name: s for s in SETTINGS}


def valid_models(text: str) -> bool:
    """Whether the models setting reads; a SettingsError says where it doesn't."""
    model_shares(text)
    return True


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse(name: str, value: Any) -> Any:
    """One setting's value from a form, a config file, a flag or the database, converted and
    checked. A blank value means the setting's default (None where the model decides)."""
    if name not in SETTING:
        raise SettingsError(f"there is no setting {name!r}: the settings are {', '.join(SETTING)}")
    setting = SETTING[name]
    if is_blank(value):
        if not setting.blank:
            raise SettingsError(f"{name} needs a value ({setting.allowed})")
        return setting.default
    try:
        converted = convert(setting.kind, value)
    except ValueError:
        what = {int: "a whole number", float: "a number", str: "text"}[setting.kind]
        raise SettingsError(f"{name} should be {what}, not {quoted(str(value))}") from None
    check(setting, converted)
    return converted


def convert(kind: type, value: Any) -> Any:
    if isinstance(value, bool):  # TOML true is no number
        raise ValueError
    if kind is str:
        if not isinstance(value, str):
            raise ValueError
        return value.strip()
    if kind is int:
        if isinstance(value, float):
            raise ValueError
        return int(str(value).strip())
    number = float(str(value).strip())
    if not math.isfinite(number):
        raise ValueError
    return number


def check(setting: Setting, value: Any) -> None:
    if not setting.valid(value):
        raise SettingsError(f"{setting.name} should be {setting.allowed}, not {value!r}")


def suggested_by_model(values: Mapping[str, Any]) -> dict[str, Any]:
    """The settings a model folder suggests (generation_config.json), where they are valid."""
    suggested = {}
    for setting in SETTINGS:
        value = values.get(setting.name)
        if setting.model_suggests and value is not None:
            try:
                suggested[setting.name] = parse(setting.name, value)
            except SettingsError:
                continue  # a model's odd suggestion never stops it from writing
    return suggested


def fallback(name: str) -> Any:
    return SETTING[name].fallback


@dataclass(frozen=True)
class SamplingSettings:
    max_new_tokens: int = fallback("max_new_tokens")
    temperature: float = fallback("temperature")  # 0 = greedy
    top_k: int = fallback("top_k")  # 0 = off
    top_p: float = fallback("top_p")  # 1 = off
    min_p: float = fallback("min_p")  # 0 = off
    repetition_penalty: float = fallback("repetition_penalty")  # 1 = off
    stop_mode: str = fallback("stop_mode")  # tokens (the budget only), sentence, paragraph
    stop_strings: tuple[str, ...] = ()  # the text ends just before the first one
    # Every token whose text contains one of these is never chosen. A word the tokenizer
    # splits into pieces is banned by banning its pieces (banned_tokens).
    banned_strings: tuple[str, ...] = ()
    banned_tokens: tuple[int, ...] = ()
    ban_end_of_text: bool = False  # so a story can't simply stop
    top_alternatives: int = 10  # how many alternatives each token event reports
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for setting in SETTINGS:
            if setting.sampling:
                check(setting, getattr(self, setting.name))
        checks = [
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


def sampling_settings(
    chosen: Mapping[str, Any], model_defaults: Mapping[str, Any] | None = None, **extra: Any
) -> SamplingSettings:
    """The settings for one request: what was chosen (None: not chosen), else what the model
    suggests, else the engine's fallback. `extra` sets the fields outside the table."""
    model_defaults = model_defaults or {}
    values = {}
    for setting in SETTINGS:
        if not setting.sampling:
            continue
        value = chosen.get(setting.name)
        if value is None:
            value = model_defaults.get(setting.name)
        if value is not None:
            values[setting.name] = value
    return SamplingSettings(**values, **extra)


# ------------------------------------------------------------------------- the models setting
# Several models writing one step side by side, as a writer types it:
#
#     default*2 demo*2 temperature=1.1
#
# Each model is named as the `model` setting names one; `*N` gives it N of the step's branches,
# and each KEY=VALUE after it is a setting of its own, laid over the story's for that model
# alone. A model without `*N` takes an even part of the `branches` setting. Names with spaces
# are quoted, as in a shell. Blank: the `model` setting alone writes every branch.

# What a model may set for itself: how it runs, reads and samples. The story's shape (its
# seed, the lorebook's scan) and the set itself are the story's alone.
OWN_SETTINGS = tuple(
    name
    for name in SETTING
    if name not in ("model", "models", "branches", "seed", "lore_scan_tokens")
)
PLAIN = re.compile(r"[^\s'\"\\]+")  # a word needing no quotes


@dataclass(frozen=True)
class ModelShare:
    name: str  # as the model setting names it: default, demo, a path, a server's address
    branches: int | None = None  # None: an even part of the branches setting
    settings: dict[str, Any] = field(default_factory=dict)  # its own, checked


def model_shares(text: str) -> list[ModelShare]:
    """The models a `models` setting lists, each checked; [] for a blank one. A SettingsError
    names the first word that can't be read and what to write instead."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise SettingsError(f"models has an unclosed quote: {text!r}") from None
    shares: list[ModelShare] = []
    for word in words:
        key, equals, value = word.partition("=")
        if equals and key.isidentifier():
            if not shares:
                raise SettingsError(f"models: {word!r} comes before any model: name one first")
            if key not in OWN_SETTINGS:
                raise SettingsError(
                    f"models: {key} isn't a setting a model has of its own: "
                    f"{', '.join(OWN_SETTINGS)}"
                )
            try:
                checked = parse(key, value)
            except SettingsError as error:
                raise SettingsError(f"models: {error}") from None
            last = shares[-1]
            shares[-1] = ModelShare(last.name, last.branches, {**last.settings, key: checked})
            continue
        name, star, count = word.rpartition("*") if "*" in word else (word, "", "")
        if star and not (count.isdigit() and 1 <= int(count) <= MAX_BRANCHES):
            raise SettingsError(
                f"models: {word!r} should end *N, N the model's branches, from 1 to {MAX_BRANCHES}"
            )
        if not name:
            raise SettingsError(f"models: {word!r} names no model")
        if any(share.name == name for share in shares):
            raise SettingsError(f"models names {name} twice: name each model once")
        shares.append(ModelShare(name, int(count) if star else None))
    if len(shares) > MAX_MODELS:
        raise SettingsError(f"models lists {len(shares)}: at most {MAX_MODELS} write side by side")
    given = sum(share.branches or 0 for share in shares)
    if given > MAX_BRANCHES:
        raise SettingsError(f"models asks for {given} branches: at most {MAX_BRANCHES} in a step")
    return shares


def shares_text(shares: list[ModelShare]) -> str:
    """A list of models as the setting writes it (model_shares reads it back the same)."""
    words = []
    for share in shares:
        words.append(share.name + (f"*{share.branches}" if share.branches else ""))
        words += [f"{key}={'' if v is None else v}" for key, v in share.settings.items()]
    return " ".join(w if PLAIN.fullmatch(w) else shlex.quote(w) for w in words)


def branch_counts(shares: list[ModelShare], branches: int) -> list[int]:
    """Each model's branches: its own *N, else an even part of what `branches` leaves (at
    least one each; the first take one more where it doesn't divide)."""
    unsaid = [i for i, share in enumerate(shares) if share.branches is None]
    left = max(branches - sum(share.branches or 0 for share in shares), len(unsaid))
    counts = [share.branches or 0 for share in shares]
    for place, i in enumerate(unsaid):
        counts[i] = left // len(unsaid) + (place < left % len(unsaid))
    if sum(counts) > MAX_BRANCHES:
        raise SettingsError(
            f"the models ask for {sum(counts)} branches: at most {MAX_BRANCHES} in a step; "
            "give each model fewer (*N)"
        )
    return counts
