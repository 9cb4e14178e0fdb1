"""The messages between the app and its screens. Screens ask the app for things by posting
messages that bubble up to it; the app tells the screen in front what changed."""

from textual.message import Message


class ModelWanted(Message):
    """A screen asks for the model its story's settings name (the app loads it if needed)."""


class ModelChanged(Message):
    """Told to the screen in front: the model is loading, loaded or failed."""

    bubble = False


class BackToWriting(Message):
    """A screen over the writing screen is done: show the writing screen again."""


class Generate(Message):
    """A screen over the writing screen asks for new branches there (after a fork)."""


class OpenStory(Message):
    """The library asks to write a story."""

    def __init__(self, story_id: int):
        super().__init__()
        self.story_id = story_id
