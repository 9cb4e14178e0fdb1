"""Peak memory while loading a model, as a fraction of its size on disk:
`python -m bench.loading --json`.

A Llama of about a billion parameters (the geometry of the small Llamas: hidden 2048, 22
layers, grouped-query attention) with random weights is saved to disk once, in float32, in a
cache folder outside the checkout. Then a fresh process loads it through the engine, as a writer
would (`load_model`), and reports the most memory it held: the resident set of the process
beyond what it held before loading (torch and transformers imported), and on CUDA the
device's peak too.

Targets: on the CPU (where the weights live in host memory) at most 1.2 times the size on disk;
on CUDA at most 0.3 of it in host memory (the weights go straight to the device).
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
FOLDER = CACHE / "taletree-bench" / "llama-1b"

MAKE = """
import sys, torch
from transformers import LlamaConfig, LlamaForCausalLM
from testbed.tiny_models import byte_level_tokenizer
config = LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                     num_attention_heads=32, num_key_value_heads=4, vocab_size=32000,
                     max_position_embeddings=2048, tie_word_embeddings=False)
torch.manual_seed(0)
with torch.no_grad():
    model = LlamaForCausalLM(config)
model.save_pretrained(sys.argv[1])
byte_level_tokenizer().save_pretrained(sys.argv[1])
print(sum(p.numel() for p in model.parameters()))
"""

MEASURE = """
import json, resource, sys, torch, transformers
from engine.loading import load_model
from transformers import LlamaForCausalLM, AutoTokenizer
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
device = sys.argv[2]
if device == "cuda":
    torch.cuda.reset_peak_memory_stats()
model = load_model(sys.argv[1], device=device, dtype="float32" if device == "cpu" else "bfloat16")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
cuda = torch.cuda.max_memory_allocated() if device == "cuda" else 0
print(json.dumps({"host_peak_bytes": (peak - before) * 1024, "device_peak_bytes": cuda,
                  "serving_path": model.serving_path}))
"""


def size_on_disk(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.glob("*.safetensors"))


def ensure_model() -> int:
    if not any(FOLDER.glob("*.safetensors")):
        FOLDER.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-c", MAKE, str(FOLDER)], check=True, cwd=ROOT)
    return size_on_disk(FOLDER)


def measure(device: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(FOLDER), device],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    parser.parse_args()
    disk = ensure_model()
    figures = {"model": "llama-1.1b random, float32", "size_on_disk_gb": round(disk / 1e9, 2)}
    cpu = measure("cpu")
    figures["cpu_host_peak_over_disk"] = round(cpu["host_peak_bytes"] / disk, 3)
    figures["cpu_target"] = 1.2
    figures["serving_path"] = cpu["serving_path"]
    if torch.cuda.is_available():
        cuda = measure("cuda")
        figures["cuda_host_peak_over_disk"] = round(cuda["host_peak_bytes"] / disk, 3)
        figures["cuda_device_peak_over_disk"] = round(cuda["device_peak_bytes"] / disk, 3)
        figures["cuda_host_target"] = 0.3
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
