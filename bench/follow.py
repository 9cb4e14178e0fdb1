"""How well models follow the writer, read as a reader reads (engine/training/reading_like.py),
and how quick their 4-branch step is, side by side in one run:
`python -m bench.follow --json [MODEL ...]` (default: the default model and the demo model, the
word- and character-level LSTMs that `make demo-model` (or `make demo-lstms`) trains beside it
where its build folder holds them, and the default model's Q8_0 GGUF on llama.cpp where the
binding is installed).

Following: the openings of many shapes in engine/training/reading_like.py, four continuations
of 60 tokens each, each model reading them its own way (the default model in story mode) with
its own generation defaults (the Q8_0 GGUF, whose file can't hold them, at the default
model's). Targets for the default model: carried at least 0.8, thing at least 0.3, left at
most 0.05, new person first at most 0.1, copied at most 0.1.

Speed: one step of 4 branches after a story of about 440 tokens, timed as the difference
between writing 65 tokens and writing 1, over 64.

`--trial` instead tries sampling settings for the first model on the trial's own openings and
prints each one's figures and score: how the default model's settings were chosen.
"""

import argparse
import itertools
import json
import time
from dataclasses import asdict
from pathlib import Path

from bench.engine import processor
from engine.backend import load_backend
from engine.events import FinishEvent
from engine.reading import prompt_ids, reading_for
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from engine.smollm2 import DEFAULT_SAMPLING
from engine.training.reading_like import SHAPES, TRIAL_SHAPES, Read, read_like_a_reader

STEPS = 64
GRID = {
    "temperature": (0.5, 0.7, 0.9),
    "top_p": (0.9, 1.0),
    "min_p": (0.0, 0.05),
    "repetition_penalty": (1.0, 1.1),
}


def continuations(backend, settings: SamplingSettings, openings, count=4, seed=3):
    reading = reading_for(backend, "auto")
    written = []
    for number, start in enumerate(openings):
        genre = (
            start.genre if reading.frame is not None or start.genre in backend.genres() else None
        )
        ids, keep = prompt_ids(backend, reading, start.text, genre)
        events = backend.stream(
            GenerationRequest(ids, count, settings, seed=seed + number, keep=keep)
        )
        written += [(start, e.text) for e in events if isinstance(e, FinishEvent)]
    return written


def seconds_to_write(backend, defaults: dict, ids: list[int], tokens: int) -> float:
    settings = SamplingSettings(max_new_tokens=tokens, **defaults)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _event in backend.stream(GenerationRequest(ids, 4, settings, seed=0)):
            pass
        best = min(best, time.perf_counter() - started)
    return best


def step_ms(backend, defaults: dict) -> float:
    story = " ".join(opening.text for opening in SHAPES)
    ids = backend.tokenize(story * 3)[: 512 - STEPS - 8]
    longer = seconds_to_write(backend, defaults, ids, STEPS + 1)
    shorter = seconds_to_write(backend, defaults, ids, 1)
    return 1000 * (longer - shorter) / STEPS


def score(read: Read) -> float:
    """One figure for choosing settings: carrying the person on most, then the thing; leaving
    the story costs most, then a new person first, repeating and copying."""
    return round(
        read.carried + 0.5 * read.thing - 2 * read.left - read.new_person_first - read.repeats
        - read.copied,
        3,
    )  # fmt: skip


def figures(name: str, chosen: dict | None = None) -> dict:
    """`chosen`: sampling settings for a model file that can't hold its own (a GGUF)."""
    backend = load_backend(name, device="cpu")
    defaults = {**backend.generation_defaults(), **(chosen or {})}
    settings = SamplingSettings(max_new_tokens=60, **defaults)
    read = read_like_a_reader(continuations(backend, settings, SHAPES))
    return {
        "name": backend.name,
        "serving_path": backend.serving_path,
        "reads": reading_for(backend, "auto").shown,
        **asdict(read),
        "samples_at": defaults,
        "step_4_ms": round(step_ms(backend, defaults), 2),
    }


def demo_lstms() -> list[str]:
    """The LSTMs `make demo-model` trained for the same time as the demo model, if they are
    still in its build folder (they don't ship)."""
    from engine.training.demo import CONTENDERS, ROOT, build_folder

    folders = [build_folder(ROOT / "build" / "demo", name) for name in CONTENDERS if "LSTM" in name]
    return [str(folder) for folder in folders if (folder / "config.json").exists()]


def q8_of_default() -> str | None:
    """The default model as a Q8_0 GGUF (made once, in the models cache), if llama.cpp's
    binding and converter are here."""
    from engine.gguf.convert import convert_to_gguf
    from engine.named_models import DEFAULT, local_source
    from engine.smollm2 import models_cache

    out = models_cache() / "SmolLM2-135M-Instruct-Q8_0.gguf"
    if not out.exists():
        try:
            convert_to_gguf(Path(local_source(DEFAULT, print)), out, "q8_0")
        except Exception as error:  # no binding or converter: the row is simply left out
            print(f"(no Q8_0 row: {error})")
            return None
    return str(out)


def trial(name: str) -> list[dict]:
    backend = load_backend(name, device="cpu")
    rows = []
    for values in itertools.product(*GRID.values()):
        chosen = dict(zip(GRID, values, strict=True))
        settings = SamplingSettings(max_new_tokens=60, **chosen)
        read = read_like_a_reader(continuations(backend, settings, TRIAL_SHAPES))
        rows.append({**chosen, **asdict(read), "score": score(read)})
    return sorted(rows, key=lambda row: -row["score"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("models", nargs="*", default=["default", "demo"])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--trial", action="store_true", help="try settings for the first model")
    args = parser.parse_args()
    if args.trial:
        result = {"processor": processor(), "trial": trial(args.models[0])}
    else:
        rows = [(name, None) for name in args.models]
        if args.models == ["default", "demo"]:
            rows += [(name, None) for name in demo_lstms()]
            if (q8 := q8_of_default()) is not None:  # sampled as the default model is
                rows.append((q8, DEFAULT_SAMPLING))
        result = {"processor": processor(), "models": [figures(*row) for row in rows]}
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
