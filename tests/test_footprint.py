"""The memory guess the models' set is checked against before anything loads."""

from assets import DEMO_MODEL
from engine.footprint import OVERHEAD, free_memory, model_bytes, stored_bytes


def test_a_models_memory_is_its_weights_and_a_quarter_again(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"\0" * 4000)
    (folder / "config.json").write_text("{}")
    assert stored_bytes(folder) == 4000  # the weights, not the notes beside them
    assert model_bytes(str(folder)) == int(4000 * OVERHEAD)
    assert model_bytes("demo") == int(stored_bytes(DEMO_MODEL) * OVERHEAD) > 0
    assert model_bytes("http://127.0.0.1:9/v1#served") == 0  # a server's memory is its own
    assert model_bytes(str(tmp_path / "nowhere")) is None  # unknown: not counted


def test_the_free_memory_is_read_from_the_system():
    free = free_memory()
    assert free is not None and free > 0
