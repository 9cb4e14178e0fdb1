"""Taletree's own engine against llama.cpp's llama-server on the same weights:
`python -m bench.remote --json`.

A GPT-2 of the small size's geometry (768 wide, 12 layers, 1024 positions; Taletree's
400-token byte-level vocabulary) with random weights is saved once in a cache folder outside
the checkout, with a float32 GGUF copy made by llama.cpp's converter; llama-server is the one
the tests build (tools/build-llama-cpp.sh). Measured side by side in one run, each
the median of a few:

- 4 branches × 64 tokens from a 100-token prompt: the wall time of each, and their ratio.
- Time to the first token for a 900-token story seen for the first time (cold), and after 20
  tokens are appended to it (warm), for each: warm over cold.
"""

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from engine.backend import LocalBackend
from engine.events import TokenEvent
from engine.loading import load_model
from engine.remote.backend import ServerBackend
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from testbed.llama_server import LlamaServer, to_gguf

CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
FOLDER = CACHE / "taletree-bench" / "gpt2-small-400"
BRANCHES = SamplingSettings(
    temperature=1.0, max_new_tokens=64, stop_mode="tokens", ban_end_of_text=True
)
FIRST_TOKEN = SamplingSettings(
    temperature=1.0, max_new_tokens=1, stop_mode="tokens", ban_end_of_text=True
)
REPEATS = 3


def ensure_model() -> tuple[Path, Path]:
    from testbed.tiny_models import byte_level_gpt2, byte_level_tokenizer, save_random_model

    gguf = FOLDER / "model.gguf"
    if not gguf.exists():
        tokenizer = byte_level_tokenizer()
        config = byte_level_gpt2(
            tokenizer, n_positions=1024, n_embd=768, n_layer=12, n_head=12, tie_word_embeddings=True
        )
        save_random_model(FOLDER / "hf", config, tokenizer, seed=0)
        to_gguf(FOLDER / "hf", FOLDER / "partial.gguf").rename(gguf)
    return FOLDER / "hf", gguf


def story(length: int, salt: int) -> list[int]:
    return [(i * 31 + salt * 7) % 397 + 2 for i in range(length)]


def wall(backend, ids: list[int], branches: int, settings: SamplingSettings) -> float:
    started = time.perf_counter()
    for _ in backend.stream(GenerationRequest(ids, branches, settings, seed=5)):
        pass
    return time.perf_counter() - started


def first_token(backend, ids: list[int]) -> float:
    started = time.perf_counter()
    for event in backend.stream(GenerationRequest(ids, 1, FIRST_TOKEN, seed=5)):
        if isinstance(event, TokenEvent):
            return time.perf_counter() - started
    raise RuntimeError("no token came")


def measure(backend, salt: int) -> dict[str, float]:
    walls, colds, warms = [], [], []
    for repeat in range(REPEATS):
        walls.append(wall(backend, story(100, salt + repeat), 4, BRANCHES))
        long_story = story(900, salt + 10 + repeat)  # never seen: cold
        colds.append(first_token(backend, long_story))
        warms.append(first_token(backend, long_story + story(20, salt + 20 + repeat)))
    return {
        "wall": statistics.median(walls),
        "cold": statistics.median(colds),
        "warm": statistics.median(warms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.parse_args()
    folder, gguf = ensure_model()
    local = LocalBackend(load_model(str(folder), device="cpu"), "local")
    server = LlamaServer(gguf, slots=4, context=1024)
    try:
        remote = ServerBackend(server.url)
        wall(local, story(50, 99), 4, BRANCHES)  # warm-up: first calls pay one-time costs
        wall(remote, story(50, 99), 4, BRANCHES)
        ours, theirs = measure(local, 0), measure(remote, 100)
    finally:
        server.close()
    figures = {
        "model": "gpt2 768x12, 1024 positions, random, float32 (GGUF f32 for llama-server)",
        "threads": 2,
        "local_4x64_s": round(ours["wall"], 3),
        "server_4x64_s": round(theirs["wall"], 3),
        "local_over_server_4x64": round(ours["wall"] / theirs["wall"], 3),
        "local_cold_ttft_ms": round(ours["cold"] * 1000, 1),
        "local_warm_ttft_ms": round(ours["warm"] * 1000, 1),
        "local_warm_over_cold": round(ours["warm"] / ours["cold"], 3),
        "server_cold_ttft_ms": round(theirs["cold"] * 1000, 1),
        "server_warm_ttft_ms": round(theirs["warm"] * 1000, 1),
        "server_warm_over_cold": round(theirs["warm"] / theirs["cold"], 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
