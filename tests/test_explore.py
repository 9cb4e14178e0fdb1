"""Exploring the branches in the app: the token view, forking at a token, and comparing
alternatives. The fake model's probabilities are known: branch b gives each of its tokens
0.5 / (b + 1), and offers the next two words of its list, half and a third as likely."""

import math

from testbed.app_driver import make_app, ready, streamed, wait_until
from testbed.fake_model import WORDS, FakeBackend
from tests.app_helpers import SIZE, Told, screen_text, write_and_generate
from tui.screens.compare import CompareScreen
from tui.screens.token_view import TokenScreen
from tui.screens.tree import TreeScreen
from tui.screens.writing import WritingScreen


async def test_token_view_shows_each_token_and_its_alternatives(store, story, tmp_path):
    backend = FakeBackend()
    app = make_app(store, tmp_path, backend, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        await pilot.press("down", "t")  # branch 2: every token at 25%
        await wait_until(pilot, lambda: isinstance(app.screen, TokenScreen))
        view = app.screen
        assert view.node_id == app.session.branches[1].node_id
        assert len(view.records) == 48 and view.position == 47
        shown = screen_text(app)
        assert "48 tokens by fake, average probability 25%" in shown
        assert "probability" in shown and "90%" in shown  # the legend
        last_word = backend.first_text(1).split()[-1]
        index = WORDS.index(last_word)
        assert f"25.0%  ' {last_word}'  (chosen)" in shown
        assert f"12.5%  ' {WORDS[(index + 1) % len(WORDS)]}'" in shown
        await pilot.press("left", "left")
        assert view.position == 45
        await pilot.press("right")
        assert view.position == 46
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))


async def test_fork_at_a_token_makes_a_sibling_and_the_model_continues(store, story, tmp_path):
    backend = FakeBackend()
    app = make_app(store, tmp_path, backend, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        original = store.node(app.session.branches[0].node_id)
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TokenScreen))
        await pilot.press(*["left"] * 42)  # the sixth token
        view = app.screen
        assert view.position == 5
        words = original.text.split()
        alternative = WORDS[(WORDS.index(words[5]) + 1) % len(WORDS)]
        await pilot.press("down", "enter")  # the second alternative
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        fork = store.tip(story.id)
        assert fork.parent_id == original.parent_id and fork.id != original.id
        assert fork.text == " " + " ".join([*words[:5], alternative])
        assert store.node(original.id).text == original.text  # untouched
        records = store.token_records(fork.id)
        assert len(records) == 6 and math.isclose(math.exp(records[-1].logprob), 0.25, rel_tol=1e-3)
        await streamed(pilot)
        assert len(store.children(fork.id)) == 4  # the usual N branches, from the fork
        assert backend.requests[-1].ids[-6:] == backend.tokenize(fork.text)


async def test_the_token_view_works_after_reopening(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        await write_and_generate(pilot)
        await pilot.press("3")
    kept = store.tip(story.id)
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(pilot)
        screen.view.focus()
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TokenScreen))
        assert app.screen.node_id == kept.id
        assert "average probability 17%" in screen_text(app)


async def test_text_without_token_data_says_so(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    told = Told()
    async with app.run_test(size=SIZE, notifications=True, message_hook=told) as pilot:
        screen = await write_and_generate(pilot)
        store.conn.execute("DELETE FROM tokens")  # as a node from before token data was kept
        await pilot.press("t")
        await pilot.pause()
        assert isinstance(app.screen, WritingScreen)
        assert any("no token data" in n.message for n in told.notifications)
        screen.view.focus()
        await pilot.press("t")
        assert isinstance(app.screen, WritingScreen)


async def test_compare_shows_alternatives_side_by_side_and_keeps_one(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=(120, 30)) as pilot:
        await write_and_generate(pilot)
        ids = [b.node_id for b in app.session.branches]
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        shown = screen_text(app)
        assert shown.count("average log-prob") == 4
        assert "-0.69," in shown and "-1.39," in shown and "-2.08," in shown
        assert all(f"─ {n} ─" in shown for n in "1234")
        await pilot.press("3")
        await wait_until(pilot, lambda: isinstance(app.screen, WritingScreen))
        assert store.tip(story.id).id == ids[2]


async def test_the_tree_shows_average_probabilities_and_compares(store, story, tmp_path):
    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=(120, 30)) as pilot:
        await write_and_generate(pilot)
        ids = [b.node_id for b in app.session.branches]
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        tree = app.screen
        labels = [str(tree.items[i].label) for i in ids]
        assert [label.rsplit(" ", 1)[-1] for label in labels] == ["50%", "25%", "17%", "12%"]
        tree.query_one("Tree").move_cursor(tree.items[ids[1]])
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        assert app.screen.node_ids[0] == ids[1] and len(app.screen.node_ids) == 4


async def test_another_models_tokens_are_not_decoded_with_the_wrong_tokenizer(
    store, story, tmp_path
):
    app = make_app(store, tmp_path, story_id=story.id)
    told = Told()
    async with app.run_test(size=SIZE, notifications=True, message_hook=told) as pilot:
        await write_and_generate(pilot)
        parent = store.tip(story.id).id
        store.conn.execute("UPDATE nodes SET model = 'another-model' WHERE author = 'model'")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, TokenScreen))
        assert "token " in screen_text(app)  # ids, not words decoded by the wrong tokenizer
        before = len(store.children(parent))
        await pilot.press("enter")
        assert isinstance(app.screen, TokenScreen)
        assert any("another-model, which isn't loaded" in n.message for n in told.notifications)
        assert len(store.children(parent)) == before


async def test_where_several_models_wrote_the_tree_and_compare_name_each(store, story, tmp_path):
    from story.models import NodeDraft

    app = make_app(store, tmp_path, story_id=story.id)
    async with app.run_test(size=(160, 30)) as pilot:
        await write_and_generate(pilot)
        parent = app.session.parent_id
        mine, served = store.add_children(
            parent,
            [
                NodeDraft(" Rain fell.", "model", model="/home/w/models/mine"),
                NodeDraft(" A bell rang.", "model", model="http://gpu-box:8000/v1#tiny-llama"),
            ],
        )
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, TreeScreen))
        tree = app.screen
        labels = {i: str(item.label) for i, item in tree.items.items()}
        assert "Rain fell.  mine" in labels[mine.id]
        assert "A bell rang.  tiny-llama" in labels[served.id]
        assert labels[app.session.branches[0].node_id].endswith("fake  50%")
        assert "you" in labels[parent] and "fake" not in labels[parent]  # the writer's own
        tree.query_one("Tree").move_cursor(tree.items[mine.id])
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        shown = screen_text(app)
        assert "─ 1 · mine ─" in shown and "· fake ─" in shown
