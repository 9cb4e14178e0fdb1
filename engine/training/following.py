"""Does a model continue the writer's story? Each opening below, written for this purpose and
not by the corpus generator, brings in a person and a thing; the model writes continuations of
it, and we count how many name the person again and how many mention the thing. A continuation
that mostly repeats the opening's own words doesn't count as following it: copying is counted
on its own, as a failure.

Two sets: the trial's openings choose generation defaults (engine/training/tuning.py); the
measured ones, never used for choosing, give the figures in the model card.
"""

import re
from dataclasses import dataclass

from engine.events import FinishEvent
from engine.generate import generate
from engine.reading import genre_prefix, known_genres
from engine.request import GenerationRequest
from engine.settings import SamplingSettings


@dataclass(frozen=True)
class Opening:
    genre: str
    person: str  # the first name to look for
    thing: str  # the object's noun to look for
    text: str


MEASURED = (
    Opening(
        "mystery",
        "Mira",
        "key",
        "Mira found the brass key under the floorboards of her grandmother's cottage.",
    ),
    Opening(
        "mystery",
        "Theo",
        "umbrella",
        "The umbrella was still dripping when Theo hung it by the door of the pawnshop.",
    ),
    Opening(
        "mystery",
        "Priya",
        "receipt",
        '"This receipt is dated tomorrow," Priya said, turning it under the lamp.',
    ),
    Opening(
        "mystery",
        "Hamish",
        "photograph",
        "I knew Hamish would come back for the photograph. He always did.",
    ),
    Opening(
        "horror",
        "Greta",
        "lantern",
        "Greta carried the tin lantern down the cellar steps, counting each one.",
    ),
    Opening(
        "horror",
        "Oskar",
        "doll",
        "Nobody in the village would touch the porcelain doll that Oskar found in the well.",
    ),
    Opening(
        "horror",
        "Lucia",
        "radio",
        "The radio in Lucia's kitchen began to whisper at three in the morning.",
    ),
    Opening(
        "horror",
        "Bernard",
        "mirror",
        "Bernard covered the hall mirror with a sheet, but he could still hear it breathing.",
    ),
    Opening(
        "fantasy",
        "Elowen",
        "feather",
        "Elowen tucked the silver feather into her belt and climbed the last stair of the tower.",
    ),
    Opening(
        "fantasy",
        "Tobias",
        "acorn",
        '"Plant it where the river bends," the old woman '
        "told Tobias, pressing the golden acorn into his palm.",
    ),
    Opening(
        "fantasy",
        "Ingrid",
        "crown",
        "The crown was too heavy for Ingrid, and it had been too heavy for her mother too.",
    ),
    Opening(
        "fantasy",
        "Rafael",
        "map",
        "Rafael unfolded the map of the sunken kingdom on the inn's long table.",
    ),
    Opening(
        "sci_fi",
        "Yusuf",
        "helmet",
        "Yusuf wiped the frost from his helmet and read the station's name: Halcyon.",
    ),
    Opening(
        "sci_fi",
        "Noor",
        "battery",
        "The last battery on the ship was the one Noor had hidden in her locker.",
    ),
    Opening(
        "sci_fi",
        "Kenji",
        "tablet",
        '"Don\'t switch it off," Kenji said, holding the cracked tablet to the light.',
    ),
    Opening(
        "sci_fi",
        "Astrid",
        "seed",
        "Astrid kept one seed from Earth in a glass vial around her neck.",
    ),
    Opening(
        "adventure",
        "Diego",
        "rope",
        "Diego tied the rope to the mast and looked down at the churning water.",
    ),
    Opening(
        "adventure",
        "Freya",
        "compass",
        "Freya's compass spun wildly as the canoe drifted into the fog.",
    ),
    Opening(
        "adventure",
        "Samuel",
        "canteen",
        "The canteen was nearly empty, and Samuel still could not see the oasis.",
    ),
    Opening(
        "adventure",
        "Leila",
        "ticket",
        "Leila had one ticket for the night train and no plan at all.",
    ),
    Opening(
        "romance",
        "Clara",
        "letter",
        "Clara read the letter twice before she dared to open the window.",
    ),
    Opening(
        "romance",
        "Mateo",
        "guitar",
        "Every evening Mateo played the old guitar on the balcony across the square.",
    ),
    Opening(
        "romance",
        "Hannah",
        "bicycle",
        "Hannah's bicycle had a flat tyre, and the baker's son offered to fix it.",
    ),
    Opening(
        "romance",
        "Julian",
        "umbrella",
        "Julian held the umbrella over a stranger at the bus stop and missed his bus.",
    ),
)
TRIAL = (
    Opening(
        "mystery", "Agnes", "ledger", "Agnes closed the ledger and locked it in the desk drawer."
    ),
    Opening("mystery", "Victor", "glove", "Victor found a single glove on the station platform."),
    Opening(
        "horror",
        "Rosalind",
        "candle",
        "Rosalind lit the candle and the shadows moved the wrong way.",
    ),
    Opening("horror", "Edgar", "bell", "The bell rang again, though Edgar had cut its rope."),
    Opening(
        "fantasy",
        "Wilhelmina",
        "ring",
        "Wilhelmina slipped the ring onto her finger and the forest fell silent.",
    ),
    Opening("fantasy", "Caspian", "egg", "Caspian kept the dragon's egg wrapped in his coat."),
    Opening("sci_fi", "Imani", "drone", "Imani sent the drone into the dark tunnel and waited."),
    Opening("sci_fi", "Lars", "signal", "Lars heard the signal again, faint and patient."),
    Opening("adventure", "Beatrix", "knife", "Beatrix sharpened her knife on a river stone."),
    Opening("adventure", "Omar", "boat", "Omar pushed the boat off the sand at first light."),
    Opening("romance", "Sophie", "scarf", "Sophie left her red scarf on the café chair."),
    Opening("romance", "Gabriel", "piano", "Gabriel tuned the piano in the empty hall."),
)
WORD = re.compile(r"[\w']+")


