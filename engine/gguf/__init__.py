"""GGUF model files (llama.cpp's format), run in this process on llama.cpp.

Importing this package loads neither torch nor llama.cpp: `gguf_file` only looks at a path.
"""

from pathlib import Path

SUFFIX = ".gguf"


def gguf_file(name: str) -> Path | None:
    """The GGUF file a model name means: a .gguf file, or a folder holding exactly one (and no
    transformers config, which would make it a model folder). None for anything else."""
    path = Path(name).expanduser()
    if path.suffix.lower() == SUFFIX and not path.is_dir():
        return path
    if path.is_dir() and not (path / "config.json").exists():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() == SUFFIX and p.is_file())
        if len(found) == 1:
            return found[0]
    return None
