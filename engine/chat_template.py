"""Story mode: an instruction-tuned model reads the story as its own unfinished answer.

The model's chat template is rendered once, when the model loads, around three markers: a
system line, a user turn, and an assistant turn holding only the story's marker. Cut at that
marker, the rendering is a frame with three slots (the system text, the user's text, then the
story) and nothing after the story: no end-of-turn token, so the model goes on writing the
story rather than answering it, and text appended to the story only ever adds tokens after what
the cache holds. (This is what `continue_final_message` does in transformers, done once.)

The template is code from a file, so it renders only in a separate, capped process
(engine/template_sandbox.py) with a time limit; a template that is too long, fails, refuses the
messages or renders no assistant turn is a TemplateError of one line.
"""

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError

SANDBOX = Path(__file__).with_name("template_sandbox.py")
MAX_TEMPLATE = 256 * 1024  # characters: real templates are a few KB
WAIT = 10.0  # seconds the renderer may take, start-up included
SYSTEM, USER, STORY = "\u2063TT-SYSTEM\u2063", "\u2063TT-USER\u2063", "\u2063TT-STORY\u2063"


class TemplateError(UserError):
    """A chat template that can't be used; the message says why. `refused`: the template
    itself turned the messages down (raise_exception), as some do a system turn."""

    def __init__(self, message: str, refused: bool = False):
        super().__init__(message)
        self.refused = refused


@dataclass(frozen=True)
class StoryFrame:
    """A chat template cut around its slots: `opening` system `after_system` user
    `after_user` story. A template without a system turn has the system text lead the user's
    turn (has_system False, after_system then the blank line between them)."""

    opening: str
    after_system: str
    after_user: str
    has_system: bool = True


def frame_or_raise(found: "StoryFrame | TemplateError | None") -> "StoryFrame | None":
    """A backend's kept answer about its frame: the frame, None for no template, or the
    template's failure raised again each time it is asked for."""
    if isinstance(found, TemplateError):
        raise found
    return found


def rendered(template: str, variables: dict) -> str:
    """The template rendered in the sandbox process; a TemplateError if it fails there."""
    request = json.dumps({"template": template, "variables": variables})
    try:
        done = subprocess.run(
            [sys.executable, "-I", str(SANDBOX)],
            input=request,
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TemplateError(f"it took longer than {WAIT:.0f} s to render") from None
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        why = "it ran out of time or memory" if done.returncode else "it said nothing"
        raise TemplateError(why) from None
    if "error" in answer:
        raise TemplateError(str(answer["error"]), refused=bool(answer.get("refused")))
    return str(answer["text"])


def slots(text: str, markers: list[str]) -> list[str] | None:
    """The text before each marker and between them, if each appears once, in order."""
    pieces, rest = [], text
    for marker in markers:
        if rest.count(marker) != 1:
            return None
        before, rest = rest.split(marker)
        pieces.append(before)
    return pieces


def story_frame(template: str, special_tokens: dict[str, str | None]) -> StoryFrame:
    """The story frame of a chat template (special_tokens: bos_token, eos_token… as the
    template may name them), rendered in the sandbox. A TemplateError says why one can't be
    had, in words that follow "the chat template can't frame the story: "."""
    if len(template) > MAX_TEMPLATE:
        raise TemplateError(f"it is {len(template):,} characters long, more than any real one")
    variables = {name: value or "" for name, value in special_tokens.items()}
    return frame_of(lambda messages: rendered(template, {**variables, "messages": messages}))


def frame_of(render: Callable[[list[dict]], str]) -> StoryFrame:
    """The story frame from a template rendered by `render` (messages -> text: in the sandbox
    here, or by a server that renders its model's template itself)."""
    with_system = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": USER},
        {"role": "assistant", "content": STORY},
    ]
    try:
        text = render(with_system)
        if (pieces := slots(text, [SYSTEM, USER, STORY])) is not None and pieces[2].strip():
            return StoryFrame(*pieces)
    except TemplateError as error:
        if not error.refused:
            raise
        # Some templates refuse a system turn (raise_exception): try without one.
    text = render(with_system[1:])
    if (pieces := slots(text, [USER, STORY])) is None or not pieces[1].strip():
        raise TemplateError("it renders no assistant turn after the user's")
    return StoryFrame(pieces[0], "\n\n", pieces[1], has_system=False)
