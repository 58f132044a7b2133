"""``python -m digitrec``: train | evaluate | predict | export | drawings | finetune.

Each command imports what it needs when it runs, so ``predict`` answers without loading TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from digitrec.paths import DEFAULT_MODEL

COMMANDS: dict = {}  # commands defined in other modules, added by parser()


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", help="folder with the four MNIST IDX files (default: $DIGITREC_MNIST_DIR, else download)"
    )


def _add_handwriting_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--handwriting-dir", help="folder with the real pen handwriting files (default: $DIGITREC_HANDWRITING_DIR)"
    )


def _add_model(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        dest="model_path",
        help=f"model file (default: $DIGITREC_MODEL or {DEFAULT_MODEL.relative_to(DEFAULT_MODEL.parents[1])})",
    )
    p.add_argument("--no-verify", action="store_true", help="load a model whose SHA-256 differs from its card")


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m digitrec", description="Handwritten digit recognition.")
    sub = ap.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model and write it with its model card")
    t.add_argument(
        "--arch",
        choices=("default", "seed"),
        default="default",
        help="architecture: 'seed' as originally designed, 'default' improved (default)",
    )
    # Before --arch, the architecture was --model (a file everywhere else); kept for old scripts.
    t.add_argument("--model", dest="old_arch", choices=("default", "seed"), help=argparse.SUPPRESS)
    t.add_argument("--epochs", type=int, help="default: 24 for default, 3 for seed, 1 with --quick")
    t.add_argument("--out", default=str(DEFAULT_MODEL), help="where to write the .keras file")
    t.add_argument("--quick", action="store_true", help="a small subset, for tests and notebooks (seconds)")
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--no-augment", action="store_true", help="train default without augmentation")
    t.add_argument("--synthetic", type=int, help="synthetic pen drawings to add (default 30000)")
    t.add_argument("--real-copies", type=int, help="renderings of each training writer's digit (default 3)")
    t.add_argument("--init", help="start from this .keras model's weights (same architecture)")
    t.add_argument("--learning-rate", type=float, help="peak learning rate (default 0.002)")
    t.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run of the same command from its last finished epoch",
    )
    _add_data_dir(t)
    _add_handwriting_dir(t)

    e = sub.add_parser("evaluate", help="re-measure a saved model on MNIST and on drawing proxies")
    _add_model(e)
    _add_data_dir(e)
    _add_handwriting_dir(e)
    e.add_argument(
        "--writers",
        choices=("test", "validation"),
        default="test",
        help="which held-out writers to report on (default: test)",
    )
    e.add_argument(
        "--drawn", action="store_true", help="real writers it never saw, then the proxies (canvas, pen, scans)"
    )
    e.add_argument(
        "--naive",
        action="store_true",
        help="frame drawings the usual demo's way (whole canvas resized to 28x28) instead of digitrec.preprocess",
    )
    e.add_argument("--quick", action="store_true", help="1,000 MNIST test images and small proxies (300 canvases)")
    e.add_argument("--update-card", action="store_true", help="write the figures into the model card")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser("predict", help="print the digit and confidence for image files")
    p.add_argument("files", nargs="+", type=Path, help="PNG, JPEG, WebP, GIF or BMP files")
    p.add_argument("--top", type=int, default=1, help="show the k likeliest digits")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--number", action="store_true", help='read each file as a whole number ("2026"), digit by digit')
    _add_model(p)

    x = sub.add_parser(
        "export",
        help="write a TensorFlow SavedModel for TensorFlow Serving, or the "
        "LiteRT flatbuffer the predictor runs fastest",
    )
    x.add_argument("--saved-model", type=Path, help="output folder for a SavedModel")
    x.add_argument(
        "--tflite", action="store_true", help="write <model>.tflite next to the model and record it in the model card"
    )
    _add_model(x)
    from digitrec.cli_store import add_commands

    COMMANDS.update(add_commands(sub))  # drawings import|export|stats, finetune: digitrec/cli_store.py
    return ap


def cmd_train(args) -> int:
    from digitrec.training.train import TrainConfig, train

    if args.old_arch:
        warnings.warn(
            "`train --model` is deprecated and will be removed: use `train --arch`", FutureWarning, stacklevel=1
        )
        args.arch = args.old_arch
    cfg = TrainConfig(
        arch=args.arch,
        epochs=args.epochs,
        quick=args.quick,
        seed=args.seed,
        batch_size=args.batch_size,
        augment=not args.no_augment,
    )
    for name in ("synthetic", "real_copies", "init", "learning_rate"):
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    card = train(cfg, data_dir=args.data_dir, out=args.out, handwriting_dir=args.handwriting_dir, resume=args.resume)
    report = card["mnist_test"]
    print(
        f"saved {args.out} ({card['parameters']:,} parameters, {card['training']['epochs']} epochs, "
        f"{card['training']['seconds']:.0f} s)"
    )
    print(f"MNIST test accuracy: {100 * report['accuracy']:.2f}% ({report['errors']} errors in {report['images']:,})")
    return 0


def _load(args):
    from digitrec.predict import Predictor

    return Predictor.load(args.model_path, verify=False if args.no_verify else None)


def cmd_evaluate(args) -> int:
    from digitrec import card as model_card
    from digitrec import evaluate
    from digitrec.data import load_mnist
    from digitrec.preprocess import preprocess

    predictor = _load(args)
    test = load_mnist(args.data_dir).test
    images, labels = (test.images[:1000], test.labels[:1000]) if args.quick else (test.images, test.labels)
    results: dict = {"mnist_test": evaluate.mnist_test(predictor, images, labels)}
    if args.drawn and not args.naive:
        results["real_handwriting"] = _real_handwriting(predictor, args)
    if args.drawn:
        frame = evaluate.naive_frame if args.naive else preprocess
        results["drawn"] = evaluate.drawn(
            predictor,
            images,
            labels,
            n_mnist=300 if args.quick else None,
            n_pen=100 if args.quick else 1000,
            frame=frame,
        )
    if args.update_card and not args.naive:
        card = predictor.card or {}
        card["mnist_test"] = results["mnist_test"]
        if "drawn" in results:
            card["drawn"] = results["drawn"]
        if results.get("real_handwriting"):
            card["real_handwriting"] = results["real_handwriting"]
        model_card.write(predictor.path, card)
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    report = results["mnist_test"]
    print(f"model: {predictor.path} ({predictor.backend} engine)")
    print(f"MNIST test accuracy: {100 * report['accuracy']:.2f}% ({report['errors']} errors in {report['images']:,})")
    print("per class: " + "  ".join(f"{d}: {100 * a:.1f}%" for d, a in report["per_class_accuracy"].items()))
    print("confusion matrix (rows: true digit, columns: predicted):")
    for d, row in enumerate(report["confusion_matrix"]):
        print(f"  {d} " + " ".join(f"{v:5d}" for v in row))
    if results.get("real_handwriting"):
        print(f"\nreal handwriting by {args.writers} writers the model never saw (through Predictor, like the apps):")
        print(evaluate.format_real(results["real_handwriting"]))
    if "drawn" in results:
        how = "the whole canvas naively resized to 28x28" if args.naive else "Predictor.predict, like the apps"
        print(f"\nproxies, most made by this project's own generators, so optimistic (through {how}):")
        print(evaluate.format_table(results["drawn"]))
    return 0


def _real_handwriting(predictor, args) -> dict | None:
    from digitrec import evaluate
    from digitrec.handwriting import load_handwriting, resolve_dir, split

    if resolve_dir(args.handwriting_dir) is None:
        print(
            "note: no real handwriting (set DIGITREC_HANDWRITING_DIR or --handwriting-dir): only the proxies below",
            file=sys.stderr,
        )
        return None
    samples = split(load_handwriting(args.handwriting_dir))[args.writers]
    if args.quick:
        samples = samples[::10]
    try:
        return evaluate.real_handwriting(predictor, samples, seed=evaluate.PROXY_SEED)
    except evaluate.WriterLeak as exc:
        raise SystemExit(f"error: {exc}") from None


def cmd_predict(args) -> int:
    from digitrec.present import format_percent, to_dict

    predictor = _load(args)
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
    from digitrec import reading as numbers

    def show(path, result) -> None:
        if args.json:
            print(json.dumps({"file": str(path), **numbers.to_dict(result)}))
            return
        print(f"{path}: {numbers.summary(result)}")
        if args.top > 1:
            for d in result.digits:
                print(f"  {d.digit} at {d.box}: {numbers.digit_label(d, args.top)}")

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


def cmd_export(args) -> int:
    if args.saved_model is None and not args.tflite:
        print("error: say what to write: --saved-model DIR and/or --tflite", file=sys.stderr)
        return 2
    from digitrec.paths import model_path
    from digitrec.training.export import export_saved_model, export_tflite

    _load(args)  # the same checks as the apps: existence, SHA-256, input shape
    if args.saved_model is not None:
        out = export_saved_model(model_path(args.model_path), args.saved_model)
        print(
            f"wrote SavedModel to {out} (signature 'serving_default': digit [N,28,28,1] float32 -> "
            f"probabilities [N,10])"
        )
    if args.tflite:
        out = export_tflite(model_path(args.model_path))
        print(f"wrote {out} and recorded it in the model card; the predictor now runs it with LiteRT")
    return 0


def main(argv: list[str] | None = None) -> int:
    from digitrec.data import DataError
    from digitrec.predict import ModelError
    from digitrec.store import StoreError

    args = parser().parse_args(argv)
    command = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict, "export": cmd_export, **COMMANDS}
    try:
        return command[args.command](args)
    except (ModelError, DataError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
