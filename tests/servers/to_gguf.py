"""Convert a GPT-2 model folder to GGUF with llama.cpp's own converter, for llama-server.

    python tests/servers/to_gguf.py CONVERTER_DIR MODEL_FOLDER OUT.gguf

CONVERTER_DIR is where tests/servers/build-llama-server.sh keeps the converter beside the
binary. The converter recognises a tokenizer's pre-tokenizer by hashing how it splits a test
text; Taletree's tokenizers are byte-level BPE with GPT-2's splitting rule, which it can't
recognise by hash, so it is told: "gpt-2". And the converter reads GPT-2's context length as
`n_ctx`, which transformers no longer writes (it writes `n_positions`).
"""

import sys
from pathlib import Path


def main() -> None:
    converter, folder, out = (Path(arg) for arg in sys.argv[1:4])
    sys.path[:0] = [str(converter), str(converter / "gguf-py")]
    import convert_hf_to_gguf
    from conversion.base import ModelBase, TextModel

    TextModel.get_vocab_base_pre = lambda self, tokenizer: "gpt-2"
    load_hparams = ModelBase.load_hparams

    def with_n_ctx(*args, **kwargs):
        hparams = load_hparams(*args, **kwargs)
        if "n_positions" in hparams:
            hparams.setdefault("n_ctx", hparams["n_positions"])
        return hparams

    ModelBase.load_hparams = staticmethod(with_n_ctx)
    sys.argv = ["convert_hf_to_gguf", str(folder), "--outfile", str(out), "--outtype", "f32"]
    convert_hf_to_gguf.main()


if __name__ == "__main__":
    main()
