"""Following, counted as a reader reads it, on openings of many shapes (first person, letters,
dialogue, present tense, a diary…) that no corpus here holds, each written for this purpose.

For each continuation:
- carried: the opening's person comes back (named, or by a pronoun that fits them) before any
  new person is named;
- new person first: someone new is named before the opening's person comes back;
- thing: the opening's thing is mentioned again;
- left the story: it turns into something else: questions and answers, a quiz, a list, markup,
  a chat turn;
- repeats: some run of four words comes three times;
- copied: it mostly repeats the opening (engine/training/following.py's rule).

A new person is a capitalised word the opening doesn't hold, inside a sentence (not its first
word, which any sentence capitalises) or at a sentence's start when a speech verb or a
possessive follows it. That misses a newcomer who only ever starts sentences, and counts a
capitalised place as a person: both rare in 60 tokens, and the same for every model compared.
"""

import re
from collections import Counter
from dataclasses import dataclass

from engine.training.following import Opening, mentions, mostly_copied

PRONOUNS = {
    "she": ("she", "her", "hers", "herself"),
    "he": ("he", "him", "his", "himself"),
    "you": ("you", "your", "yours", "yourself"),  # the one a letter is written to
}


@dataclass(frozen=True)
class Shaped(Opening):
    pronoun: str = "she"  # she, he or you (a letter's addressee): how the story refers to them


def shaped(genre: str, person: str, thing: str, pronoun: str, text: str) -> Shaped:
    return Shaped(genre, person, thing, text, pronoun)


SHAPES = (
    shaped("mystery", "Mirela", "key", "she",
           "Mirela found the brass key under the floorboards of her grandmother's cottage."),
    shaped("mystery", "Tobias", "coat", "he",
           '"You\'re late," said Tobias, shaking the snow from his coat onto the hotel carpet.'),
    shaped("horror", "Ansel", "lamp", "he",
           "I never trusted the lighthouse keeper, Ansel, and I trusted his lamp even less."),
    shaped("fantasy", "Noor", "kettle", "she",
           "Noor kneels by the river and fills the copper kettle, watching the far bank."),
    shaped("horror", "Oskar", "violin", "you",
           "Dear Oskar, the violin you left with me has started to play by itself at night."),
    shaped("adventure", "Ines", "telegram", "she",
           "By the time the ferry reached the island, Ines had read the telegram four times "
           "and folded it into a square no bigger than a stamp."),
    shaped("mystery", "Ruben", "map", "he", "Ruben lied about the map."),
    shaped("romance", "Dagny", "bowl", "she",
           "The market closed at dusk. Only Dagny stayed, wrapping the last of the clay bowls "
           "in newspaper."),
    shaped("sci_fi", "Yusra", "shuttle", "she",
           "Yusra pressed her palm to the cold hull of the shuttle and listened."),
    shaped("fantasy", "Perrin", "riddle", "he",
           "The goblin at the bridge demanded a riddle, so Perrin told it the one his "
           "mother liked best."),
    shaped("romance", "Ottilie", "bicycle", "she",
           "Tuesday. Ottilie still hasn't returned my bicycle, and now it is raining."),
    shaped("mystery", "Fergus", "watch", "he",
           "Fergus wound his grandfather's pocket watch every Sunday, though it had not "
           "ticked in forty years."),
    shaped("romance", "Lucia", "ticket", "she",
           "Lucia kept the train ticket in her book long after the summer ended."),
    shaped("horror", "Benedikt", "wardrobe", "he",
           "Something is knocking inside the wardrobe, and Benedikt is certain he locked it."),
    shaped("adventure", "Hollis", "horse", "he",
           "Hollis tied his horse to the rail and counted the bullets left in his belt."),
    shaped("horror", "Marisol", "lantern", "she",
           '"Put the lantern down," Marisol whispered. "They can see it from the road."'),
    shaped("fantasy", "Kasimir", "door", "he",
           "After the funeral, Kasimir found a small door in the garden wall."),
    shaped("adventure", "Elska", "rope", "she",
           "The twins argued all the way up the mountain, but it was Elska who carried the "
           "rope."),
    shaped("mystery", "Anselm", "clock", "he",
           "Nobody in the village would buy the clock that Anselm had built."),
    shaped("sci_fi", "Wren", "signal", "she",
           "Wren had listened to the signal for three nights before she dared to answer it."),
    # A named person beside someone else (a man only implied, a widow, a commander): a small
    # model tends to follow the other one, or to make her a "he".
    shaped("adventure", "Odalys", "map", "she",
           "Odalys unrolled the map on the captain's table and frowned."),
    shaped("mystery", "Brannock", "ledger", "he",
           "The widow watched Brannock turn the pages of her husband's ledger."),
    shaped("sci_fi", "Tamsin", "helmet", "she",
           "Tamsin handed the commander her cracked helmet without a word."),
    shaped("romance", "Joaquin", "umbrella", "he",
           "Joaquin held the umbrella over the baker's daughter all the way to the station."),
)  # fmt: skip

