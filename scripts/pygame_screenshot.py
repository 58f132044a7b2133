"""Draw a digit in the Pygame front end through real mouse events and save the window as a PNG.

    python scripts/pygame_screenshot.py [--digit 3] [--out docs/pygame.png] [--model PATH]

Runs headless (SDL's dummy video driver), so it works on a machine without a display.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import pygame  # noqa: E402

import pygame_frontend as front  # noqa: E402
from digitrec import Predictor  # noqa: E402
from digitrec.drawings import pen_paths  # noqa: E402
from tests.test_pygame_frontend import post_stroke  # noqa: E402  (the tests' own mouse)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--digit", type=int, default=3)
    ap.add_argument("--style", type=int, default=0, help="pen_paths style (0: the plainest form)")
    ap.add_argument("--out", type=Path, default=Path("docs/pygame.png"))
    ap.add_argument("--model", help="model file (default: $DIGITREC_MODEL or the committed model)")
    args = ap.parse_args()

    pygame.display.init()
    pygame.font.init()
    canvas = front.Canvas()
    screen = pygame.display.set_mode(front.Layout(canvas.size).window)
    app = front.App(Predictor.load(args.model), screen, canvas)
    strokes = pen_paths(args.digit, canvas=canvas.size, rng=np.random.default_rng(args.digit), style=args.style)
    for stroke in strokes:
        post_stroke(stroke, app.layout.canvas.topleft)
    app.step()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(screen, str(args.out))
    print(f"{args.out}: drew a {args.digit}, the app shows {front.headline(app.prediction)!r} "
          f"({front.confidence_text(app.prediction)})")
    pygame.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
