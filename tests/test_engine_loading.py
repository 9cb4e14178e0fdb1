"""Loading models: local folders and hub ids, offline, safe by default, clear errors."""

import json

import pytest
import torch
from transformers import DistilBertConfig, DistilBertModel

from engine.loading import ModelError, load_model, pick_device, pick_dtype, read_weights
from testbed.tiny_models import byte_level_tokenizer, save_tiny_model


@pytest.fixture(scope="module")
def gpt2_folder(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("gpt2"), "gpt2")


def test_a_folder_loads_with_progress_and_defaults(gpt2_folder):
    stages = []
    model = load_model(str(gpt2_folder), progress=stages.append)
    assert stages == ["tokenizer", "weights", "checking", "ready"]
    assert model.serving_path == "fast path"
    assert model.device.type == "cpu" and model.dtype == torch.float32
    assert model.window == 256 and model.model_id == str(gpt2_folder)
    assert model.eos_ids == {model.tokenizer.eos_token_id}


def test_the_sampling_settings_saved_with_a_model_are_its_defaults(tmp_path):
    folder = save_tiny_model(tmp_path / "tuned", "gpt2")
    chosen = {"temperature": 0.55, "top_p": 0.8, "repetition_penalty": 1.15}
    (folder / "generation_config.json").write_text(json.dumps({"do_sample": True, **chosen}))
    assert load_model(str(folder)).generation_defaults() == chosen


def test_device_and_dtype_choices():
    assert pick_device("cpu").type == "cpu"
    assert pick_dtype(torch.device("cpu")) == torch.float32
    assert pick_dtype(torch.device("cpu"), "bfloat16") == torch.bfloat16
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="no CUDA GPU"):
            pick_device("cuda")
        assert pick_device().type in ("cpu", "mps")
    with pytest.raises(ModelError, match="unknown dtype"):
        pick_dtype(torch.device("cpu"), "float8")


def test_a_dtype_override_is_honoured(gpt2_folder):
    model = load_model(str(gpt2_folder), dtype="bfloat16")
    assert model.dtype == torch.bfloat16


def test_weights_are_cast_as_they_are_read_but_float32_modules_stay(gpt2_folder):
    weights = read_weights(gpt2_folder, torch.device("cpu"), torch.bfloat16, {"wte"})
    assert weights["transformer.h.0.attn.c_attn.weight"].dtype == torch.bfloat16
    assert weights["transformer.wte.weight"].dtype == torch.float32
    assert read_weights(gpt2_folder, torch.device("cpu"))["lm_head.weight"].dtype == torch.float32


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(ModelError, match="is not a folder"):
        load_model(str(tmp_path / "nowhere"))
    with pytest.raises(ModelError, match=r"no config\.json"):
        load_model(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(ModelError, match=r"has no model weights \(model.safetensors\)"):
        load_model(str(tmp_path))


def test_pickle_weights_need_permission(tmp_path):
    folder = save_tiny_model(tmp_path / "m", "gpt2")
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(folder)
    (folder / "model.safetensors").unlink()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ModelError, match="only pickle weights"):
        load_model(str(folder))
    assert load_model(str(folder), allow_pickle=True).vocab_size == model.config.vocab_size


def test_a_model_that_is_not_causal_is_refused(tmp_path):
    folder = tmp_path / "distilbert"
    config = DistilBertConfig(vocab_size=100, dim=32, n_layers=1, n_heads=2, hidden_dim=64)
    DistilBertModel(config).save_pretrained(folder)
    byte_level_tokenizer().save_pretrained(folder)
    with pytest.raises(ModelError, match="not a causal language model"):
        load_model(str(folder))


def test_remote_code_is_not_run_unless_asked(tmp_path):
    folder = save_tiny_model(tmp_path / "m", "gpt2")
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="sneaky", auto_map={"AutoModelForCausalLM": "sneaky.Model"})
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "sneaky.py").write_text("raise SystemExit('remote code ran')\n")
    with pytest.raises(ModelError):
        load_model(str(folder))
