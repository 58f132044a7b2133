"""Options several commands share, and loading the model they name."""

from __future__ import annotations

import argparse

from digitrec.paths import DEFAULT_MODEL


def add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir", help="folder with the four MNIST IDX files (default: $DIGITREC_MNIST_DIR, else download)"
    )


def add_handwriting_dir(p: argparse.ArgumentParser, why: str = "") -> None:
    p.add_argument(
        "--handwriting-dir",
        help=f"folder with the real pen handwriting files{why} (default: $DIGITREC_HANDWRITING_DIR)",
    )


def add_model(p: argparse.ArgumentParser, help: str | None = None, verify: bool = True) -> None:
    p.add_argument(
        "--model",
        dest="model_path",
        help=help or f"model file (default: $DIGITREC_MODEL or the shipped {DEFAULT_MODEL.name})",
    )
    if verify:
        p.add_argument("--no-verify", action="store_true", help="load a model whose SHA-256 differs from its card")


def load(args):
    """The ``Predictor`` for ``--model`` (checked against its card unless ``--no-verify``)."""
    from digitrec.predict import Predictor

    return Predictor.load(args.model_path, verify=False if getattr(args, "no_verify", False) else None)
