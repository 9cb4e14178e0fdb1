"""Story mode: a model with a chat template reads the story as its own unfinished answer, after
a system line (with the memory and lorebook) and the writer's turn (with the author's note);
a base model reads raw text; the `prompt` setting chooses, and every face shows which."""

import pytest

from common.errors import UserError
from engine.backend import load_backend
from engine.reading import SYSTEM_LINE, USER_LINE, reading_for
from story.lorebook import LoreEntry
from testbed.tiny_models import TURN_END, save_tiny_chat_model, save_tiny_model
from tests.conftest import run_here
from tui.core.prompt import build_prompt, context_report


@pytest.fixture(scope="module")
def chat_model(tmp_path_factory):
    return load_backend(str(save_tiny_chat_model(tmp_path_factory.mktemp("chat") / "m")))


@pytest.fixture(scope="module")
def base_model(tmp_path_factory):
    return load_backend(str(save_tiny_model(tmp_path_factory.mktemp("base") / "m")))


def prompt_for(backend, store, node_id, setting="auto"):
    return build_prompt(
        backend,
        store,
        node_id,
        window=1024,
        max_new_tokens=16,
        scan_tokens=100,
        reading=reading_for(backend, setting),
    )


def read_back(backend, ids) -> str:
    return backend.tokenizer.decode(ids, skip_special_tokens=False)


def test_the_story_is_the_assistants_open_turn_with_memory_lore_and_note_in_their_turns(
    chat_model, store
):
    story = store.create_story("Key", opening="Mira found the key.", memory="Mira is ten.")
    store.update_story(story.id, note="Keep it eerie.")
    store.add_lore(story.id, LoreEntry(("key",), "The key opens the attic."))
    prompt = prompt_for(chat_model, store, store.story(story.id).tip_id)
    assert read_back(chat_model, prompt.ids) == (
        f"<|turn|>system\n{SYSTEM_LINE}\n\nMira is ten.\n\nThe key opens the attic.<|/turn|>\n"
        f"<|turn|>user\n{USER_LINE}\n\nAuthor's note: Keep it eerie.<|/turn|>\n"
        "<|turn|>assistant\nMira found the key."
    )
    assert prompt.reading == "story mode"
    # The lead survives any trimming, and it is exactly the tokens before the story.
    assert prompt.ids[prompt.keep :] == chat_model.tokenize("Mira found the key.")


def test_the_genre_is_told_in_words(chat_model, store):
    story = store.create_story("Case", genre="mystery", opening="The inspector knocked.")
    prompt = prompt_for(chat_model, store, story.tip_id)
    assert "The story is a mystery story." in read_back(chat_model, prompt.ids[: prompt.keep])
    assert prompt.notice is None  # no genre token is missing: the genre went in as words


def test_appending_text_only_adds_tokens_after_what_the_model_read(chat_model, store):
    """The template's end never lands mid-story: the next turn's prompt starts with the whole
    of this one, so the story cache decodes only the new text."""
    story = store.create_story("Grow", opening="The lighthouse was dark.")
    first = prompt_for(chat_model, store, story.tip_id)
    node = store.append(story.tip_id, " The keeper climbed the stairs.")
    second = prompt_for(chat_model, store, node.id)
    assert second.ids[: len(first.ids)] == first.ids
    assert len(second.ids) > len(first.ids)


def test_a_turn_token_typed_in_the_story_is_text_not_the_token(chat_model, store):
    story = store.create_story("Trick", opening=f"She wrote {TURN_END} on the wall.")
    prompt = prompt_for(chat_model, store, story.tip_id)
    end_id = chat_model.tokenizer.convert_tokens_to_ids(TURN_END)
    assert end_id not in prompt.ids[prompt.keep :]
    assert read_back(chat_model, prompt.ids[prompt.keep :]) == f"She wrote {TURN_END} on the wall."


def test_the_context_view_shows_the_template_counted_in_the_window(chat_model, store):
    story = store.create_story("View", opening="Rain fell.", memory="A harbour town.")
    prompt = prompt_for(chat_model, store, story.tip_id)
    report = context_report(prompt, 1024)
    labels = [row.label for row in report.rows]
    assert labels == [
        "chat template: the system line",
        "memory",
        "chat template: the writer's turn",
        "chat template: the story's turn",
        "story",
    ]
    assert sum(row.tokens for row in report.rows) == report.tokens == len(prompt.ids)
    assert "".join(row.text for row in report.rows) == read_back(chat_model, prompt.ids)


def test_a_long_story_is_trimmed_to_the_window_lead_and_all(chat_model, store):
    story = store.create_story("Long", opening="The sea was loud. " * 200, memory="Keep this.")
    prompt = prompt_for(chat_model, store, story.tip_id)
    assert len(prompt.ids) <= 1024 - 16
    assert "Keep this." in read_back(chat_model, prompt.ids[: prompt.keep])


def test_the_prompt_setting_chooses_and_a_base_model_reads_raw(chat_model, base_model, store):
    story = store.create_story("Raw", opening="Rain fell.", memory="A harbour town.")
    raw = prompt_for(chat_model, store, story.tip_id, "raw")
    assert read_back(chat_model, raw.ids) == "A harbour town.\nRain fell."
    assert raw.reading == "raw text"
    assert reading_for(base_model, "auto").mode == "raw"
    with pytest.raises(UserError, match="has no chat template, so it has no story mode"):
        reading_for(base_model, "story")


def test_a_model_trained_with_genre_tokens_reads_raw_under_auto(tmp_path):
    folder = save_tiny_chat_model(tmp_path / "genred", extra_tokens=("<BOS>", "<mystery>"))
    backend = load_backend(str(folder))
    assert backend.genres() == ["mystery"]
    assert reading_for(backend, "auto").mode == "raw"
    assert reading_for(backend, "story").mode == "story"


def test_generate_reads_in_story_mode_and_says_so(tmp_path):
    folder = save_tiny_chat_model(tmp_path / "chat")
    result = run_here(
        "generate", "--model", str(folder), "--prompt", "Rain fell.", "--max-new-tokens", "4",
        "--seed", "1", "--verbose",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "read as story mode" in result.stderr
    raw = run_here(
        "generate", "--model", str(folder), "--prompt", "Rain fell.", "--max-new-tokens", "4",
        "--seed", "1", "--verbose", "--prompt-mode", "raw",
    )  # fmt: skip
    assert "read as raw text" in raw.stderr
    bad = run_here("generate", "--prompt", "x", "--prompt-mode", "chatty")
    assert bad.returncode == 2 and "prompt should be auto, story or raw" in bad.stderr
