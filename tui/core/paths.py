"""Where Taletree keeps what isn't a story: settings and line-mode history in the config
folder ($XDG_CONFIG_HOME/taletree), the error log in the state folder
($XDG_STATE_HOME/taletree)."""

import os
from pathlib import Path


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "taletree"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "taletree"
