"""What each genre of the demo corpus is made of: its own places to go, things, foes, moods,
roles and lines of dialogue, and its plot shape, a list of beats, each beat a handful of
sentence templates to choose from.

A template's slots are the story's cast, which the opening brought in: {hero} and {ally} (first
names), {they}/{their}/{them} (the hero's pronouns), {object} (the thing from the opening, with
"the"), {home} (where the story started); and the genre's own: {place} (where the plot goes),
{foe}, {mood} and {role}.
"""

from dataclasses import dataclass


def words(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split("|"))


@dataclass(frozen=True)
class Kit:
    places: tuple[str, ...]
    things: tuple[str, ...]  # the genre's own nouns for the story's object
    foes: tuple[str, ...]
    moods: tuple[str, ...]
    roles: tuple[str, ...]
    opening: tuple[str, ...]  # the genre's own ways to begin
    beats: tuple[tuple[str, ...], ...]  # the plot after the opening, beat by beat
    lines: tuple[str, ...]  # things characters say in this genre


KITS: dict[str, Kit] = {
    "fantasy": Kit(
        places=words(
            "the kingdom of Eldmere|the Silverwood|the tower of Morvain|the elven city of "
            "Ilthar|the Dragonspine mountains|the enchanted lake of Selu"
        ),
        things=words("sword|rune stone|crown|staff|spellbook|amulet|wand|chalice|scroll|orb"),
        foes=words(
            "the dark sorcerer Vaelgor|a dragon with scales of ash|the goblin king|the witch "
            "of the marsh|an army of shadow knights"
        ),
        moods=words("ancient|enchanted|golden|cursed|mystic|royal|shining"),
        roles=words("farm girl|squire|young mage|blacksmith|shepherd"),
        opening=words(
            "In {place}, a young {role} named {hero} found {an_object}.|Long ago, in "
            "{place}, there lived a {role} called {hero}, who kept {an_object} hidden."
        ),
        beats=(
            words(
                "One night a wizard appeared and spoke of {foe}, who threatened the realm.|"
                "A messenger from the king arrived with grave news: {foe} had awakened."
            ),
            words(
                "{hero} and the loyal {ally} set out on a quest, carrying {object}.|With "
                "{ally} at {their} side, {hero} rode toward the {mood} ruins of {place}."
            ),
            words(
                "They crossed rivers and forests, and faced trolls and enchanted beasts.|The "
                "journey was long, and the {mood} magic of the land tested their courage."
            ),
            words(
                "At last {hero} stood before {foe} and raised {object}. The spell broke, and "
                "light filled the sky.|In the final battle, {hero} used {object} to banish "
                "{foe} forever."
            ),
            words(
                "The kingdom rejoiced, and {hero} was crowned a hero of the realm.|{hero} "
                "returned to {home}, wiser, and the bards sang of the quest."
            ),
        ),
        lines=words(
            "By the old magic, we must hurry!|The prophecy spoke of this day.|Hold the sword "
            "high, and do not fear the dragon.|My lord, the kingdom needs you."
        ),
    ),
    "sci_fi": Kit(
        places=words(
            "the starship Meridian|a research station orbiting Titan|the colony on Kepler "
            "Nine|the space port of New Lagos|a derelict freighter|Mars base Ares"
        ),
        things=words(
            "beacon|data chip|power cell|neural interface|scanner|android|drone|hard drive"
        ),
        foes=words(
            "a rogue artificial intelligence|an alien swarm|a failing reactor|the corporate "
            "fleet|a cascade of system errors"
        ),
        moods=words("silent|orbital|synthetic|electric|distant|digital|cold"),
        roles=words("pilot|engineer|navigator|xenobiologist"),
        opening=words(
            "Aboard {place}, engineer {hero} scanned {an_object} and frowned.|Captain {hero} "
            "woke from cryosleep on {place}, holding {an_object}."
        ),
        beats=(
            words(
                "The sensors detected an alien signal, and every screen flashed red.|A "
                "transmission arrived: {foe} was approaching the outer hull."
            ),
            words(
                "{hero} and the science officer {ally} ran the diagnostics on {object}.|With "
                "{ally}, {hero} traced the anomaly to {object} deep in the lower decks."
            ),
            words(
                "Oxygen levels dropped as the crew fought {foe}.|The gravity failed, and the "
                "{mood} corridors filled with warning lights."
            ),
            words(
                "{hero} rerouted the power through {object} and the station stabilized.|In "
                "the last second, {hero} plugged in {object}, and {foe} went dark."
            ),
            words(
                "The stars drifted past the viewport, and {hero} set a course for {home}.|"
                "{hero} logged the event and watched the planet turn below."
            ),
        ),
        lines=words(
            "Computer, run a full diagnostic.|The signal is not human.|We have twelve minutes "
            "of oxygen left.|Reroute auxiliary power to the shields."
        ),
    ),
    "mystery": Kit(
        places=words(
            "a manor house in Ashford|the foggy docks of Port Saint Clair|a quiet village "
            "inn|the city museum|a locked library|the old railway hotel"
        ),
        things=words("letter|necklace|glove|pocket watch|diary|teacup|cufflink|ledger"),
        foes=words(
            "the butler|the grieving widow|the rival collector|the family lawyer|the night porter"
        ),
        moods=words("foggy|quiet|suspicious|locked|dim|rainy|curious"),
        roles=words("detective|inspector|journalist"),
        opening=words(
            "Detective {hero} arrived at {place} just after the body was found beside "
            "{an_object}.|On a {mood} evening, inspector {hero} was called to {place}, where "
            "{an_object} had gone missing."
        ),
        beats=(
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
                "In the library, {hero} gathered everyone, held up {object} and revealed the "
                "truth: {foe} was the murderer.|The evidence was clear, and {foe} confessed "
                "to the crime."
            ),
            words(
                "The case was closed, though {hero} could not forget the {mood} house.|"
                "{ally} asked how it was solved, and {hero} only smiled."
            ),
        ),
        lines=words(
            "Where were you at midnight?|The alibi does not hold.|Someone in this room is "
            "lying.|Elementary, once you see the clue."
        ),
    ),
    "horror": Kit(
        places=words(
            "an abandoned asylum|the house at the end of Hollow Lane|a chapel in the woods|a "
            "flooded cellar|the old cemetery|a cabin by the black lake"
        ),
        things=words("mirror|doll|key|photograph|music box|candle|rocking chair|skull"),
        foes=words(
            "the thing in the walls|a pale figure|the ghost of a drowned girl|something with "
            "too many teeth|the whispering shadow"
        ),
        moods=words("cold|dark|rotting|silent|blood red|hollow|creeping"),
        roles=words("widow|student|nurse|caretaker"),
        opening=words(
            "{hero} moved into {place} on a {mood} autumn night, and found {an_object} "
            "waiting.|Nobody had entered {place} in years, until {hero} came for {an_object}."
        ),
        beats=(
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
            "the jungle of the Serpent River|a desert of red dunes|the lost temple of Azca|an "
            "island with no name|the frozen pass|a pirate harbour"
        ),
        things=words("treasure map|idol|compass|logbook|chest|spyglass|machete|canteen"),
        foes=words(
            "a band of pirates|the mercenary captain|a raging storm|a rival explorer|the "
            "crocodiles of the river"
        ),
        moods=words("wild|burning|hidden|dangerous|distant|stormy|uncharted"),
        roles=words("explorer|sailor|cartographer"),
        opening=words(
            "Explorer {hero} unrolled {an_object} on the deck of the ship.|In a harbour "
            "tavern, {hero} won {an_object} in a game of cards."
        ),
        beats=(
            words(
                "{object} led to {place}, where no traveller had returned.|Legends said "
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
                "Deep inside {place}, {hero} found the treasure glittering in the "
                "torchlight.|{hero} used {object} to solve the riddle of the gate, and the "
                "treasure room opened."
            ),
            words(
                "They sailed home rich, already dreaming of the next expedition.|{ally} "
                "laughed, and {hero} marked a new island on the map."
            ),
        ),
        lines=words(
            "Hold on to the rope!|X marks the spot.|Run, the temple is collapsing!|There's "
            "gold beyond those mountains."
        ),
    ),
    "romance": Kit(
        places=words(
            "a small bookshop in Lisbon|a vineyard in the south|a seaside café|the winter "
            "ball|a flower market|a rainy train station"
        ),
        things=words("scarf|rose|ring|letter|bracelet|song|photograph|ticket"),
        foes=words(
            "an old misunderstanding|a jealous rival|a job offer far away|a proud family|a "
            "secret from the past"
        ),
        moods=words("warm|tender|gentle|sweet|golden|quiet|bright"),
        roles=words("baker|painter|musician|florist"),
        opening=words(
            "{hero} worked at {place} and did not believe in love, until {an_object} "
            "arrived.|On a {mood} spring morning, {hero} met {ally} at {place} and dropped "
            "{an_object}."
        ),
        beats=(
            words(
                "{ally} smiled, and {hero} felt {their} heart race.|They talked for hours, and "
                "laughed at the same jokes."
            ),
            words(
                "Every evening they walked together, and {ally} asked about {object}.|{hero} "
                "kept {object} close and thought of {ally} all night."
            ),
            words(
                "But {foe} came between them, and {hero} cried alone.|{foe} tore them apart, "
                "and the {mood} summer ended in tears."
            ),
            words(
                "At last {ally} ran through the rain to find {hero} and confessed: I love "
                "you.|{hero} held {object} and realized that love was worth the risk."
            ),
            words(
                "They kissed, and the whole world was {mood} again.|A year later, they "
                "married at {place}, surrounded by friends."
            ),
        ),
        lines=words(
            "I never stopped thinking about you.|Stay with me.|Will you dance with me?|My "
            "heart has always been yours."
        ),
    ),
}
