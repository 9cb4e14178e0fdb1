"""Where Taletree keeps its settings: $XDG_CONFIG_HOME/taletree, else ~/.config/taletree."""

import os
from pathlib import Path

# The model every command uses when given no --model (built by `make demo-model`).
DEMO_MODEL = Path(__file__).resolve().parent.parent / "assets" / "models" / "taletree-demo"


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "taletree"
