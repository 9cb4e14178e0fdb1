"""Exploring ahead: the budgeted search over continuations, in the core and line mode, with the
deterministic fake model over a real database; the judge's score on a tiny real model built so
its answer is known; and the command line on a tiny real model."""

import io
import json
import math

import pytest
import torch

from story.export import render
from story.importer import parse_story_json
from testbed.app_driver import make_app, make_session, wait_until
from testbed.fake_model import FakeBackend
from tests.app_helpers import screen_text, write_and_generate
from tests.conftest import run_here
from tui.core.explore import ExploreError, ExploreSettings, repeated_share
from tui.line_mode import LineWriter
from tui.screens.writing import WritingScreen


@pytest.fixture
def writer(store, tmp_path):
    backend = FakeBackend()
    session = make_session(store, tmp_path, backend)
    story = store.create_story("Lamp", opening="The lamp went out.")
    session.open_story(story.id)
    session.set_setting("seed", 7)
    session.set_setting("max_new_tokens", 12)
    session.load_models()
    return session


def explored(session, settings: ExploreSettings):
    exploration = session.explore(settings)
    exploration.run()
    drained = session.drain_exploration()
    assert drained.ended and not drained.notices
    return exploration, drained.paths


def test_the_budget_is_spent_exactly_and_the_best_path_is_the_best_explored(writer):
    exploration, paths = explored(writer, ExploreSettings(depth=3, budget=5))
    assert exploration.expansions == 5
    nodes = [writer.node(node_id) for node_id in exploration.nodes]
    assert len(nodes) == 5 * 4 and all(n.explored and n.score is not None for n in nodes)
    depths = {n.depth for n in exploration.nodes.values()}
    assert depths <= {1, 2, 3} and 2 in depths  # it went deeper than the start's children
    continued = {n.parent_id for n in exploration.nodes.values()}
    ends = [n for n in exploration.nodes.values() if n.node_id not in continued]
    assert paths[0].score == max(end.promise for end in ends)
    assert [p.score for p in paths] == sorted((p.score for p in paths), reverse=True)
    assert len(paths) == 3 and len({p.end for p in paths}) == 3
    # A path's score is the mean of its passages' stored scores.
    for path in paths:
        scores = [writer.node(node_id).score for node_id in path.node_ids]
        assert math.isclose(path.score, sum(scores) / len(scores))
        assert writer.node(path.node_ids[0]).parent_id == exploration.start_id


def test_the_same_seed_explores_the_same_way(store, tmp_path):
    results = []
    for run in range(2):
        session = make_session(store, tmp_path / str(run), FakeBackend())
        story = store.create_story(f"Same {run}", opening="The lamp went out.")
        session.open_story(story.id)
        session.set_setting("seed", 11)
        session.load_models()
        _, paths = explored(session, ExploreSettings(depth=2, budget=4))
        results.append([(p.text, p.score) for p in paths])
    assert results[0] == results[1]


def test_explored_passages_stay_out_of_the_story_until_one_is_kept(writer):
    store = writer.store
    story_id = writer.story().id
    before_text = store.path_text(writer.story().tip_id)
    exploration, paths = explored(writer, ExploreSettings(depth=2, budget=3))
    assert [b.text for b in writer.branches] == [p.text for p in paths]  # on offer
    tree = writer.tree()
    assert render(tree, "md").count(paths[0].texts[0]) == 0
    assert render(tree, "txt").strip() == before_text.strip()
    word = paths[0].texts[0].split()[-1]
    assert all(hit.node_id not in exploration.nodes for hit in store.search(word))
    writer.offer_stored(writer.story().tip_id)
    assert writer.branches == []  # explored passages are no branches on offer
    # Keeping a path: the whole path joins the story at once.
    writer.drain_exploration()
    exploration2, paths = explored(writer, ExploreSettings(depth=2, budget=3))
    writer.keep(0)
    assert writer.story().tip_id == paths[0].end
    assert store.path_text(paths[0].end) == before_text + paths[0].text
    assert not any(writer.node(node_id).explored for node_id in paths[0].node_ids)
    others = [n for n in exploration2.nodes if n not in paths[0].node_ids]
    assert others and all(writer.node(n).explored for n in others)  # the rest stay explored
    assert any(hit.node_id == paths[0].end for hit in store.search(paths[0].texts[-1].split()[0]))
    assert store.story(story_id).tip_id == paths[0].end


