"""The borders between the packages, and no import cycles.

engine/ and story/ never import Textual; story/ never imports torch, transformers or engine/;
engine/ never imports story/ or tui/, and serving a model never imports training; the writing
core (tui/core/) imports neither Textual nor prompt-toolkit; common/ imports none of them. No
module reaches itself through imports, lazy ones inside functions included. And the command
line starts without loading any of the heavy libraries, so `taletree --help` answers at once.
Taletree never imports the tests, the benchmarks or what they share (testbed/), and the
benchmarks stand on testbed/, never on the tests."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("assets", "common", "engine", "story", "tui")
# Taletree itself never imports what stands around it (the wheel holds none of it).
AROUND = {"tests", "testbed", "bench"}
FORBIDDEN = {
    "common": {"engine", "story", "tui", "torch", "transformers", "textual", "sqlite_utils"}
    | AROUND,
    "engine": {"textual", "prompt_toolkit", "story", "tui"} | AROUND,
    "story": {"textual", "prompt_toolkit", "torch", "transformers", "tui", "engine"} | AROUND,
    "tui": AROUND,
    "tui/core": {"textual", "prompt_toolkit"},
    "assets": AROUND,
    # What the tests and benchmarks share stands on its own; a benchmark never reaches into
    # the tests.
    "testbed": {"tests", "bench"},
    "bench": {"tests"},
}
HEAVY = ("torch", "transformers", "textual", "sqlite_utils")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def project_modules() -> dict[str, Path]:
    return {
        module_name(p): p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))
    }


def type_checking_only(tree: ast.AST) -> set[ast.AST]:
    """The statements under `if TYPE_CHECKING:`: for type checkers, never run."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                skipped |= set(ast.walk(statement))
    return skipped


def imported_names(path: Path, modules: set[str] = frozenset(), run_only: bool = False) -> set[str]:
    """Every module named by an import statement anywhere in the file, lazy ones included
    (with `run_only`, not those only type checkers read): `from a.b import c` names a.b.c
    where that is one of `modules`, else a.b."""
    names = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = type_checking_only(tree) if run_only else set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                names.add(submodule if submodule in modules else node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_forbidden_import_statements(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        crossing = {n.split(".")[0] for n in imported_names(path)} & FORBIDDEN[package]
        assert not crossing, f"{path.relative_to(ROOT)} imports {sorted(crossing)}"


def test_serving_a_model_never_imports_training():
    """What a model reads (its genre prefix, story mode) is engine/reading.py's, which training
    uses too: running a model needs nothing of training."""
    serving = [p for p in sorted((ROOT / "engine").rglob("*.py")) if "training" not in p.parts]
    assert serving
    for path in serving:
        training = {n for n in imported_names(path) if n.startswith("engine.training")}
        assert not training, f"{path.relative_to(ROOT)} imports {sorted(training)}"


def loaded_modules_after(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return {name.split(".")[0] for name in result.stdout.split()}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_importing_every_module_loads_nothing_forbidden(package):
    dotted = package.replace("/", ".")
    modules = [m for m in project_modules() if m == dotted or m.startswith(dotted + ".")]
    loaded = loaded_modules_after("\n".join(f"import {m}" for m in modules))
    assert not loaded & FORBIDDEN[package]


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {
        name: {m for m in imported_names(path, set(modules), run_only=True) if m in modules}
        - {name}
        for name, path in modules.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_no_import_cycles():
    graph = import_graph()
    assert {"tui.cli", "tui.app", "tui.core.session", "engine.generate"} <= set(graph)
    assert cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


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
