"""Several models side by side in the writing core: the models setting, its [models] table in
the config file, a step's branches from each model, each branch keeping its model for re-roll,
look-ahead, more and fork, each model's own reading of the story, the memory check before
loading, and exploring over the set."""

import pytest

from engine.settings import (
    ModelShare,
    SettingsError,
    branch_counts,
    model_shares,
    parse,
    shares_text,
)
from testbed.app_driver import make_session
from testbed.fake_model import FakeBackend
from tui.core.config_file import ConfigError, read_config
from tui.core.explore import ExploreSettings
from tui.core.model_holder import ModelsDontFit

QUICK_WORDS = ("quick", "brown", "fox", "jumps", "over", "lazy", "dogs", "again.")
DEEP_WORDS = ("the", "deep", "river", "runs", "slow", "under", "ice", "tonight.")


def test_the_models_setting_reads_each_model_its_share_and_its_own_settings():
    shares = model_shares("default*2 'my model'*1 temperature=1.1 top_k=5 demo")
    assert shares == [
        ModelShare("default", 2),
        ModelShare("my model", 1, {"temperature": 1.1, "top_k": 5}),
        ModelShare("demo"),
    ]
    assert model_shares(shares_text(shares)) == shares  # what is saved reads back the same
    assert branch_counts(shares, 4) == [2, 1, 1]  # demo takes what the branches setting leaves
    assert branch_counts(model_shares("a b c"), 4) == [2, 1, 1]  # an even part, the first more
    assert model_shares("") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("temperature=1 default", "comes before any model"),
        ("default*0", r"should end \*N"),
        ("default demo default", "names default twice"),
        ("a b c d e", "lists 5: at most 4"),
        ("a*5 b*4", "asks for 9 branches: at most 8"),
        ("default seed=3", "seed isn't a setting a model has of its own"),
        ("default temperature=hot", "models: temperature should be a number, not 'hot'"),
        ("'default", "unclosed quote"),
    ],
)
def test_a_models_setting_that_cant_be_read_says_which_word_and_why(text, message):
    with pytest.raises(SettingsError, match=message):
        parse("models", text)


def test_the_config_file_lists_the_models_in_a_table_of_their_own(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        '[writing]\nbranches = 4\n\n[models]\ndefault = 2\n"build/my model" = '
        '{ branches = 2, temperature = 1.1, prompt = "raw" }\n'
    )
    config = read_config(path)
    assert config.writing["models"] == "default*2 'build/my model*2' temperature=1.1 prompt=raw"
    session = make_session(None, tmp_path)
    session.save_default_settings(config.writing)
    written = path.read_text()
    assert '[models]\n"default" = 2\n' in written and "models =" not in written
    assert read_config(path).writing == config.writing
    path.write_text("[models]\ndefault = { temprature = 2 }\n")
    with pytest.raises(ConfigError, match="temprature isn't a setting a model has"):
        read_config(path)
    path.write_text('[writing]\nmodels = "demo"\n[models]\ndefault = 2\n')
    with pytest.raises(ConfigError, match="keep one"):
        read_config(path)


def two_models(store, tmp_path, models="quick*2 deep*2 temperature=0", **deep):
    quick = FakeBackend(words=QUICK_WORDS, name="quick")
    slow = FakeBackend(words=DEEP_WORDS, name="deep", **deep)
    session = make_session(store, tmp_path, named={"quick": quick, "deep": slow})
    story = store.create_story("Two voices", opening="The ferry left at dawn.")
    session.open_story(story.id)
    session.set_setting("models", models)
    session.load_models()
    return session, quick, slow


def run(session, generation):
    generation.run()
    return session.drain()


def test_one_step_asks_each_model_its_share_and_each_branch_keeps_its_model(store, tmp_path):
    session, quick, deep = two_models(store, tmp_path)
    drained = run(session, session.start_generation())
    assert drained.ended
    assert [b.model for b in session.branches] == ["quick", "quick", "deep", "deep"]
    assert [len(m.requests) for m in (quick, deep)] == [1, 1]
    assert quick.requests[0].branches == deep.requests[0].branches == 2
    quick_text = [b.text for b in session.branches[:2]]
    assert all(set(t.split()) <= set(QUICK_WORDS) for t in quick_text)
    assert all(set(b.text.split()) <= set(DEEP_WORDS) for b in session.branches[2:])
    # deep's own temperature=0: its two branches write the same; quick samples, each its own
    assert session.branches[2].text == session.branches[3].text
    assert quick_text[0] != quick_text[1]
    nodes = [session.node(b.node_id) for b in session.branches]
    assert [n.model for n in nodes] == ["quick", "quick", "deep", "deep"]
    assert [n.settings["temperature"] for n in nodes] == [0.7, 0.7, 0.0, 0.0]


