"""The wheel: built from this checkout, installed into a fresh virtual environment elsewhere, it runs.

The fresh environment is made offline and in seconds: no pip, no downloads. A ``.pth`` file in its
site-packages lends it this interpreter's site-packages (numpy, Pillow, ai-edge-litert, pip
itself...), never the checkout, and ``pip install --no-deps --no-index`` puts the wheel in it. A
``.pth`` file's folders are appended after the environment's own site-packages and their own ``.pth``
files are not read, so an editable install of ``digitrec`` beside this interpreter stays out of it.
"""

from __future__ import annotations

import ast
import os
import shutil
import site
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import numpy as np
import pytest

from digitrec.data.canvases import pen_digit, to_png
from tests.harness.support import ROOT

CLEAN_ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "DIGITREC_MODEL")},
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_INPUT": "1",
}


def run(argv: list, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=CLEAN_ENV, capture_output=True, text=True, timeout=timeout
    )


def copy_checkout(dest: Path) -> Path:
    """The files a fresh clone would have, plus this tree's uncommitted ones: no build/, .venv or
    *.egg-info left over from earlier builds (setuptools would put a stale build/lib in the wheel)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():  # a file deleted but not yet committed is listed too
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    src = copy_checkout(tmp / "src")
    built = run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
        + ["-w", tmp / "dist", src],
        cwd=tmp,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (found,) = (tmp / "dist").glob("digitrec-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh virtual environment, outside the checkout, with the wheel installed: its bin/ folder."""
    env_dir = tmp_path_factory.mktemp("venv")
    assert ROOT not in env_dir.parents
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    where = run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env_dir)
    purelib = Path(where.stdout.strip())
    lent = [p for p in site.getsitepackages() if Path(p).is_dir() and Path(p).resolve() != ROOT]
    (purelib / "_digitrec_test_lent.pth").write_text("".join(f"{p}\n" for p in lent))
    # --ignore-installed: pip never uninstalls a digitrec it sees in the lent folders.
    pip = run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", wheel], env_dir)
    assert pip.returncode == 0, pip.stderr[-3000:]
    return env_dir / "bin"


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A working folder outside the checkout, holding a pen drawing of a 3."""
    assert ROOT not in tmp_path.parents
    (tmp_path / "three.png").write_bytes(to_png(pen_digit(3, np.random.default_rng(0))))
    return tmp_path


def test_every_package_is_listed_in_pyproject():
    from setuptools import find_packages

    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    found = find_packages(where=str(ROOT), include=["digitrec", "digitrec.*", "flask_app", "flask_app.*"])
    assert sorted(listed) == sorted([*found, "digitrec.models"])


@pytest.mark.slow
def test_the_wheel_holds_the_packages_their_files_and_the_models_only(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "digitrec/__main__.py",
        "digitrec/cli/__init__.py",
        "flask_app/templates/index.html",
        "flask_app/static/app.js",
        "digitrec/models/digit_recognizer.keras",
        "digitrec/models/digit_recognizer.json",
        "digitrec/models/digit_recognizer.tflite",
    } <= names
    tops = {name.split("/")[0] for name in names}
    assert tops == {"digitrec", "flask_app", wheel.name.split("-py3")[0] + ".dist-info"}, tops
    entry_points = zipfile.ZipFile(wheel).read(f"{wheel.name.split('-py3')[0]}.dist-info/entry_points.txt")
    assert "digitrec = digitrec.cli:main" in entry_points.decode()


@pytest.mark.slow
def test_the_installed_console_script_reads_a_drawing_outside_the_checkout(installed, elsewhere):
    result = run([installed / "digitrec", "predict", "three.png"], elsewhere)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("three.png: 3 "), result.stdout
    missing = run([installed / "digitrec", "predict", "no-such-file.png"], elsewhere)
    assert missing.returncode == 1 and "cannot read" in missing.stderr  # main()'s status is the exit code


@pytest.mark.slow
def test_the_installed_package_is_the_wheel_not_the_checkout(installed, elsewhere):
    code = (
        "import sys, sysconfig, digitrec, digitrec.paths as p, flask_app; "
        "print(sysconfig.get_paths()['purelib']); print(digitrec.__file__); print(flask_app.__file__); "
        "print(p.DEFAULT_MODEL, p.DEFAULT_MODEL.is_file()); print(sys.path)"
    )
    result = run([installed / "python", "-c", code], elsewhere)
    assert result.returncode == 0, result.stderr[-3000:]
    purelib, package, app, model, path = result.stdout.splitlines()
    assert Path(package).is_relative_to(purelib) and Path(app).is_relative_to(purelib)
    assert model == f"{Path(purelib).resolve() / 'digitrec' / 'models' / 'digit_recognizer.keras'} True"
    assert str(ROOT) not in ast.literal_eval(path)  # the checkout itself is not on sys.path (its .venv may be)
    as_module = run([installed / "python", "-m", "digitrec", "predict", "three.png"], elsewhere)
    assert as_module.returncode == 0 and as_module.stdout.startswith("three.png: 3 "), as_module.stderr[-3000:]
