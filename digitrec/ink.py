"""Finding the ink: any drawing -> white ink on black, background at 0, tight around the digit.

The first steps of ``digitrec.preprocess`` (decode -> ``to_ink`` -> ``drop_specks`` -> ``crop``), and
what the number readers (``digitrec.segment``) and the data generators use to find and cut ink:
``ink_box`` is every crop to the ink in the project. For 8-bit images (every canvas PNG)
``inked_box`` does decode -> to_ink -> crop with the same numbers on the inked box alone: the steps
are the definition, it is the fast way there, built from ``to_ink``'s own parts.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage

from digitrec.imageio import LEVELS, WIDE_MODES, WORKING_SIDE, levels, planes

BLANK_CONTRAST = 0.08  # less contrast than this between ink and background is a blank canvas


# --- to_ink: white ink on black, background at 0 ------------------------------------------------


def _backdrop(grey: np.ndarray, alpha: np.ndarray) -> np.float32:
    """A background that contrasts with the ink's own colour: white under dark ink, else black."""
    weight = float(alpha.sum())
    ink_level = float(np.einsum("ij,ij->", grey, alpha) / weight) if weight > 0 else 0.0  # no temporary
    return np.float32(1.0 if ink_level < 0.5 else 0.0)


def _over(grey: np.ndarray, alpha: np.ndarray, backdrop: np.float32) -> np.ndarray:
    """``grey`` painted with ``alpha`` over ``backdrop``: alpha * grey + (1 - alpha) * backdrop."""
    out = grey - backdrop  # three passes instead of five
    out *= alpha
    out += backdrop
    return out


