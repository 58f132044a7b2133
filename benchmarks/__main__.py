"""``python -m benchmarks``: every measurement, a table on stdout and in ``benchmarks/results.md``.

    python -m benchmarks                  # everything (about 10 minutes on 2 quiet cores)
    python -m benchmarks --only serving   # one part; the others stay as they were in results.md
    python -m benchmarks --tiny --out /tmp/r.md   # seconds per part: proves it runs (the tests)

Progress goes to stderr. Run it on a quiet machine: ``uptime`` should show a load below 0.5.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

from benchmarks.canvases import CACHE_ENV
from benchmarks.context import Context, log
from benchmarks.machine import load_average, machine, now
from benchmarks.report import ORDER, Section, load, merge, render, write
from tests.harness.processes import ROOT

DEFAULT_OUT = Path(__file__).resolve().parent / "results.md"
# Where the Makefile and the tests look for MNIST and the real handwriting when their variables are not set.
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
SHARED_HANDWRITING = ROOT.parent / "shared" / "data" / "handwriting"
# The module that measures a part, where it is not named after the part ("numbers" is a standard-library module).
MODULES = {"numbers": "reading"}


def set_environment() -> None:
    """The settings every part's child processes inherit: made here, by the command, never on import."""
    if "DIGITREC_MNIST_DIR" not in os.environ and SHARED_MNIST.is_dir():
        os.environ["DIGITREC_MNIST_DIR"] = str(SHARED_MNIST)
    if "DIGITREC_HANDWRITING_DIR" not in os.environ and SHARED_HANDWRITING.is_dir():
        os.environ["DIGITREC_HANDWRITING_DIR"] = str(SHARED_HANDWRITING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description="digitrec's speed, in ratios to baselines.")
    ap.add_argument(
        "--tiny",
        action="store_true",
        help="a few repetitions of everything: proves the benchmark works, the figures mean nothing "
        "(writes no file unless --out is given)",
    )
    ap.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help=f"run only these parts (repeat or comma-separate): {', '.join(ORDER)}",
    )
    default = DEFAULT_OUT.relative_to(Path.cwd()) if DEFAULT_OUT.is_relative_to(Path.cwd()) else DEFAULT_OUT
    ap.add_argument(
        "--out", type=Path, help=f"the Markdown report (default {default}; a .json with the same name sits beside it)"
    )
    return ap


def selected(only: list[str] | None) -> list[str]:
    if not only:
        return list(ORDER)
    names = [n.strip() for item in only for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in ORDER]
    if unknown:
        raise SystemExit(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(ORDER)}")
    return [n for n in ORDER if n in names]


def run_part(name: str, ctx: Context) -> Section:
    module = importlib.import_module(f"benchmarks.{MODULES.get(name, name)}")
    before, start = load_average(), time.perf_counter()
    try:
        section = module.run(ctx)
    except Exception as exc:  # one broken part must not hide the others' figures
        log(f"{name}: FAILED\n{traceback.format_exc()}")
        section = Section(name, module.TITLE, intro="", columns=["error"])
        section.add(f"this part failed: {type(exc).__name__}: {str(exc)[:300]}")
        section.run["failed"] = True
    section.run.update(
        date=now(),
        load_before=before,
        load_after=load_average(),
        seconds=round(time.perf_counter() - start, 1),
        tiny=ctx.tiny,
    )
    return section


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    names = selected(args.only)
    set_environment()
    ctx = Context(tiny=args.tiny)
    out = args.out if args.out is not None else (None if args.tiny else DEFAULT_OUT)
    log(f"parts: {', '.join(names)}{' (tiny mode)' if args.tiny else ''}; load average {load_average()}")
    info = machine()  # before anything changes BLAS threads
    sections = []
    with tempfile.TemporaryDirectory(prefix="digitrec-bench-") as cache:
        os.environ[CACHE_ENV] = cache  # the canvases, made once per run for every process
        for name in names:
            log(f"--- {name}")
            sections.append(run_part(name, ctx))
        del os.environ[CACHE_ENV]
    command = (
        "python -m benchmarks" + (" --tiny" if args.tiny else "") + (f" --only {','.join(names)}" if args.only else "")
    )
    data = merge(load(out) if (out is not None and args.only) else {}, info, sections)
    if out is not None:
        text = write(out, data, command)
        log(f"wrote {out} and {out.with_suffix('.json').name}")
    else:
        text = render(data, command)
    sys.stdout.write(text)
    return 1 if any(s.run.get("failed") for s in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
