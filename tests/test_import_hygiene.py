"""The borders between the packages: engine/ and story/ never import Textual, story/ never
imports torch or transformers, engine/ never imports story/ or tui/. And the command line
starts without loading any of the heavy libraries, so `taletree --help` answers at once."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

FORBIDDEN = {
    "engine": {"textual", "story", "tui"},
    "story": {"textual", "torch", "transformers", "tui", "engine"},
}
HEAVY = ("torch", "transformers", "textual", "sqlite_utils")


def imported_top_level_names(path: Path) -> set[str]:
    """Every module named by an import statement anywhere in the file, lazy ones included."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_import_statements(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        crossing = imported_top_level_names(path) & FORBIDDEN[package]
        assert not crossing, f"{path.relative_to(ROOT)} imports {sorted(crossing)}"


def loaded_modules_after(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True, text=True, cwd=ROOT, check=True,
    )  # fmt: skip
    return {name.split(".")[0] for name in result.stdout.split()}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_importing_every_module_loads_nothing_forbidden(package):
    modules = [
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in sorted((ROOT / package).rglob("*.py"))
    ]
    loaded = loaded_modules_after("\n".join(f"import {m}" for m in modules))
    assert not loaded & FORBIDDEN[package]


def test_help_loads_no_heavy_library():
    code = (
        "import sys, contextlib, io\n"
        "from tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    )
    assert not loaded_modules_after(code) & set(HEAVY)


def test_the_app_starts_without_torch():
    """The first frame never waits for torch: the model loads later, in a worker thread."""
    loaded = loaded_modules_after("import tui.app, tui.screens.tree, tui.screens.settings")
    assert "textual" in loaded
    assert not loaded & {"torch", "transformers"}
