"""Benchmark scripts: each prints one JSON object of figures. Not tests."""
