"""What the tests and the benchmarks both stand on, kept apart from both: a deterministic fake
model, tiny real models built from a config, a real llama-server run on loopback, and the app
driven headless. Taletree itself never imports it (and the wheel doesn't hold it)."""
