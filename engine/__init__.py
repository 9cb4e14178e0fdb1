"""Language models to streamed tokens (torch/transformers). Never imports story/ or tui/."""
