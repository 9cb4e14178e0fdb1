"""The model card: README.md in the model folder, saying what the model is, what it was trained
on, how well it does on held-out text, how its generation defaults were chosen, and samples."""

from dataclasses import asdict
from pathlib import Path

from engine.training.tuning import follows

COMPARISON_MARK = "<!-- comparison -->"
KINDS = {"gpt2": "GPT-2", "llama": "Llama (GPT-2's shape, rotary positions)", "lstm": "LSTM"}


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def describe_model(trainer) -> list[list[str]]:
    s = trainer.settings
    if s.arch == "lstm":
        shape = (
            f"{s.level}-level LSTM: embedding {s.embedding}, {s.lstm_layers} layer(s) of "
            f"{s.hidden}, dropout {s.dropout}"
        )
    else:
        shape = (
            f"{KINDS[s.arch]}: {s.layers} layers, {s.heads} heads, width {s.width}, "
            f"context {s.context}"
        )
    return [
        ["architecture", shape],
        ["vocabulary", f"{len(trainer.tokenizer)} tokens"],
        ["batch", f"{s.batch_size} × {trainer.context} tokens"],
        ["learning rate", f"{s.learning_rate} (warm-up, then cosine to a tenth)"],
        ["seed", str(s.seed)],
    ]


FOLLOWING_HEADER = ["model", "person named again", "thing mentioned", "mostly a copy"]


def following_row(name: str, following) -> list[str]:
    return [name, f"{following.person:.2f}", f"{following.thing:.2f}", f"{following.copies:.2f}"]


def following_section(name: str, following, continued) -> list[str]:
    """How often the model carried on with the openings' people and things, and an example."""
    openings = list(dict.fromkeys(start for start, _ in continued))
    example = openings[0]
    return [
        "## Following the writer",
        f"Each of {len(openings)} openings written for this measurement (in "
        "engine/training/following.py; not in the corpus, and not the openings that chose the "
        "defaults) brings in a person and a thing. The model wrote "
        f"{following.continuations // len(openings)} continuations of each with the chosen "
        f"defaults, {following.continuations} in all. A continuation counts when it names the "
        "person again, or mentions the thing, in words of its own: one whose word triples "
        "mostly stand in the opening counts as a copy instead.",
        table(FOLLOWING_HEADER, [following_row(name, following)]),
        f"For example, continuing “{example.text}”:",
        *[quote(text) for start, text in continued if start == example][:2],
    ]


def quote(text: str) -> str:
    return "> " + text.strip().replace("\n", "\n>\n> ")


def write_model_card(
    folder: Path, *, trainer, result, corpus_name: str, trials, chosen, samples, continued
) -> None:
    training, held_out = trainer.training, trainer.held_out
    genres = sorted({s.genre for s in training if s.genre})
    evaluation = result.evaluation
    name = folder.name.removeprefix(".").removesuffix(".staging")
    parts = [
        f"# {name}",
        f"A {KINDS[trainer.settings.arch]} "
        f"language model trained by Taletree (`taletree train`) on {corpus_name}.",
        "## Corpus",
        table(
            ["", ""],
            [
                ["source", corpus_name],
                ["stories", f"{len(training)} for training, {len(held_out)} held out (every 20th)"],
                ["characters", f"{sum(len(s.text) for s in training):,} for training"],
                ["genres", ", ".join(genres) or "none"],
                ["format", "`<BOS> <genre> story <EOS>`, one special token per genre"],
            ],
        ),
        "## Model",
        table(["", ""], [*describe_model(trainer), ["parameters", f"{result.parameters:,}"]]),
        "## Training and held-out score",
        table(
            ["", ""],
            [
                ["steps", str(result.steps)],
                ["time", f"{result.seconds / 60:.1f} minutes on {trainer.device}"],
                ["final training loss", f"{result.losses[-1][1]:.3f}" if result.losses else "-"],
                ["held-out bits per character", f"{evaluation.bits_per_character:.4f}"],
                ["held-out perplexity per token", f"{evaluation.perplexity:.3f}"],
            ],
        ),
        "## Generation defaults, chosen by trying them",
        "Each candidate wrote three samples per genre and two continuations of each of the "
        "trial's openings. A sample counts as recognisable when the words it uses most belong "
        "to the asked genre (words that, in the corpus, only that genre uses); distinct word "
        "pairs measure how little it repeats; follows is half the share of continuations "
        "naming the opening's person again plus half the share mentioning its thing, less "
        "the share that mostly copied the opening. The score is 0.4 × recognisable + 0.2 × "
        "distinct pairs + 0.4 × follows (0.4 × distinct pairs + 0.6 × follows without "
        "genres).",
        table(
            [
                "temperature",
                "top-p",
                "repetition penalty",
                "recognisable",
                "distinct pairs",
                "follows",
                "score",
            ],
            [
                [
                    str(t.settings["temperature"]),
                    str(t.settings["top_p"]),
                    str(t.settings["repetition_penalty"]),
                    "-" if t.genre_accuracy is None else f"{t.genre_accuracy:.2f}",
                    f"{t.distinct_bigrams:.2f}",
                    f"{follows(t.following):.2f}",
                    f"**{t.score:.3f}**" if t is chosen else f"{t.score:.3f}",
                ]
                for t in trials
            ],
        ),
        f"Chosen: `{asdict(chosen)['settings']}` (in `generation_config.json`).",
        *following_section(name, result.following, continued),
        COMPARISON_MARK,
        "## Samples",
        "Written with the chosen defaults from `<BOS> <genre>` alone.",
    ]
    for genre, texts in samples.items():
        parts.append(f"### {genre or 'no genre'}")
        parts += ["> " + text.replace("\n", "\n>\n> ") for text in texts]
    (folder / "README.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")
