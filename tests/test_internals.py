"""Every private name of a library that Taletree reads is still there (engine/internals.py for
transformers and torch, tui/textual_internals.py for Textual): an upgrade that moves one fails
here, naming it, instead of deep in loading, decoding or the app."""

import importlib.util
import subprocess
import sys

import pytest
import torch
from transformers import GPT2Config, GPT2LMHeadModel

from engine.internals import (
    attention_of,
    has_packed_matmul,
    kept_in_float32,
    packed_linear,
    packed_weight,
)
from tests.conftest import ROOT
from tui.textual_internals import press_as_the_terminal, watch_frames


def test_the_attention_a_model_runs_under_is_read_back_as_set():
    import engine.kv_cache  # noqa: F401  (registers Taletree's attention)

    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2, vocab_size=16))
    model.set_attn_implementation("eager")
    assert attention_of(model) == "eager"
    model.set_attn_implementation("taletree")
    assert attention_of(model) == "taletree"


def test_the_modules_a_model_class_keeps_in_float32_are_named():
    from transformers import T5ForConditionalGeneration

    assert "wo" in kept_in_float32(T5ForConditionalGeneration)  # T5 keeps its wo in float32
    assert kept_in_float32(GPT2LMHeadModel) == set()


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="no oneDNN in this torch")
def test_the_packed_matmul_equals_a_plain_linear_layer():
    assert has_packed_matmul()
    torch.manual_seed(0)
    weight, bias, x = torch.randn(12, 8), torch.randn(12), torch.randn(3, 8)
    packed = packed_linear(x, packed_weight(weight), bias)
    assert torch.allclose(packed, torch.nn.functional.linear(x, weight, bias), atol=1e-5)


def test_textuals_names_are_still_its_own():
    from textual.app import App

    assert "_handle_exception" in vars(App), "Textual no longer calls App._handle_exception"
    app = App()
    for name in ("_return_code", "_exception", "_exception_event", "_display", "_driver"):
        assert hasattr(app, name), f"Textual's App has no {name} any more"
    assert callable(app._close_messages_no_wait)


async def test_a_key_from_the_driver_reaches_a_binding_and_its_frame_is_seen():
    from textual.app import App
    from textual.widgets import Static

    class Counter(App):
        BINDINGS = (("x", "count", "count"),)
        counted = 0

        def compose(self):
            yield Static("0")

        def action_count(self) -> None:
            self.counted += 1
            self.query_one(Static).update(str(self.counted))

    app = Counter()
    async with app.run_test() as pilot:
        frames = []

        def record(screen, renderable):
            frames.append(app.counted)
            send(screen, renderable)

        send = watch_frames(app, record)
        press_as_the_terminal(app, "x")
        for _ in range(100):
            await pilot.pause(0.02)
            if 1 in frames:
                break
    assert app.counted == 1 and 1 in frames


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs make gguf")
def test_llama_cpps_null_files_are_closed_at_exit():
    """It opens two /dev/null files on import and never closes them; Python reports them
    unclosed as it exits unless Taletree closes them."""
    code = "from engine.gguf.binding import llama; llama()"
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0 and "ResourceWarning" not in result.stderr, result.stderr
