"""Per-token data of model nodes: packed small, stored with the node, gone with it."""

import math
import random

from hypothesis import given
from hypothesis import strategies as st

from story.models import NodeDraft
from story.tokens import TokenRecord, pack, split_text, unpack

records_strategy = st.lists(
    st.builds(
        TokenRecord,
        token_id=st.integers(0, 2**31 - 1),
        logprob=st.floats(-30, 0, width=32),
        chars=st.integers(0, 40),
        top=st.lists(
            st.tuples(st.integers(0, 2**31 - 1), st.sampled_from([0.5, 0.25, 0.125])), max_size=10
        ).map(tuple),
    ),
    max_size=50,
)


@given(records_strategy)
def test_pack_and_unpack_round_trip(records):
    assert unpack(pack(records)) == records


def realistic(count: int, seed: int = 0) -> list[TokenRecord]:
    rng = random.Random(seed)
    records = []
    for _ in range(count):
        probabilities = sorted((rng.random() for _ in range(10)), reverse=True)
        top = tuple((rng.randrange(50_257), p / 3) for p in probabilities)
        records.append(TokenRecord(top[0][0], math.log(top[0][1]), rng.randint(1, 7), top))
    return records


def test_a_hundred_thousand_tokens_stay_far_under_fifty_megabytes(store):
    story = store.create_story("Big")
    before = store.db_path.stat().st_size
    for chunk in range(100):
        records = realistic(1000, seed=chunk)
        text = "x" * sum(r.chars for r in records)
        store.add_children(story.root_id, [NodeDraft(text, "model", tokens=records)])
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    text_bytes = 100 * 1000 * 4  # the node texts themselves, about 4 characters a token
    grown = store.db_path.stat().st_size - before - text_bytes
    assert grown < 50 * 2**20
    assert grown < 10 * 2**20  # about 64 bytes a token: ten alternatives barely compress


def test_records_are_kept_with_the_node_and_deleted_with_it(store):
    story = store.create_story("Lamp", opening="The lamp")
    records = [TokenRecord(7, -0.1, 5, ((7, 0.9), (8, 0.05))), TokenRecord(9, -2.3, 4, ((1, 0.3),))]
    model, user = store.add_children(
        story.root_id, [NodeDraft(" went out", "model", tokens=records), NodeDraft(" dimmed")]
    )
    assert store.token_records(model.id) == unpack(pack(records))
    assert store.token_records(user.id) is None  # nothing kept: the view says so
    assert split_text(model.text, store.token_records(model.id)) == [" went", " out"]
    mean = store.token_means(story.id)
    assert set(mean) == {model.id} and mean[model.id].count == 2
    assert math.isclose(mean[model.id].probability, math.exp(-1.2), rel_tol=1e-6)
    store.delete_subtree(model.id)
    assert store.conn.execute("SELECT count(*) FROM tokens").fetchone() == (0,)
    store.add_children(story.root_id, [NodeDraft("x", "model", tokens=records[:1])])
    store.delete_story(story.id)
    assert store.conn.execute("SELECT count(*) FROM tokens").fetchone() == (0,)
