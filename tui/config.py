"""Where Taletree keeps its settings: $XDG_CONFIG_HOME/taletree, else ~/.config/taletree."""

import os
from pathlib import Path


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "taletree"
