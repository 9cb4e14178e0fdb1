"""The demo corpus: short stories written by a procedural generator, so the demo model is
trained on text that is entirely ours.

Each genre has its own cast, places, objects and words, and its own plot shape: a list of beats
(say, for a mystery: the discovery, the questioning, the clue, the reveal), each beat a handful
of sentence templates with slots. A story draws one cast and walks its genre's beats, so named
characters recur within it, and some beats are dialogue. Everything comes from one seed.

A story is written one per block in the seed article's format: `<genre> text`, paragraphs on
their own lines, stories separated by a blank line.
"""

import random
from dataclasses import dataclass

GENRES = ("fantasy", "sci_fi", "mystery", "horror", "adventure", "romance")

FIRST_NAMES = (
    "Ada Bram Cora Dov Elin Finn Greta Hale Ines Jory Kael Lina Milo Nell Oren Pia Quill Rosa "
    "Silas Tova Ulla Vik Wren Yara Zane Asha Bodie Cyra Dane Esme Fenn Gil Hana Ivo Jun Kit"
).split()
SURNAMES = (
    "Ashdown Brightwater Carrow Dunmore Everly Fairweather Graves Holloway Ingram Jessop "
    "Kestrel Lowell Marsh Northcott Oakley Pell Quarry Redfern Stroud Thorne Underhill Vance"
).split()


@dataclass(frozen=True)
class Kit:
    """What one genre is made of."""

    places: tuple[str, ...]
    objects: tuple[str, ...]
    foes: tuple[str, ...]
    moods: tuple[str, ...]
    beats: tuple[tuple[str, ...], ...]  # the plot, beat by beat: templates to choose from
    lines: tuple[str, ...]  # things characters say in this genre


def words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split("|"))


