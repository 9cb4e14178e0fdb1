"""The writing core itself, without a face: settings made from the one table, the genre
prefix every face shares, and the session's rules."""

import json

import pytest

from assets import DEMO_MODEL
from engine.settings import SETTINGS, SamplingSettings, SettingsError, parse
from testbed.app_driver import make_session
from testbed.fake_model import FakeBackend
from tests.conftest import run_here
from tui.cli import build_parser
from tui.core.config_file import Config, ConfigError, read_config, write_config
from tui.core.session import WritingSession
from tui.core.settings import BUILT_IN


def test_every_setting_of_the_table_reaches_every_place(tmp_path):
    """The form, the config file, /set and the flags are all made from SETTINGS."""
    generate = next(
        action.choices["generate"]
        for action in build_parser()._actions
        if getattr(action, "choices", None) and "generate" in action.choices
    )
    flags = {option for action in generate._actions for option in action.option_strings}
    for setting in SETTINGS:
        if setting.flag is not None:  # generate's branches are -n and --batch-size instead
            assert setting.flag in flags
        else:
            # generate's several models are --model A --model B
            assert setting.name in ("branches", "lore_scan_tokens", "models")
        assert setting.label and setting.help
        if setting.sampling:
            assert setting.name in SamplingSettings.__dataclass_fields__
    chosen = {s.name: s.default for s in SETTINGS} | {"branches": 2, "top_p": 0.5, "seed": 9}
    assert read_config(write_config(Config(chosen), tmp_path / "config.toml")).writing == chosen


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("top_p", "7", "top_p should be above 0 and at most 1, not 7.0"),
        ("branches", "0", "branches should be from 1 to 8, not 0"),
        ("branches", "", "branches needs a value (from 1 to 8)"),
        ("temperature", "nan", "temperature should be a number, not 'nan'"),
        ("top_k", "2.5", "top_k should be a whole number, not '2.5'"),
        ("stop_mode", "chapter", "stop_mode should be tokens or sentence or paragraph"),
        ("device", "gpu", "device should be auto, cpu, cuda, cuda:N or mps, not 'gpu'"),
        ("colour", "blue", "there is no setting 'colour'"),
    ],
)
def test_one_check_per_setting_everywhere(tmp_path, name, value, message):
    with pytest.raises(SettingsError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse(name, value)
    (tmp_path / "config.toml").write_text(f'[writing]\n{name} = "{value}"\n')
    with pytest.raises(ConfigError):
        read_config(tmp_path / "config.toml")


def test_blank_means_the_default_and_the_engine_checks_the_same_table():
    assert parse("temperature", "") is None and parse("model", " ") == ""
    assert parse("device", "cuda:1") == "cuda:1"
    with pytest.raises(SettingsError, match="min_p should be from 0 up to"):
        SamplingSettings(min_p=1.0)
    assert BUILT_IN["branches"] == 4 and BUILT_IN["temperature"] is None


def test_settings_resolve_story_over_config_over_built_in(store, story, tmp_path):
    (tmp_path / "config.toml").write_text("[writing]\nbranches = 3\ntemperature = 0.5\n")
    session = make_session(store, tmp_path)
    session.open_story(story.id)
    assert session.settings()["branches"] == 3
    session.set_setting("branches", "2")
    assert store.story(story.id).settings == {"branches": 2}
    assert session.settings()["branches"] == 2 and session.settings()["temperature"] == 0.5
    session.set_setting("branches", "")  # back to the default
    assert store.story(story.id).settings is None


def test_a_story_keeps_a_genre_the_model_does_not_know(store, tmp_path):
    """Reproduced before the writing core: a story created with --genre noir came back with
    genre None after f2, ctrl+s."""
    story = store.create_story("Dark", genre="noir")
    session = make_session(store, tmp_path)
    session.open_story(story.id)
    session.save_story_settings(BUILT_IN, genre="noir", memory="", note="")
    assert store.story(story.id).genre == "noir"


def test_a_genre_the_model_lacks_is_named_and_the_model_writes_without_it(store, tmp_path):
    story = store.create_story("Dark", genre="noir", opening="Rain.")

    class Genred(FakeBackend):
        def genre_prefix(self, genre):
            from engine.reading import UnknownGenre

            if genre not in (None, "horror"):
                raise UnknownGenre(f"the model has no genre token <{genre}>: it knows horror")
            return [7] if genre else []

    backend = Genred()
    session = make_session(store, tmp_path, backend)
    session.open_story(story.id)
    session.load_models()
    generation = session.start_generation()
    generation.run()
    drained = session.drain()
    assert [n.text for n in drained.notices] == [
        "the model has no genre token <noir>: it knows horror: writing without a genre"
    ]
    assert backend.requests[-1].ids == backend.tokenize("Rain.")


@pytest.mark.skipif(not DEMO_MODEL.exists(), reason="run `make demo-model` first")
def test_the_app_and_taletree_generate_prompt_a_model_the_same_way(store, tmp_path):
    """One genre prefix for every face: the same story greedily continued by the core and by
    `taletree generate` gives the same text."""
    story = store.create_story("Same", genre="mystery", opening="The inspector opened the door.")
    session = WritingSession(store)
    session.open_story(story.id)
    for name, value in (
        ("branches", 1),
        ("temperature", 0),
        ("max_new_tokens", 16),
        ("stop_mode", "tokens"),
    ):
        session.set_setting(name, value)
    session.load_models()
    session.start_generation().run()
    session.drain()  # the generation is over: its branches are stored
    core_text = session.branches[0].text
    result = run_here(
        "generate",
        "--genre",
        "mystery",
        "--prompt",
        "The inspector opened the door.",
        "--temperature",
        "0",
        "--max-new-tokens",
        "16",
        "--json",
        "--no-include-prefix",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"] == core_text and core_text.strip()
    unknown = run_here("generate", "--model", "demo", "--genre", "noir", "--prompt", "x")
    assert unknown.returncode == 2 and "no genre token <noir>: it knows adventure" in unknown.stderr


def test_a_model_without_a_window_reads_as_much_as_the_context_limit_says(store, tmp_path):
    words = [f"w{i}" for i in range(300)]
    story = store.create_story("Long", opening=" ".join(words))
    backend = FakeBackend(window=None)  # an LSTM, or an ALiBi model such as Bloom
    session = make_session(store, tmp_path, backend)
    session.open_story(story.id)
    session.load_models()
    session.set_setting("max_new_tokens", 16)
    assert session.context_reports()[0][1].window == 2048  # the setting's default, not a secret
    session.start_generation().run()
    assert backend.requests[-1].ids == backend.tokenize(story_text := " ".join(words))
    session.drain()

    session.set_setting("context_limit", 64)
    assert session.context_reports()[0][1].window == 64
    session.start_generation().run()
    ids = backend.requests[-1].ids
    assert len(ids) <= 64 - 16 and ids == backend.tokenize(story_text)[-len(ids) :]
    with pytest.raises(SettingsError, match="context_limit should be from 16 to 1000000"):
        session.set_setting("context_limit", 8)


def test_the_api_key_in_the_config_file_survives_saving_defaults_and_the_environment_wins(
    store, tmp_path, monkeypatch
):
    path = tmp_path / "config.toml"
    path.write_text('[writing]\nbranches = 2\n\n[server]\napi_key = "sk-from-file"\n')
    config = read_config(path)
    assert config.api_key == "sk-from-file" and "sk-from-file" not in repr(config)
    monkeypatch.delenv("TALETREE_API_KEY", raising=False)
    assert config.server_key() == "sk-from-file"
    monkeypatch.setenv("TALETREE_API_KEY", "sk-from-env")
    assert config.server_key() == "sk-from-env"
    session = make_session(store, tmp_path)
    session.config = config
    session.save_default_settings({**BUILT_IN, "branches": 3})  # ctrl+d in the settings form
    again = read_config(path)
    assert again.api_key == "sk-from-file" and again.writing["branches"] == 3
    path.write_text("[server]\napi_key = 12\n")
    with pytest.raises(ConfigError, match=r'\[server\] takes only api_key = "…"'):
        read_config(path)
