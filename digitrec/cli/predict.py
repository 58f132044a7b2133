"""``python -m digitrec predict [--number] FILE...``: the digit, or the whole number, in each image file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digitrec.cli.options import add_model, load


def add_commands(sub: argparse._SubParsersAction) -> dict:
    """Add ``predict``; return {name: function}."""
    p = sub.add_parser("predict", help="print the digit and confidence for image files")
    p.add_argument("files", nargs="+", type=Path, help="PNG, JPEG, WebP, GIF or BMP files")
    p.add_argument("--top", type=int, default=1, help="show the k likeliest digits")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--number", action="store_true", help='read each file as a whole number ("2026"), digit by digit')
    add_model(p)

    return {"predict": cmd_predict}


def cmd_predict(args) -> int:
    from digitrec.present import format_percent, to_dict

    predictor = load(args)
    if args.number:
        return _predict_numbers(args, predictor)

    def show(path, result) -> None:
        if args.json:
            print(json.dumps({"file": str(path), **to_dict(result)}))
        elif result.blank:
            print(f"{path}: blank (no digit drawn)")
        else:
            top = ", ".join(f"{d} ({format_percent(p)})" for d, p in result.top(max(1, args.top)))
            print(f"{path}: {top}")

    return _each_file(args.files, predictor.predict, show)


def _predict_numbers(args, predictor) -> int:
    """``predict --number``: the number in each file, its confidence, and with ``--top K`` each digit's box
    and K likeliest readings."""
    from digitrec import present

    def show(path, result) -> None:
        if args.json:
            print(json.dumps({"file": str(path), **present.to_dict(result)}))
            return
        print(f"{path}: {present.summary(result)}")
        if args.top > 1:
            for d in result.digits:
                print(f"  {d.digit} at {d.box}: {present.digit_label(d, args.top)}")

    return _each_file(args.files, predictor.read_number, show)


def _each_file(files: list[Path], read: Callable[[Path], Any], show: Callable[[Path, Any], None]) -> int:
    """``show(path, read(path))`` for each file; a file that is no readable image is named on stderr and
    the others still go. The exit status: 1 if any file was not read, else 0."""
    from digitrec.imageio import InvalidImage

    failed = 0
    for path in files:
        try:
            result = read(path)
        except InvalidImage as exc:
            print(f"{path}: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        show(path, result)
    return 1 if failed else 0
