"""Where digits come from: MNIST, real pen strokes and the one stroke renderer, synthetic styles, scans,
numbers composed from one writer's digits, and the renderings every figure is measured in.

``mnist`` (the IDX files), ``handwriting`` (136 writers' strokes and their fixed split), ``strokes``
(the renderer and the canvas looks), ``synth`` (styles MNIST lacks), ``scans`` (low-resolution
scans), ``canvases`` (digits drawn on a canvas on purpose, for tests and examples), ``composed``
(whole numbers) and ``renderings`` (how held-out digits are drawn for measuring).
"""

from digitrec.data.handwriting import Sample, load_handwriting, split
from digitrec.data.mnist import DataError, Mnist, load_mnist
from digitrec.data.strokes import CANVAS, LOOKS, render

__all__ = ["CANVAS", "LOOKS", "DataError", "Mnist", "Sample", "load_handwriting", "load_mnist", "render", "split"]