def test_re_roll_look_ahead_and_more_use_the_branchs_own_model(store, tmp_path):
    session, quick, deep = two_models(store, tmp_path)
    run(session, session.start_generation())
    old = session.branches[2].node_id
    run(session, session.reroll(2))
    assert [len(quick.requests), len(deep.requests)] == [1, 2]
    assert deep.requests[-1].branches == 1
    assert session.branches[2].model == "deep" and session.branches[2].node_id != old
    assert [b.model for b in session.branches] == ["quick", "quick", "deep", "deep"]

    run(session, session.look_ahead(0))  # quick writes all four ways on from its branch
    assert [len(quick.requests), len(deep.requests)] == [2, 2]
    assert quick.requests[-1].branches == 4
    assert {b.model for b in session.branches} == {"quick"}
    session.back_from_look_ahead()

    node = session.keep(3)
    run(session, session.more(node.id))
    assert [len(quick.requests), len(deep.requests)] == [2, 3]
    assert session.node(node.id).text.startswith(node.text)


def test_a_branch_whose_model_left_the_set_is_written_by_the_first_saying_so(store, tmp_path):
    session, _quick, deep = two_models(store, tmp_path)
    run(session, session.start_generation())
    session.set_setting("models", "quick")
    session.load_models()  # deep is let go
    drained = run(session, session.reroll(3))
    assert [n.text for n in drained.notices] == [
        "branch 4 was written by deep, which isn't loaded: quick writes it"
    ]
    assert session.branches[3].model == "quick" and len(deep.requests) == 1


def test_a_fork_goes_on_in_its_own_models_words(store, tmp_path):
    session, quick, _deep = two_models(store, tmp_path)
    run(session, session.start_generation())
    node_id = session.branch_node(2)
    records = session.token_records(node_id)
    fork = session.fork(node_id, 0, records[0].top[1][0])
    assert session.node(fork.id).model == "deep"
    assert session.generation_due
    run(session, session.generate_when_ready())
    assert {b.model for b in session.branches} == {"deep"} and len(session.branches) == 4
    assert len(quick.requests) == 1


def test_each_model_reads_the_story_in_its_own_window(store, tmp_path):
    session, _quick, _deep = two_models(store, tmp_path, window=64)
    reports = session.context_reports()
    assert [(name, report.window) for name, report in reports] == [("quick", 512), ("deep", 64)]
    assert all(report.tokens == len("The ferry left at dawn.".split()) for _, report in reports)


def test_after_a_step_each_models_cache_holds_the_story_it_read(store, tmp_path):
    session, _, _ = two_models(store, tmp_path)
    first = session.context_reports()
    assert [report.cached for _, report in first] == [0, 0]
    run(session, session.start_generation())
    session.keep(2)
    session.add_text("Then rain.")
    reports = session.context_reports()
    assert [report.cached for _, report in reports] == [report.tokens for _, report in first]
    assert all(report.tokens > report.cached for _, report in reports)  # the new text to read


def test_a_set_that_wont_fit_says_which_to_drop_before_anything_loads(store, tmp_path):
    loaded = []
    session = make_session(store, tmp_path)
    session.models.loader = lambda request, progress: loaded.append(request) or FakeBackend()
    session.models.free = lambda: 4_000_000_000
    session.models.footprint = {"quick": 1_000_000_000, "deep": 5_000_000_000}.get
    story = store.create_story("Heavy", opening="It began.")
    session.open_story(story.id)
    session.set_setting("models", "quick deep")
    with pytest.raises(ModelsDontFit) as caught:
        session.load_models()
    assert str(caught.value) == (
        "these models need about 6.0 GB and 4.0 GB is free: drop deep (5.0 GB) from the "
        "models setting"
    )
    assert loaded == [] and session.models.held == {}
    session.set_setting("models", "quick*2")
    session.load_models()
    assert [r.name for r in loaded] == ["quick"]


def test_the_models_state_says_what_each_holds(store, tmp_path):
    session, _, _ = two_models(store, tmp_path)
    session.models.sizes = {
        r: 650_000_000 if r.name == "quick" else None for r in session.models.wanted
    }
    assert session.models.state == "quick 650 MB + deep"
    session.set_setting("models", "")
    session.load_models()  # the model setting's alone again: the set is let go
    assert session.models.state == "fake" and len(session.models.held) == 1


def test_the_model_named_on_the_command_line_writes_alone(store, tmp_path):
    session, _, _ = two_models(store, tmp_path)
    session.cli_model = "deep"
    assert [plan.request.name for plan in session.plans()] == ["deep"]


def test_exploring_spends_each_expansion_over_the_set_and_says_who_wrote_each_path(store, tmp_path):
    session, quick, deep = two_models(store, tmp_path, models="quick deep")
    exploration = session.explore(ExploreSettings(depth=2, budget=2, best=4))
    exploration.run()
    drained = session.drain_exploration()
    assert [len(quick.requests), len(deep.requests)] == [2, 2]
    assert {m for path in drained.paths for m in path.models} == {"quick", "deep"}
    for path in drained.paths:
        assert [session.node(n).model for n in path.node_ids] == list(path.models)
    assert [b.path_models for b in session.branches] == [
        tuple(dict.fromkeys(p.models)) for p in drained.paths
    ]
