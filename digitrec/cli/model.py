"""``python -m digitrec train | evaluate | export``: making a model, measuring it, writing it for other runtimes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from digitrec.cli.options import add_data_dir, add_handwriting_dir, add_model, load
from digitrec.paths import DEFAULT_MODEL
from digitrec.training import DEFAULT_ARCH, MODEL_NAMES


def add_commands(sub: argparse._SubParsersAction) -> dict:
    """Add ``train``, ``evaluate`` and ``export``; return {name: function}."""
    t = sub.add_parser("train", help="train a model and write it with its model card")
    t.add_argument(
        "--arch",
        choices=MODEL_NAMES,
        default=DEFAULT_ARCH,
        help=f"architecture: 'seed' as originally designed, 'compact' its fixes, 'wide' more capacity ({DEFAULT_ARCH})",
    )
    t.add_argument("--epochs", type=int, help="8 for compact and wide, 3 for seed, 1 with --quick")
    t.add_argument("--out", default=str(DEFAULT_MODEL), help="where to write the .keras file")
    t.add_argument("--quick", action="store_true", help="a small subset, for tests and notebooks (seconds)")
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--batch-size", type=int, default=128)
    t.add_argument("--no-augment", action="store_true", help="train default without augmentation")
    t.add_argument("--synthetic", type=int, help="synthetic pen drawings to add (default 30000)")
    t.add_argument("--real-copies", type=int, help="renderings of each training writer's digit (default 6)")
    t.add_argument("--init", help="start from this .keras model's weights (same architecture)")
    t.add_argument("--learning-rate", type=float, help="peak learning rate (default 0.002)")
    t.add_argument("--label-smoothing", type=float, help="soften the labels by this much (default 0; not for seed)")
    t.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run of the same command from its last finished epoch",
    )
    add_data_dir(t)
    add_handwriting_dir(t)

    e = sub.add_parser("evaluate", help="re-measure a saved model on MNIST and on drawing proxies")
    add_model(e)
    add_data_dir(e)
    add_handwriting_dir(e)
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

    x = sub.add_parser(
        "export",
        help="write a TensorFlow SavedModel for TensorFlow Serving, or the "
        "LiteRT flatbuffer the predictor runs fastest",
    )
    x.add_argument("--saved-model", type=Path, help="output folder for a SavedModel")
    x.add_argument(
        "--tflite", action="store_true", help="write <model>.tflite next to the model and record it in the model card"
    )
    x.add_argument("--float", action="store_true", help="with --tflite: keep float32 weights (default: int8 weights)")
    add_model(x)
    return {"train": cmd_train, "evaluate": cmd_evaluate, "export": cmd_export}


def cmd_train(args) -> int:
    from digitrec.training.train import TrainConfig, train

    cfg = TrainConfig(
        arch=args.arch,
        epochs=args.epochs,
        quick=args.quick,
        seed=args.seed,
        batch_size=args.batch_size,
        augment=not args.no_augment,
    )
    for name in ("synthetic", "real_copies", "init", "learning_rate", "label_smoothing"):
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


def cmd_evaluate(args) -> int:
    from digitrec import card as model_card
    from digitrec import evaluate
    from digitrec.data.mnist import load_mnist
    from digitrec.preprocess import preprocess

    predictor = load(args)
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
    from digitrec.data.handwriting import load_handwriting, resolve_dir, split

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


def cmd_export(args) -> int:
    if args.saved_model is None and not args.tflite:
        print("error: say what to write: --saved-model DIR and/or --tflite", file=sys.stderr)
        return 2
    from digitrec.paths import model_path
    from digitrec.training.export import export_saved_model, export_tflite

    load(args)  # the same checks as the apps: existence, SHA-256, input shape
    if args.saved_model is not None:
        out = export_saved_model(model_path(args.model_path), args.saved_model)
        print(
            f"wrote SavedModel to {out} (signature 'serving_default': digit [N,28,28,1] float32 -> "
            f"probabilities [N,10])"
        )
    if args.tflite:
        out = export_tflite(model_path(args.model_path), quantize=not args.float)
        weights = "float32" if args.float else "int8"
        print(f"wrote {out} ({weights} weights), recorded in the model card; the predictor now runs it with LiteRT")
    return 0
