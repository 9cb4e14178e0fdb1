"""Run llama.cpp's own converter (convert_hf_to_gguf.py) on a model folder, in a process of its
own (it parses argv, logs, and patches nothing here):

    python -m engine.gguf.converter CONVERTER_DIR MODEL_FOLDER OUT.gguf OUTTYPE

Two things it can't know about Taletree's models are told to it:
- It recognises a tokenizer's pre-tokenizer by hashing how it splits a test text. A
  byte-level BPE tokenizer that splits with GPT-2's own rule (every tokenizer `taletree train`
  makes) is "gpt-2" even when its vocabulary hashes to nothing the converter knows; any other
  unknown one stays an error.
- It reads GPT-2's context length as `n_ctx`, which transformers no longer writes (it writes
  `n_positions`).
"""

import json
import sys
from pathlib import Path


def splits_like_gpt2(folder: Path) -> bool:
    try:
        tokenizer = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    pre = tokenizer.get("pre_tokenizer") or {}
    return pre.get("type") == "ByteLevel" and pre.get("use_regex", True)


def main() -> None:
    converter, folder, out = (Path(arg) for arg in sys.argv[1:4])
    outtype = sys.argv[4]
    sys.path[:0] = [str(converter), str(converter / "gguf-py")]
    import convert_hf_to_gguf
    from conversion.base import ModelBase, TextModel

    known_pre = TextModel.get_vocab_base_pre

    def vocab_base_pre(self, tokenizer):
        try:
            return known_pre(self, tokenizer)
        except NotImplementedError:
            if splits_like_gpt2(folder):
                return "gpt-2"
            raise

    TextModel.get_vocab_base_pre = vocab_base_pre
    load_hparams = ModelBase.load_hparams

    def with_n_ctx(*args, **kwargs):
        hparams = load_hparams(*args, **kwargs)
        if "n_positions" in hparams:
            hparams.setdefault("n_ctx", hparams["n_positions"])
        return hparams

    ModelBase.load_hparams = staticmethod(with_n_ctx)
    sys.argv = ["convert_hf_to_gguf", str(folder), "--outfile", str(out), "--outtype", outtype]
    convert_hf_to_gguf.main()


if __name__ == "__main__":
    main()