@dataclass(frozen=True)
class Following:
    person: float  # share of continuations that name the opening's person again
    thing: float  # share that mention its thing
    copies: float  # share that mostly repeat the opening
    continuations: int


def mostly_copied(continuation: str, opening_text: str, share: float = 0.5) -> bool:
    """True when at least `share` of the continuation's word triples stand in the opening."""

    def triples(text: str) -> list[tuple[str, ...]]:
        w = WORD.findall(text.lower())
        return list(zip(w, w[1:], w[2:], strict=False))

    own, source = triples(continuation), set(triples(opening_text))
    return bool(own) and sum(t in source for t in own) >= share * len(own)


def mentions(text: str, word: str) -> bool:
    """The word, or its plural, as a whole word in any case."""
    return re.search(rf"\b{re.escape(word)}(s|es)?\b", text, re.IGNORECASE) is not None


def continue_openings(
    model, settings: SamplingSettings, openings=MEASURED, count: int = 4, seed: int = 3
) -> list[tuple[Opening, str]]:
    genres = set(known_genres(model.tokenizer))
    written = []
    for number, start in enumerate(openings):
        prefix = genre_prefix(model.tokenizer, start.genre if start.genre in genres else None)
        ids = [*prefix, *model.tokenizer.encode(start.text, add_special_tokens=False)]
        events = generate(model, GenerationRequest(ids, count, settings, seed=seed + number))
        written += [(start, e.text) for e in events if isinstance(e, FinishEvent)]
    return written


def score_following(written: list[tuple[Opening, str]]) -> Following:
    copied = [mostly_copied(text, start.text) for start, text in written]
    kept = [(start, text) for (start, text), copy in zip(written, copied, strict=True) if not copy]
    total = max(len(written), 1)
    return Following(
        person=sum(mentions(text, start.person) for start, text in kept) / total,
        thing=sum(mentions(text, start.thing) for start, text in kept) / total,
        copies=sum(copied) / total,
        continuations=len(written),
    )


def measure_following(
    model, settings: SamplingSettings, openings=MEASURED, count: int = 4, seed: int = 3
) -> Following:
    return score_following(continue_openings(model, settings, openings, count, seed))
