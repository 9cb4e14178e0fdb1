"""How the app feels: launch to the first frame, key press to screen while branches stream,
and a story of 100,000 words. Prints one JSON object. Not a test: timings are this machine's.

    python -m bench.tui --json

- launch_to_first_frame_s: from starting a new Python process to the app's first interactive
  frame (headless), with the real demo model loading in the background: the frame must not wait
  for it (`model_loaded_at_first_frame` says whether it had).
- key_to_screen_ms: from a key (moving the highlight in the branch panel) reaching the app to
  the first frame that shows its effect, rendered to terminal bytes, while four branches stream
  from the fake model at 200 tokens/s each.
- For a story of 100,000 words: open_100k_words_s (until its end is on screen),
  frame_ms_100k_words (page up / page down, key to frame) and grow_100k_words_ms (keep a
  branch, key to the frame showing it).
"""

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from story import NodeDraft, Store
from testbed.app_driver import make_app, streamed, wait_until
from testbed.fake_model import FakeBackend
from tui.screens.writing import WritingScreen
from tui.textual_internals import press_as_the_terminal, watch_frames

ROOT = Path(__file__).resolve().parent.parent
FIRST_FRAME = """
import sys, time
from pathlib import Path
from story import Store
from tui.app import TaletreeApp
from tui.core.config_file import read_config
from tui.core.session import WritingSession
import asyncio

async def main():
    config_path = Path(sys.argv[2])
    with Store.open(Path(sys.argv[1])) as store:
        session = WritingSession(store, read_config(config_path), config_path=config_path)
        app = TaletreeApp(session, blink=False)
        async with app.run_test(size=(100, 30)) as pilot:
            print("frame", session.backend is not None, flush=True)
            await pilot.pause()

asyncio.run(main())
"""


def launch_to_first_frame(folder: Path, runs: int = 3) -> tuple[float, bool]:
    times, loaded = [], False
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-c", FIRST_FRAME, str(folder / "launch.db"), str(folder / "c.toml")],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        line = process.stdout.readline()
        times.append(time.perf_counter() - started)
        loaded = loaded or line.split()[1] == "True"
        process.wait(timeout=120)
    return statistics.median(times), loaded


class FrameProbe:
    """Records when the app sends a frame to the terminal, and what `state()` was then. Headless,
    Textual skips the output; the probe still renders each frame to terminal bytes (the work a
    real terminal costs) before taking the time."""

    def __init__(self, app, state):
        self.app, self.state, self.frames = app, state, []
        self.display = watch_frames(app, self.record)

    def record(self, screen, renderable) -> None:
        if renderable is not None and hasattr(renderable, "render_segments"):
            renderable.render_segments(self.app.console)
        self.frames.append((time.perf_counter(), self.state()))
        self.display(screen, renderable)

    async def key_to_frame(self, key: str, shows) -> float:
        """Milliseconds from the key arriving to the first frame where shows(state) holds."""
        seen = len(self.frames)
        started = time.perf_counter()
        press_as_the_terminal(self.app, key)
        deadline = started + 5
        while time.perf_counter() < deadline:
            for stamp, state in self.frames[seen:]:
                if stamp >= started and shows(state):
                    return (stamp - started) * 1000
            await asyncio.sleep(0.001)
        raise AssertionError(f"no frame showed the effect of {key!r}")


async def key_to_screen(folder: Path, presses: int = 60) -> list[float]:
    with Store.open(folder / "keys.db") as store:
        story = store.create_story("Keys", opening="The lamp went out.")
        store.update_story(story.id, settings={"max_new_tokens": 4096})
        app = make_app(store, folder, FakeBackend(rate=200), story_id=story.id)
        timings = []
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_until(
                pilot, lambda: isinstance(app.screen, WritingScreen) and app.session.backend
            )
            await pilot.press("enter")
            screen = app.screen
            await wait_until(
                pilot, lambda: app.session.branches and app.session.branches[0].tokens > 20
            )
            probe = FrameProbe(app, lambda: screen.panel.highlighted)
            for i in range(presses):
                target = 1 if i % 2 == 0 else 0
                timings.append(
                    await probe.key_to_frame("down" if target else "up", lambda h, t=target: h == t)
                )
                await asyncio.sleep(0.05)
            assert app.session.generation is not None, "the branches stopped streaming too soon"
            await pilot.press("escape")
        return timings


def long_story(store: Store, words: int = 100_000, per_node: int = 50) -> int:
    rng = random.Random(0)
    vocabulary = (
        "the lamp went out and she waited by the door while rain fell on old stones "
        "a bell rang twice somewhere below"
    ).split()
    story = store.create_story("Long", opening="It began.")
    tip = story.root_id
    for i in range(words // per_node):
        text = " " + " ".join(rng.choice(vocabulary) for _ in range(per_node)) + "."
        text += "\n\n" if i % 5 == 4 else ""
        tip = store.append(tip, NodeDraft(text, "model" if i % 2 else "user")).id
    return story.id


async def long_story_figures(folder: Path) -> dict[str, float]:
    with Store.open(folder / "long.db") as store:
        story_id = long_story(store)
        app = make_app(store, folder, FakeBackend())
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            started = time.perf_counter()
            app.open_story(story_id)
            await wait_until(
                pilot, lambda: isinstance(app.screen, WritingScreen) and app.screen.is_mounted
            )
            screen = app.screen
            await wait_until(pilot, lambda: hasattr(screen, "view"))
            view = screen.view
            await wait_until(
                pilot, lambda: view.lines and view.scroll_offset.y == view.max_scroll_y > 0
            )
            opened = time.perf_counter() - started
            screen.view.focus()
            await pilot.pause()
            probe = FrameProbe(app, lambda: screen.view.scroll_offset.y)
            frames = []
            for key in ["pageup"] * 10 + ["pagedown"] * 10:
                before = screen.view.scroll_offset.y
                frames.append(await probe.key_to_frame(key, lambda y, b=before: y != b))
                await asyncio.sleep(0.05)
            await wait_until(pilot, lambda: app.session.backend is not None)
            screen.composer.focus()
            await pilot.press("enter")
            await streamed(pilot)
            probe = FrameProbe(app, lambda: len(screen.view.lines))
            lines = len(screen.view.lines)
            grow = await probe.key_to_frame("1", lambda n: n != lines)
            words = store.words(store.story(story_id).tip_id).total
    return {
        "story_words": words,
        "open_100k_words_s": round(opened, 3),
        "frame_ms_100k_words_median": round(statistics.median(frames), 1),
        "frame_ms_100k_words_max": round(max(frames), 1),
        "grow_100k_words_ms": round(grow, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object (the default)")
    parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        first_frame, loaded = launch_to_first_frame(folder)
        keys = asyncio.run(key_to_screen(folder))
        long = asyncio.run(long_story_figures(folder))
    keys.sort()
    print(
        json.dumps(
            {
                "launch_to_first_frame_s": round(first_frame, 3),
                "launch_target_s": 1.0,
                "model_loaded_at_first_frame": loaded,
                "key_to_screen_ms_median": round(statistics.median(keys), 1),
                "key_to_screen_ms_p95": round(keys[int(len(keys) * 0.95) - 1], 1),
                "key_to_screen_target_ms": 50,
                "streaming": "4 branches x 200 tok/s (fake model)",
                **long,
            }
        )
    )


if __name__ == "__main__":
    main()
