"""Reading a line of digits by cutting it: a drawn number -> one piece of ink per digit, left to right.

The steps: ``pieces`` (the ink, the result types and ``segment`` itself), ``marks`` (blots, specks,
parts joined), ``groups`` (marks grouped into digits), ``cuts`` (touching digits cut), ``reader``
(framing and batched reading), and ``sizes``, every size and confidence they are tuned by.
"""

from digitrec.segment.marks import Box
from digitrec.segment.pieces import Piece, Segmentation, scale_for, segment, working_ink
from digitrec.segment.reader import Probabilities

__all__ = ["Box", "Piece", "Probabilities", "Segmentation", "scale_for", "segment", "working_ink"]
