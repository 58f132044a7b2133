"""Draw a digit (or write a number) in the Pygame front end through real events and save the window as a PNG.

    python -m scripts.pygame_screenshot [--digit 3] [--out docs/pygame.png] [--model PATH]
    python -m scripts.pygame_screenshot --number 2026 [--out docs/pygame_number.png] [--model PATH]

Run from the repository root. It runs headless (SDL's dummy video driver), so it works on a machine
without a display, and drives the window as the tests do (``tests.harness.support``). With ``--number``
it presses N, writes the number, and Tab picks its second digit: saving is on (as user ana), so the
picked digit's frame and the saving hint show. The hint says where drawings are kept: a fresh store in a
fixed folder (``STORE``, or ``--db``), so the picture is the same on every run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame

import pygame_frontend as front
from digitrec import Predictor
from digitrec.data.canvases import pen_paths
from digitrec.feedback import Feedback
from tests.harness.support import press, replay_stroke, write_number

USER = "ana"  # the name the saving hint shows: never the login name of whoever takes the screenshot
# The store the number screenshot's saving hint names: the same path on every run (nothing is saved in it).
STORE = Path(tempfile.gettempdir()) / "digitrec-screenshot" / "drawings.sqlite3"


def save_window(app: front.App, out: Path) -> None:
    """Run one frame (the queued events, then a redraw) and save the window to ``out``."""
    app.step()
    out.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(app.screen, str(out))


def draw_and_save(app: front.App, digit: int, out: Path, style: int = 0) -> None:
    """Draw ``digit`` (a pen_paths ``style``) with mouse events, run one frame, save the window to ``out``."""
    rng = np.random.default_rng(digit)  # the same drawing every run: the committed image only changes with the app
    for stroke in pen_paths(digit, canvas=app.canvas.size, rng=rng, style=style):
        replay_stroke(stroke, app.layout.canvas.topleft)
    save_window(app, out)


def write_and_save(app: front.App, number: str, out: Path) -> None:
    """N, ``number`` written with mouse events, Tab to its second digit (if any); save the window to ``out``."""
    press(pygame.K_n)
    app.step()  # number mode first: the strokes below go on its wide canvas
    write_number(app, number)
    if len(number) > 1:
        press(pygame.K_TAB)
    save_window(app, out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--digit", type=int, default=3)
    ap.add_argument("--style", type=int, default=0, help="pen_paths style (0: the plainest form)")
    ap.add_argument("--number", help="write this number in number mode (N) instead (e.g. 2026)")
    ap.add_argument("--out", type=Path, help="default docs/pygame.png, with --number docs/pygame_number.png")
    ap.add_argument("--model", help="model file (default: $DIGITREC_MODEL or the committed model)")
    ap.add_argument("--db", type=Path, help=f"with --number, the store to name (default: a fresh {STORE})")
    args = ap.parse_args(argv)
    if args.number is not None and not args.number.isdecimal():
        ap.error(f"--number must be digits, not {args.number!r}")
    out = args.out or Path("docs/pygame_number.png" if args.number else "docs/pygame.png")

    predictor = Predictor.load(args.model)
    fresh = args.number and args.db is None  # the fixed store: emptied first, removed afterwards
    try:
        if args.number:
            if fresh:
                STORE.unlink(missing_ok=True)  # whatever an earlier run left there
            app = front.open_window(predictor, feedback=Feedback(predictor, "pygame", db=args.db or STORE), user=USER)
            write_and_save(app, args.number, out)
            picked = app.numbers.selected + 1
            print(f"{out}: wrote {args.number}, the app reads {app.numbers.headline!r}, digit {picked} picked")
        else:
            app = front.open_window(predictor)
            draw_and_save(app, args.digit, out, args.style)
            print(
                f"{out}: drew a {args.digit}, the app shows {front.headline(app.prediction)!r} "
                f"({front.confidence_text(app.prediction)})"
            )
    finally:
        pygame.quit()
        if fresh:
            with contextlib.suppress(OSError):
                STORE.unlink(missing_ok=True)
                STORE.parent.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
