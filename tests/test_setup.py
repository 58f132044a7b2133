"""The repository itself: pins agree, MNIST stays out, the CI entry point calls the README's command."""

from __future__ import annotations

import re
import subprocess

from tests.harness.support import ROOT


def pins(text: str) -> dict[str, str]:
    found = re.findall(r"^[\s-]*([A-Za-z0-9_.\-]+)==([\w.]+)\s*$", text, flags=re.M)
    return {name.lower().replace("_", "-"): version for name, version in found}


def test_requirements_and_environment_list_the_same_packages():
    reqs = pins((ROOT / "requirements.txt").read_text())
    env = pins((ROOT / "environment.yml").read_text())
    assert reqs and reqs == env
    assert reqs["tensorflow-cpu"].startswith("2.21") and reqs["keras"].startswith("3.")
    assert "python=3.11" in (ROOT / "environment.yml").read_text()


def test_mnist_is_never_committed():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    assert "README.md" in tracked  # a failed or empty listing would pass the check below vacuously
    assert not [f for f in tracked if re.search(r"(idx[13]-ubyte|mnist.*\.(npz|gz))$", f, re.I)]


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make demo" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
