"""Exact text from tokens: stop strings split across tokens, sentence and paragraph ends, UTF-8
split across byte tokens, tokenizers that put the space inside the word. A scripted model
plays chosen tokens through the real generate loop and real tokenizers."""

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from engine import events
from engine.settings import SamplingSettings
from testbed.tiny_models import byte_level_tokenizer
from tests.engine_helpers import ScriptedModel, deltas_of, run


def byte_to_symbol() -> dict[int, str]:
    """Byte-level BPE's alphabet: printable bytes stand for themselves, the rest are shifted
    past 255 (the mapping GPT-2 introduced)."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    shifted = iter(range(256, 512))
    return {b: chr(b) if b in printable else chr(next(shifted)) for b in range(256)}


@pytest.fixture(scope="module")
def tokenizer():
    return byte_level_tokenizer()


def byte_tokens(tokenizer, text: str) -> list[int]:
    symbols = byte_to_symbol()
    return tokenizer.convert_tokens_to_ids([symbols[b] for b in text.encode()])


def play(tokenizer, script, settings, context="Once"):
    model = ScriptedModel(tokenizer, [script])
    return run(model, context, 1, settings)


def settings(**kwargs):
    return SamplingSettings(
        temperature=0, max_new_tokens=kwargs.pop("max_new_tokens", 40), **kwargs
    )


def test_utf8_split_over_byte_tokens_holds_back_only_the_incomplete_character(tokenizer):
    text = " a🐉 日本語!"
    tokens, finished = play(tokenizer, byte_tokens(tokenizer, text), settings())
    deltas = [e.delta for e in tokens]
    assert "".join(deltas) + finished[0].delta == text == finished[0].text
    assert all("\ufffd" not in d for d in deltas)
    # The dragon's four bytes: nothing shown until the fourth completes it.
    assert deltas[:6] == [" ", "a", "", "", "", "🐉"]
    assert deltas[6:10] == [" ", "", "", "日"]
    assert finished[0].reason == events.END_OF_TEXT


def test_stop_string_split_across_tokens_is_never_shown(tokenizer):
    script = tokenizer.encode(" The door opened. THE END and more", add_special_tokens=False)
    tokens, finished = play(tokenizer, script, settings(stop_strings=("THE END",)))
    assert finished[0].reason == events.STOP_STRING
    assert finished[0].text == " The door opened. "
    assert "".join(e.delta for e in tokens) + finished[0].delta == finished[0].text
    assert all("TH" not in e.delta for e in tokens)


def test_a_partial_stop_string_is_shown_once_it_cant_complete(tokenizer):
    script = tokenizer.encode(" THE ENDLESS sea", add_special_tokens=False)
    tokens, finished = play(tokenizer, script, settings(stop_strings=("THE END.",)))
    assert finished[0].text == " THE ENDLESS sea" and finished[0].reason == events.END_OF_TEXT
    assert deltas_of(tokens, finished, 0) == finished[0].text


def test_sentence_stop_ends_after_the_sentence(tokenizer):
    script = tokenizer.encode(' He said "Go." She went. Then', add_special_tokens=False)
    _, finished = play(tokenizer, script, settings(stop_mode="sentence"))
    assert finished[0].reason == events.SENTENCE
    assert finished[0].text == ' He said "Go."'


def test_sentence_stop_when_the_token_holds_the_space():
    vocab = {"[end]": 0, " It": 1, " rained": 2, ". ": 3, "More": 4}
    core = Tokenizer(models.WordLevel(vocab, unk_token="[end]"))
    core.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="[end]")
    _, finished = play(tokenizer, [1, 2, 3, 4], settings(stop_mode="sentence"))
    assert finished[0].text == " It rained. " and finished[0].token_ids == (1, 2, 3)


def test_paragraph_stop(tokenizer):
    script = tokenizer.encode("\nFirst line. Still first.\n\nSecond", add_special_tokens=False)
    _, finished = play(tokenizer, script, settings(stop_mode="paragraph"))
    assert finished[0].reason == events.PARAGRAPH
    assert finished[0].text == "\nFirst line. Still first."  # a leading newline doesn't stop


def test_end_of_text_can_be_banned(tokenizer):
    script = tokenizer.encode(" short", add_special_tokens=False)  # then the script says stop
    _, ends = play(tokenizer, script, settings(max_new_tokens=6))
    assert ends[0].reason == events.END_OF_TEXT
    _, goes_on = play(tokenizer, script, settings(max_new_tokens=6, ban_end_of_text=True))
    assert goes_on[0].reason == events.LENGTH and len(goes_on[0].token_ids) == 6


def test_banned_strings_remove_every_token_containing_them(tokenizer):
    script = tokenizer.encode(" the lamp", add_special_tokens=False)
    the = tokenizer.convert_tokens_to_ids("Ġthe")
    assert script[0] == the
    _, finished = play(
        tokenizer, script, settings(max_new_tokens=len(script), banned_strings=("the",))
    )
    assert "the" not in finished[0].text and the not in finished[0].token_ids


def test_a_tokenizer_that_keeps_the_space_inside_the_word():
    """SentencePiece style: '▁world' is ' world' after another word, 'world' at the start."""
    vocab = {"<unk>": 0, "</s>": 1, "▁Hello": 2, "▁world": 3, "!": 4}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Metaspace()
    core.decoder = decoders.Metaspace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, eos_token="</s>", unk_token="<unk>")
    tokens, finished = play(tokenizer, [3, 4], settings(), context=[2])
    assert [e.delta for e in tokens] == [" world", "!"]
    assert finished[0].text == " world!"