def test_a_story_with_explored_passages_exports_and_imports_whole(writer):
    explored(writer, ExploreSettings(depth=2, budget=2))
    tree = writer.tree()
    document = render(tree, "json")
    again = parse_story_json(document)
    pairs = [(n.text, n.explored, n.score) for n in tree.nodes]
    assert [(n.text, n.explored, n.score) for n in again.nodes] == pairs
    copy = writer.store.add_story_tree(again)
    copied = writer.store.story_tree(copy.id)
    assert [(n.text, n.explored, n.score) for n in copied.nodes] == pairs
    bad = json.loads(document)
    bad["nodes"][1]["score"] = "high"
    with pytest.raises(Exception, match=r"nodes\[1\].score should be a finite number"):
        parse_story_json(json.dumps(bad))


def test_stopping_keeps_every_passage_written(writer):
    exploration = writer.explore(ExploreSettings(depth=3, budget=50))
    # Stop from the worker's own progress: after the third expansion.
    original = exploration.expand

    def expand_then_stop(store, leaf):
        nodes = original(store, leaf)
        if exploration.expansions == 2:
            exploration.cancel.set()
        return nodes

    exploration.expand = expand_then_stop
    exploration.run()
    drained = writer.drain_exploration()
    assert exploration.expansions == 3 and len(exploration.nodes) == 12
    assert all(writer.node(n).explored for n in exploration.nodes)
    assert drained.paths and drained.paths[0].end in exploration.nodes


def test_the_likely_score_penalises_repeating_the_story():
    assert repeated_share(" the lamp went out", "The lamp went out in the hall") == 1.0
    assert repeated_share(" a bell rang twice", "The lamp went out") == 0.0
    # A loop repeats itself: 3 of its 5 word triples came earlier in it.
    assert repeated_share(" on and on and on and on", "") == 0.6


def test_ask_uses_the_answers_of_the_model(writer):
    backend = writer.backend
    exploration, _ = explored(writer, ExploreSettings(depth=1, budget=1, question="Rain?"))
    for node_id, node in exploration.nodes.items():
        ids = backend.tokenize(
            f"The lamp went out.{node.text}\n\nQuestion about the text above: Rain?\n"
            "Answer (yes or no):"
        )
        [[yes, no]] = backend.answer_logprobs([ids], exploration.score.answers)
        assert writer.node(node_id).score == pytest.approx(yes - no)


@pytest.mark.parametrize(
    "settings, refused",
    [
        (ExploreSettings(depth=0), "the depth should be from 1 to 20, not 0"),
        (ExploreSettings(budget=0), "the budget should be from 1 to 500, not 0"),
        (ExploreSettings(question="  "), "ask takes a yes/no question"),
        (ExploreSettings(question="x" * 600), "the question is over 500 characters"),
    ],
)
def test_bad_explorations_are_refused_in_one_line(writer, settings, refused):
    with pytest.raises(ExploreError, match=refused):
        writer.explore(settings)
    assert writer.exploration is None


# ------------------------------------------------------------------------------ line mode


def test_line_mode_explores_and_picks_a_whole_path(writer):
    out = io.StringIO()
    line = LineWriter(writer, out)
    line.handle("/explore 4 2")
    printed = out.getvalue().splitlines()
    assert "(explored: 4 of 4 expansions, 16 passages)" in printed
    listed = [p for p in printed if p.startswith("[")]
    assert len(listed) == 3 and listed[0].startswith("[1] (score ")
    assert printed[-1].startswith("(/pick N keeps a whole path")
    best = writer.branches[0]
    line.handle("/pick 1")
    assert writer.story().tip_id == best.node_id
    assert writer.store.path_text(best.node_id).endswith(best.text)
    for typed, refused in (
        ("/explore many", "! /explore takes a budget and a depth, whole numbers"),
        ("/explore 2 2 ask", "! /explore ask takes a yes/no question"),
        ("/explore 0", "! the budget should be from 1 to 500, not 0"),
    ):
        out.truncate(0)
        out.seek(0)
        line.handle(typed)
        assert out.getvalue().startswith(refused) and out.getvalue().count("\n") == 1


# ------------------------------------------------------- the judge, on a real tiny model


def judge_model(folder):
    """A tiny GPT-2 whose every next-token distribution is the same, known one: its final
    layer norm gives a fixed vector, and only yes and no have weight on it."""
    from transformers import AutoModelForCausalLM

    from testbed.tiny_models import byte_level_gpt2, byte_level_tokenizer

    tokenizer = byte_level_tokenizer()
    tokenizer.add_tokens([" yes", " no"])
    config = byte_level_gpt2(tokenizer, n_positions=256, n_embd=32, n_layer=1, n_head=2)
    model = AutoModelForCausalLM.from_config(config)
    yes, no = tokenizer.convert_tokens_to_ids([" yes", " no"])
    with torch.no_grad():
        model.transformer.ln_f.weight.zero_()
        model.transformer.ln_f.bias.zero_()
        model.transformer.ln_f.bias[0] = 1.0
        head = model.get_output_embeddings().weight
        head.zero_()
        head[yes, 0], head[no, 0] = 5.0, 1.0
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    vocab = len(tokenizer)
    expected = 5.0 - 1.0  # log P(yes) - log P(no): the normaliser cancels
    return folder, expected, vocab


