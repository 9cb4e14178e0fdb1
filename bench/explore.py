"""Exploring ahead against what a script would do: `python -m bench.explore --json`.

On the bundled demo model, an exploration of budget 12 (4 alternatives of 32 tokens each
expansion, depth 3, the likely scorer) from a story's tip, timed whole, with the time its
scoring took. Then the same 12 prompts it continued, each given to a fresh `taletree generate`
(4 samples in one batch of 32 tokens): 48 passages written the way a script calling the command
would write them, each call loading the model and reading its prompt from scratch. And the same
12 generations in this process with the model loaded once but its story cache emptied before
each (the engine without the shared cache). Printed: the wall times, the ratios (exploration
over each), and the share of the exploration's time spent scoring. Run it with nothing else
running.
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from assets import DEMO_MODEL
from bench.engine import processor
from engine.request import GenerationRequest
from story.store import Store
from tui.core.explore import ExploreSettings
from tui.core.session import WritingSession

ROOT = Path(__file__).resolve().parents[1]
OPENING = (
    "The lighthouse keeper found a letter under the door on the night of the storm. It was "
    "addressed to a sailor who had drowned thirty years before, and the ink was still wet."
)
SETTINGS = {"branches": 4, "max_new_tokens": 32, "stop_mode": "tokens", "seed": 1}
EXPLORE = ExploreSettings(depth=3, budget=12)


def explore(folder: Path) -> tuple[float, float, list[str], list]:
    """The exploration's wall time, its scoring time, the prompts it continued (as text and
    as the model read them), and the model."""
    with Store.open(folder / "stories.db") as store:
        story = store.create_story("Bench", genre="mystery", opening=OPENING)
        session = WritingSession(store)
        session.open_story(story.id)
        for name, value in SETTINGS.items():
            session.set_setting(name, value)
        session.load_models()
        exploration = session.explore(EXPLORE)
        prompts: list[str] = []
        read: list = []
        scoring = 0.0
        [writer] = exploration.writers  # the one model the bench explores with
        prompt_at, score = writer.prompt_at, exploration.score

        def recorded_prompt(store, node_id):
            prompts.append(store.path_text(node_id))
            read.append(prompt_at(store, node_id))
            return read[-1]

        def timed_score(before, branches):
            nonlocal scoring
            started = time.perf_counter()
            try:
                return score(before, branches)
            finally:
                scoring += time.perf_counter() - started

        exploration.writers = [replace(writer, prompt_at=recorded_prompt)]
        exploration.score = timed_score
        started = time.perf_counter()
        exploration.run()
        wall = time.perf_counter() - started
        assert exploration.expansions == EXPLORE.budget, "the budget wasn't spent"
        uncached = from_scratch(session.backend, read, writer.sampling)
        return wall, scoring, prompts, uncached


def from_scratch(backend, prompts: list, sampling) -> float:
    """The same generations in this process, the story cache emptied before each."""
    started = time.perf_counter()
    for number, prompt in enumerate(prompts):
        backend.model.forget()
        list(
            backend.stream(
                GenerationRequest(prompt.ids, 4, sampling, seed=number, keep=prompt.keep)
            )
        )
    return time.perf_counter() - started


def scripted(folder: Path, prompts: list[str]) -> float:
    """12 `taletree generate` calls, one per prompt, as a script would make them."""
    started = time.perf_counter()
    for number, prompt in enumerate(prompts):
        path = folder / f"prompt-{number}.txt"
        path.write_text(prompt, encoding="utf-8")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tui",
                "generate",
                "--genre",
                "mystery",
                "--prompt-file",
                str(path),
                "-n",
                "4",
                "--batch-size",
                "4",
                "--max-new-tokens",
                "32",
                "--stop-mode",
                "tokens",
                "--seed",
                str(number),
                "--json",
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object (the default)")
    parser.parse_args()
    if not DEMO_MODEL.exists():
        raise SystemExit("the demo model isn't built: run `make demo-model` first")
    with tempfile.TemporaryDirectory() as folder:
        wall, scoring, prompts, uncached = explore(Path(folder))
        script = scripted(Path(folder), prompts)
    print(
        json.dumps(
            {
                **processor(),
                "expansions": EXPLORE.budget,
                "passages": EXPLORE.budget * SETTINGS["branches"],
                "explore_s": round(wall, 3),
                "scripted_generate_s": round(script, 3),
                "explore_over_scripted": round(wall / script, 3),
                "in_process_uncached_s": round(uncached, 3),
                "explore_over_uncached": round(wall / uncached, 3),
                "scoring_share": round(scoring / wall, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
