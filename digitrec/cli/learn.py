"""``python -m digitrec learn --user NAME``: "Learn my handwriting" in the foreground.

    python -m digitrec learn --user NAME [--db URL_OR_PATH] [--model FILE] [--steps N] [--folds K] [--include-touching]
    python -m digitrec learn --user NAME --json     # JSON lines: what the apps' worker process prints
    python -m digitrec learn --prepare [--model FILE]   # once after installing a model: fill the cache

Fine-tunes on the user's saved drawings and keeps the result in the store as their personal model: from
then on every app sharing the store answers them with it. Progress as it goes, then the figures before
and after. With ``--json`` each line is a JSON object: ``{"percent": 35, "phase": "fine-tuning"}``, then
``{"done": {...}}`` or ``{"error": "..."}``; the apps read them on a pipe (``digitrec.learning.queue``).
``--prepare`` works out what every Learn from the model reads (``$DIGITREC_CACHE``), which the first
Learn on a machine would otherwise do, in its user's wait.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from digitrec.cli.options import add_model

DB_HELP = "drawing store: a database URL or an SQLite file (default: $DIGITREC_DB, else a file in the user data folder)"


def add_commands(sub: argparse._SubParsersAction) -> dict:
    p = sub.add_parser("learn", help="learn a user's handwriting: their personal model, kept in the store")
    p.add_argument("--user", help="whose saved drawings to learn from (required, but for --prepare)")
    p.add_argument("--prepare", action="store_true", help="only fill the cache every Learn from the model reads")
    p.add_argument("--db", help=DB_HELP)
    add_model(p, "the model to start from (default: $DIGITREC_MODEL or the shipped one)", verify=False)
    p.add_argument("--steps", type=int, help="training steps (default: $DIGITREC_LEARN_STEPS, else the recipe's)")
    p.add_argument("--folds", type=int, help="cross-validation folds for the drawings' figure (default: auto)")
    p.add_argument(
        "--include-touching",
        action="store_true",
        help="also learn from digits saved touching a neighbour (left out by default, as finetune does)",
    )
    p.add_argument("--json", action="store_true", help="progress and result as JSON lines (the apps' worker)")
    p.add_argument("--nice", type=int, default=0, help="lower this process's priority by N (the apps use 5)")
    return {"learn": cmd_learn}


def cmd_learn(args) -> int:
    from digitrec.data.mnist import DataError
    from digitrec.engines import ModelError
    from digitrec.learning.job import TooFewDrawings, learn
    from digitrec.store import InvalidDrawing, StoreError

    if args.nice and hasattr(os, "nice"):
        os.nice(args.nice)
    if args.prepare:
        return cmd_prepare(args)
    if not args.user:
        return fail(args, "--user NAME is required (or --prepare)")
    last = [-1, -1]  # the last percent said, the last 5% step printed

    def progress(fraction: float, phase: str) -> None:
        percent = int(100 * fraction)
        if args.json and percent != last[0]:
            last[0] = percent
            say({"percent": percent, "phase": phase})
        elif not args.json and percent // 5 != last[1]:
            last[1] = percent // 5
            print(f"learning {args.user}'s handwriting: {percent}% ({phase})", flush=True)

    try:
        done = learn(
            args.user,
            args.db,
            args.model_path,
            steps=args.steps,
            folds=args.folds,
            progress=progress,
            include_touching=args.include_touching,
        )
    except (InvalidDrawing, TooFewDrawings, StoreError, ModelError, DataError) as exc:
        return fail(args, str(exc))
    if args.json:
        say({"done": done})
        return 0
    left_out = done["touching_left_out"]
    also = f" ({left_out} saved touching a neighbour left out: --include-touching keeps them)" if left_out else ""
    print(f"learnt {args.user}'s handwriting from {done['drawings']} drawings{also} in {done['seconds']:.0f} s:")
    for line in figures(done):
        print("  " + line)
    print("  time: " + ", ".join(f"{phase} {seconds:.1f} s" for phase, seconds in done["phases"].items()))
    return 0


def cmd_prepare(args) -> int:
    """``--prepare``: what every Learn from the model reads, computed now and kept in ``$DIGITREC_CACHE``."""
    from digitrec.data.mnist import DataError
    from digitrec.engines import ModelError
    from digitrec.training.finetune import prepare

    try:
        ready = prepare(base=args.model_path)
    except (ModelError, DataError) as exc:
        return fail(args, str(exc))
    if args.json:
        say({"prepared": ready})
    else:
        print(f"ready: what every Learn from {ready['base']} reads is in {ready['cache']} ({ready['seconds']:.0f} s)")
    return 0


def fail(args, why: str) -> int:
    """One clear line (or a JSON ``error`` line), exit status 2."""
    if args.json:
        say({"error": why})
    else:
        print(f"error: {why}", file=sys.stderr)
    return 2


def figures(done: dict) -> list[str]:
    """The before / after lines: "own drawings 80.0% → 95.0% (2-fold cross-validation)", one a figure."""
    from digitrec.present import learnt_parts

    return learnt_parts(done)


def say(message: dict) -> None:
    print(json.dumps(message), flush=True)
