"""The line reader's command line: ``render`` the shards, then ``train`` on them.

python -m digitrec.training.lines render --out runs/lines/train --numbers 100000 --seed 1
python -m digitrec.training.lines render --out runs/lines/validation --group validation --numbers 2000 --seed 2
python -m digitrec.training.lines train --data runs/lines/train --validation runs/lines/validation
python -m digitrec.training.lines train ... --resume     # after a kill: continues at the last checkpoint
python -m digitrec.training.lines calibrate --model models/number_reader.tflite --validation runs/lines/validation
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m digitrec.training.lines", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("render", help="composed numbers -> strips in shards (skips finished shards)")
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--numbers", type=int, required=True)
    r.add_argument("--shard-size", type=int, default=2_000)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--group", choices=("train", "validation", "test"), default="train")
    r.add_argument("--style", choices=("training", "just_touching"), default="training")
    r.add_argument("--handwriting-dir")
    r.add_argument("--mnist-dir")
    t = sub.add_parser("train", help="shards -> models/number_reader.keras + .json + .tflite")
    t.add_argument("--data", type=Path, required=True)
    t.add_argument("--validation", type=Path)
    t.add_argument("--out", type=Path)
    t.add_argument("--passes", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--learning-rate", type=float)
    t.add_argument("--chunk", type=int, help="steps between checkpoints")
    t.add_argument("--seed", type=int)
    t.add_argument("--quick", action="store_true", help="a few hundred numbers, one pass: seconds")
    t.add_argument("--resume", action="store_true")
    c = sub.add_parser("calibrate", help="fit the number confidence's temperature; write it into the card")
    c.add_argument("--model", type=Path, required=True, help="the reader's .tflite")
    c.add_argument("--validation", type=Path, required=True, help="the validation writers' shards")
    args = ap.parse_args(argv)
    if args.command == "calibrate":
        from digitrec.training.lines.calibrate import calibrate

        card = calibrate(args.model, args.validation)
        print(json.dumps({"temperature": card["temperature"], **card["calibration"]}))
        return 0
    if args.command == "render":
        from digitrec.training.lines.render import render

        paths = render(
            args.out, args.numbers, args.shard_size, args.seed, args.group, args.style,
            args.handwriting_dir, args.mnist_dir,
        )  # fmt: skip
        print(f"{len(paths)} shards in {args.out}")
        return 0
    from digitrec.training.lines.train import DEFAULT_OUT, LinesConfig, train

    cfg = LinesConfig(quick=args.quick, passes=1 if args.quick else LinesConfig.passes)
    for name in ("passes", "batch_size", "learning_rate", "chunk", "seed"):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    card = train(args.data, cfg, args.validation, args.out or DEFAULT_OUT, resume=args.resume)
    print(
        json.dumps(
            {k: card[k] for k in ("file", "parameters", "validation_exact")} | {"tflite": card["tflite"]["file"]}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
