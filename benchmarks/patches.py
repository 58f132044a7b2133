"""The proposed patches (``benchmarks/proposed/*.diff``), applied to a temporary copy of the code.

The benchmarks then run the patched code next to the shipped one, in the same run.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.harness.processes import ROOT

PROPOSED = ROOT / "benchmarks" / "proposed"
TREE = ("digitrec", "flask_app", "models", "benchmarks", "gunicorn.conf.py", "pygame_frontend.py")


def copy_tree(root: Path, dest: Path) -> None:
    """Copy what the benchmarks' child processes import (``TREE``) from ``root`` into ``dest``."""
    for name in TREE:
        src = root / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            shutil.copy2(src, dest / name)


def applies(patch: Path, tree: Path) -> bool:
    """Apply ``patch``'s changes to ``digitrec/`` in ``tree``; False when it does not apply (or no git)."""
    try:
        proc = subprocess.run(
            ["git", "apply", "--include=digitrec/*", str(patch)], cwd=tree, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


@contextlib.contextmanager
def proposed_tree(folder: Path = PROPOSED, root: Path = ROOT) -> Iterator[tuple[Path | None, str]]:
    """A temporary copy of the code at ``root`` with ``folder``/*.diff applied to ``digitrec/``.

    Yields (tree, note): tree is None when there is nothing to apply or a patch no longer applies
    (typically: it has landed), and the note says which. Child processes started with
    ``cwd=tree`` and ``child_env(root=tree)`` then run the patched code next to the shipped one.
    The copy is removed on exit.
    """
    patches = sorted(folder.glob("*.diff"))
    if not patches:
        where = folder.relative_to(root) if folder.is_relative_to(root) else folder
        yield None, f"no patches in {where}/"
        return
    tmp = Path(tempfile.mkdtemp(prefix="digitrec-proposed-"))
    try:
        copy_tree(root, tmp)
        failed = [p.name for p in patches if not applies(p, tmp)]
        if failed:
            yield (
                None,
                (
                    f"{', '.join(failed)} no longer apply to digitrec/ (landed already?), so there are no "
                    "'proposed' rows"
                ),
            )
        else:
            yield tmp, f"proposed = this code with {', '.join(p.name for p in patches)} applied to digitrec/"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
