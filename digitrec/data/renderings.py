"""How a held-out writer's digit is drawn for measuring: the canvases and scans the apps receive.

Evaluation, training's own checks and fine-tuning's before / after figures all draw real strokes
through ``RENDERINGS``, so a figure means the same wherever it is printed.
"""

from __future__ import annotations

import numpy as np

from digitrec.data.handwriting import Sample
from digitrec.data.scans import scan_like
from digitrec.data.strokes import CANVAS, ink_map, random_box, render
from digitrec.preprocess import SIZE, preprocess

# How held-out handwriting is drawn: as a 280x280 canvas of a browser or sketchpad (a 12 px pen,
# the digit 60% of the canvas, dark on light) unless a rendering says otherwise.
RENDERINGS: dict[str, dict] = {
    "centred": {},
    "any_size_and_place": {"box": "random"},
    "white_on_black": {"look": "light_on_dark"},
    "transparent": {"look": "transparent"},
    "thin_pen": {"pen_px": 4.0},
    "thick_pen": {"pen_px": 28.0},
    "low_resolution_scan": {"scan": True},  # 16x16 or 8x8, as scanned-form pipelines store digits
}
CANVAS_RENDERINGS = [name for name, opts in RENDERINGS.items() if not opts.get("scan")]


def draw_sample(sample: Sample, rendering: str, rng: np.random.Generator) -> np.ndarray:
    """A real digit drawn as ``rendering`` says: the image an app (or a scanner) would deliver."""
    opts = RENDERINGS[rendering]
    if opts.get("scan"):
        return scan_like(ink_map(sample.strokes, 112, pen_px=9.0), rng)
    box = random_box((CANVAS, CANVAS), rng) if opts.get("box") == "random" else None
    return render(sample.strokes, CANVAS, box, pen_px=opts.get("pen_px", 12.0), look=opts.get("look", "dark_on_light"))


def framed_renderings(
    samples: list[Sample], seed: int = 0, renderings: list[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every sample in every rendering, through ``preprocess``: (N, 28, 28) float32 (zeros for
    the rare blank) and labels, rendering by rendering."""
    rng = np.random.default_rng(seed)
    names = renderings or list(RENDERINGS)
    x = np.zeros((len(names) * len(samples), SIZE, SIZE), np.float32)
    for r, name in enumerate(names):
        for i, s in enumerate(samples):
            framed = preprocess(draw_sample(s, name, rng))
            if framed is not None:
                x[r * len(samples) + i] = framed
    return x, np.tile([s.label for s in samples], len(names)).astype(np.uint8)
