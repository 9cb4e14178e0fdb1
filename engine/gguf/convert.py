"""A model folder as a GGUF file, by llama.cpp's own converter and quantizer: a file that
Taletree, koboldcpp, LM Studio and Ollama all read.

The converter writes float32 (or float16); q8_0 and q4_k_m are then made from the float32 file
by llama.cpp's quantizer. Everything is written beside the output under a temporary name and
moved into place at the end, so a conversion that fails or is interrupted leaves nothing.
"""

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from engine.gguf.binding import LOG, VERSION, llama
from engine.gguf.model import GGUFError

# quantization -> (the converter's output type, the llama.cpp file type to quantize to)
QUANTS = {"f32": ("f32", None), "f16": ("f16", None), "q8_0": ("f32", 7), "q4_k_m": ("f32", 15)}
Progress = Callable[[str, float | None], None]  # a stage, and how far through it (0 to 1)
WRITING = re.compile(r"Writing:\s+(\d+)%")


def converter_folder() -> Path:
    """Where llama.cpp's converter is: $TALETREE_LLAMA_CPP (a llama.cpp source folder), else
    where `make gguf` keeps it."""
    given = os.environ.get("TALETREE_LLAMA_CPP")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = Path(given) if given else cache / "taletree" / f"llama.cpp-{VERSION}" / "converter"
    if not (folder / "convert_hf_to_gguf.py").is_file():
        raise GGUFError(
            f"converting needs llama.cpp's converter, which isn't in {folder}: run `make gguf`, "
            "or set TALETREE_LLAMA_CPP to a llama.cpp source folder"
        )
    return folder


def checked_source(folder: Path) -> None:
    from engine.loading import checked_folder
    from engine.lstm import is_lstm_folder

    checked_folder(str(folder), allow_pickle=False, trust_remote_code=False)
    if is_lstm_folder(folder):
        raise GGUFError(
            f"{folder} holds an LSTM, which llama.cpp can't run: only transformer models "
            "convert to GGUF"
        )


def checked_output(out: Path) -> None:
    """-o names a new .gguf file in a folder this process can write: nothing that exists is
    replaced, whatever it is (a file, a folder, a FIFO, a device such as /dev/null)."""
    if out.is_dir():
        raise GGUFError(f"{out} is a folder: -o names the .gguf file to write")
    if out.is_file():
        raise GGUFError(f"{out} exists: choose another -o, or remove it first")
    if out.exists() or out.is_symlink():
        raise GGUFError(
            f"{out} exists and is not a regular file (a link, a pipe or a device): -o names "
            "a new .gguf file"
        )
    if not out.parent.is_dir():
        raise GGUFError(f"{out.parent} is not a folder: -o must be in a folder that exists")
    if not os.access(out.parent, os.W_OK):
        raise GGUFError(f"{out.parent} can't be written to: choose -o in a folder you can write")
    if out.suffix.lower() != ".gguf":
        raise GGUFError(f"{out} should end in .gguf (how llama.cpp's tools know the file)")


def convert_to_gguf(
    folder: Path, out: Path, quant: str = "f32", progress: Progress | None = None
) -> None:
    """Write `folder`'s model to `out` as a GGUF of the chosen quantization."""
    progress = progress or (lambda stage, done: None)
    if quant not in QUANTS:
        raise GGUFError(f"unknown quantization {quant!r}: use one of {', '.join(QUANTS)}")
    checked_source(folder)
    checked_output(out)
    outtype, ftype = QUANTS[quant]
    if ftype is not None:
        llama()  # quantizing needs the binding: say so before converting
    converter = converter_folder()
    converted = out.with_name(out.name + ".converting")
    quantized = out.with_name(out.name + ".quantizing")
    try:
        run_converter(converter, folder, converted, outtype, progress)
        if ftype is not None:
            progress("quantizing", None)
            quantize(converted, quantized, quant)
            converted.unlink()
            quantized.rename(out)
        else:
            converted.rename(out)
        progress("done", 1.0)
    finally:
        for partial in (converted, quantized):
            partial.unlink(missing_ok=True)


def run_converter(converter: Path, folder: Path, out: Path, outtype: str, progress: Progress):
    progress("reading", None)
    command = [sys.executable, "-m", "engine.gguf.converter", str(converter), str(folder), str(out)]
    lines: list[str] = []
    with subprocess.Popen(
        [*command, outtype], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        for line in process.stderr:  # (text mode reads tqdm's "\r" as a line's end too)
            if found := WRITING.search(line):
                progress("writing", int(found.group(1)) / 100)
            elif line.strip():
                lines = [*lines[-40:], line.strip()]
    if process.returncode != 0:
        raise GGUFError(f"llama.cpp's converter can't convert {folder}: {converter_problem(lines)}")


def converter_problem(lines: list[str]) -> str:
    """The converter's own last words: the error a traceback ends with."""
    for text in reversed(lines):
        if re.match(r"^[\w.]*(Error|Exception)\b", text) or text.startswith("ERROR:"):
            return text.removeprefix("ERROR:").strip()
    return lines[-1] if lines else "it stopped without saying why"


def quantize(source: Path, out: Path, quant: str) -> None:
    """A float GGUF quantized by llama.cpp's quantizer (q8_0 or q4_k_m)."""
    lib = llama()
    params = lib.llama_model_quantize_default_params()
    params.ftype = QUANTS[quant][1]
    mark = LOG.mark()
    if lib.llama_model_quantize(str(source).encode(), str(out).encode(), params) != 0:
        raise GGUFError(f"llama.cpp's quantizer failed: {LOG.reason(mark, 'it gave no reason')}")
