"""Every ```python block of README.md (and docs/drawings.md) runs, as a new user would run it.

The blocks run in order in one namespace (a later one may use ``predictor`` from an earlier one), in
a temporary working folder holding the files they name (``drawing.png``, ``year.png``), with the
drawing store in a temporary folder (``DIGITREC_DATA``, ``DIGITREC_DB``).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from digitrec.data.canvases import pen_digit, to_png
from tests.harness.support import ROOT

BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
DOCS = ["README.md", "docs/drawings.md"]


def python_blocks(name: str) -> list[str]:
    return BLOCK.findall((ROOT / name).read_text())


@pytest.fixture
def new_user(tmp_path, monkeypatch):
    """A working folder with a drawn 7 and a drawn year, and a store of one's own."""
    rng = np.random.default_rng(0)
    (tmp_path / "drawing.png").write_bytes(to_png(pen_digit(7, rng, "dark_on_light")))
    year = np.hstack([pen_digit(d, rng, "dark_on_light") for d in (2, 0, 2, 6)])
    (tmp_path / "year.png").write_bytes(to_png(year))
    monkeypatch.chdir(tmp_path)
    for var in ("DIGITREC_MODEL", "DIGITREC_BACKEND", "DIGITREC_VERIFY_MODEL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DIGITREC_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("DIGITREC_DB", str(tmp_path / "data" / "drawings.sqlite3"))
    return tmp_path


def test_the_readme_has_the_snippets_a_new_user_tries_first():
    blocks = python_blocks("README.md")
    assert len(blocks) >= 3
    assert 'predictor.predict("drawing.png")' in blocks[0]
    assert any('read_number("year.png")' in b for b in blocks)
    assert any("Store.open()" in b for b in blocks)


@pytest.mark.parametrize("name", DOCS)
def test_every_python_block_runs(name, new_user):
    namespace: dict = {"__name__": "__readme__"}
    for i, block in enumerate(python_blocks(name)):
        try:
            exec(compile(block, f"{name} python block {i + 1}", "exec"), namespace)
        except Exception as exc:  # say which block, then fail with the original
            raise AssertionError(f"{name}, python block {i + 1} fails:\n{block}") from exc
    if name == "README.md":
        assert namespace["result"].digit == 7
        assert len(namespace["reading"].text) == 4
        assert namespace["store"] is not None