KITS: dict[str, Kit] = {
    "fantasy": Kit(
        places=words(
            "the kingdom of Eldmere|the Silverwood|the tower of Morvain|the elven "
            "city of Ilthar|the Dragonspine mountains|the enchanted lake of Selu"
        ),
        objects=words(
            "an ancient sword|a glowing rune stone|the crown of the old kings|a "
            "staff of oak and silver|a spellbook bound in dragon hide|an amulet"
        ),
        foes=words(
            "the dark sorcerer Vaelgor|a dragon with scales of ash|the goblin king|"
            "the witch of the marsh|an army of shadow knights"
        ),
        moods=words("ancient|enchanted|golden|cursed|mystic|royal|shining"),
        beats=(
            words(
                "In {place}, a young {role} named {hero} dreamed of adventure.|Long ago, "
                "in {place}, there lived a {role} called {hero}."
            ),
            words(
                "One night a wizard appeared and spoke of {foe}, who threatened the realm.|"
                "A messenger from the king arrived with grave news: {foe} had awakened."
            ),
            words(
                "{hero} and the loyal {ally} set out on a quest to find {object}.|With "
                "{ally} at their side, {hero} rode toward the {mood} ruins to seek {object}."
            ),
            words(
                "They crossed rivers and forests, and faced trolls and enchanted beasts.|The "
                "journey was long, and the {mood} magic of the land tested their courage."
            ),
            words(
                "At last {hero} stood before {foe} and raised {object}. The spell broke, "
                "and light filled the sky.|In the final battle, {hero} used {object} to "
                "banish {foe} forever."
            ),
            words(
                "The kingdom rejoiced, and {hero} was crowned a hero of the realm.|{hero} "
                "returned home, wiser, and the songs of the bards told of the quest."
            ),
        ),
        lines=words(
            "By the old magic, we must hurry!|The prophecy spoke of this day.|Hold "
            "the sword high, and do not fear the dragon.|My lord, the kingdom needs you."
        ),
    ),
    "sci_fi": Kit(
        places=words(
            "the starship Meridian|a research station orbiting Titan|the colony on "
            "Kepler Nine|the space port of New Lagos|a derelict freighter|Mars base Ares"
        ),
        objects=words(
            "a quantum beacon|an alien signal|the reactor core|a neural interface|a "
            "damaged android|the navigation computer"
        ),
        foes=words(
            "a rogue artificial intelligence|an alien swarm|a failing reactor|the "
            "corporate fleet|a cascade of system errors"
        ),
        moods=words("silent|orbital|synthetic|electric|distant|digital|cold"),
        beats=(
            words(
                "Aboard {place}, engineer {hero} monitored the {mood} hum of the systems.|"
                "Captain {hero} woke from cryosleep on {place}."
            ),
            words(
                "The sensors detected {object}, and every screen flashed red.|A transmission "
                "arrived: {foe} was approaching the outer hull."
            ),
            words(
                "{hero} and the science officer {ally} ran the diagnostics again.|With "
                "{ally}, {hero} traced the anomaly to {object} deep in the lower decks."
            ),
            words(
                "Oxygen levels dropped as the crew fought {foe}.|The gravity failed, and the "
                "{mood} corridors filled with warning lights."
            ),
            words(
                "{hero} rerouted the power through {object} and the station stabilized.|In "
                "the last second, {hero} uploaded a patch, and {foe} went dark."
            ),
            words(
                "The stars drifted past the viewport, and the crew set a course for home.|"
                "{hero} logged the event and watched the planet turn below."
            ),
        ),
        lines=words(
            "Computer, run a full diagnostic.|The signal is not human.|We have twelve "
            "minutes of oxygen left.|Reroute auxiliary power to the shields."
        ),
    ),
    "mystery": Kit(
        places=words(
            "a manor house in Ashford|the foggy docks of Port Saint Clair|a quiet "
            "village inn|the city museum|a locked library|the old railway hotel"
        ),
        objects=words(
            "a torn letter|a missing pearl necklace|a bloodstained glove|a pocket "
            "watch stopped at midnight|a coded diary|a broken teacup"
        ),
        foes=words(
            "the butler|the grieving widow|the rival collector|the family lawyer|the night porter"
        ),
        moods=words("foggy|quiet|suspicious|locked|dim|rainy|curious"),
        beats=(
            words(
                "Detective {hero} arrived at {place} just after the body was found.|On a "
                "{mood} evening, inspector {hero} was called to {place}."
            ),
            words(
                "The victim had been found beside {object}, and the door was locked from the "
                "inside.|Nothing had been stolen, except {object}."
            ),
            words(
                "{hero} questioned the guests one by one, while {ally} took careful notes.|"
                "With sergeant {ally}, {hero} examined every alibi and every clue."
            ),
            words(
                "A clue hidden under the carpet did not match the story of {foe}.|{hero} "
                "noticed that the clock had been moved, and {foe} had lied about the time."
            ),
            words(
                "In the library, {hero} gathered everyone and revealed the truth: {foe} was "
                "the murderer.|The evidence was clear, and {foe} confessed to the crime."
            ),
            words(
                "The case was closed, though {hero} could not forget the {mood} house.|"
                "{ally} asked how it was solved, and {hero} only smiled."
            ),
        ),
        lines=words(
            "Where were you at midnight?|The alibi does not hold.|Someone in this room "
            "is lying.|Elementary, once you see the clue."
        ),
    ),
    "horror": Kit(
        places=words(
            "an abandoned asylum|the house at the end of Hollow Lane|a chapel in "
            "the woods|a flooded cellar|the old cemetery|a cabin by the black lake"
        ),
        objects=words(
            "a cracked mirror|a doll with no eyes|a rusted key|an old photograph|a "
            "music box that played by itself|a candle that would not stay lit"
        ),
        foes=words(
            "the thing in the walls|a pale figure|the ghost of a drowned girl|something "
            "with too many teeth|the whispering shadow"
        ),
        moods=words("cold|dark|rotting|silent|blood red|hollow|creeping"),
        beats=(
            words(
                "{hero} moved into {place} on a {mood} autumn night.|Nobody had entered "
                "{place} in years, until {hero} came."
            ),
            words(
                "At night there were scratches behind the door, and {object} was always "
                "moved.|The lights flickered, and {hero} found {object} on the pillow."
            ),
            words(
                "{hero} called {ally}, but the line was full of whispers.|{ally} came to "
                "stay, and heard the screams from the cellar too."
            ),
            words(
                "The shadows grew longer, and the air smelled of blood and wet earth.|Every "
                "mirror showed {foe} standing just behind them."
            ),
            words(
                "In the dark, {foe} crawled out of the walls, and {hero} screamed.|{hero} "
                "burned {object}, but the laughter did not stop."
            ),
            words(
                "By morning {place} was empty, and the door was open.|They never found "
                "{ally}. Some nights, {hero} still hears the knocking."
            ),
        ),
        lines=words(
            "Did you hear that?|Don't go down to the cellar.|It's behind you.|It knows our names."
        ),
    ),
    "adventure": Kit(
        places=words(
            "the jungle of the Serpent River|a desert of red dunes|the lost temple "
            "of Azca|an island with no name|the frozen pass|a pirate harbour"
        ),
        objects=words(
            "a faded treasure map|a golden idol|a compass that pointed north-west|"
            "the captain's logbook|a rope bridge|a chest of old coins"
        ),
        foes=words(
            "a band of pirates|the mercenary captain|a raging storm|a rival explorer|"
            "the crocodiles of the river"
        ),
        moods=words("wild|burning|hidden|dangerous|distant|stormy|uncharted"),
        beats=(
            words(
                "Explorer {hero} unrolled {object} on the deck of the ship.|In a harbour "
                "tavern, {hero} won {object} in a game of cards."
            ),
            words(
                "The map led to {place}, where no traveller had returned.|Legends said "
                "{place} hid a treasure guarded by {foe}."
            ),
            words(
                "{hero} hired the guide {ally}, and they set sail at dawn.|With {ally}, "
                "{hero} hacked a path through the {mood} undergrowth."
            ),
            words(
                "They climbed cliffs and crossed rivers, and escaped {foe} by a hair.|A "
                "{mood} storm broke the mast, and they swam to shore."
            ),
            words(
                "Deep inside {place}, {hero} found the treasure glittering in the torchlight."
                "|{hero} solved the riddle of the gate and the treasure room opened."
            ),
            words(
                "They sailed home rich, already dreaming of the next expedition.|{ally} "
                "laughed, and {hero} marked a new island on the map."
            ),
        ),
        lines=words(
            "Hold on to the rope!|X marks the spot.|Run, the temple is collapsing!|"
            "There's gold beyond those mountains."
        ),
    ),
    "romance": Kit(
        places=words(
            "a small bookshop in Lisbon|a vineyard in the south|a seaside café|the "
            "winter ball|a flower market|a rainy train station"
        ),
        objects=words(
            "a handwritten letter|a red scarf|a pressed rose|an old song on the "
            "radio|two tickets to Paris|a ring"
        ),
        foes=words(
            "an old misunderstanding|a jealous rival|a job offer far away|her proud "
            "family|a secret from the past"
        ),
        moods=words("warm|tender|gentle|sweet|golden|quiet|bright"),
        beats=(
            words(
                "{hero} worked at {place} and did not believe in love.|On a {mood} spring "
                "morning, {hero} met {ally} at {place}."
            ),
            words(
                "{ally} smiled, and {hero} felt their heart race.|They talked for hours, "
                "and laughed at the same jokes."
            ),
            words(
                "Every evening they walked together, and {ally} gave {hero} {object}.|"
                "{hero} kept {object} close and thought of {ally} all night."
            ),
            words(
                "But {foe} came between them, and {hero} cried alone.|{foe} tore them "
                "apart, and the {mood} summer ended in tears."
            ),
            words(
                "At last {ally} ran through the rain to find {hero} and confessed: I love "
                "you.|{hero} read the letter and realized that love was worth the risk."
            ),
            words(
                "They kissed, and the whole world was {mood} again.|A year later, they "
                "married at {place}, surrounded by friends."
            ),
        ),
        lines=words(
            "I never stopped thinking about you.|Stay with me.|Will you dance with "
            "me?|My heart has always been yours."
        ),
    ),
}
ROLES = {
    "fantasy": words("farm girl|squire|young mage|blacksmith|shepherd"),
    "sci_fi": words("pilot|engineer|navigator|xenobiologist"),
    "mystery": words("detective|inspector|journalist"),
    "horror": words("widow|student|nurse|caretaker"),
    "adventure": words("explorer|sailor|cartographer"),
    "romance": words("baker|painter|musician|florist"),
}
# Connective tissue shared by every genre, so sentences don't all read alike.
OPENERS = ("Then, ", "Soon, ", "After that, ", "Meanwhile, ", "Later, ", "Suddenly, ", "At dawn, ")
SAID = words("said|whispered|shouted|murmured|answered|replied")


