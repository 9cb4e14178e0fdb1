"""How well a model follows the writer, and how quick its 4-branch step is:
`python -m bench.follow --json [MODEL]` (default: the bundled demo model).

Following: the measured openings of engine/training/following.py, four continuations of 60
tokens each with the model's own generation defaults: the shares naming the opening's person
again, mentioning its thing, and mostly copying the opening. Targets for the demo model: at
least 0.5, at least 0.25, at most 0.1.

Speed: one step of 4 branches, after a story filling most of a 512-token window, timed as the
difference between writing 65 tokens and writing 1, over 64. Target for the demo model: under
20 ms on the CPU.
"""

import argparse
import json
import time
from dataclasses import asdict

from assets import DEMO_MODEL
from bench.engine import processor
from engine.generate import generate
from engine.loading import load_model
from engine.settings import SamplingSettings
from engine.training.following import MEASURED, measure_following

STEPS = 64


def seconds_to_write(model, ids: list[int], tokens: int) -> float:
    settings = SamplingSettings(max_new_tokens=tokens, **model.generation_defaults())
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _event in generate(model, ids, 4, settings, seed=0):
            pass
        best = min(best, time.perf_counter() - started)
    return best


def step_ms(model) -> float:
    story = " ".join(opening.text for opening in MEASURED)
    ids = model.tokenizer.encode(story, add_special_tokens=False)
    window = model.window or 512
    ids = ids[: min(window, 512) - STEPS - 8]
    longer, shorter = seconds_to_write(model, ids, STEPS + 1), seconds_to_write(model, ids, 1)
    return 1000 * (longer - shorter) / STEPS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("model", nargs="?", default=str(DEMO_MODEL))
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    model = load_model(args.model)
    settings = SamplingSettings(max_new_tokens=60, **model.generation_defaults())
    following = measure_following(model, settings)
    result = {
        "model": args.model,
        "processor": processor(),
        **asdict(following),
        "step_4_ms": round(step_ms(model), 2),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
