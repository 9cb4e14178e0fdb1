"""A real llama.cpp llama-server for the tests and benchmarks: built from source once per
version into a cache outside the checkout (tools/build-llama-cpp.sh; `make test` builds it
before the tests run), serving a tiny model converted to GGUF by llama.cpp's own converter
(through `taletree convert`'s engine/gguf/convert.py)."""

import functools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BUILD = Path(__file__).resolve().parent.parent / "tools" / "build-llama-cpp.sh"


@functools.cache
def server_binary() -> Path:
    """The llama-server binary (built here the first time, which takes minutes)."""
    built = subprocess.run(
        [str(BUILD), "server"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
    )
    if built.returncode != 0:
        raise RuntimeError(f"llama-server could not be built:\n{built.stderr[-3000:]}")
    return Path(built.stdout.strip().splitlines()[-1])


def to_gguf(folder: Path, out: Path, quant: str = "f32") -> Path:
    """A transformers model folder as a GGUF file, by llama.cpp's converter (and quantizer)."""
    from engine.gguf.convert import convert_to_gguf

    convert_to_gguf(folder, out, quant)
    return out


def wait_until_healthy(process: subprocess.Popen, root: str, seconds: float) -> None:
    """Until the server's /health says 200; an error if it exits or takes too long."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with status {process.returncode}")
        try:
            if httpx.get(f"{root}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{process.args[0]} did not start within {seconds:.0f} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """llama-server on a free loopback port, `slots` requests at a time, each with `context`
    tokens; up when constructed, gone after close() (or kill())."""

    def __init__(
        self, model: Path, *, slots: int = 4, context: int = 1024, extra: tuple[str, ...] = ()
    ):
        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.root}/v1"
        command = [
            str(server_binary()),
            "-m",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "-np",
            str(slots),
            "-c",
            str(slots * context),
            "-t",
            "2",
            "--no-webui",
            *extra,
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.wait_until_up()

    def wait_until_up(self) -> None:
        wait_until_healthy(self.process, self.root, seconds=60)

    def busy_slots(self) -> int:
        return sum(bool(s.get("is_processing")) for s in httpx.get(f"{self.root}/slots").json())

    def kill(self) -> None:
        """Gone at once, mid-request if it was in one (kill -9)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
