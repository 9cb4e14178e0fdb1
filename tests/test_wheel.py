"""Taletree as a user installs it (`pip install .`, `pipx install .`): a built wheel, installed
into an environment of its own (not the editable install), holds every module, the stylesheet
and the demo model, and runs the command line, `taletree generate` and the app from there."""

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.test_import_hygiene import project_modules

pytestmark = pytest.mark.slow

APP_SCRIPT = """
import asyncio
from tui.app import TaletreeApp
from tui.core.library import open_store
from tui.core.session import WritingSession

async def main():
    with open_store("stories.db") as store:
        store.create_story("Wheel", opening="The inspector knocked.")
        session = WritingSession(store, model="demo")
        app = TaletreeApp(session, story_id=1, blink=False)
        async with app.run_test(size=(100, 30)) as pilot:
            while session.backend is None or session.generation is not None or not session.branches:
                if session.backend is not None and not session.branches:
                    await pilot.press("enter")
                await pilot.pause(0.1)
            print(type(app.screen).__name__, session.backend.name, len(session.branches))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """An environment with the wheel installed; the dependencies come from this one's."""
    folder = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(folder / "dist"),
            str(ROOT),
        ],
        check=True,
    )
    [wheel] = (folder / "dist").glob("taletree-*.whl")
    environment = folder / "env"
    subprocess.run([sys.executable, "-m", "venv", str(environment)], check=True)
    python = environment / "bin" / "python"
    where = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run(
        [str(python), "-c", where], capture_output=True, text=True, check=True
    ).stdout.strip()
    # The installed dependencies (torch, transformers, Textual…) are reused, not downloaded.
    (Path(site) / "taletree-test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    return environment


def run(environment: Path, *command: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={
            "PATH": str(environment / "bin"),
            "HOME": str(cwd),
            "HF_HUB_OFFLINE": "1",
            # The default model's folder as this run made it once (conftest), not made again.
            "TALETREE_MODELS": os.environ["TALETREE_MODELS"],
        },
    )


def test_the_wheel_holds_every_module_the_stylesheet_and_the_demo_model(installed):
    [wheel] = (installed.parent / "dist").glob("taletree-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for module, path in project_modules().items():
        assert str(path.relative_to(ROOT)) in names, f"{module} is not in the wheel"
    assert "tui/taletree.tcss" in names
    for file in (ROOT / "assets" / "models" / "taletree-demo").iterdir():
        assert f"assets/models/taletree-demo/{file.name}" in names


def test_the_installed_command_line_and_generate(installed, tmp_path):
    where = run(installed, "python", "-c", "import tui, assets; print(tui.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(installed)), where  # the wheel's copy, not the checkout
    help_text = run(installed, "taletree", "--help", cwd=tmp_path)
    assert help_text.returncode == 0 and "usage: taletree" in help_text.stdout
    generated = run(
        installed,
        "taletree",
        "generate",
        "--prompt",
        "The inspector",
        "--max-new-tokens",
        "12",
        "--seed",
        "3",
        cwd=tmp_path,
    )
    assert generated.returncode == 0, generated.stderr
    assert generated.stdout.startswith("The inspector") and len(generated.stdout) > 20


def test_the_installed_app_writes_with_the_demo_model(installed, tmp_path):
    result = run(installed, "python", "-c", APP_SCRIPT, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["WritingScreen", "taletree-demo", "4"]
