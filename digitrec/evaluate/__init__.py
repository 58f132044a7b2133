"""How good is a saved model: on held-out writers in every rendering, on MNIST, on proxies, on whole numbers.

``writers`` measures single digits (``real_handwriting`` first, then MNIST and the proxies);
``reading`` judges and times ``read_number`` on composed numbers. The renderings themselves are
``digitrec.data.renderings``, shared with training's own checks.
"""

from digitrec.data.renderings import CANVAS_RENDERINGS, RENDERINGS, draw_sample, framed_renderings
from digitrec.evaluate.reading import Outcome, judge, measure, wilson
from digitrec.evaluate.writers import (
    PROXY_SEED,
    WriterLeak,
    drawn,
    format_real,
    format_table,
    load_digits_heldout,
    mnist_canvas,
    mnist_scans,
    mnist_test,
    naive_frame,
    pen_drawings,
    real_handwriting,
)

__all__ = [
    "CANVAS_RENDERINGS",
    "PROXY_SEED",
    "RENDERINGS",
    "Outcome",
    "WriterLeak",
    "draw_sample",
    "drawn",
    "format_real",
    "format_table",
    "framed_renderings",
    "judge",
    "load_digits_heldout",
    "measure",
    "mnist_canvas",
    "mnist_scans",
    "mnist_test",
    "naive_frame",
    "pen_drawings",
    "real_handwriting",
    "wilson",
]
