"""``python -m digitrec drawings import|export|stats|delete`` and ``python -m digitrec finetune``.

    python -m digitrec drawings import DIR [--db URL_OR_PATH] [--user NAME]   # DIR/0/*.png ... DIR/9/*.png
    python -m digitrec drawings export DIR [--db URL_OR_PATH] [--user NAME]   # the same layout back
    python -m digitrec drawings stats [--db URL_OR_PATH] [--user NAME] [--json]
    python -m digitrec drawings delete --user NAME [--db URL_OR_PATH] [--yes]   # "Forget me", model too: asks
    python -m digitrec finetune [--db URL_OR_PATH] [--user NAME] [--data-dir MNIST_DIR] [--include-touching] --out PATH

Other tools script these forms: keep them stable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from digitrec.cli.options import add_data_dir, add_handwriting_dir, add_model
from digitrec.paths import DEFAULT_MODEL, why_not_written

DB_HELP = (
    "drawing store: a database URL (postgresql://...) or an SQLite file "
    "(default: $DIGITREC_DB, else a file in the user data folder)"
)


def add_commands(sub: argparse._SubParsersAction) -> dict:
    """Add ``drawings`` and ``finetune``; return {name: function}."""
    d = sub.add_parser("drawings", help="the saved drawings: import a folder, export them, count them, delete a user's")
    dsub = d.add_subparsers(dest="action", required=True)
    imp = dsub.add_parser("import", help="save DIR/0/*.png ... DIR/9/*.png, each labelled by its folder")
    imp.add_argument("dir", type=Path)
    exp = dsub.add_parser("export", help="write every saved drawing to DIR/<label>/<id>.png")
    exp.add_argument("dir", type=Path)
    st = dsub.add_parser("stats", help="how many drawings are saved: per digit, source and user")
    st.add_argument("--json", action="store_true", help="print JSON")
    for p in (imp, exp, st):
        p.add_argument("--db", help=DB_HELP)
        p.add_argument("--user", help="import: whose drawings (default: your login name); else: only theirs")
    add_model(imp, "the model whose answers are recorded (default: the shipped one)", verify=False)
    de = dsub.add_parser("delete", help="forget a user: delete every drawing they saved (asks first)")
    de.add_argument("--user", required=True, help="whose drawings to delete")
    de.add_argument("--db", help=DB_HELP)
    de.add_argument("--yes", action="store_true", help="do not ask (needed without a terminal: scripts)")

    f = sub.add_parser("finetune", help="fine-tune the model on the saved drawings, mixed with MNIST")
    f.add_argument("--db", help=DB_HELP)
    f.add_argument("--user", help="only this user's drawings (default: everyone's)")
    f.add_argument(
        "--include-touching",
        action="store_true",
        help="also learn from digits saved touching a neighbour (left out by default: a sliver of it may be in them)",
    )
    add_data_dir(f)
    add_handwriting_dir(f, ", for the validation writers")
    f.add_argument("--out", required=True, help="the new .keras file (never the model it starts from)")
    add_model(f, f"the model to start from (default: $DIGITREC_MODEL or {DEFAULT_MODEL.name})", verify=False)
    f.add_argument("--steps", type=int, help="training steps (default: the recipe's)")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--folds", type=int, help="cross-validation folds for the saved drawings' figure (default: auto)")
    f.add_argument("--json", action="store_true", help="print the report as JSON")
    return {"drawings": cmd_drawings, "finetune": cmd_finetune}


def cmd_drawings(args) -> int:
    from digitrec.store import InvalidDrawing, Store, clean_user

    if args.user is not None:  # once, up front: not once per file
        try:
            args.user = clean_user(args.user)
        except InvalidDrawing as exc:
            print(f"error: --user: {exc}", file=sys.stderr)
            return 2
    store = Store.open(args.db)
    try:
        actions = {"import": _import, "export": _export, "stats": _stats, "delete": _delete}
        return actions[args.action](store, args)
    finally:
        store.close()


def _import(store, args) -> int:
    from digitrec.card import sha256
    from digitrec.imageio import InvalidImage
    from digitrec.predict import Predictor
    from digitrec.store import InvalidDrawing, drawing_png

    if not args.dir.is_dir():
        print(
            f"error: {args.dir} is not a folder (expected {args.dir}/0/*.png ... {args.dir}/9/*.png)", file=sys.stderr
        )
        return 2
    files, links = _pngs(args.dir)
    for link in links:
        print(f"{link}: skipped: a symbolic link, not followed", file=sys.stderr)
    if not files:
        print(f"error: no {args.dir}/<digit>/*.png files", file=sys.stderr)
        return 2
    predictor = Predictor.load(args.model_path)
    digest = (predictor.card or {}).get("sha256") or sha256(predictor.path)
    saved = skipped = failed = 0
    for label, path in files:
        try:
            if store.has_image(drawing_png(path)):
                skipped += 1
                continue
            store.save(
                path, label, prediction=predictor.predict(path), model_sha256=digest, source="cli", user=args.user
            )
            saved += 1
        except (InvalidImage, InvalidDrawing) as exc:
            print(f"{path}: skipped: {exc}", file=sys.stderr)
            failed += 1
    print(
        f"imported {saved} drawings into {store.describe()}"
        + (f"; {skipped} already there" if skipped else "")
        + (f"; {failed} not readable" if failed else "")
        + (f"; {len(links)} symbolic links not followed" if links else "")
    )
    return 1 if failed or links else 0


def _pngs(folder: Path) -> tuple[list[tuple[int, Path]], list[Path]]:
    """``folder/0/*.png`` ... ``folder/9/*.png`` as (label, file), and the symbolic links among the
    digit folders and files: never followed, so an import reads nothing outside ``folder``."""
    files, links = [], []
    for d in range(10):
        sub = folder / str(d)
        if sub.is_symlink():
            links.append(sub)
            continue
        for f in sorted(sub.glob("*.png")):
            if f.is_symlink():
                links.append(f)
            elif f.is_file():
                files.append((d, f))
    return files, links


# A new file only: never through a symbolic link (O_NOFOLLOW), never over a file there (O_EXCL).
NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)


def _export(store, args) -> int:
    written = same = refused = 0
    folders: dict[int, Path | None] = {}
    try:
        args.dir.mkdir(parents=True, exist_ok=True)
        for drawing in store.drawings(args.user):
            if drawing.label not in folders:
                folders[drawing.label] = _label_folder(args.dir / str(drawing.label))
            if folders[drawing.label] is None:
                refused += 1
                continue
            # names from the label and the id alone: no user input in a path
            path = folders[drawing.label] / f"{drawing.id:06d}.png"
            why = _write_new(path, drawing.png)
            if why is None:
                written += 1
            elif why == "same":
                same += 1
            else:
                print(f"{path}: skipped: {why}", file=sys.stderr)
                refused += 1
    except OSError as exc:
        where = exc.filename or args.dir
        print(f"error: cannot export to {where}: {why_not_written(where, exc)}", file=sys.stderr)
        return 2
    print(
        f"exported {written} drawings to {args.dir}/<digit>/<id>.png"
        + (f"; {same} already there" if same else "")
        + (f"; {refused} not written" if refused else "")
    )
    return 1 if refused else 0


def _label_folder(folder: Path) -> Path | None:
    """``folder`` (made if missing), or None for a symbolic link: never followed."""
    if folder.is_symlink():
        print(f"{folder}: skipped: a symbolic link, not followed (its drawings are not written)", file=sys.stderr)
        return None
    folder.mkdir(exist_ok=True)
    return folder


def _write_new(path: Path, data: bytes) -> str | None:
    """Write ``data`` to ``path`` as a new file: None once written, "same" when that very file is there
    already, else why it was not written. Never follows a link, never overwrites; OSError when the
    folder cannot be written."""
    try:
        fd = os.open(path, NEW_FILE, 0o644)
    except FileExistsError:
        if path.is_symlink():
            return "a symbolic link, not followed"
        if path.is_file() and path.read_bytes() == data:
            return "same"
        return "a different file is there already, not overwritten"
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return None


def _stats(store, args) -> int:
    stats = store.stats(args.user)
    if args.json:
        print(json.dumps({"store": store.describe(), **stats}, indent=2))
        return 0
    who = f" by {args.user}" if args.user else ""
    print(f"{stats['count']} drawings{who} in {store.describe()}; {stats['wrong']} of them corrections")
    print("per digit: " + "  ".join(f"{d}: {n}" for d, n in stats["by_label"].items()))
    if stats["by_source"]:
        print("per source: " + ", ".join(f"{k} {n}" for k, n in stats["by_source"].items()))
    if stats.get("by_user"):
        print("per user: " + ", ".join(f"{k} {n}" for k, n in stats["by_user"].items()))
    return 0


def _delete(store, args) -> int:
    """ "Forget me" for ``--user``: every drawing of theirs deleted, after a "y" on a terminal (or ``--yes``)."""
    if not args.yes:
        if sys.stdin is None or not sys.stdin.isatty():
            print("error: drawings delete asks before deleting: run it on a terminal, or add --yes", file=sys.stderr)
            return 2
        n = store.count(args.user)
        try:
            answer = input(
                f"Delete all {n} drawings saved by {args.user} from {store.describe()}? This cannot be undone. [y/N] "
            )
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    from digitrec.learning.models import remove_cached
    from digitrec.store.personal import personal_info

    model = personal_info(store, args.user)  # their personal model goes with the row; its files cached here too
    deleted = store.forget(args.user)
    remove_cached(model and model.model_id)
    print(f"deleted {deleted} drawing{'' if deleted == 1 else 's'} of {args.user} from {store.describe()}")
    return 0


def cmd_finetune(args) -> int:
    from digitrec.training.finetune import FinetuneConfig, finetune, format_report

    cfg = FinetuneConfig(seed=args.seed)
    if args.steps is not None:
        cfg.steps = args.steps
    report = finetune(
        cfg,
        out=args.out,
        db=args.db,
        user=args.user,
        base=args.model_path,
        data_dir=args.data_dir,
        handwriting_dir=args.handwriting_dir,
        folds=args.folds,
        include_touching=args.include_touching,
    )
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0