def test_the_judge_reads_the_answer_tokens_own_log_probabilities(store, tmp_path):
    from engine.backend import load_backend
    from tui.core.session import WritingSession

    folder, expected, vocab = judge_model(tmp_path / "judge")
    backend = load_backend(str(folder))
    answers = [backend.tokenize(" yes")[0], backend.tokenize(" no")[0]]
    [[yes, no]] = backend.answer_logprobs([backend.tokenize("Is it raining?")], answers)
    assert yes == pytest.approx(5.0 - math.log(math.exp(5) + math.exp(1) + vocab - 2), abs=1e-5)
    assert yes - no == pytest.approx(expected, abs=1e-5)
    session = WritingSession(store, model=str(folder))
    story = store.create_story("Judge", opening="The rain came.")
    session.open_story(story.id)
    session.set_setting("max_new_tokens", 4)
    session.set_setting("seed", 3)
    session.load_models()
    exploration = session.explore(ExploreSettings(depth=1, budget=1, question="Is it wet?"))
    exploration.run()
    scores = [session.node(n).score for n in exploration.nodes]
    assert scores and all(s == pytest.approx(expected, abs=1e-4) for s in scores)


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_judging_a_batch_gives_each_prompt_what_it_gets_alone(tmp_path, kind):
    """The passages of an expansion are judged in one padded batch: each row is the model's
    own next-token distribution after that prompt, as a pass over it alone gives."""
    from engine.backend import load_backend
    from engine.hf_model import full_logits
    from testbed.tiny_models import save_tiny_model

    backend = load_backend(str(save_tiny_model(tmp_path / kind, kind)))
    prompts = [backend.tokenize(text) for text in ("The lamp", "Rain fell on the old stones", "A")]
    batched = backend.model.next_logprobs(prompts)
    model = backend.model
    for row, ids in zip(batched, prompts, strict=True):
        alone = full_logits(model.model, ids, model.device)[-1].log_softmax(-1)
        assert torch.allclose(row, alone, atol=1e-4)
    answers = [5, 17]
    answered = backend.answer_logprobs(prompts, answers)
    for got, row in zip(answered, batched, strict=True):
        assert got == pytest.approx([float(row[a]) for a in answers], abs=1e-6)


def test_ask_is_refused_by_name_without_yes_and_no_tokens(store, tmp_path):
    from testbed.tiny_models import save_tiny_model
    from tui.core.session import WritingSession

    folder = save_tiny_model(tmp_path / "tiny")
    session = WritingSession(store, model=str(folder))
    story = store.create_story("No words", opening="The rain came.")
    session.open_story(story.id)
    session.load_models()
    with pytest.raises(ExploreError, match="has no single token for yes and for no"):
        session.explore(ExploreSettings(question="Is it wet?"))


# ----------------------------------------------------------------------- the command line


def test_taletree_explore_prints_the_best_paths(tmp_path, db_path):
    from story import Store
    from testbed.tiny_models import save_tiny_model

    folder = save_tiny_model(tmp_path / "tiny")
    with Store.open(db_path) as store:
        store.create_story("Cli", opening="The keeper climbed the stairs.")
    seeded = ("--budget", "3", "--depth", "2", "--seed", "5", "--max-new-tokens", "6", "--json")
    result = run_here("explore", "Cli", "--model", str(folder), *seeded, db=db_path)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["expansions"] == 3 and len(found["paths"]) == 3
    assert found["paths"][0]["score"] >= found["paths"][-1]["score"]
    refused = run_here("explore", "Cli", "--model", str(folder), "--question", "Wet?", db=db_path)
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "no single token for yes and for no" in refused.stderr
    missing = run_here("explore", "Nope", "--model", str(folder), db=db_path)
    assert missing.returncode == 2 and "no story has the id or title 'Nope'" in missing.stderr


# --------------------------------------------------------------------------------- the app


async def explore_in_app(pilot, budget: str, depth: str) -> None:
    from tui.screens.dialogs import ExploreDialog

    await pilot.press("x")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ExploreDialog))
    dialog = pilot.app.screen
    dialog.query_one("#budget").value = budget
    dialog.query_one("#depth").value = depth
    await pilot.press("enter")


