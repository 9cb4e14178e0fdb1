"""`taletree train` and `taletree eval`."""

import argparse
import sys
import time
from pathlib import Path


def stories_of(args: argparse.Namespace):
    from engine.training.data import TrainingError, TrainingText, read_corpus

    if args.from_db:
        from story.corpus import training_texts
        from tui.core.library import open_store

        with open_store(args.db) as store:
            texts = training_texts(store, include_model_text=args.include_model_text)
        if not texts:
            raise TrainingError(
                "the database has no story text to train on (model text is "
                "left out unless --include-model-text)"
            )
        return [
            TrainingText(genre.lower() if genre else None, text) for genre, text in texts
        ], "stories.db"
    if not args.corpus:
        raise TrainingError("give a CORPUS file, or --from-db to train on your stories")
    stories = read_corpus(
        args.corpus,
        line_by_line=args.line_by_line,
        column=args.column,
        genre_column=args.genre_column,
    )
    return stories, f"`{Path(args.corpus).name}`"


def settings_of(args: argparse.Namespace):
    from engine.training.settings import FINE_TUNING_RATE, chosen_settings, options

    given = {option.name: getattr(args, option.name) for option in options()}
    if args.from_model and given["learning_rate"] is None:
        given["learning_rate"] = FINE_TUNING_RATE  # a trained model's weights move gently
    return chosen_settings(args.arch, args.level, given)


class Bar:
    def __init__(self) -> None:
        self.last = 0.0

    def __call__(self, p) -> None:
        now = time.monotonic()
        if now - self.last < 0.25 and p.evaluation is None and p.step != p.total_steps:
            return
        self.last = now
        width, done = 24, (p.step / p.total_steps if p.total_steps else 0.0)
        bar = "#" * int(width * done) + "." * (width - int(width * done))
        left = f"{p.seconds_left / 60:.1f} min left" if p.seconds_left is not None else ""
        total = f"/{p.total_steps}" if p.total_steps else ""
        sys.stderr.write(
            f"\r[{bar}] step {p.step}{total}  loss {p.loss:.3f}  "
            f"{p.tokens_per_second:,.0f} tok/s  {left}   "
        )
        if p.evaluation is not None:
            sys.stderr.write(
                f"\n  epoch {p.epoch:.0f}: held-out "
                f"{p.evaluation.bits_per_character:.4f} bits/char\n"
            )
        sys.stderr.flush()


def cmd_train(args: argparse.Namespace) -> int:
    from engine.training.pipeline import train
    from engine.training.trainer import Trainer, TrainingInterrupted

    stories, corpus_name = stories_of(args)
    settings = settings_of(args)
    out = Path(args.out)

    def stage(text: str) -> None:
        sys.stderr.write(f"\n{text}…\n")

    try:
        trainer = Trainer(
            stories,
            out,
            settings,
            from_model=args.from_model,
            allow_pickle=args.allow_pickle,
            trust_remote_code=args.trust_remote_code,
            resume=args.resume,
            overwrite=args.overwrite,
            progress=Bar(),
        )
        result = train(trainer, corpus_name=corpus_name, stage=stage)
    except TrainingInterrupted as stopped:
        print(f"\ntaletree: {stopped}", file=sys.stderr)
        return 130
    e = result.evaluation
    f = result.following
    print(
        f"\ntrained {result.steps} steps in {result.seconds / 60:.1f} min: held-out "
        f"{e.bits_per_character:.4f} bits/char, perplexity {e.perplexity:.3f}; following the "
        f"writer: person named again {f.person:.2f}, thing {f.thing:.2f}, copies {f.copies:.2f}; "
        f"model in {out}"
    )
    return 0


def cmd_eval(args: argparse.Namespace) -> None:
    import json

    from engine.loading import load_model
    from engine.training.data import read_corpus, split_held_out
    from engine.training.evaluate import evaluate

    stories = read_corpus(
        args.corpus,
        line_by_line=args.line_by_line,
        column=args.column,
        genre_column=args.genre_column,
    )
    chosen = stories if args.all else split_held_out(stories)[1]
    model = load_model(
        args.model,
        device=args.device,
        dtype=args.dtype,
        allow_pickle=args.allow_pickle,
        trust_remote_code=args.trust_remote_code,
    )
    result = evaluate(model.token_logprobs, model.tokenizer, chosen)
    if args.json:
        print(json.dumps({"model": args.model, **result.__dict__}))
    else:
        print(
            f"{result.bits_per_character:.4f} bits per character, perplexity "
            f"{result.perplexity:.3f} per token ({result.stories} stories, "
            f"{result.tokens} tokens, {result.characters} characters)"
        )
