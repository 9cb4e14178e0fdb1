"""Shared pieces for engine tests: tiny model folders, a plain Hugging Face reference, and a
scripted model that plays fixed tokens (for exact text edge cases of the generate loop)."""

import torch

from engine.detokenize import CONTEXT_TOKENS, IncrementalDecoder
from engine.events import FinishEvent, TokenEvent
from engine.generate import generate
from engine.request import GenerationRequest


def run(model, context, branches, settings, cancel=None, **options):
    """(token events, finish events by branch) of `branches` continuations of `context` (ids,
    or a text to encode)."""
    if isinstance(context, str):
        context = model.tokenizer.encode(context, add_special_tokens=False)
    tokens, finished = [], {}
    request = GenerationRequest(context, branches, settings, **options)
    for event in generate(model, request, cancel=cancel):
        if isinstance(event, TokenEvent):
            tokens.append(event)
        else:
            assert isinstance(event, FinishEvent) and event.branch not in finished
            finished[event.branch] = event
    assert sorted(finished) == list(range(branches))
    return tokens, finished


def collect(stream) -> tuple[list, list, list[str]]:
    """A backend's stream gathered: (token events, finish events by branch, notices)."""
    tokens, finishes, notices = [], {}, []
    for event in stream:
        if isinstance(event, TokenEvent):
            tokens.append(event)
        elif isinstance(event, FinishEvent):
            finishes[event.branch] = event
        else:
            notices.append(event.text)
    return tokens, [finishes[i] for i in sorted(finishes)], notices


def deltas_of(tokens, finished, branch):
    return "".join(e.delta for e in tokens if e.branch == branch) + finished[branch].delta


def decode_continuation(tokenizer, context_ids, ids) -> str:
    """The reference the deltas must add up to: the new ids' text, read after the context."""
    context = list(context_ids[-CONTEXT_TOKENS:])
    decode = IncrementalDecoder(tokenizer).decode
    return decode(context + list(ids))[len(decode(context)) :]


def reference_greedy(model, ids, max_new_tokens, **options):
    """What Hugging Face's own generate() gives, without the end-of-text token (`options`:
    more of generate's arguments)."""
    prompt = torch.tensor([ids])
    with torch.inference_mode():
        output = model.generate(
            prompt,
            attention_mask=torch.ones_like(prompt),
            do_sample=False,
            max_new_tokens=max_new_tokens,
            pad_token_id=model.config.eos_token_id,
            **options,
        )
    new = output[0, len(ids) :].tolist()
    return new[:-1] if new and new[-1] == model.config.eos_token_id else new


class ScriptedModel:
    """Plays fixed token sequences, one per branch, by making them overwhelmingly likely."""

    def __init__(self, tokenizer, scripts, eos_ids=None):
        self.tokenizer = tokenizer
        self.device = torch.device("cpu")
        self.serving_path = "scripted"
        self.window = None
        self.vocab_size = len(tokenizer)
        self.eos_ids = eos_ids if eos_ids is not None else {tokenizer.eos_token_id}
        self.scripts = scripts
        self.step = 0
        self.prefilled = []

    def logits(self, step, rows):
        logits = torch.zeros(rows, self.vocab_size)
        for row in range(rows):
            script = self.scripts[row % len(self.scripts)]
            token = script[step] if step < len(script) else self.tokenizer.eos_token_id
            logits[row, token] = 50.0
        return logits

    def prefill(self, ids):
        self.prefilled.append(list(ids))
        self.step = 0
        return self.logits(0, 1)[0]

    def start_branches(self, count, max_new_tokens):
        self.count = count

    def decode(self, tokens):
        self.step += 1
        return self.logits(self.step, tokens.shape[0])

    def end_branches(self):
        pass
