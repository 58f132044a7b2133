"""Draw a digit in the Pygame front end through real mouse events and save the window as a PNG.

    python scripts/pygame_screenshot.py [--digit 3] [--out docs/pygame.png] [--model PATH]

Runs headless (SDL's dummy video driver), so it works on a machine without a display.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pygame

import pygame_frontend as front
from digitrec import Predictor
from digitrec.drawings import pen_paths


def draw_and_save(app: front.App, digit: int, out: Path, style: int = 0) -> None:
    """Draw ``digit`` (a pen_paths ``style``) with mouse events, run one frame, save the window to ``out``."""
    rng = np.random.default_rng(digit)  # the same drawing every run: the committed image only changes with the app
    for stroke in pen_paths(digit, canvas=app.canvas.size, rng=rng, style=style):
        front.replay_stroke(stroke, app.layout.canvas.topleft)
    app.step()
    out.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(app.screen, str(out))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--digit", type=int, default=3)
    ap.add_argument("--style", type=int, default=0, help="pen_paths style (0: the plainest form)")
    ap.add_argument("--out", type=Path, default=Path("docs/pygame.png"))
    ap.add_argument("--model", help="model file (default: $DIGITREC_MODEL or the committed model)")
    args = ap.parse_args(argv)

    app = front.open_window(Predictor.load(args.model))
    try:
        draw_and_save(app, args.digit, args.out, args.style)
        print(
            f"{args.out}: drew a {args.digit}, the app shows {front.headline(app.prediction)!r} "
            f"({front.confidence_text(app.prediction)})"
        )
    finally:
        pygame.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
