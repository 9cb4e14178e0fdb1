"""The demo corpus: short stories written by a procedural generator, so the demo model is
trained on text that is entirely ours.

A story begins with an opening that brings in a person, a thing and a place, in one of many
shapes (third or first person, a line of dialogue, the middle of an action, a line of
description), the person anywhere in it. Its genre's plot then unfolds, beat by beat
(engine/training/kits.py), and the opening's person, thing and place keep coming back by name
in new sentences. People are drawn from tens of thousands of generated names and things from
a few thousand, so what comes back is what the opening said, not a cast a model could learn by
heart: a model trained on these stories learns to continue the writer's own. Everything comes
from one seed.

A story is written one per block in the seed article's format: `<genre> text`, paragraphs on
their own lines, stories separated by a blank line.
"""

import random

from engine.training.kits import KITS, words
from engine.training.wordlists import FLOORS, MODIFIERS, NOUNS, first_name, place, surname

GENRES = tuple(KITS)
PRONOUNS = (
    {"they": "she", "their": "her", "them": "her"},
    {"they": "he", "their": "his", "them": "him"},
)
# Openings any genre may start with; the genre's own are in its kit.
OPENINGS = words(
    "{full} found {an_object} {floor} {home}.|"
    "I first met {full} at {home}. {They} was holding {an_object}, and would not let go of "
    "it.|"
    '"Where did you get that {thing}?" {ally} asked. {full} only smiled and put it back in '
    "{their} pocket.|"
    '"Don\'t touch {object}," {full} said. {They} had kept it at {home} for years.|'
    "{full} was halfway across {home} when {object} slipped from {their} fingers.|"
    "{full} ran, {object} clutched to {their} chest, and did not look back at {home}.|"
    "Rain fell on {home}. On the table lay {an_object}, and {full} had not touched it in a "
    "week.|"
    "The morning {full} found {an_object}, {home} was quiet.|"
    "Nobody at {home} knew that {full} kept {an_object} under {their} bed.|"
    "{full} had never wanted {an_object}. But there it was, on the step of {home}.|"
    # the person further in, after a thing, a place, a time or a pronoun, or as an owner, so
    # a model learns to find who the story is about wherever the writer put them
    "The {thing} had been in the family for years before {full} took it from {home}.|"
    "It was late at {home}, and {full} could not stop looking at {object}.|"
    "Everyone at {home} had an opinion about {object}, but only {full} knew where it came "
    "from.|"
    '"You should not have brought {object} here," {ally} told {full} at the door of {home}.|'
    "On the last day of summer, {full} carried {object} out of {home}.|"
    "Of all the things at {home}, {hero}'s {thing} was the one nobody dared to move.|"
    "Somebody had left {an_object} on the step of {home}, with {hero}'s name written on it.|"
    "{They} had not slept for two nights. {full} sat at {home} with {object} in {their} lap.|"
    "No one had seen {object} since the winter {full} left {home}.|"
    "There was {an_object} in {hero}'s coat, and {they} did not remember putting it there.|"
    "When {ally} came to {home}, {full} was already waiting, {object} in hand.|"
    "I still keep {object} that {full} gave me the night we left {home}."
)
# Sentences that bring the opening back, put into the plot's beats.
CALLBACKS = words(
    "{hero} still had {object}.|"
    "{hero} turned {object} over in {their} hands.|"
    "{hero} kept {object} in {their} pocket.|"
    "{ally} looked at {object}, and then at {hero}.|"
    "{hero} thought of {home}.|"
    "{hero} remembered {home}, and the day of the {thing}.|"
    "The {thing} was heavier than {hero} remembered.|"
    '"{hero}, do you still have {object}?" {ally} asked.|'
    '"Keep {object} safe, {hero}," {ally} said.|'
    '"{hero}! {hero}, wait!" {ally} called.|'
    "Without {object}, {hero} knew, none of it would matter.|"
    "{ally} had never seen {hero}'s {thing} up close.|"
    "The {thing} was still in {hero}'s hands."
)
# Connective tissue shared by every genre, so sentences don't all read alike.
OPENERS = ("Then, ", "Soon, ", "After that, ", "Meanwhile, ", "Later, ", "Suddenly, ", "At dawn, ")
SAID = words("said|whispered|shouted|murmured|answered|replied")


