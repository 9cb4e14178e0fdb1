import asyncio
import inspect
import io
import os
import subprocess
import sys
import warnings
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from unittest import mock

import pytest

from story import Store

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def own_folders(tmp_path_factory, monkeypatch):
    """Each test's config and state folders are its own: the writer's real config.toml and
    error log are never read or written by a test (nor by the `taletree` it runs)."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))


@pytest.fixture(autouse=True, scope="session")
def own_model_cache(tmp_path_factory):
    """The default model's folder is made once per run, in the run's own temporary folder
    (before any module's model fixture), never in the writer's cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TALETREE_MODELS", str(tmp_path_factory.getbasetemp() / "models"))
        yield


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "stories.db"


@pytest.fixture
def store(db_path: Path):
    with Store.open(db_path) as opened:
        yield opened


@pytest.fixture
def story(store):
    """A story to write in: "Lamp", opening with one sentence."""
    return store.create_story("Lamp", opening="The lamp went out.")


def run_cli(*args: str, db: Path | None = None, stdin: str | None = None, env=None):
    """Run the real `taletree` command in a child process, as a writer would."""
    environment = {**os.environ, **(env or {})}
    environment.pop("TALETREE_DB", None) if env is None or "TALETREE_DB" not in env else None
    command = [sys.executable, "-m", "tui", *args]
    if db is not None:
        command += ["--db", str(db)]
    return subprocess.run(
        command,
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=environment,
        timeout=60,
    )


def run_here(*args: str, db: Path | None = None):
    """Run `taletree`'s own entry point (its parser, commands and error policy) in this
    process: for the many refusals whose child process would spend seconds importing torch
    only to say one line. What a child process adds (its exit code, its stdin) is tested
    through run_cli."""
    from tui.cli import main

    argv = [*args, *(["--db", str(db)] if db is not None else [])]
    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ),
        warnings.catch_warnings(),  # main sends warnings to the log; put that back after
        redirect_stdout(out),
        redirect_stderr(err),
    ):
        os.environ.pop("TALETREE_DB", None)
        try:
            code = main(argv)
        except SystemExit as done:  # argparse, after --help
            code = done.code
    return subprocess.CompletedProcess(["taletree", *argv], code, out.getvalue(), err.getvalue())


def one_line_refusal(result, *phrases: str) -> str:
    """The one policy for an expected error: one line on stderr, exit code 2."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    message = result.stderr.strip()
    assert "\n" not in message and message.startswith("taletree: "), message
    for phrase in phrases:
        assert phrase in message, message
    return message


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests (the app's Pilot tests) in a fresh event loop each."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        names = pyfuncitem._fixtureinfo.argnames
        asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
        return True
    return None
