"""The numbers ``digitrec.segment`` is tuned by, in one table: sizes are shares of the line height,
never fixed pixels, so a number reads the same at any size and on any canvas."""

from __future__ import annotations

MIN_LINE = 128  # the working resolution keeps a line of writing at least this many pixels tall
INK = 0.3  # ink above this is a mark's own (as in ink.drop_specks); fainter edges join the nearest
# Sizes, in line heights:
SPECK = 0.2  # a mark whose longer side is shorter than this is a speck, never a digit
PART = 0.75  # a mark shorter than this is part of a digit (digits vary by +-10%: 0.82 of the tallest at worst)
MAX_WIDTH = 1.5  # no digit is wider than this (the widest 5% of real 0s, 2s and 5s reach 1.3-1.4)
MAX_GAP = 0.25  # parts of one digit are at most this far apart in x
TALL_GAP = 0.1  # two tall marks are one digit only if their ink nearly meets (a 4 or a 0 in two strokes)
SPLIT_WIDTH = 1.0  # a mark this wide, read with less than WIDE_CONFIDENCE, may be touching digits: it is tried cut
WIDE_CONFIDENCE = 0.999  # a calibrated model can be 99.6% sure of two touching 0s as one
SPLIT_CONFIDENCE = 0.9  # ...and so is one at least half a line wide that the network reads with less confidence
MIN_PIECE = 0.15  # cuts are at least this far from a mark's ends and from each other
CUTS = 12  # at most this many cuts are tried in one mark
NEAR = 0.2  # 90% of real parts lie closer than this to the rest of their digit (a soft limit: spread)
MAX_GROUP = 3  # a digit is at most this many separate marks
MERGE_PRIOR = 0.05  # two tall marks read as one digit must be this much likelier than apart (they usually are two)
WIDE_SCALE = 0.2  # a digit wider than the line is this much less likely per 0.2 line heights more (Gaussian)
SHORT_PRIOR = 0.01  # a part standing alone as a digit must be read this much surer than joined (it seldom is one)
SPLIT_PRIOR = 0.5  # the pieces of a cut must be read this much surer than the whole (most marks are one digit)
MAX_MARKS = 256  # more marks than this (a page of noise) is refused: it is no number
