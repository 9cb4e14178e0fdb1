"""Tokenizers trained on the corpus: byte-level BPE for GPT-2 (every string round-trips), and
word or character vocabularies for the LSTMs. Each has <BOS>, <EOS> and one token per genre,
and is saved as a fast tokenizer that AutoTokenizer loads."""

import json
import re
from collections import Counter

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from engine.reading import BOS, EOS, genre_prefix, genre_token
from engine.training.data import TrainingText
from engine.training.english import COMMON_WORDS

UNKNOWN = "<unk>"
# Words, single punctuation marks and runs of spaces are each a token of the word vocabulary;
# decoding joins them as they are, so text round-trips except for words never seen.
WORD_PIECES = r"\w+|\s+|[^\w\s]"


def special_tokens(genres: list[str]) -> list[str]:
    return [EOS, BOS, *(genre_token(g) for g in genres)]


def wrap(core: Tokenizer, genres: list[str], unknown: str | None = None) -> PreTrainedTokenizerFast:
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        bos_token=BOS,
        eos_token=EOS,
        unk_token=unknown,
        additional_special_tokens=[genre_token(g) for g in genres],
    )


def train_bpe(
    stories: list[TrainingText], genres: list[str], vocab_size: int
) -> PreTrainedTokenizerFast:
    """Byte-level BPE by GPT-2's rule (so llama.cpp reads it as GPT-2's), with one difference:
    a space never merges with a capital letter. "Mira" is then the same tokens at the start of
    a line, after a quote and after a space (which stays a token of its own there), and a model
    can carry a name on by copying the tokens it read. The vocabulary is trained again to make
    up for the tokens that leaves out."""
    texts = [*(s.text for s in stories), *everyday_words()]
    core = without_spaced_capitals(bpe(texts, genres, vocab_size))
    missing = vocab_size - core.get_vocab_size()
    if missing > 0:
        core = without_spaced_capitals(bpe(texts, genres, vocab_size + missing))
    return wrap(core, genres)


def bpe(texts: list[str], genres: list[str], vocab_size: int) -> Tokenizer:
    core = Tokenizer(models.BPE())
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=special_tokens(genres),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    core.train_from_iterator(texts, trainer)
    return core


SPACE = "Ġ"  # a space, as byte-level BPE spells it


def spaced_capital(token: str) -> bool:
    return len(token) > 1 and token[0] == SPACE and token[1].isupper()


def without_spaced_capitals(core: Tokenizer) -> Tokenizer:
    """The tokenizer less every token that joins a space to a capital letter, and every merge
    that makes or uses one; the rest keep their order, numbered again from 0."""
    saved = json.loads(core.to_str())
    model = saved["model"]
    kept = [t for t, _ in sorted(model["vocab"].items(), key=lambda item: item[1])]
    kept = [t for t in kept if not spaced_capital(t)]
    model["vocab"] = {token: number for number, token in enumerate(kept)}
    pairs = [m.split(" ") if isinstance(m, str) else m for m in model["merges"]]
    model["merges"] = [[a, b] for a, b in pairs if not (spaced_capital(a) or spaced_capital(a + b))]
    return Tokenizer.from_str(json.dumps(saved))


def everyday_words(weight: int = 20) -> list[str]:
    """Everyday words as they stand in a sentence (after a space, and capitalised at the start
    of a line), each often enough that BPE merges it whole once the corpus's own words are."""
    line = "\n".join(f" {w}\n{w.capitalize()}" for w in COMMON_WORDS)
    return [line] * weight


def train_words(
    stories: list[TrainingText], genres: list[str], vocab_size: int
) -> PreTrainedTokenizerFast:
    counts = Counter(p for s in stories for p in re.findall(WORD_PIECES, s.text))
    specials = [*special_tokens(genres), UNKNOWN]
    common = [w for w, _ in counts.most_common(max(0, vocab_size - len(specials)))]
    vocabulary = {token: i for i, token in enumerate([*specials, *common])}
    core = Tokenizer(models.WordLevel(vocabulary, unk_token=UNKNOWN))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(WORD_PIECES), behavior="isolated")
    core.decoder = decoders.Fuse()
    return wrap(core, genres, unknown=UNKNOWN)


def train_chars(stories: list[TrainingText], genres: list[str]) -> PreTrainedTokenizerFast:
    characters = sorted({c for s in stories for c in s.text})
    specials = [*special_tokens(genres), UNKNOWN]
    vocabulary = {token: i for i, token in enumerate([*specials, *characters])}
    core = Tokenizer(models.WordLevel(vocabulary, unk_token=UNKNOWN))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    core.decoder = decoders.Fuse()
    return wrap(core, genres, unknown=UNKNOWN)


def encode_story(tokenizer: PreTrainedTokenizerFast, story: TrainingText) -> list[int]:
    """<BOS> <genre> text <EOS>, as the seed article formats its training stories. A model not
    trained by Taletree reads the text after its own start token."""
    start = [
        tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    ]
    prefix = genre_prefix(tokenizer, story.genre) or start
    return [
        *prefix,
        *tokenizer.encode(story.text, add_special_tokens=False),
        tokenizer.eos_token_id,
    ]
