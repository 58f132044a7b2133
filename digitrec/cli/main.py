"""``python -m digitrec`` (or ``digitrec``): train | evaluate | export | predict | drawings | finetune | learn.

Each command imports what it needs when it runs, so ``predict`` answers without loading TensorFlow.
"""

from __future__ import annotations

import argparse
import sys

from digitrec.cli import drawings, learn, model, predict
from digitrec.data.mnist import DataError
from digitrec.engines import ModelError
from digitrec.store import StoreError


def parser() -> tuple[argparse.ArgumentParser, dict]:
    """The argument parser and {command: function}."""
    ap = argparse.ArgumentParser(prog="digitrec", description="Handwritten digit recognition.")
    sub = ap.add_subparsers(dest="command", required=True)
    commands = {}
    for module in (model, predict, drawings, learn):
        commands.update(module.add_commands(sub))
    return ap, commands


def main(argv: list[str] | None = None) -> int:
    """Run one command; a missing model, data or store is one line on stderr and exit status 2."""
    ap, commands = parser()
    args = ap.parse_args(argv)
    try:
        return commands[args.command](args)
    except (ModelError, DataError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
