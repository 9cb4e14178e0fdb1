"""The induction circuit a Llama trained by Taletree starts from (engine/training/induction.py):
before any training it looks one token back, finds where the current token stood before, and
makes what followed it there likelier. Without --start induction a Llama starts plainly random."""

import torch

from engine.training.settings import TrainSettings
from engine.training.trainer import build_model
from testbed.tiny_models import byte_level_tokenizer

LENGTH = 40  # a random run of tokens, then the same run again


def fresh_llama(**shape):
    settings = TrainSettings(
        arch="llama", context=512, **{"layers": 2, "heads": 3, "width": 96, **shape}
    )
    model = build_model(settings, byte_level_tokenizer())
    model.set_attn_implementation("eager")  # the attention weights are read below
    return model.eval()


def repeated_run(vocab: int) -> torch.Tensor:
    run = torch.randint(20, vocab, (4, LENGTH), generator=torch.Generator().manual_seed(5))
    return torch.cat([run, run], dim=1)


def attend(model, ids):
    with torch.no_grad():
        return model(input_ids=ids, output_attentions=True)


def looks_back(out) -> float:
    """How much the first block's first head attends to the token just before."""
    return torch.diagonal(out.attentions[0][:, 0], -1, dim1=1, dim2=2).mean().item()


def test_an_untrained_llama_already_copies_a_run_it_has_read():
    model = fresh_llama(start="induction")
    ids = repeated_run(model.config.vocab_size)
    out = attend(model, ids)
    assert looks_back(out) > 0.9
    # In the second run, position t's token stood at t - LENGTH before: what followed it
    # there, at t - LENGTH + 1, is what comes next, and the second block's first head finds it.
    second = out.attentions[1][:, 0]
    finds = torch.stack([second[:, t, t - LENGTH + 1] for t in range(LENGTH, 2 * LENGTH)])
    assert finds.mean() > 0.25
    losses = -torch.log_softmax(out.logits, -1)[:, :-1].gather(2, ids[:, 1:, None])[..., 0]
    assert losses[:, LENGTH:].mean() < losses[:, : LENGTH - 1].mean() - 0.1


def test_a_llama_started_at_random_has_no_circuit():
    model = fresh_llama()
    assert not model.config.attention_bias
    assert looks_back(attend(model, repeated_run(model.config.vocab_size))) < 0.5
