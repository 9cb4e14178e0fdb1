"""A real terminal for tests: a detached tmux session we type into and read the screen of."""

import os
import shlex
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable


class Terminal:
    def __init__(self, command: list[str], env: dict[str, str], cwd: str, size=(100, 30)):
        assert shutil.which("tmux"), (
            "tmux is needed: `make test` installs it (apt-get install tmux)"
        )
        self.name = f"taletree-test-{uuid.uuid4().hex[:8]}"
        settings = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # The app runs as the shell's child (app_pid finds it, to kill it); when it ends, its
        # exit code stays on screen for the test to read.
        shell = (
            f"cd {shlex.quote(cwd)} && env {settings} {shlex.join(command)}; "
            "echo EXITED $?; sleep 60"
        )
        width, height = size
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(width),
                "-y",
                str(height),
                shell,
            ],
            check=True,
            env={**os.environ, "TERM": "xterm-256color"},
        )

    def send(self, *keys: str, literal: bool = False) -> None:
        subprocess.run(
            ["tmux", "send-keys", "-t", self.name, *(["-l"] if literal else []), *keys], check=True
        )

    def type(self, text: str) -> None:
        self.send(text, literal=True)

    def screen(self) -> str:
        result = subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", self.name],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    def wait_for(self, check: Callable[[str], bool] | str, timeout: float = 60.0) -> str:
        predicate = (lambda s: check in s) if isinstance(check, str) else check
        deadline = time.monotonic() + timeout
        while True:
            shown = self.screen()
            if predicate(shown):
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {check!r}; the screen:\n{shown}")
            time.sleep(0.1)

    def app_pid(self) -> int:
        """The process running in the pane (the shell's child: the app)."""
        shell = subprocess.run(
            ["tmux", "display", "-p", "-t", self.name, "#{pane_pid}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        children = subprocess.run(["pgrep", "-P", shell], capture_output=True, text=True)
        return int(children.stdout.split()[0])

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)