def _band(shape: tuple[int, int]) -> int:
    """How many pixels deep ``_margins``'s border bands are: enough that a thin frame line cannot
    outvote them."""
    return max(1, min(shape) // 16)


def _margins(a: np.ndarray) -> np.ndarray:
    """The pixels of the four border bands (every k-th of them on big images)."""
    band = _band(a.shape)
    m = np.concatenate([a[:band].ravel(), a[-band:].ravel(), a[:, :band].ravel(), a[:, -band:].ravel()])
    return m[:: max(1, m.size // 4096)]


def _background(margins: np.ndarray) -> float:
    """The background level: what the margins mostly hold.

    Margins beat the whole image: a tight scan stretched to fill its box can be mostly ink
    (99.5% right on stretched 16x16 scans of MNIST, vs 91% for the whole-image median).
    """
    return float(np.median(margins))


def _background_of_levels(margins: np.ndarray) -> float:
    """``_background(LEVELS[margins])`` for 8-bit ``margins``, by counting the 256 values instead of
    sorting: the same one or two middle values, averaged in float32 as ``np.median`` does."""
    below = np.bincount(margins, minlength=256).cumsum()  # below[v]: how many are <= v
    n = margins.size
    lo, hi = np.searchsorted(below, ((n - 1) // 2, n // 2), side="right")
    return float((LEVELS[lo] + LEVELS[hi]) / np.float32(2))


def _ink_levels(grey: np.ndarray, background: float, lo: float, hi: float) -> np.ndarray | None:
    """Grey values -> ink strength in [0, 1], given the image's background and extremes."""
    if background - lo > hi - background:  # dark ink on a light background
        contrast = background - lo
        ink = np.subtract(background, grey, dtype=np.float32)  # = (1 - grey) - (1 - background)
    else:
        contrast = hi - background
        ink = np.subtract(grey, background, dtype=np.float32)
    if contrast < BLANK_CONTRAST:
        return None
    ink *= np.float32(1 / contrast)
    np.clip(ink, 0.0, 1.0, out=ink)
    ink[ink < 0.1] = 0.0  # compression noise and paper texture are not ink
    return ink


def to_ink(grey: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray | None:
    """Ink strength in [0, 1] (ink 1, background 0) whatever the polarity; None if blank.

    Three parts, each a function that ``inked_box`` calls too (on fewer pixels): change them, not
    this composition, or change both (``tests/test_preprocess.py`` holds the two equal).
    """
    if alpha is not None:
        # Ink lives in the alpha channel (browser canvases, Gradio layers): transparent pixels are
        # often black too, so a plain greyscale conversion would be all black. Paint the layer over
        # a background that contrasts with the ink's own colour.
        grey = _over(grey, alpha, _backdrop(grey, alpha))
    # The ink is whichever extreme lies farther from the background.
    return _ink_levels(grey, _background(_margins(grey)), float(grey.min()), float(grey.max()))


def takes_fast_path(image: Image.Image | np.ndarray) -> bool:
    """Whether ``inked_box`` applies: an 8-bit PIL image no larger than ``decode`` leaves it."""
    return isinstance(image, Image.Image) and image.mode not in WIDE_MODES and max(image.size) <= WORKING_SIDE


def inked_box(img: Image.Image) -> np.ndarray | None:
    """``crop(to_ink(*decode(img)))`` for an image ``takes_fast_path`` accepts: the same numbers
    for a fraction of the work, because a canvas is mostly background and this runs per drawing.

    Opaque: ink is a function of the 8-bit grey value, so ``_ink_levels`` is worked out for the 256
    values, one comparison finds the inked box, and only the box is looked up. Transparent:
    everything outside the box of non-zero alpha is the backdrop, so only that box is composited
    and scaled; when the margins lie outside it too (a canvas with the digit away from its edges),
    they are all backdrop, and no plane of the whole image is made at all. ``planes`` and
    ``levels`` are ``decode``'s own conversions.
    """
    if img.mode == "RGBA":
        box = img.getbbox()  # of the non-zero alpha alone (Pillow's alpha_only)
        if box is None:
            return None  # fully transparent
        if _clear_of_margins(box, img.size):
            inner = img.crop(box)
            return _alpha_ink(levels(inner.convert("L")), levels(inner.getchannel("A")))
    grey_img, alpha_img = planes(img)
    if alpha_img is not None and LEVELS[alpha_img.getextrema()[0]] > 0.99:
        alpha_img = None  # an opaque alpha channel says nothing (as in decode)
    grey = np.asarray(grey_img)
    if alpha_img is None:
        background, lo, hi = _background_of_levels(_margins(grey)), LEVELS[grey.min()], LEVELS[grey.max()]
        lut = _ink_levels(LEVELS, background, float(lo), float(hi))
        if lut is None:
            return None
        # Ink grows monotonically away from the background and the extreme grey is full ink, so the
        # inked values are one run from 0 up (dark ink) or down from 255 (light ink).
        inked = np.flatnonzero(lut)
        if inked.size == 0:
            return None
        mask = grey <= int(inked[-1]) if inked[0] == 0 else grey >= int(inked[0])  # int: compare as uint8
        box = ink_box(mask)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        return lut.take(grey[y0:y1, x0:x1])  # lut[...], without fancy indexing's overhead
    box = alpha_img.getbbox()  # the non-zero alpha: nothing else is painted
    if box is None:
        return None  # fully transparent
    return _alpha_ink(levels(grey_img.crop(box)), levels(alpha_img.crop(box)), grey, np.asarray(alpha_img))


def _clear_of_margins(box: tuple[int, int, int, int], size: tuple[int, int]) -> bool:
    """Whether ``box`` (x0, y0, x1, y1) leaves every pixel of ``_margins``'s bands out."""
    x0, y0, x1, y1 = box
    width, height = size
    band = _band((height, width))
    return band <= x0 and x1 <= width - band and band <= y0 and y1 <= height - band


def _alpha_ink(
    inner_grey: np.ndarray, inner_alpha: np.ndarray, grey: np.ndarray | None = None, alpha: np.ndarray | None = None
) -> np.ndarray | None:
    """``inked_box`` for a transparent image from the levels inside its box of non-zero alpha.

    ``grey`` and ``alpha``: the whole image's 8-bit planes, for its margins; None when the margins
    are all transparent, that is all backdrop, which is then the background itself (the median of
    values that are all the backdrop) and never reads as ink.
    """
    backdrop = _backdrop(inner_grey, inner_alpha)
    inner = _over(inner_grey, inner_alpha, backdrop)
    lo, hi = float(inner.min()), float(inner.max())
    if grey is None or alpha is None:
        background, whole = float(backdrop), False
    else:
        background = _background(_over(LEVELS[_margins(grey)], LEVELS[_margins(alpha)], backdrop))
        whole = inner.shape == grey.shape
    if not whole:  # the rest of the image is the backdrop
        lo, hi = min(lo, float(backdrop)), max(hi, float(backdrop))
    outside = _ink_levels(np.array([backdrop]), background, lo, hi)
    if outside is not None and outside[0] > 0:  # the backdrop reads as ink (never when it is the background)
        return crop(to_ink(LEVELS[grey], LEVELS[alpha]))  # so do it all
    ink = _ink_levels(inner, background, lo, hi)
    return None if ink is None else crop(ink)


# --- drop_specks: stray dots far from the digit must not stretch its frame ---------------------

EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)  # pixels touching by a corner belong together


def drop_specks(ink: np.ndarray) -> np.ndarray | None:
    """Zero out small blobs lying away from the digit; None if nothing is left."""
    mask = ink > 0.3
    labels, count = ndimage.label(mask, structure=EIGHT_NEIGHBOURS)
    if count == 0:
        return None
    if count == 1:
        return ink
    areas = np.bincount(labels.ravel())[1:]
    big = areas >= 0.1 * areas.max()  # strokes of the digit itself (a 5's bar, a 7's crossbar)
    boxes = ndimage.find_objects(labels)
    core = [boxes[i] for i in np.flatnonzero(big)]
    top = min(b[0].start for b in core)
    bottom = max(b[0].stop for b in core)
    left = min(b[1].start for b in core)
    right = max(b[1].stop for b in core)
    margin = 0.15 * max(bottom - top, right - left)
    keep = np.zeros(count + 1, dtype=bool)
    for i, box in enumerate(boxes):
        inside = (
            box[0].start >= top - margin
            and box[0].stop <= bottom + margin
            and box[1].start >= left - margin
            and box[1].stop <= right + margin
        )
        keep[i + 1] = big[i] or inside
    # Faint halo pixels (ink <= 0.3) belong to whichever stroke they touch: keep them near kept ink.
    kept = keep[labels]
    halo = ndimage.binary_dilation(kept, iterations=2)
    return np.where(halo, ink, 0.0).astype(np.float32)


def ink_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """The bounding box (x0, y0, x1, y1) of a 2-D array's non-zero pixels, x1 and y1 exclusive;
    None when there are none. Every crop to the ink in the project goes through here."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def crop(ink: np.ndarray, threshold: float = 0.0) -> np.ndarray | None:
    """The ink inside its tight bounding box (the pixels above ``threshold``); None when blank."""
    if ink.size and all((edge > threshold).any() for edge in (ink[0], ink[-1], ink[:, 0], ink[:, -1])):
        return ink  # already tight (inked_box's output): four edges instead of a pass over every pixel
    box = ink_box(ink > threshold)
    if box is None:
        return None
    x0, y0, x1, y1 = box
    return ink[y0:y1, x0:x1]