async def test_the_app_explores_from_a_branch_and_keeps_a_whole_path(store, tmp_path):
    from tui.screens.explore import ExploreScreen
    from tui.screens.tree import TreeScreen

    story = store.create_story("Lamp", opening="The lamp went out.")
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=(120, 30)) as pilot:
        await write_and_generate(pilot)
        session = app.session
        start = session.branches[1].node_id
        await pilot.press("down")  # branch 2 is highlighted: explore from it
        await explore_in_app(pilot, "3", "2")
        await wait_until(pilot, lambda: isinstance(app.screen, ExploreScreen))
        screen = app.screen
        await wait_until(pilot, lambda: screen.paths and not screen.running)
        # The paths are drawn a refresh after they arrive (on a busy machine, visibly later).
        await wait_until(pilot, lambda: "score " in screen_text(app))
        shown = screen_text(app)
        assert all(f"─ {n} ─" in shown for n in "123")
        assert store.node(screen.paths[0].node_ids[0]).parent_id == start
        best = screen.paths[0]
        await pilot.press("escape")  # back to writing: the paths are the branches on offer
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        assert "explored path" in screen_text(app)
        assert [p.text for p in app.screen.panel.panes[:3]] == [p.text for p in screen.paths]
        await pilot.press("1")
        await wait_until(pilot, lambda: store.tip(story.id).id == best.end)
        assert store.path_text(best.end).endswith(store.node(start).text + best.text)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        assert "explored" in screen_text(app)
        await pilot.press("v")  # hide what explorations wrote
        await pilot.pause()
        assert "explored" not in screen_text(app)


async def test_escape_stops_exploring_and_keeps_what_was_written(store, tmp_path):
    from tui.screens.explore import ExploreScreen

    story = store.create_story("Slow", opening="The lamp went out.")
    app = make_app(store, tmp_path, FakeBackend(rate=40), story_id=story.id)
    async with app.run_test(size=(120, 30)) as pilot:
        await write_and_generate(pilot)
        await explore_in_app(pilot, "50", "3")
        await wait_until(pilot, lambda: isinstance(app.screen, ExploreScreen))
        screen = app.screen
        await wait_until(pilot, lambda: "passages written" in screen_text(app))
        await pilot.press("escape")
        await wait_until(pilot, lambda: not screen.running)
        explored = [n for n in store.story_tree(story.id).nodes if n.explored]
        assert explored and len(explored) < 50 * 4  # stopped early, nothing lost
        assert screen.paths and all(store.node(p.end).explored for p in screen.paths)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))


def test_an_lstm_explores_with_the_likely_scorer(store, tmp_path):
    from engine.training.data import TrainingText
    from engine.training.pipeline import train
    from engine.training.trainer import Trainer
    from testbed.tiny_models import tiny_char_lstm
    from tui.core.session import WritingSession

    stories = [TrainingText(None, "The lamp went out. She waited by the door.")] * 20
    settings = tiny_char_lstm()
    folder = tmp_path / "lstm"
    train(Trainer(stories, folder, settings), corpus_name="tiny")
    session = WritingSession(store, model=str(folder))
    story = store.create_story("Char", opening="The lamp")
    session.open_story(story.id)
    session.set_setting("max_new_tokens", 6)
    session.load_models()
    exploration = session.explore(ExploreSettings(depth=2, budget=2))
    exploration.run()
    assert exploration.expansions == 2 and session.drain_exploration().paths
    assert all(
        session.node(n).explored and session.node(n).score is not None for n in exploration.nodes
    )
    with pytest.raises(ExploreError, match="no single token for yes and for no"):
        session.explore(ExploreSettings(question="Is it dark?"))


class NoAnswerWords(FakeBackend):
    """A model whose vocabulary splits yes and no into pieces."""

    def tokenize(self, text: str) -> list[int]:
        return (
            [ord(c) for c in text]
            if text.strip().lower() in ("yes", "no")
            else super().tokenize(text)
        )


async def test_a_question_the_model_cant_answer_is_said_and_the_app_goes_on(store, tmp_path):
    from textual.widgets import Input, Select

    from tests.app_helpers import Told
    from tui.screens.dialogs import ExploreDialog

    story = store.create_story("Mute", opening="The lamp went out.")
    app = make_app(store, tmp_path, NoAnswerWords(), story_id=story.id)
    told = Told()
    async with app.run_test(size=(120, 30), message_hook=told) as pilot:
        await write_and_generate(pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ExploreDialog))
        app.screen.query_one("#scorer", Select).value = "ask"
        app.screen.query_one("#question", Input).value = "Is it dark?"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        await wait_until(pilot, lambda: told.notifications)
        [said] = [n.message for n in told.notifications if "yes and for no" in n.message]
        assert "has no single token for yes and for no" in said
        assert app.return_code is None and app.session.exploration is None
