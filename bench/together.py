"""Two models writing one step side by side: `python -m bench.together --json`.

The default model (SmolLM2-135M-Instruct on the torch engine, story mode) and the bundled demo
model each continue the same opening, each read its own way, 48 tokens a branch. Measured side
by side in one run, each the median of REPEATS:

- both at once, 2 branches each (engine/together.py, as a step with two models runs), against
  the slower one writing 4 alone plus the quicker one writing 2 alone: together_over_apart (at
  most 1.0 is the target: asking both at once never costs more than asking them in turn).
- the same against the slower one writing 2 alone plus the quicker one writing 2 alone, in turn:
  together_over_in_turn (below 1.0: the two overlap).
"""

import argparse
import json
import statistics
import time

from engine.backend import load_backend
from engine.named_models import DEFAULT, DEMO, local_source, shown_name
from engine.reading import prompt_ids, reading_for
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from engine.together import Part, stream_together

OPENING = "Mirela found the brass key under the floorboards of her grandmother's cottage."
SETTINGS = SamplingSettings(
    temperature=0.8, max_new_tokens=48, stop_mode="tokens", ban_end_of_text=True
)
REPEATS = 5


def part(backend, branches: int, seed: int) -> Part:
    ids, keep = prompt_ids(backend, reading_for(backend, "auto"), OPENING)
    return Part(backend, GenerationRequest(ids, branches, SETTINGS, seed=seed, keep=keep))


def seconds(parts: list[Part]) -> float:
    started = time.perf_counter()
    for _ in stream_together(parts):
        pass
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    models = [
        load_backend(local_source(name, lambda stage: None), label=shown_name(name), device="cpu")
        for name in (DEFAULT, DEMO)
    ]
    for backend in models:  # warm: the first step of each pays for allocations
        seconds([part(backend, 4, 0)])
    alone = {
        (i, branches): statistics.median(
            seconds([part(backend, branches, r)]) for r in range(REPEATS)
        )
        for i, backend in enumerate(models)
        for branches in (2, 4)
    }
    together = statistics.median(
        seconds([part(models[0], 2, r), part(models[1], 2, r)]) for r in range(REPEATS)
    )
    slower = max(range(2), key=lambda i: alone[i, 4])
    quicker = 1 - slower
    figures = {
        "models": [backend.name for backend in models],
        "slower": models[slower].name,
        "together_2_2_s": round(together, 3),
        "slower_4_s": round(alone[slower, 4], 3),
        "quicker_2_s": round(alone[quicker, 2], 3),
        "slower_2_s": round(alone[slower, 2], 3),
        "together_over_apart": round(together / (alone[slower, 4] + alone[quicker, 2]), 3),
        "together_over_in_turn": round(together / (alone[slower, 2] + alone[quicker, 2]), 3),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name}: {value}")


if __name__ == "__main__":
    main()
