"""How much memory a model will take, told before it loads, and how much is free.

A guess from the files, not a measurement: the weights as stored, and a quarter again for the
story cache and the work of a step. A model on a server takes nothing here; a model whose files
can't be found (a hub id, a name yet to be resolved) counts as unknown, and loading says more.
"""

import os
from pathlib import Path

from engine.named_models import DEFAULT, DEFAULT_GGUF, DEMO
from engine.remote import is_server_address
from engine.smollm2 import folder_for, is_complete, packaged_gguf

OVERHEAD = 1.25  # the story cache and a step's work, over the weights themselves
WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
# The default model's GGUF is 4-bit; its float32 folder for the torch engine is 5.5 times more.
DEFAULT_GROWTH = 6


def stored_bytes(path: Path) -> int:
    """A file's size, or the weights in a folder (every file, where none looks like weights)."""
    if path.is_file():
        return path.stat().st_size
    files = [p for p in path.rglob("*") if p.is_file()]
    weights = [p for p in files if p.suffix in WEIGHTS]
    return sum(p.stat().st_size for p in weights or files)


def model_bytes(name: str) -> int | None:
    """The memory a model named as the settings name it will take here; None: unknown."""
    if is_server_address(name):
        return 0
    if name == DEMO:
        from assets import DEMO_MODEL

        path = DEMO_MODEL
    elif name in (DEFAULT, DEFAULT_GGUF):
        gguf = packaged_gguf()
        if gguf is None:
            return None
        folder = folder_for(gguf)
        if name == DEFAULT and not is_complete(folder):
            return int(gguf.stat().st_size * DEFAULT_GROWTH * OVERHEAD)
        path = folder if name == DEFAULT else gguf
    else:
        path = Path(name).expanduser()
    try:
        return int(stored_bytes(path) * OVERHEAD) if path.exists() else None
    except OSError:
        return None


def free_memory() -> int | None:
    """The memory the system can give without swapping (MemAvailable); None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:  # elsewhere: the physical pages not in use
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return None
