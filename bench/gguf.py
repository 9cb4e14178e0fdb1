"""GGUF files in this process on llama.cpp, against llama-server and Taletree's torch engine on
the same weights: `python -m bench.gguf --json`.

The model is bench/remote.py's: a GPT-2 of the small size's geometry (768 wide, 12 layers, 1024
positions, Taletree's 400-token byte-level vocabulary) with random weights, kept in a cache
folder outside the checkout, converted by llama.cpp's converter to an f32 GGUF and quantized by
its quantizer to Q8_0. Measured side by side in one run, each the median of a few:

- 4 branches × 64 tokens from a 100-token prompt, in process on the f32 file and by
  llama-server on the same file: in_process_over_server (at most 1.0 is the target).
- One decoding step of 4 branches, in process on Q8_0 and by the torch engine on the float32
  folder: torch_over_q8_step (at least 2.5).
- One step of 4 branches over one step of 1, in process on Q8_0: four_over_one_step (at most
  1.2); and the same for llama_decode alone, without the loop's sampling around it
  (llama_decode_4_over_1), which is llama.cpp's own kernels' share of it.
- Time to the first token after 20 tokens are appended to a 900-token story (warm) over that of
  the story seen for the first time (cold), in process on Q8_0: warm_over_cold (at most 0.1).
"""

import argparse
import json
import statistics
import time
from itertools import pairwise
from pathlib import Path

import torch

from bench.remote import FOLDER, ensure_model, first_token, story, wall
from engine.backend import LocalBackend, load_backend
from engine.events import TokenEvent
from engine.gguf.convert import quantize
from engine.gguf.model import physical_cores
from engine.loading import load_model
from engine.remote.backend import ServerBackend
from engine.request import GenerationRequest
from engine.settings import SamplingSettings
from testbed.llama_server import LlamaServer

BRANCHES = SamplingSettings(
    temperature=1.0, max_new_tokens=64, stop_mode="tokens", ban_end_of_text=True
)
REPEATS = 3


def ensure_q8(f32: Path) -> Path:
    q8 = FOLDER / "model-q8_0.gguf"
    if not q8.exists():
        partial = FOLDER / "partial-q8_0.gguf"
        partial.unlink(missing_ok=True)
        quantize(f32, partial, "q8_0")
        partial.rename(q8)
    return q8


def step_seconds(backend, branches: int, salt: int) -> float:
    """The median time of one decoding step of `branches` branches (64 steps from a
    100-token prompt): the time between a branch's tokens, once it is writing."""
    arrivals = []
    for event in backend.stream(GenerationRequest(story(100, salt), branches, BRANCHES, seed=5)):
        if isinstance(event, TokenEvent) and event.branch == 0:
            arrivals.append(time.perf_counter())
    return statistics.median(b - a for a, b in pairwise(arrivals))


def decode_seconds(backend, branches: int, salt: int) -> float:
    """The median time of llama_decode alone for one step of `branches` branches."""
    model = backend.model
    model.prefill(story(100, salt))
    model.start_branches(branches, 64)
    tokens = torch.tensor([5] * branches)
    times = []
    try:
        for _ in range(32):
            started = time.perf_counter()
            model.decode(tokens)
            times.append(time.perf_counter() - started)
    finally:
        model.end_branches()
    return statistics.median(times)


def median_of(measure, *args) -> float:
    return statistics.median(measure(*args, salt) for salt in range(REPEATS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.parse_args()
    folder, f32 = ensure_model()
    q8 = ensure_q8(f32)
    in_f32 = load_backend(str(f32), device="cpu")
    in_q8 = load_backend(str(q8), device="cpu")
    torch_engine = LocalBackend(load_model(str(folder), device="cpu"), "torch")
    server = LlamaServer(f32, slots=4, context=1024)
    try:
        served = ServerBackend(server.url)
        for backend in (in_f32, in_q8, torch_engine, served):  # one-time costs first
            wall(backend, story(50, 99), 4, BRANCHES)
        in_f32_wall = median_of(lambda salt: wall(in_f32, story(100, salt), 4, BRANCHES))
        server_wall = median_of(lambda salt: wall(served, story(100, salt), 4, BRANCHES))
    finally:
        server.close()
    q8_step4 = median_of(step_seconds, in_q8, 4)
    q8_step1 = median_of(step_seconds, in_q8, 1)
    decode4, decode1 = median_of(decode_seconds, in_q8, 4), median_of(decode_seconds, in_q8, 1)
    torch_step4 = median_of(step_seconds, torch_engine, 4)
    colds, warms = [], []
    for salt in range(REPEATS):
        long_story = story(900, salt + 10)  # never seen: cold
        colds.append(first_token(in_q8, long_story))
        warms.append(first_token(in_q8, long_story + story(20, salt + 20)))
    cold, warm = statistics.median(colds), statistics.median(warms)
    figures = {
        "model": "gpt2 768x12, 1024 positions, random; GGUF f32 and Q8_0, torch float32",
        "threads": physical_cores(),
        "in_process_f32_4x64_s": round(in_f32_wall, 3),
        "server_f32_4x64_s": round(server_wall, 3),
        "in_process_over_server": round(in_f32_wall / server_wall, 3),
        "q8_step_4_ms": round(q8_step4 * 1000, 2),
        "torch_step_4_ms": round(torch_step4 * 1000, 2),
        "torch_over_q8_step": round(torch_step4 / q8_step4, 2),
        "q8_step_1_ms": round(q8_step1 * 1000, 2),
        "four_over_one_step": round(q8_step4 / q8_step1, 3),
        "llama_decode_4_ms": round(decode4 * 1000, 2),
        "llama_decode_1_ms": round(decode1 * 1000, 2),
        "llama_decode_4_over_1": round(decode4 / decode1, 3),
        "q8_cold_ttft_ms": round(cold * 1000, 1),
        "q8_warm_ttft_ms": round(warm * 1000, 1),
        "warm_over_cold": round(warm / cold, 3),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
