"""`make demo-model`: rebuild the bundled demo model from nothing.

Writes the demo corpus, then trains three models on it for the same wall time, as the seed
article compares an LSTM with GPT-2: the transformer that ships (GPT-2's shape with rotary
positions, a Llama), a word-level LSTM and a character-level LSTM. The transformer's folder goes
to assets/models/taletree-demo with the comparison
table in its model card; the LSTMs stay in the build folder.

    python -m engine.training.demo [--minutes 12] [--build build/demo] [--lstms]

`--lstms` (`make demo-lstms`) trains only the two LSTMs into the build folder, for bench.follow's
rows, and leaves the bundled model as it is.
"""

import argparse
import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

from engine.training.corpus import format_corpus, generate_corpus
from engine.training.data import read_corpus
from engine.training.model_card import (
    COMPARISON_MARK,
    FOLLOWING_HEADER,
    following_row,
    table,
)
from engine.training.pipeline import train
from engine.training.settings import TrainSettings
from engine.training.trainer import Trainer

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "assets" / "models" / "taletree-demo"
STORIES = 4000
CONTENDERS = {
    "Llama (bundled)": TrainSettings(
        arch="llama",
        start="induction",
        layers=4,
        heads=6,
        width=192,
        context=512,
        vocab_size=4096,
        dropout=0.0,
        batch_size=8,
        learning_rate=3e-3,
    ),
    "word-level LSTM": TrainSettings(
        arch="lstm",
        level="word",
        embedding=100,
        hidden=512,
        lstm_layers=3,
        dropout=0.3,
        vocab_size=4096,
        context=100,
        batch_size=16,
        learning_rate=2e-3,
    ),
    "character-level LSTM": TrainSettings(
        arch="lstm",
        level="char",
        embedding=32,
        hidden=128,
        lstm_layers=1,
        dropout=0.0,
        context=100,
        batch_size=32,
        learning_rate=2e-3,
    ),
}


def progress_printer(name: str):
    def show(p) -> None:
        if p.step % 50 == 0 or p.evaluation is not None:
            extra = (
                f", held-out {p.evaluation.bits_per_character:.4f} bits/char"
                if p.evaluation
                else ""
            )
            print(f"  {name}: step {p.step}, loss {p.loss:.3f}{extra}", flush=True)

    return show


def build_folder(build: Path, name: str) -> Path:
    """Where a contender is trained: "word-level LSTM" in build/word-level-lstm."""
    return build / name.split(" (")[0].replace(" ", "-").lower()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=12.0, help="training time per model")
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "demo")
    parser.add_argument("--lstms", action="store_true", help="train only the LSTMs")
    args = parser.parse_args()
    contenders = {
        name: settings
        for name, settings in CONTENDERS.items()
        if not args.lstms or settings.arch == "lstm"
    }
    shutil.rmtree(args.build, ignore_errors=True)
    args.build.mkdir(parents=True)
    corpus = args.build / "demo-corpus.txt"
    corpus.write_text(format_corpus(generate_corpus(STORIES, seed=0)), encoding="utf-8")
    stories = read_corpus(str(corpus))
    print(f"corpus: {len(stories)} stories, {corpus.stat().st_size / 1e6:.1f} MB", flush=True)
    name_of_corpus = (
        f"the Taletree demo corpus: {STORIES} stories in six genres written by Taletree's own "
        "procedural generator (engine/training/corpus.py, seed 0)"
    )
    rows, follow_rows, results = [], [], {}
    for name, settings in contenders.items():
        settings.minutes = args.minutes
        out = build_folder(args.build, name)
        print(f"training {name} for {args.minutes} minutes", flush=True)
        trainer = Trainer(stories, out, settings, progress=progress_printer(name))
        result = train(trainer, corpus_name=name_of_corpus)
        results[name] = (out, result)
        rows.append(
            [
                name,
                f"{result.parameters:,}",
                f"{result.seconds / 60:.1f} min",
                str(result.steps),
                f"{result.evaluation.bits_per_character:.4f}",
            ]
        )
        follow_rows.append(following_row(name, result.following))
    comparison = "\n\n".join(
        [
            "## Compared with LSTMs trained the same way",
            f"Trained on the same corpus, each for the same wall time ({args.minutes} minutes on "
            "the same machine), and scored on the same held-out stories:",
            table(
                ["model", "parameters", "training time", "steps", "held-out bits per character"],
                rows,
            ),
            "Each also continued the openings above with its own chosen defaults:",
            table(FOLLOWING_HEADER, follow_rows),
        ]
    )
    (args.build / "comparison.json").write_text(
        json.dumps(
            {
                name: {
                    "parameters": r.parameters,
                    "seconds": round(r.seconds, 1),
                    "steps": r.steps,
                    "bits_per_character": round(r.evaluation.bits_per_character, 4),
                    "following": asdict(r.following),
                }
                for name, (_, r) in results.items()
            },
            indent=2,
        )
        + "\n"
    )
    if args.lstms:
        print(comparison)
        return
    bundled, _ = results["Llama (bundled)"]
    card = bundled / "README.md"
    card.write_text(card.read_text().replace(COMPARISON_MARK, comparison), encoding="utf-8")
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(bundled, DEMO)
    (DEMO / "README.md").write_text(
        card.read_text().replace(f"# {bundled.name}", "# taletree-demo", 1)
    )
    print(f"demo model written to {DEMO}", file=sys.stderr)
    print(comparison)


if __name__ == "__main__":
    main()