def article(phrase: str) -> str:
    return ("an " if phrase[0] in "aeiou" else "a ") + phrase


def cast_of(genre: str, rng: random.Random) -> dict[str, str]:
    """Who and what a story is about, as its templates' slots."""
    kit = KITS[genre]
    hero = first_name(rng)
    ally = first_name(rng)
    while ally == hero:
        ally = first_name(rng)
    thing = rng.choice(kit.things if rng.random() < 0.5 else NOUNS)
    described = f"{rng.choice(MODIFIERS)} {thing}"
    pronouns = rng.choice(PRONOUNS)
    return {
        "hero": hero,
        "full": f"{hero} {surname(rng)}" if rng.random() < 0.3 else hero,
        "ally": ally,
        "thing": thing,
        "object": f"the {described}",
        "an_object": article(described),
        "home": place(rng, pronouns["their"]),
        "floor": rng.choice(FLOORS),
        "place": rng.choice(kit.places),
        "foe": rng.choice(kit.foes),
        "role": rng.choice(kit.roles),
        **pronouns,
        "They": pronouns["they"].capitalize(),
    }


def write_story(genre: str, rng: random.Random) -> str:
    kit = KITS[genre]
    cast = cast_of(genre, rng)
    opening = rng.choice(kit.opening if rng.random() < 0.3 else OPENINGS)
    paragraphs = [fill(opening, cast, kit, rng)]
    for templates in kit.beats:
        chosen = sorted(rng.sample(range(len(templates)), k=rng.randint(1, len(templates))))
        sentences = [fill(templates[i], cast, kit, rng) for i in chosen]
        if rng.random() < 0.35 and can_take_opener(sentences[0], cast):
            sentences[0] = rng.choice(OPENERS) + lower_first(sentences[0], cast)
        if rng.random() < 0.9:
            callback = fill(rng.choice(CALLBACKS), cast, kit, rng)
            sentences.insert(rng.randint(0, len(sentences)), callback)
        if rng.random() < 0.5:
            speaker = cast["hero"] if rng.random() < 0.6 else cast["ally"]
            sentences.append(dialogue(rng.choice(kit.lines), speaker, rng))
        paragraphs.append(" ".join(sentences))
    return "\n".join(paragraphs)


def fill(template: str, cast: dict[str, str], kit, rng: random.Random) -> str:
    return capital(template.format(mood=rng.choice(kit.moods), **cast))


def capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def can_take_opener(sentence: str, cast: dict[str, str]) -> bool:
    first = sentence.split(" ", 1)[0]
    return first in (cast["hero"], cast["ally"], "The", "They", "A", "An")


def dialogue(line: str, speaker: str, rng: random.Random) -> str:
    """A quoted line: '"Stay," Ada whispered.' or '"Where were you?" Ada asked.'"""
    if line.endswith("?"):
        return f'"{line}" {speaker} asked.'
    if line.endswith("."):
        line = line[:-1] + ","
    return f'"{line}" {speaker} {rng.choice(SAID)}.'


def lower_first(sentence: str, cast: dict[str, str]) -> str:
    """Lower-case a sentence's first letter after an opener, unless it starts with a name."""
    first = sentence.split(" ", 1)[0]
    return (
        sentence if first in (cast["hero"], cast["ally"]) else sentence[:1].lower() + sentence[1:]
    )


def generate_corpus(stories: int, seed: int = 0) -> list[tuple[str, str]]:
    """(genre, text) pairs, genres taking turns, the same for the same seed."""
    rng = random.Random(seed)
    return [
        (GENRES[i % len(GENRES)], write_story(GENRES[i % len(GENRES)], rng)) for i in range(stories)
    ]


def format_corpus(stories: list[tuple[str, str]]) -> str:
    return "\n\n".join(f"<{genre}> {text}" for genre, text in stories) + "\n"
