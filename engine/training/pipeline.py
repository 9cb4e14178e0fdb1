"""From a corpus to a finished model folder: train, choose generation defaults by trying them,
write samples per genre and the model card, then move the folder into place."""

import json
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from engine.settings import SamplingSettings
from engine.training.following import continue_openings, score_following
from engine.training.genres import genre_vocabulary
from engine.training.model_card import write_model_card
from engine.training.trainer import Trainer, TrainResult
from engine.training.tuning import best, room, try_settings, write_samples

SAMPLES_PER_GENRE = 2


def train(
    trainer: Trainer, *, corpus_name: str, stage: Callable[[str], None] | None = None
) -> TrainResult:
    """Run `trainer`, then finish its model folder: generation defaults, samples, the card."""
    from engine.loading import load_model

    say = stage or (lambda text: None)
    settings = trainer.settings  # as asked (a resumed run reads the rest from its checkpoint)
    trust_remote_code = trainer.load_options["trust_remote_code"]  # for the model fine-tuned
    result = trainer.run()
    staging = trainer.out.with_name(f".{trainer.out.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        trainer.save(staging, {})
        say("choosing generation defaults")
        model = load_model(
            str(staging), device=settings.device, trust_remote_code=trust_remote_code
        )
        genres = sorted({s.genre for s in trainer.training + trainer.held_out if s.genre})
        trials = try_settings(
            model,
            genres,
            genre_vocabulary(trainer.training),
            max_new_tokens=settings.tune_tokens,
            follow_tokens=settings.follow_tokens,
        )
        chosen = best(trials)
        write_defaults(staging, chosen.settings)
        say("writing samples")
        samples = write_samples(
            model,
            genres or [None],
            SamplingSettings(max_new_tokens=room(model, 120), **chosen.settings),
            SAMPLES_PER_GENRE,
            seed=7,
        )
        say("measuring how it follows the writer")
        continued = continue_openings(
            model,
            SamplingSettings(max_new_tokens=room(model, settings.follow_tokens), **chosen.settings),
        )
        result = replace(result, following=score_following(continued))
        write_model_card(
            staging,
            trainer=trainer,
            result=result,
            corpus_name=corpus_name,
            trials=trials,
            chosen=chosen,
            samples=samples,
            continued=continued,
        )
        trainer.finish(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result


def write_defaults(folder: Path, defaults: dict) -> None:
    """Merge the chosen sampling settings into the folder's generation_config.json."""
    path = folder / "generation_config.json"
    saved = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**saved, **defaults, "do_sample": True}, indent=2) + "\n")
