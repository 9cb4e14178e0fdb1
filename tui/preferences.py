"""The writer's generation settings: built-in defaults, overridden by the config file's
[writing] table, overridden by the story's own settings (kept in stories.db).

The config file is TOML in the config folder (`taletree path` shows it):

    [writing]
    branches = 4
    temperature = 0.8

    [keys]            # action id = key(s); the help screen (f1) lists the ids
    keep_highlighted = "enter,space"

No Textual and no torch here.
"""

import math
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from engine.settings import STOP_MODES, SamplingSettings
from tui.config import DEMO_MODEL, config_dir

CONFIG_NAME = "config.toml"
MAX_BRANCHES = 8


class PreferenceError(ValueError):
    """A setting the writer gave that can't be used; the message says which and why."""


@dataclass(frozen=True)
class WritingSettings:
    model: str = ""  # "" = the bundled demo model; else a model folder or a cached hub id
    device: str = "auto"  # auto, cpu, cuda, cuda:N, mps
    branches: int = 4
    max_new_tokens: int = 48
    # None: the model's own default (its generation_config.json), else the engine's.
    temperature: float | None = None
    top_k: int | None = None
    top_p: float | None = None
    min_p: float | None = None
    repetition_penalty: float | None = None
    stop_mode: str = "sentence"
    seed: int | None = None  # None: new alternatives every time

    def sampling(self, model_defaults: dict[str, Any]) -> SamplingSettings:
        """The engine's settings: ours where set, else the model's suggestions."""
        ours = {k: v for k, v in asdict(self).items() if v is not None}
        chosen = {**model_defaults, **ours}
        names = {f.name for f in fields(SamplingSettings)}
        return SamplingSettings(**{k: v for k, v in chosen.items() if k in names})

    def changed(self, base: "WritingSettings | None" = None) -> dict[str, Any]:
        """Only what differs from `base` (the built-in defaults unless given): what the config
        file keeps, or what a story keeps over the defaults."""
        base = base or WritingSettings()
        return {k: v for k, v in asdict(self).items() if getattr(base, k) != v}

    def model_source(self) -> tuple[str, str]:
        """What to load, and the name to show for it."""
        return (self.model, self.model) if self.model else (str(DEMO_MODEL), "taletree-demo")


def field_types() -> dict[str, type]:
    return {
        "model": str,
        "device": str,
        "branches": int,
        "max_new_tokens": int,
        "temperature": float,
        "top_k": int,
        "top_p": float,
        "min_p": float,
        "repetition_penalty": float,
        "stop_mode": str,
        "seed": int,
    }


def convert(name: str, value: Any) -> Any:
    """One setting from a form, a config file or the database, checked; None means unset."""
    kinds = field_types()
    if name not in kinds:
        raise PreferenceError(f"there is no setting {name!r}: the settings are {', '.join(kinds)}")
    if value is None or (isinstance(value, str) and not value.strip()):
        if name in ("branches", "max_new_tokens", "stop_mode"):
            raise PreferenceError(f"{name} needs a value")
        return "" if name == "model" else ("auto" if name == "device" else None)
    kind = kinds[name]
    try:
        if kind is str:
            converted: Any = str(value).strip()
        elif kind is int:
            if isinstance(value, float | bool):
                raise ValueError
            converted = int(str(value).strip())
        else:
            if isinstance(value, bool):
                raise ValueError
            converted = float(str(value).strip())
            if not math.isfinite(converted):
                raise ValueError
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise PreferenceError(f"{name} should be {what}, not {value!r}") from None
    check(name, converted)
    return converted


LIMITS = {
    "branches": (lambda v: 1 <= v <= MAX_BRANCHES, f"from 1 to {MAX_BRANCHES}"),
    "max_new_tokens": (lambda v: 1 <= v <= 4096, "from 1 to 4096"),
    "temperature": (lambda v: v >= 0, "0 (greedy) or more"),
    "top_k": (lambda v: v >= 0, "0 (off) or more"),
    "top_p": (lambda v: 0 < v <= 1, "above 0 and at most 1"),
    "min_p": (lambda v: 0 <= v < 1, "from 0 up to (not including) 1"),
    "repetition_penalty": (lambda v: v > 0, "above 0 (1 = off)"),
    "stop_mode": (lambda v: v in STOP_MODES, " or ".join(STOP_MODES)),
    "seed": (lambda v: 0 <= v < 2**63, "from 0 to 2**63 - 1"),
}


def check(name: str, value: Any) -> None:
    if name in LIMITS and not LIMITS[name][0](value):
        raise PreferenceError(f"{name} should be {LIMITS[name][1]}, not {value!r}")


def settings_from(values: dict[str, Any], base: WritingSettings | None = None) -> WritingSettings:
    """`base` with these values laid over it, each checked."""
    return replace(base or WritingSettings(), **{k: convert(k, v) for k, v in values.items()})


def config_path() -> Path:
    return config_dir() / CONFIG_NAME


@dataclass(frozen=True)
class Config:
    writing: WritingSettings
    keys: dict[str, str]


def read_config(path: Path | None = None) -> Config:
    """The config file, or the built-in defaults when there is none."""
    path = path or config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config(WritingSettings(), {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PreferenceError(f"{path} can't be read as TOML ({error}): fix or remove it") from None
    unknown = set(data) - {"writing", "keys"}
    if unknown:
        raise PreferenceError(f"{path} has an unknown table [{sorted(unknown)[0]}]")
    try:
        writing = settings_from(data.get("writing", {}))
    except PreferenceError as error:
        raise PreferenceError(f"{path}: {error}") from None
    keys = data.get("keys", {})
    if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in keys.items()):
        raise PreferenceError(f'{path}: each entry of [keys] should be action = "key"')
    return Config(writing, dict(keys))


def toml_value(value: Any) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'
    return repr(value)


def write_config(config: Config, path: Path | None = None) -> Path:
    """Write the config file whole (to a temporary file, then renamed)."""
    from tui.cli import write_atomically

    path = path or config_path()
    lines = ['# Taletree settings: see the README, "Settings".', "", "[writing]"]
    lines += [f"{k} = {toml_value(v)}" for k, v in config.writing.changed().items()]
    if config.keys:
        lines += ["", "[keys]"] + [f"{k} = {toml_value(v)}" for k, v in config.keys.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, "\n".join(lines) + "\n")
    return path


def story_settings(
    defaults: WritingSettings, saved: dict[str, Any] | None, model: str | None = None
) -> WritingSettings:
    """A story's settings: its saved ones over the defaults, and `model` (from the command
    line) over both. A saved value that no longer checks (an older version's, say) is dropped
    rather than stopping the story from opening."""
    settings = defaults
    for name, value in (saved or {}).items():
        try:
            settings = settings_from({name: value}, settings)
        except PreferenceError:
            continue
    return replace(settings, model=model) if model else settings