# For choosing settings only (bench/follow.py --trial): never in the figures above.
TRIAL_SHAPES = (
    shaped("mystery", "Agathe", "envelope", "she",
           "Agathe steamed open the envelope, read one line, and sealed it again."),
    shaped("horror", "Leopold", "mirror", "he",
           "The mirror in the hall showed Leopold a room he had never furnished."),
    shaped("fantasy", "Saoirse", "sword", "she",
           '"It is heavier than it looks," Saoirse warned, handing the sword to the boy.'),
    shaped("sci_fi", "Idris", "robot", "he",
           "I taught the robot to play chess, and by spring it was teaching Idris."),
    shaped("adventure", "Magda", "compass", "she",
           "Magda's compass spun twice and then pointed, firmly, at the sea."),
    shaped("romance", "Thaddeus", "letter", "he",
           "Thaddeus wrote the letter eleven times and posted none of them."),
    shaped("mystery", "Rosalind", "glove", "you",
           "Dear Rosalind, you left a single glove on my piano, and I know what it means."),
    shaped("horror", "Cormac", "well", "he",
           "Cormac lowers the bucket into the well, and something below takes hold of it."),
    shaped("fantasy", "Isolde", "staff", "she",
           "Isolde leaned the old wizard's staff against the door and sat down to wait."),
    shaped("horror", "Emrys", "candle", "he",
           "The housekeeper gave Emrys a single candle and told him not to go upstairs."),
)  # fmt: skip

WORD = re.compile(r"[A-Za-z][\w']*")
SPEECH = re.compile(r"\s*(said|says|asked|asks|replied|whispered|shouted|cried|'s\b)")
NOT_NAMES = {
    "I", "I'm", "I'd", "I'll", "I've", "Mr", "Mrs", "Ms", "Miss", "Dr", "Sir", "Lady", "Lord",
    "God", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December", "English", "Christmas", "OK", "TV",
}  # fmt: skip
LEAVING = re.compile(
    r"^\s*(Q|A|Question|Answer|Quiz|User|Assistant|System|Human|AI)\s*\d*\s*[:.)]"  # Q&A, chat
    r"|^\s*([-*•]|\d+[.)])\s"  # a list
    r"|^\s*#{1,6}\s|\*\*|__|```|</?[a-zA-Z][^>]*>"  # markup
    r"|<\|[a-z_]+\|>|\bAs an AI\b|\b(True or false|Multiple choice)\b",  # a chat's turn, quizzes
    re.MULTILINE | re.IGNORECASE,
)


@dataclass(frozen=True)
class Read:
    carried: float  # the person came back before anyone new was named
    new_person_first: float
    thing: float
    left: float  # left the story for Q&A, a list, markup, a chat turn
    repeats: float  # some four words three times
    copied: float
    continuations: int


def first_reference(text: str, start: Shaped) -> int | None:
    """Where the opening's person first comes back: by name or a fitting pronoun."""
    words = {start.person.lower(), *PRONOUNS[start.pronoun]}
    for match in WORD.finditer(text):
        if match.group().lower() in words or mentions(match.group(), start.person):
            return match.start()
    return None


def first_new_person(text: str, start: Opening) -> int | None:
    """Where someone the opening doesn't name is first named (see the module's note)."""
    known = {w.lower() for w in WORD.findall(start.text)}
    for match in WORD.finditer(text):
        word = match.group()
        if not word[0].isupper() or word in NOT_NAMES or word.lower() in known:
            continue
        if not word[1:].islower() and len(word) > 1:
            continue  # SHOUTING, or an acronym
        before = text[: match.start()].rstrip()
        sentence_start = not before or before[-1] in '.!?"\u201c\u201d:\n' or before[-1] == "'"
        if not sentence_start or SPEECH.match(text, match.end()):
            return match.start()
    return None


def repeats_four_words(text: str, times: int = 3) -> bool:
    words = [w.lower() for w in WORD.findall(text)]
    grams = Counter(zip(words, words[1:], words[2:], words[3:], strict=False))
    return any(count >= times for count in grams.values())


def read_like_a_reader(written: list[tuple[Shaped, str]]) -> Read:
    """The shares of continuations (opening, text) that do each thing."""
    counts = Counter()
    for start, text in written:
        copied = mostly_copied(text, start.text)
        back, new = first_reference(text, start), first_new_person(text, start)
        counts["copied"] += copied
        if not copied:
            counts["carried"] += back is not None and (new is None or back < new)
            counts["thing"] += mentions(text, start.thing)
        counts["new_person_first"] += new is not None and (back is None or new < back)
        counts["left"] += LEAVING.search(text) is not None
        counts["repeats"] += repeats_four_words(text)
    total = max(len(written), 1)
    shares = {k: round(counts[k] / total, 3) for k in ("carried", "new_person_first", "thing")}
    rest = {k: round(counts[k] / total, 3) for k in ("left", "repeats", "copied")}
    return Read(**shares, **rest, continuations=len(written))