def person(rng: random.Random) -> str:
    first = rng.choice(FIRST_NAMES)
    return f"{first} {rng.choice(SURNAMES)}" if rng.random() < 0.3 else first


def write_story(genre: str, rng: random.Random) -> str:
    kit = KITS[genre]
    hero = person(rng)
    ally = person(rng)
    while ally.split()[0] == hero.split()[0]:
        ally = person(rng)
    cast = {
        "hero": hero,
        "ally": ally,
        "place": rng.choice(kit.places),
        "object": rng.choice(kit.objects),
        "foe": rng.choice(kit.foes),
        "role": rng.choice(ROLES[genre]),
    }
    short = {"hero": hero.split()[0], "ally": ally.split()[0]}
    paragraphs = []
    for number, templates in enumerate(kit.beats):
        names = cast if number == 0 else {**cast, **short}  # full names first, then first names
        chosen = sorted(rng.sample(range(len(templates)), k=rng.randint(1, len(templates))))
        sentences = [
            capital(templates[i].format(mood=rng.choice(kit.moods), **names)) for i in chosen
        ]
        if number and rng.random() < 0.35 and can_take_opener(sentences[0]):
            sentences[0] = rng.choice(OPENERS) + lower_first(sentences[0])
        if rng.random() < 0.55:
            sentences.append(dialogue(rng.choice(kit.lines), rng.choice(list(short.values())), rng))
        paragraphs.append(" ".join(sentences))
    return "\n".join(paragraphs)


def capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def can_take_opener(sentence: str) -> bool:
    first = sentence.split(" ", 1)[0]
    return first in FIRST_NAMES or first in ("The", "They", "A", "An")


def dialogue(line: str, speaker: str, rng: random.Random) -> str:
    """A quoted line: '"Stay," Ada whispered.' or '"Where were you?" Ada asked.'"""
    if line.endswith("?"):
        return f'"{line}" {speaker} asked.'
    if line.endswith("."):
        line = line[:-1] + ","
    return f'"{line}" {speaker} {rng.choice(SAID)}.'


def lower_first(sentence: str) -> str:
    """Lower-case a sentence's first letter after an opener, unless it starts with a name."""
    return (
        sentence
        if sentence.split(" ", 1)[0] in FIRST_NAMES
        else sentence[:1].lower() + sentence[1:]
    )


def generate_corpus(stories: int, seed: int = 0) -> list[tuple[str, str]]:
    """(genre, text) pairs, genres taking turns, the same for the same seed."""
    rng = random.Random(seed)
    return [
        (GENRES[i % len(GENRES)], write_story(GENRES[i % len(GENRES)], rng)) for i in range(stories)
    ]


def format_corpus(stories: list[tuple[str, str]]) -> str:
    return "\n\n".join(f"<{genre}> {text}" for genre, text in stories) + "\n"
