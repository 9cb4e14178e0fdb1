"""The writer's own stories as training text: each story's current path, one text per story.
Model-written nodes are left out unless asked for, so a model learns the writer's voice."""

from story.store import Store


def training_texts(store: Store, include_model_text: bool = False) -> list[tuple[str | None, str]]:
    """(genre, text) for every story with any text to learn from."""
    texts = []
    for summary in store.list_stories():
        story = store.story(summary.id)
        nodes = store.path(story.tip_id)
        text = "".join(n.text for n in nodes if include_model_text or n.author == "user")
        if text.strip():
            texts.append((story.genre, text.strip()))
    return texts
