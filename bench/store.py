"""Store timings on a big story: `python -m bench.store` prints one JSON object.

The story has 100,000 nodes; the writer stands at the end of a path 2,000 nodes deep, and the
other nodes branch off at random. Figures are medians over repeated runs, in one process.
"""

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from story import Node, Store, StoryTree
from story.export import to_json

WORDS = "the a lamp sea keeper door night storm light shadow said walked ran old cold".split()


def big_story(nodes: int, depth: int, seed: int = 0) -> StoryTree:
    rng = random.Random(seed)
    stamp = "2026-01-01T00:00:00.000000+00:00"

    def text() -> str:
        return " " + " ".join(rng.choice(WORDS) for _ in range(rng.randrange(10, 40))) + "."

    tree = [Node(1, 0, None, "Once.", "user", stamp)]
    for i in range(2, nodes + 1):
        # The first `depth` nodes form the writer's path; the rest hang anywhere.
        parent = i - 1 if i <= depth else rng.randrange(1, i)
        author = rng.choice(("user", "model"))
        extra = {"model": "demo", "seed": i, "settings": {"temperature": 0.8}}
        tree.append(
            Node(i, 0, parent, text(), author, stamp, **(extra if author == "model" else {}))
        )
    return StoryTree("Benchmark", "fantasy", "", "", 3, stamp, stamp, depth, tree, [])


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--depth", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.db"
        tree = big_story(args.nodes, args.depth)
        with Store.open(path) as store:
            started = time.perf_counter()
            story_id = store.add_story_tree(tree).id
            import_s = time.perf_counter() - started

        open_read = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            with Store.open(path) as store:
                story = store.find_story("Benchmark")
                text = store.path_text(story.tip_id)
            open_read.append(time.perf_counter() - started)
        assert story.id == story_id and text

        appends = []
        with Store.open(path) as store:
            tip = store.story(story_id).tip_id
            for i in range(200):
                started = time.perf_counter()
                tip = store.append(tip, f" appended {i}.").id
                appends.append(time.perf_counter() - started)
            depth = len(store.path(tip))

            exports = []
            for _ in range(max(3, args.repeat // 2)):
                started = time.perf_counter()
                exported = to_json(store.story_tree(story_id))
                exports.append(time.perf_counter() - started)

        figures = {
            "nodes": args.nodes,
            "path_depth": args.depth,
            "db_mb": round(path.stat().st_size / 2**20, 1),
            "open_and_read_path_ms": median_ms(open_read),
            "open_and_read_path_target_ms": 100,
            "append_ms": median_ms(appends),
            "append_p95_ms": round(sorted(appends)[int(len(appends) * 0.95)] * 1000, 2),
            "append_depth": depth,
            "append_target_ms": 5,
            "export_json_s": round(statistics.median(exports), 3),
            "export_json_target_s": 2,
            "export_json_mb": round(len(exported.encode()) / 2**20, 1),
            "import_s": round(import_s, 3),
            "path_chars": len(text),
        }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
