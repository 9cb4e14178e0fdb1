"""The writer's settings for a story: the table's defaults, overridden by the config file's
[writing] table, overridden by the story's own (kept in stories.db), and `--model` from the
command line over all of them.

Settings are a plain mapping from each name of the table (engine/settings.py) to its value;
None means the model's own suggestion where it has one, else the engine's fallback.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from common.text import NAME_LIMIT, shown_line
from engine.named_models import chosen_name, reads_gguf, shown_name
from engine.settings import SETTINGS, SettingsError, branch_counts, model_shares, parse
from tui.core.model_holder import ModelRequest

Settings = dict[str, Any]
BUILT_IN: Settings = {s.name: s.default for s in SETTINGS}


def laid_over(base: Mapping[str, Any], values: Mapping[str, Any]) -> Settings:
    """`base` with these values laid over it, each checked: a SettingsError names the first
    that isn't valid."""
    return {**base, **{name: parse(name, value) for name, value in values.items()}}


def story_settings(
    defaults: Mapping[str, Any], saved: Mapping[str, Any] | None, model: str | None = None
) -> Settings:
    """A story's settings: its saved ones over the defaults, and `model` (from the command
    line) over both. A saved value that no longer checks (an older version's, say) is dropped
    rather than stopping the story from opening."""
    settings = dict(defaults)
    for name, value in (saved or {}).items():
        try:
            settings = laid_over(settings, {name: value})
        except SettingsError:
            continue
    if model:  # the model named on the command line, alone
        settings["model"], settings["models"] = model, ""
    return settings


def changed(settings: Mapping[str, Any], base: Mapping[str, Any] = BUILT_IN) -> Settings:
    """Only what differs from `base`: what the config file keeps over the built-in defaults,
    or what a story keeps over the defaults."""
    return {name: value for name, value in settings.items() if base.get(name) != value}


def model_source(settings: Mapping[str, Any]) -> tuple[str, str]:
    """What to load, and the name to show for it: a blank setting is the default model (the
    demo model where the default isn't installed)."""
    name = chosen_name(settings["model"])
    return name, shown_name(name)


def model_request(settings: Mapping[str, Any]) -> ModelRequest:
    """What the settings ask to load: the model, on the device, reading so much (a GGUF)."""
    name, label = model_source(settings)  # a name may come from an imported story
    limit = settings["context_limit"] if reads_gguf(name) else None  # (only it reads it)
    return ModelRequest(name, shown_line(label, NAME_LIMIT), settings["device"], limit)


@dataclass(frozen=True)
class ModelPlan:
    """One model of a step: what to load, its branches, and its settings (the story's, with
    its own laid over)."""

    request: ModelRequest
    branches: int
    settings: Settings


def model_plans(settings: Mapping[str, Any]) -> list[ModelPlan]:
    """The models a step asks: the models setting's, each with its share of the branches
    and its own settings; where it is blank, the model setting's alone, writing them all."""
    shares = model_shares(settings["models"])
    if not shares:
        return [ModelPlan(model_request(settings), settings["branches"], dict(settings))]
    counts = branch_counts(shares, settings["branches"])
    plans = []
    for share, count in zip(shares, counts, strict=True):
        own = {**settings, **share.settings, "model": share.name}
        plans.append(ModelPlan(model_request(own), count, own))
    return plans
