"""How a model reads the story: raw text (after the `<BOS> <genre>` prefix a model trained by
Taletree learnt its stories with), or in story mode (engine/chat_template.py) as the
assistant's unfinished turn of its chat template, after a system line asking it to go on with
the story and a user turn asking for the next part.

The `prompt` setting chooses: raw, story, or auto, which reads in story mode a model that has a
chat template and no genre tokens of Taletree's training (a model trained here learnt raw
stories after `<BOS> <genre>`, and reads them so).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from common.errors import UserError
from engine.chat_template import StoryFrame, TemplateError

if TYPE_CHECKING:
    from engine.backend import Backend


# Our own words: what the model is asked, before the writer's memory and lorebook.
SYSTEM_LINE = (
    "You are a novelist continuing a story. Write the next part of it in the same voice, "
    "tense and point of view, with the same people, places and things, as flowing prose. "
    "Write only the story itself: no title, heading, list, question or comment."
)
# Chosen like the sampling settings, on bench.follow's trial openings: it scored 1.025 against
# 1.012 for "Continue the story." (the thing mentioned in 0.5 against 0.425); "Go on with the
# story." and "...: what happens next?" scored lower (0.863, 0.85).
USER_LINE = "Continue the story from where it stops."
NOTE_LEAD = "Author's note: "
TAG = re.compile(r"^<([A-Za-z][\w-]*)>\s*")  # a genre tag, `<horror>`
BOS, EOS = "<BOS>", "<EOS>"  # a story's start and end, in a model trained by Taletree


class UnknownGenre(UserError):
    """The model has no token for the genre asked for."""


def normal_genre(genre: str) -> str:
    """A genre as its token spells it: "Sci fi" is <sci_fi>."""
    return "_".join(genre.strip().lower().split())


def genre_token(genre: str) -> str:
    return f"<{normal_genre(genre)}>"


def known_genres(tokenizer: Any) -> list[str]:
    """The genres a model was trained with: its special tokens that are genre tags, in a
    model trained by Taletree (another's control tokens, `<file_sep>` say, are no genres).
    Taletree puts a model's genre tags after its `<BOS>` in the vocabulary, so a model
    fine-tuned from another's (whose own control tokens come first) lists only its genres,
    even from a GGUF file, which marks every added token as control alike."""
    if tokenizer.bos_token != BOS:
        return []
    vocabulary = tokenizer.get_vocab()
    specials = set(tokenizer.all_special_tokens) - {BOS, EOS, tokenizer.unk_token}
    return sorted(
        t[1:-1]
        for t in specials
        if TAG.fullmatch(t) and t == t.lower() and vocabulary.get(t, -1) > vocabulary[BOS]
    )


def genre_prefix(tokenizer: Any, genre: str | None) -> list[int]:
    """What goes before a story: `<BOS> <genre>` for a model trained by Taletree, the way its
    stories were trained (`<BOS>` alone without a genre); nothing for another model. A genre
    the model has no token for is refused by name, listing the ones it knows."""
    trained_here = tokenizer.bos_token == BOS
    if not genre:
        return [tokenizer.bos_token_id] if trained_here else []
    token = genre_token(genre)
    vocabulary = tokenizer.get_vocab()
    if token not in vocabulary:
        known = known_genres(tokenizer)
        hint = f"it knows {', '.join(known)}" if known else "it was trained without genres"
        raise UnknownGenre(f"the model has no genre token {token}: {hint}")
    bos = [tokenizer.bos_token_id] if tokenizer.bos_token_id is not None else []
    return [*bos, vocabulary[token]]


@dataclass(frozen=True)
class Reading:
    mode: str  # "story" or "raw"
    frame: StoryFrame | None = None  # the chat template's frame, in story mode
    note: str | None = None  # why auto reads raw when a template was there but failed

    @property
    def shown(self) -> str:
        """For the status line and --verbose."""
        return "story mode" if self.mode == "story" else "raw text"


RAW = Reading("raw")


def reading_for(backend: "Backend", setting: str) -> Reading:
    """How `backend` reads under the prompt setting (auto, story or raw). Asking for story
    mode of a model that can't have it is a UserError; auto falls back to raw text, saying why
    when the model's template failed."""
    if setting == "raw":
        return RAW
    try:
        frame = backend.story_frame()
    except TemplateError as error:
        why = f"{backend.name}'s chat template can't frame the story ({error})"
        if setting == "story":
            raise UserError(f"{why}: set prompt to raw") from None
        return Reading("raw", note=f"{why}: reading it as raw text")
    if frame is None:
        if setting == "story":
            raise UserError(
                f"{backend.name} has no chat template, so it has no story mode: set prompt "
                "to raw (or auto)"
            )
        return RAW
    if setting == "auto" and backend.genres():
        return RAW
    return Reading("story", frame)


Part = tuple[str, str, str]  # kind, label, text: a part of the writer's context


def genre_part(genre: str) -> Part:
    """The story's genre, told in words in the system turn ("The story is a mystery story.")
    since an instruction-tuned model has no genre tokens."""
    words = " ".join(genre.replace("_", " ").split())
    article = "an" if words[:1].lower() in tuple("aeiou") else "a"
    kind = words if words.lower().endswith("story") else f"{words} story"
    return ("genre", "genre", f"The story is {article} {kind}.")


@dataclass(frozen=True)
class Piece:
    kind: str  # template, memory, lore or note (as story/context.py names its parts)
    label: str
    text: str


def story_lead(frame: StoryFrame, system: Sequence[Part], user: Sequence[Part]) -> list[Piece]:
    """What the model reads before the story in story mode, piece by piece: the system line
    and then the `system` parts (kind, label, text: the memory, lorebook entries), the user's
    turn and then the `user` parts (the author's note, entries placed at a depth), and the
    assistant's turn opening for the story."""

    def added(parts: Sequence[Part]) -> list[Piece]:
        return [
            Piece(kind, label, "\n\n" + (NOTE_LEAD if kind == "note" else "") + text.strip())
            for kind, label, text in parts
            if text.strip()
        ]

    return [
        Piece("template", "chat template: the system line", frame.opening + SYSTEM_LINE),
        *added(system),
        Piece("template", "chat template: the writer's turn", frame.after_system + USER_LINE),
        *added(user),
        Piece("template", "chat template: the story's turn", frame.after_user),
    ]


def tokenized(backend: "Backend", pieces: Sequence[Piece]) -> list[tuple[Piece, list[int]]]:
    """Each piece with its tokens, the template's token names read as those tokens. Piece by
    piece, so each part's count is its own and the lead ends where the story begins."""
    return [(piece, backend.tokenize_frame(piece.text)) for piece in pieces]


def prompt_ids(
    backend: "Backend", reading: Reading, text: str, genre: str | None = None
) -> tuple[list[int], int]:
    """The tokens a model continues a plain text from (`taletree generate`, benchmarks), and
    how many lead them (kept whole by any trimming): in story mode the template's lead, the
    genre told in words; else the genre prefix a model trained here reads (UnknownGenre for a
    genre it lacks)."""
    if reading.frame is not None:
        parts = [genre_part(genre)] if genre else []
        lead = [
            t for _, ids in tokenized(backend, story_lead(reading.frame, parts, ())) for t in ids
        ]
    else:
        lead = backend.genre_prefix(genre)
    return [*lead, *backend.tokenize(text)], len(lead)
