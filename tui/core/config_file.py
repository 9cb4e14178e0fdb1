"""The config file, config.toml in the config folder (`taletree path` shows it): default
settings for every story, and the writer's own keys for the app's actions.

    [writing]         # any setting of the table (engine/settings.py)
    branches = 4
    temperature = 0.8

    [keys]            # action id = key(s); the help screen (f1) lists the ids
    keep_highlighted = "enter,space"

    [models]          # several models writing each step side by side (the models setting):
    default = 2       # a model and its share of the branches,
    demo = { branches = 2, temperature = 1.1 }   # or its share and its own settings

    [server]          # for a model on a server: the API key it asks for
    api_key = "…"     # (TALETREE_API_KEY, when set, is used instead)
"""

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import UserError, one_line
from engine.remote import KEY_VARIABLE
from engine.settings import ModelShare, SettingsError, model_shares, shares_text
from story.files import write_atomically
from tui.core.paths import config_dir
from tui.core.settings import BUILT_IN, Settings, changed, laid_over

CONFIG_NAME = "config.toml"
CONFIG_LIMIT = 1_000_000  # bytes: a config file is a few lines; past this it is something else


class ConfigError(UserError):
    """The config file can't be used; the message names it and what to fix."""


@dataclass(frozen=True)
class Config:
    writing: Settings = field(default_factory=lambda: dict(BUILT_IN))
    keys: dict[str, str] = field(default_factory=dict)
    api_key: str | None = field(default=None, repr=False)  # never shown, logged or stored

    def server_key(self) -> str | None:
        """The API key for a server: TALETREE_API_KEY, else the config file's."""
        return os.environ.get(KEY_VARIABLE) or self.api_key


def config_path() -> Path:
    return config_dir() / CONFIG_NAME


def read_config(path: Path | None = None) -> Config:
    """The config file, or the built-in defaults when there is none."""
    path = path or config_path()
    if not path.exists():
        return Config()
    if not path.is_file():  # a FIFO would wait for a writer forever, a device never end
        raise ConfigError(f"{path} is not a regular file: replace it with a config file")
    try:
        if path.stat().st_size > CONFIG_LIMIT:
            raise ConfigError(
                f"{path} is over {CONFIG_LIMIT // 1000} kB, too big for a config "
                "file: fix or remove it"
            )
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Config()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as error:
        why = "nested too deeply" if isinstance(error, RecursionError) else one_line(error)
        raise ConfigError(f"{path} can't be read as TOML ({why}): fix or remove it") from None
    unknown = set(data) - {"writing", "keys", "server", "models"}
    if unknown:
        raise ConfigError(f"{path} has an unknown table [{sorted(unknown)[0]}]")
    writing = data.get("writing", {})
    keys = data.get("keys", {})
    server = data.get("server", {})
    if not all(isinstance(table, dict) for table in (writing, keys, server)):
        raise ConfigError(f"{path}: [writing], [keys] and [server] should be tables")
    api_key = server.get("api_key")
    if set(server) - {"api_key"} or not isinstance(api_key, str | None):
        raise ConfigError(f'{path}: [server] takes only api_key = "…"')
    try:
        if "models" in data:
            if "models" in writing:
                raise SettingsError("models is set in [writing] and in [models]: keep one")
            writing = {**writing, "models": models_from_table(data["models"])}
        settings = laid_over(BUILT_IN, writing)
    except SettingsError as error:
        raise ConfigError(f"{path}: {error}") from None
    if not all(isinstance(k, str) and isinstance(v, str) and v for k, v in keys.items()):
        raise ConfigError(f'{path}: each entry of [keys] should be action = "key"')
    return Config(settings, dict(keys), api_key or None)


def models_from_table(table: Any) -> str:
    """The [models] table as the models setting: each model = its branches, or a table of
    its branches and its own settings."""
    if not isinstance(table, dict):
        raise SettingsError("[models] should be a table: name = branches, or name = { … }")
    shares = []
    for name, value in table.items():
        own = value if isinstance(value, dict) else {"branches": value}
        branches = own.get("branches")
        if not (branches is None or type(branches) is int):
            raise SettingsError(f"[models] {name}: branches should be a whole number")
        settings = {key: v for key, v in own.items() if key != "branches"}
        shares.append(ModelShare(name, branches, settings))
    return shares_text(model_shares(shares_text(shares)))  # (each value checked there)


def models_table(text: str) -> list[str]:
    """The models setting as the lines of a [models] table."""
    lines = ["", "[models]"]
    for share in model_shares(text):
        own = {"branches": share.branches} if share.branches else {}
        own |= {key: value for key, value in share.settings.items() if value is not None}
        inline = ", ".join(f"{key} = {toml_value(value)}" for key, value in own.items())
        value = str(share.branches) if own.keys() == {"branches"} else f"{{ {inline} }}"
        lines.append(f"{toml_value(share.name)} = {value}")
    return lines


def toml_value(value: Any) -> str:
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in escaped) + '"'
    return repr(value)


def write_config(config: Config, path: Path | None = None) -> Path:
    """Write the config file whole (to a temporary file, then renamed)."""
    path = path or config_path()
    lines = ['# Taletree settings: see the README, "Settings".', "", "[writing]"]
    writing = changed(config.writing)
    models = writing.pop("models", "")
    lines += [f"{k} = {toml_value(v)}" for k, v in writing.items()]
    if models:
        lines += models_table(models)
    if config.keys:
        lines += ["", "[keys]"] + [f"{k} = {toml_value(v)}" for k, v in config.keys.items()]
    if config.api_key:
        lines += ["", "[server]", f"api_key = {toml_value(config.api_key)}"]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"{path.parent} can't be created ({error.strerror})") from error
    write_atomically(path, "\n".join(lines) + "\n")
    return path
