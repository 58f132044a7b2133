"""Synthetic pen-drawn digits: the handwriting styles MNIST's American writers rarely used.

MNIST teaches a CNN one school of handwriting. Elsewhere a 1 carries a long up-stroke flag, a 7
a crossbar, and fast writers (and pen tablets) join the strokes of a 4, 5 or 7 with the line the
pen travels between them. Each style here is a few strokes of control points in a box 0.75 wide
and 1 tall (y down); ``draw_digit`` jitters the points, slants and stretches the whole, maybe
joins the strokes, and renders them with a round pen of random width. The result goes through
``preprocess`` like any drawing, so training sees exactly what inference sees.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digitrec.data.strokes import bounds, ink_map

Point = tuple[float, float]
Piece = list[Point]  # a smooth curve through these points
Stroke = list[Piece]  # pieces meet at sharp corners
Style = list[Stroke]  # in drawing order


def _ellipse(cx: float, cy: float, rx: float, ry: float, start: float, sweep: float, n: int = 9) -> Piece:
    """Points on an ellipse from ``start`` degrees through ``sweep`` (0 = top, positive = anticlockwise)."""
    t = np.radians(start + np.linspace(0.0, sweep, n))
    return [(cx - rx * np.sin(a), cy - ry * np.cos(a)) for a in t]


def _styles(rng: np.random.Generator) -> dict[int, list[Callable[[], Style]]]:
    u = rng.uniform
    return {
        0: [
            lambda: [[_ellipse(0.37, 0.5, u(0.22, 0.37), 0.5, u(-30, 30), u(350, 390), 13)]],
        ],
        1: [
            lambda: [[[(0.4, 0.0), (0.4, 1.0)]]],
            # the continental 1: a long flag up to the top, then straight down
            lambda: [[[(u(0.05, 0.2), u(0.2, 0.45)), (0.45, 0.0)], [(0.45, 0.0), (0.45, 1.0)]]],
            lambda: [
                [[(u(0.05, 0.2), u(0.2, 0.4)), (0.45, 0.0)], [(0.45, 0.0), (0.45, 1.0)]],
                [[(u(0.15, 0.25), 1.0), (u(0.65, 0.75), 1.0)]],  # with a foot
            ],
        ],
        2: [
            lambda: [
                [
                    [(0.08, 0.28), (0.25, 0.03), (0.52, 0.02), (0.66, 0.22), (0.55, 0.5), (0.05, 1.0)],
                    [(0.05, 1.0), (u(0.6, 0.75), u(0.95, 1.0))],
                ]
            ],
            lambda: [
                [
                    [
                        (0.05, 0.22),
                        (0.35, 0.0),
                        (0.65, 0.2),
                        (0.45, 0.55),
                        (0.15, 0.85),
                        (0.05, 0.97),
                        (0.2, 0.9),
                        (0.45, 0.98),
                        (0.72, 0.95),
                    ]
                ]
            ],  # loop-less curly base
            lambda: [
                [
                    [
                        (0.1, 0.3),
                        (0.3, 0.02),
                        (0.6, 0.1),
                        (0.5, 0.5),
                        (0.15, 0.85),
                        (0.25, 0.78),
                        (0.25, 0.95),
                        (0.1, 0.98),
                    ],
                    [(0.1, 0.98), (0.72, 0.98)],
                ]
            ],  # small loop at the turn
        ],
        3: [
            lambda: [
                [
                    [(0.08, 0.12), (0.35, 0.0), (0.62, 0.13), (0.58, 0.33), (0.3, u(0.43, 0.5))],
                    [(0.3, 0.47), (0.6, 0.58), (0.66, 0.82), (0.4, 1.0), (0.06, 0.88)],
                ]
            ],
            lambda: [
                [
                    [(0.05, 0.0), (0.68, 0.0)],
                    [(0.68, 0.0), (0.3, 0.4)],
                    [(0.3, 0.4), (0.62, 0.55), (0.66, 0.8), (0.4, 1.0), (0.05, 0.88)],
                ]
            ],  # flat top
        ],
        4: [
            # open 4: an L, then the upright, drawn second (a tablet joins them from the L's end)
            lambda: [
                [[(u(0.05, 0.25), 0.0), (0.05, u(0.55, 0.7))], [(0.05, 0.62), (0.75, 0.62)]],
                [[(0.55, u(0.0, 0.3)), (0.55, 1.0)]],
            ],
            # closed 4: the slanted side meets the upright's top
            lambda: [[[(0.55, 0.0), (0.02, 0.65)], [(0.02, 0.65), (0.75, 0.65)]], [[(0.55, 0.0), (0.55, 1.0)]]],
            # upright first, then the L
            lambda: [[[(0.55, 0.0), (0.55, 1.0)]], [[(0.3, 0.0), (0.03, 0.62)], [(0.03, 0.62), (0.75, 0.62)]]],
        ],
        5: [
            # down, belly, then the flag on top, drawn last
            lambda: [
                [
                    [(0.15, 0.0), (0.1, 0.45)],
                    [(0.1, 0.45), (0.4, 0.38), (0.66, 0.58), (0.6, 0.88), (0.33, 1.0), (0.05, 0.88)],
                ],
                [[(0.15, 0.0), (u(0.6, 0.75), u(-0.04, 0.04))]],
            ],
            # one stroke: flag right to left, down, belly
            lambda: [
                [
                    [(0.7, 0.0), (0.15, 0.0)],
                    [(0.15, 0.0), (0.1, 0.45)],
                    [(0.1, 0.45), (0.4, 0.38), (0.66, 0.58), (0.6, 0.88), (0.33, 1.0), (0.05, 0.88)],
                ]
            ],
        ],
        6: [
            lambda: [
                [
                    [
                        (0.62, 0.03),
                        (0.32, 0.15),
                        (0.1, 0.5),
                        (0.12, 0.85),
                        (0.36, 1.0),
                        (0.6, 0.86),
                        (0.58, 0.6),
                        (0.34, 0.52),
                        (0.12, 0.68),
                    ]
                ]
            ],
            lambda: [
                [
                    [
                        (0.55, 0.0),
                        (0.1, u(0.55, 0.7)),
                        (0.15, 0.92),
                        (0.4, 1.0),
                        (0.62, 0.82),
                        (0.5, 0.58),
                        (0.25, 0.6),
                        (0.12, 0.75),
                    ]
                ]
            ],  # straight back
        ],
        7: [
            lambda: [[[(0.03, 0.02), (0.72, 0.0)], [(0.72, 0.0), (u(0.2, 0.4), 1.0)]]],
            # crossbar, drawn last
            lambda: [
                [[(0.03, 0.02), (0.72, 0.0)], [(0.72, 0.0), (0.3, 1.0)]],
                [[(u(0.15, 0.3), 0.5), (u(0.65, 0.75), 0.5)]],
            ],
            # continental: a tick down at the bar's start, a curved stem, a crossbar
            lambda: [
                [[(0.03, 0.18), (0.03, 0.02)], [(0.03, 0.02), (0.72, 0.0)], [(0.72, 0.0), (0.5, 0.45), (0.35, 1.0)]],
                [[(0.25, 0.52), (0.7, 0.5)]],
            ],
        ],
        8: [
            lambda: [
                [
                    [
                        (0.6, 0.1),
                        (0.36, 0.0),
                        (0.1, 0.13),
                        (0.15, 0.35),
                        (0.55, 0.62),
                        (0.66, 0.86),
                        (0.38, 1.0),
                        (0.08, 0.86),
                        (0.16, 0.62),
                        (0.56, 0.36),
                        (0.62, 0.14),
                        (0.42, 0.0),
                    ]
                ]
            ],
            lambda: [[_ellipse(0.37, 0.25, 0.22, 0.25, 0, 365)], [_ellipse(0.37, 0.74, 0.3, 0.26, 0, 365)]],
        ],
        9: [
            lambda: [
                [
                    [(0.64, 0.18), (0.4, 0.0), (0.1, 0.13), (0.12, 0.38), (0.4, 0.45), (0.64, 0.22)],
                    [(0.64, 0.22), (0.62, 1.0)],
                ]
            ],
            lambda: [
                [
                    [(0.64, 0.18), (0.4, 0.0), (0.1, 0.13), (0.12, 0.38), (0.4, 0.45), (0.64, 0.22)],
                    [(0.64, 0.22), (0.6, 0.75), (0.45, 1.0), (0.15, 0.92)],
                ]
            ],  # hooked tail
            lambda: [[_ellipse(0.35, 0.24, 0.28, 0.24, -60, 380)], [[(0.64, 0.05), (u(0.45, 0.62), 1.0)]]],
        ],
    }


def _catmull_rom(points: np.ndarray, per_segment: int = 8) -> np.ndarray:
    """A smooth curve through ``points`` (n, 2)."""
    if len(points) < 3:
        t = np.linspace(0.0, 1.0, per_segment + 1)[:, None]
        return points[0] + t * (points[-1] - points[0])
    padded = np.vstack([2 * points[0] - points[1], points, 2 * points[-1] - points[-2]])
    t = np.linspace(0.0, 1.0, per_segment, endpoint=False)[:, None]
    out = []
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1 : i + 3]
        out.append(
            0.5
            * ((2 * p1) + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t**2 + (-p0 + 3 * p1 - 3 * p2 + p3) * t**3)
        )
    out.append(points[-1:])
    return np.vstack(out)


def digit_strokes(
    digit: int, rng: np.random.Generator, style: int | None = None, join: bool | None = None
) -> list[np.ndarray]:
    """Jittered, slanted polylines (unit-ish coordinates) for one handwritten ``digit``."""
    options = _styles(rng)[digit]
    style_fn = options[rng.integers(len(options)) if style is None else style]
    strokes = []
    wobble = rng.uniform(0.01, 0.035)
    for stroke in style_fn():
        pieces = []
        for piece in stroke:
            pts = np.asarray(piece, dtype=float)
            pts = pts + rng.normal(0.0, wobble, pts.shape)
            if pieces:  # corners stay joined: the next piece starts where the last ended
                pts[0] = pieces[-1][-1]
            pieces.append(_catmull_rom(pts))
        strokes.append(np.vstack(pieces))
    if join is None:
        join = rng.random() < 0.5
    if join and len(strokes) > 1:
        # What a tablet records when the pen moves between strokes without lifting off the page.
        strokes = [np.vstack(strokes)]
    # Slant, stretch and rotate the whole digit like a writer's own hand.
    shear = rng.uniform(-0.35, 0.2)  # mostly forward-leaning
    angle = np.radians(rng.uniform(-8, 8))
    sx, sy = np.exp(rng.uniform(-0.2, 0.2)), 1.0
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    out = []
    for s in strokes:
        s = s - (0.37, 0.5)
        s = np.column_stack([sx * (s[:, 0] - shear * s[:, 1]), sy * s[:, 1]]) @ rot.T
        out.append(s)
    return out


def render(strokes: list[np.ndarray], size: int = 112, pen: float = 0.08) -> np.ndarray:
    """Draw polylines with a round pen of width ``pen`` (relative to the digit's drawn height),
    through the one stroke renderer. Returns a (size, size) uint8 image, white ink on black, the
    digit filling ~80% of the height."""
    lo, hi = bounds(strokes)
    w, h = np.maximum(hi - lo, 1e-6)
    k = min(0.76 * size / w, 0.8 * size / h)
    box = (0.12 * size, 0.1 * size, 0.88 * size, 0.9 * size)
    return ink_map(strokes, size, box, pen_px=max(1.0, pen * k * h))


def draw_digit(digit: int, rng: np.random.Generator, size: int = 112, tablet: float = 0.25, **kwargs) -> np.ndarray:
    """One random pen drawing of ``digit`` as a (size, size) uint8 image, white on black.

    With probability ``tablet`` the trajectory is summarised the way pen-tablet datasets store
    it (``resample`` to 7-16 points, smooth curve through them). ``tablet=0`` draws no extra
    random number, so it repeats the drawings made before this option existed.
    """
    pen = rng.uniform(0.05, 0.16)
    strokes = digit_strokes(digit, rng, **kwargs)
    if tablet and rng.random() < tablet:
        strokes = resample(strokes, int(rng.integers(7, 17)))
    return render(strokes, size=size, pen=pen)


def make_drawings(n: int, seed: int = 0, size: int = 112, tablet: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """``n`` synthetic drawings, MNIST-framed by ``preprocess``: (n, 28, 28) float32 and labels.
    ``tablet``: the share summarised like pen-tablet trajectories (see ``draw_digit``)."""
    from digitrec.preprocess import preprocess

    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 10
    rng.shuffle(labels)
    images = np.zeros((n, 28, 28), dtype=np.float32)
    for i, digit in enumerate(labels):
        framed = preprocess(draw_digit(int(digit), rng, size=size, tablet=tablet))
        if framed is not None:
            images[i] = framed
    return images, labels.astype(np.uint8)


def resample(strokes: list[np.ndarray], points: int) -> list[np.ndarray]:
    """The whole trajectory as a tablet summary keeps it: pen-up jumps joined, ``points`` points
    spaced evenly along its length, and a smooth curve drawn through them."""
    path = np.vstack(strokes)
    steps = np.r_[0.0, np.cumsum(np.hypot(*np.diff(path, axis=0).T))]
    if steps[-1] <= 0:
        return strokes
    at = np.linspace(0.0, steps[-1], points)
    coarse = np.column_stack([np.interp(at, steps, path[:, 0]), np.interp(at, steps, path[:, 1])])
    return [_catmull_rom(coarse, per_segment=10)]
