"""The demo corpus's open vocabulary: a generator of pronounceable names, and word lists that
objects and places are put together from. They are large on purpose: a story's people and
things are too many to remember, so a model trained on the corpus has to carry what the
opening brought in rather than recall a cast.

All of it is ours: the syllables and the words are everyday English parts, listed here.
"""

import random

from engine.training.kits import words

# A name is two or three syllables, sometimes with an ending: hundreds of thousands of first
# names. Its pieces vary as much as real names' do, so a model trained on them learns to copy
# any name it reads rather than a few name-shaped tokens. A model copies a writer's name far
# more readily when the generator could have made it: in a 400-step probe of the demo recipe
# without vowel starts, clusters such as cl and fr, and endings such as -ya, none of 4
# continuations named Greta, Clara or Freya again; with them, 4, 4 and 3 did.
ONSETS = words(
    "b|bl|br|c|ch|cl|d|dr|f|fl|fr|g|gl|gr|h|j|k|kr|l|m|n|p|pl|pr|r|s|sh|st|t|th|tr|v|w|y|z"
)
FIRST_ONSETS = (*ONSETS, "", "", "")  # a name may start with its vowel: Astrid, Elowen
INNER = ("", *words("b|c|d|f|g|j|k|l|m|n|p|r|s|t|v|z|th|sh"))
VOWELS = words("a|e|i|o|u|a|e|i|o|ai|ea|ia|y")
CODAS = ("", "", "n", "r", "l", "s", "m", "k")
ENDINGS = words(
    "a|o|ia|el|is|eth|wyn|ric|ette|ard|ina|ah|ias|ley|ton|mir|bel|dor|ise|us|ie|ya|id|ar"
)
SURNAME_ENDINGS = words(
    "ford|wick|ton|more|by|well|field|worth|ley|hart|stone|brook|wood|ridge|gate|shaw|dale|"
    "croft|holm|mere|ham|bury|son|ing"
)
# Joins that read badly inside a name.
CLUMSY = ("aia", "iai", "eae", "aa", "ii", "uu", "iia", "aie", "yy", "ay", "yi")


def syllable(rng: random.Random, onsets: tuple[str, ...] = ONSETS) -> str:
    return rng.choice(onsets) + rng.choice(VOWELS) + rng.choice(CODAS)


def first_name(rng: random.Random) -> str:
    while True:
        parts = [syllable(rng, FIRST_ONSETS)]
        parts += [syllable(rng, INNER) for _ in range(rng.choice((1, 1, 2)))]
        if rng.random() < 0.25:
            parts.append(rng.choice(ENDINGS))
        name = "".join(parts)
        if not any(join in name for join in CLUMSY) and 3 <= len(name) <= 9:
            return name.capitalize()


def surname(rng: random.Random) -> str:
    return (syllable(rng) + rng.choice(SURNAME_ENDINGS)).capitalize()


def town(rng: random.Random) -> str:
    return surname(rng)  # Brackford, Thessley: towns are named as families are


# Objects: a modifier and a noun, a few thousand in all; genres add their own nouns.
MODIFIERS = words(
    "brass|silver|wooden|iron|glass|leather|copper|velvet|paper|stone|bone|golden|rusty|"
    "cracked|tiny|heavy|old|painted|carved|broken|faded|dented|chipped|polished|woven|clay|"
    "tin|ivory|crystal|linen|green|blue|red|black|white|yellow|tarnished|folded|little|"
    "strange|small|battered|shiny|dusty|worn|plain|bright|silk|wool|steel"
)
NOUNS = words(
    "key|locket|lantern|compass|ring|box|letter|map|coin|knife|watch|book|diary|photograph|"
    "bottle|bell|mirror|comb|button|spoon|cup|kettle|clock|candle|scarf|glove|hat|umbrella|"
    "notebook|pencil|pen|feather|shell|marble|ribbon|brooch|bracelet|necklace|thimble|"
    "needle|whistle|flute|violin|radio|camera|telescope|jar|basket|suitcase|envelope|ticket|"
    "postcard|quilt|blanket|doll|puppet|kite|rope|chain|padlock|hammer|shovel|lamp|teapot|"
    "vase|bowl|plate|mask|figurine|statue|painting|pillow|boot|belt|purse|wallet|badge|"
    "medal|acorn|stone|jug|cane|pipe|harmonica|thermos|spyglass|hairpin|cufflink|paperweight|"
    "music box|snow globe|pocket knife|fountain pen|tin soldier|jewel box|keyring|hourglass|"
    "inkwell|sketchbook|recorder|trunk|satchel|rucksack|shawl|apron|slipper|crate|tray"
)
# Places: a kind of building or spot, owned, named, or placed in a town.
PLACE_NOUNS = words(
    "cottage|farmhouse|lighthouse|barn|mill|bakery|station|harbour|library|chapel|tavern|"
    "inn|attic|cellar|garden|orchard|greenhouse|boathouse|observatory|museum|hospital|"
    "school|theatre|market|bridge|tower|cabin|shed|warehouse|factory|hotel|bookshop|"
    "workshop|kitchen|pier|stable|church|flat|apartment|shop|laundry|post office|"
    "garage|hut|vicarage|guest house|studio|camp"
)
KIN = words(
    "grandmother's|grandfather's|aunt's|uncle's|mother's|father's|sister's|brother's|"
    "cousin's|neighbour's|friend's|teacher's"
)
FLOORS = words(
    "under the floorboards of|in the attic of|behind the stove of|at the bottom of a drawer in|"
    "on a high shelf in|in the garden of|under the stairs of|in a cupboard of"
)


def place(rng: random.Random, owner: str) -> str:
    """A place a story starts in: "her aunt's bakery", "the old mill in Brackford"."""
    noun = rng.choice(PLACE_NOUNS)
    shapes = (
        f"{owner} {rng.choice(KIN)} {noun}",
        f"the {rng.choice(('old', 'empty', 'little', 'quiet', 'crooked', 'new'))} {noun} in "
        f"{town(rng)}",
        f"the {noun} on {surname(rng)} Street",
    )
    return rng.choice(shapes)
