"""Training language models on a corpus: the demo corpus, tokenizers, GPT-2 and LSTM."""
