"""`taletree convert`: a model folder as a GGUF file, for Taletree and every llama.cpp tool."""

import argparse
import sys
from pathlib import Path

BAR = 24


def progress_line(stage: str, done: float | None) -> str:
    if done is None:
        return f"\r{stage}… {' ' * (BAR + 8)}"
    filled = int(BAR * done)
    return f"\r{stage:<10} [{'#' * filled}{'.' * (BAR - filled)}] {done:4.0%} "


def cmd_convert(args: argparse.Namespace) -> int:
    from assets import DEMO_MODEL
    from engine.gguf.convert import convert_to_gguf

    folder = Path(args.model).expanduser() if args.model else DEMO_MODEL
    out = Path(args.output) if args.output else Path(f"{folder.name}-{args.quant}.gguf")
    live = sys.stderr.isatty()

    def show(stage: str, done: float | None) -> None:
        if live:
            sys.stderr.write(progress_line(stage, done))
            sys.stderr.flush()

    try:
        convert_to_gguf(folder, out, args.quant, show)
    finally:
        if live:
            sys.stderr.write("\n")
    print(out)
    return 0
