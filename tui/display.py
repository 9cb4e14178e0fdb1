"""How stored times and model names are shown: UTC in the database, local time to the minute on
screen; a model by a short tag where space is narrow. (Text is shown with common/text.py.)"""

from datetime import datetime
from typing import TYPE_CHECKING

from common.text import shown_line

if TYPE_CHECKING:
    from tui.core.session import WritingSession

TAG_LIMIT = 24  # characters of a model's tag beside a node or an alternative


def model_tag(name: str) -> str:
    """A model's name, short: the model a server serves (after its "#"), a file or folder's
    own name, else the name; at most TAG_LIMIT characters, shown literally."""
    short = name.rpartition("#")[2] if "://" in name else name.rstrip("/").rpartition("/")[2]
    return shown_line(short or name, TAG_LIMIT)


def branch_labels(models: "list[tuple[str, ...]]", several: bool = False) -> list[str]:
    """Each branch's label: the models that wrote it, by tag, where the branches come from
    more than one model (or `several` models are asked); else none."""
    if not several and len({m for wrote in models for m in wrote}) < 2:
        return ["" for _ in models]
    return [" + ".join(model_tag(m) for m in wrote) for wrote in models]


def offered_labels(session: "WritingSession") -> list[str]:
    """The labels of the branches on offer: their models, where several models write."""
    several = len(session.models.wanted) > 1
    return branch_labels([branch.models for branch in session.branches], several)


def local_time(stamp: str) -> str:
    """An ISO time stored in UTC, shown in local time to the minute ("?" if it is damaged)."""
    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return "?"
