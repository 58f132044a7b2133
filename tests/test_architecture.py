"""The shape of the code: no import cycles among the project's modules, modules of a readable length,
and the apps' side free of TensorFlow.

Every import counts, at the top, inside a function or under ``TYPE_CHECKING``: a cycle hidden behind a
deferred import is still a cycle (one of the two modules holds the wrong thing). Only the heavy
third-party libraries are imported inside functions, and they are not the project's modules.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("digitrec", "flask_app", "benchmarks", "tests", "scripts")
MAX_LINES = 350
LIMITED = ("digitrec", "flask_app", "benchmarks")


def project_modules() -> dict[str, Path]:
    """{dotted name: file} for every Python module of the project."""
    modules = {path.stem: path for path in sorted(ROOT.glob("*.py"))}  # the front ends, conftest, gunicorn's
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "corpus" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules that ``name`` imports anywhere in its file."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package up
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    return {m for m in found if m in modules and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def test_the_checker_finds_a_cycle_hidden_in_a_function():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_deferred_and_type_checking_imports():
    graph = import_graph()
    assert "digitrec.segment" in graph["digitrec.predict"]  # a plain import is an edge
    # digitrec.cli.model imports the training side only inside its commands: still an edge.
    assert "digitrec.training.train" in graph["digitrec.cli.model"]


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_training_does_not_import_evaluation():
    graph = import_graph()
    leaks = {
        (m, d)
        for m, deps in graph.items()
        if m.startswith("digitrec.training")
        for d in deps
        if d.startswith("digitrec.evaluate")
    }
    assert not leaks


@pytest.mark.parametrize("package", LIMITED)
def test_modules_stay_readable(package):
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / package).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split by job: over {MAX_LINES} lines: {long}"


def test_the_apps_never_import_tensorflow():
    code = (
        "import sys, gradio_app, flask_app, digitrec;"
        "from digitrec import Predictor;"
        "Predictor.load().read_number(__import__('numpy').zeros((50, 80), 'uint8'));"
        "bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(bad); sys.exit(bool(bad))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
