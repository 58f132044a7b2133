"""The learned line reader's inference side (issue 19), without TensorFlow: the composer of its
numbers, the strip it reads, greedy CTC decoding, and ``read_number`` with and without a reader."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from digitrec import NumberReading, Predictor
from digitrec.data.canvases import pen_digit, to_png
from digitrec.data.composed import HEIGHT, compose, on_canvas
from digitrec.data.lines import APART, JUST_TOUCHING, TRAINING, deal_lines
from digitrec.data.strokes import LOOKS
from digitrec.data.synth import digit_strokes
from digitrec.engines.pick import Unavailable
from digitrec.predict import RECOUNT, recounted
from digitrec.segment.learned import BLANK, CLASSES, LineReader, greedy, reader_path, text_probability
from digitrec.segment.line import FRAMES, LINE_HEIGHT, LINE_WIDTH, PAD, STRIDE, line_of


def frames_of(classes: list[int], sure: float = 0.9) -> np.ndarray:
    """(T, 11) frames whose best class is ``classes[t]``, with ``sure`` on it and the rest spread."""
    out = np.full((len(classes), CLASSES), (1 - sure) / (CLASSES - 1), np.float32)
    out[np.arange(len(classes)), classes] = sure
    return out


# --- greedy decoding ---------------------------------------------------------------------------------

B = BLANK


def test_greedy_merges_runs_and_drops_blanks():
    spans = greedy(frames_of([B, 2, 2, B, 0, B, B, 2, 6, 6, B]))
    assert [s.digit for s in spans] == [2, 0, 2, 6]
    assert [(s.start, s.end) for s in spans] == [(1, 3), (4, 5), (7, 8), (8, 10)]


def test_a_repeated_digit_needs_a_blank_between_its_runs():
    assert "".join(str(s.digit) for s in greedy(frames_of([B, 0, B, 0, B]))) == "00"
    assert "".join(str(s.digit) for s in greedy(frames_of([B, 0, 0, 0, B]))) == "0"
    assert greedy(frames_of([B] * FRAMES)) == []


def test_a_digits_probabilities_leave_the_blank_out():
    frames = frames_of([B, 7, 7, B], sure=0.6)
    frames[1, 1] = 0.3  # a 1 close behind in the first frame
    frames[1] /= frames[1].sum()
    (span,) = greedy(frames)
    assert span.digit == 7 and span.probabilities.shape == (10,)
    np.testing.assert_allclose(span.probabilities.sum(), 1.0, rtol=1e-6)
    assert span.probabilities.argmax() == 7 and span.probabilities[1] > span.probabilities[3]
    assert span.centre == (1 + 3) / 2 * STRIDE


def test_text_probability_sums_every_alignment():
    """CTC's forward algorithm against every path of 5 frames over three classes, counted by hand."""
    rng = np.random.default_rng(0)
    frames = rng.dirichlet(np.ones(CLASSES), size=5)
    classes = (0, 1, B)

    def collapse(path):
        kept = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        return [c for c in kept if c != B]

    for digits in ([0], [0, 0], [0, 1], [1, 0, 1], []):
        brute = sum(
            np.prod([frames[t, c] for t, c in enumerate(path)])
            for path in itertools.product(classes, repeat=5)
            if collapse(path) == digits
        )
        assert text_probability(frames, digits) == pytest.approx(brute, rel=1e-9, abs=1e-15)


def test_text_probability_weighs_a_missed_repeat():
    """Sure frames of 0, 0 with a half-sure blank between: "00" and "0" share the probability."""
    frames = frames_of([0, B, 0], sure=1.0)
    frames[1] = 0.0
    frames[1, [0, B]] = 0.5
    assert text_probability(frames, [0, 0]) == pytest.approx(0.5)
    assert text_probability(frames, [0]) == pytest.approx(0.5)


# --- the composer --------------------------------------------------------------------------------------


def test_training_numbers_come_from_the_training_writers_only(handwriting):
    train_writers = {s.writer for s in handwriting["train"]}
    held_out = {s.writer for g in ("validation", "test") for s in handwriting[g]}
    numbers = list(deal_lines(handwriting["train"], 40, seed=3, style=TRAINING, truth=False))
    assert {n.writer for n in numbers} <= train_writers and not {n.writer for n in numbers} & held_out
    lengths = [len(n.text) for n in numbers]
    assert min(lengths) >= 1 and max(lengths) <= 12 and len(set(lengths)) > 4
    assert all(n.text.isdigit() and len(n.boxes) == len(n.text) for n in numbers)
    assert {n.image.shape[2] for n in numbers} == {3, 4}  # every look: RGB, and RGBA for "transparent"
    mnist = (np.zeros((5, 28, 28), np.uint8), np.arange(5, dtype=np.uint8))
    mnist[0][:, 8:20, 10:14] = 255  # the others blank: image_glyph copes
    some = list(deal_lines(handwriting["train"], 30, seed=1, style=TRAINING, mnist=mnist, truth=False))
    assert "mnist" in {n.writer for n in some}


def test_just_touching_starts_each_digit_inside_the_previous_box(handwriting):
    """The measurement's fixed setting: each digit 2-12% of the height inside the one before (half a
    narrow neighbour's width at most), up to the pixel each edge is rounded to."""
    for number in deal_lines(handwriting["test"], 20, seed=0, style=JUST_TOUCHING, length=4):
        assert number.masks.shape == (4, *number.image.shape[:2]) and number.touching
        for (_, _, prev_right, _), (x0, _, x1, _), (px0, _, _, _) in zip(
            number.boxes, number.boxes[1:], number.boxes, strict=False
        ):
            inside = prev_right - x0
            narrower = min(x1 - x0, prev_right - px0)
            assert min(0.02 * HEIGHT, 0.5 * narrower) - 2 <= inside <= 0.12 * HEIGHT + 2
    again = next(deal_lines(handwriting["test"], 1, seed=0, style=JUST_TOUCHING, length=4))
    first = next(deal_lines(handwriting["test"], 1, seed=0, style=JUST_TOUCHING, length=4))
    np.testing.assert_array_equal(again.image, first.image)  # fixed: the same seed, the same numbers


def test_apart_numbers_leave_gaps(handwriting):
    for number in deal_lines(handwriting["test"], 10, seed=0, style=APART, length=3):
        assert all(b[0] > a[2] for a, b in zip(number.boxes, number.boxes[1:], strict=False))


# --- the strip -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", LOOKS)
def test_the_strip_holds_the_ink_whatever_the_look(handwriting, how):
    number = next(deal_lines(handwriting["test"], 1, seed=2, style=APART, length=5))
    ink = number.masks.any(axis=0)
    from digitrec.data.strokes import look_of

    canvas = look_of((ink * 255).astype(np.uint8), how)
    line = line_of(to_png(canvas))
    assert line.image.shape == (LINE_HEIGHT, LINE_WIDTH) and line.image.dtype == np.uint8
    assert line.image[:, :PAD].max() == 0 and line.image.max() > 200
    rows = np.flatnonzero(line.image.max(axis=1))
    assert rows[0] >= PAD - 1 and rows[-1] <= LINE_HEIGHT - PAD  # fitted in height, a margin kept
    assert line.to_working(PAD) == pytest.approx(line.box[0])


def test_a_blank_canvas_has_no_strip():
    assert line_of(np.full((280, 840, 3), 255, np.uint8)) is None


# --- read_number with a learned reader -------------------------------------------------------------------


class Scripted:
    """A stand-in network: the frames of the truth, a digit's class at the frame over its box's middle."""

    def __init__(self, number, sure: float = 0.95):
        self.number, self.sure = number, sure

    def __call__(self, strip: np.ndarray) -> np.ndarray:
        line = self.line
        classes = [BLANK] * FRAMES
        for digit, (x0, _, x1, _) in zip(self.number.text, self.number.boxes, strict=True):
            column = PAD + ((x0 + x1) / 2 / line.scale - line.box[0]) * line.zoom
            classes[int(column // STRIDE)] = int(digit)
        return frames_of(classes, self.sure)


def scripted_predictor(predictor: Predictor, number, sure: float = 0.95) -> tuple[Predictor, bytes]:
    png = to_png(number.image)
    net = Scripted(number, sure)
    net.line = line_of(png)
    learned = Predictor(predictor._forward, predictor.path, predictor.backend, predictor.card, digest=predictor._digest)
    learned.line_reader = LineReader(net)
    return learned, png


def test_the_learned_reading_gives_each_digit_its_box_and_probabilities(cutter, handwriting):
    number = on_canvas(next(deal_lines(handwriting["test"], 1, seed=4, style=JUST_TOUCHING, length=4)))
    learned, png = scripted_predictor(cutter, number)
    assert learned.number_reader == "learned" and cutter.number_reader == "segmentation"
    reading = learned.read_number(png)
    assert isinstance(reading, NumberReading) and reading.text == number.text
    h, w = number.image.shape[:2]
    for digit, (x0, _, x1, _) in zip(reading.digits, number.boxes, strict=True):
        bx0, by0, bx1, by1 = digit.box
        assert 0 <= bx0 < bx1 <= w and 0 <= by0 < by1 <= h
        assert bx0 <= (x0 + x1) / 2 <= bx1  # the digit's middle lies in its box
        assert sum(digit.prediction.probabilities) == pytest.approx(1.0)
        assert digit.prediction.model_input.shape == (28, 28) and digit.prediction.model_input.max() > 0
    assert [d.box[0] for d in reading.digits] == sorted(d.box[0] for d in reading.digits)
    assert reading.segmentation.label_map().shape == (h, w)  # feedback and the figures read it as the cutter's


def test_digits_whose_border_runs_through_a_stroke_are_touching(cutter, handwriting):
    """Apart, each border is an empty column: no digit is touching. A 5 and a 0 whose strokes cross: the
    border between them is a stroke column, so both are (what is kept of them may hold the other's ink)."""
    apart = on_canvas(next(deal_lines(handwriting["test"], 1, seed=5, style=APART, length=3)))
    learned, png = scripted_predictor(cutter, apart)
    assert [p.touching for p in learned.line_reader.read(png)[0].pieces] == [False] * 3
    rng = np.random.default_rng(0)
    strokes = [digit_strokes(d, rng, style=0, join=False) for d in (5, 0)]
    crossing = on_canvas(compose(strokes, rng, text="50", touching=True))
    learned, png = scripted_predictor(cutter, crossing)
    assert [p.touching for p in learned.line_reader.read(png)[0].pieces] == [True, True]


def test_repeated_digits_read_twice(cutter, handwriting):
    samples = [s for s in handwriting["test"] if s.label == 0]
    number = on_canvas(next(deal_lines(samples, 1, seed=0, style=JUST_TOUCHING, length=2)))
    learned, png = scripted_predictor(cutter, number)
    assert number.text == "00" and learned.read_number(png).text == "00"


def test_one_digit_still_reads_exactly_as_predict(cutter):
    image = pen_digit(7, np.random.default_rng(0), "dark_on_light")
    png = to_png(image)

    class One:
        def __call__(self, strip):
            return frames_of([B, B, 1] + [B] * (FRAMES - 3))

    learned = Predictor(cutter._forward, cutter.path, cutter.backend, cutter.card)
    learned.line_reader = LineReader(One())
    reading, theirs = learned.read_number(png), cutter.predict(png)
    assert reading.segmentation.scale >= 1 and len(learned.line_reader.read(png)[0].pieces) == 1  # the learned path
    assert len(reading.digits) == 1 and reading.digits[0].prediction.probabilities == theirs.probabilities
    np.testing.assert_array_equal(reading.digits[0].prediction.model_input, theirs.model_input)


def test_the_learned_reading_stands_where_unsure_if_both_count_alike(cutter, handwriting):
    """Where the two readers read as many digits, no rule combining them by confidence read more numbers
    exactly (scripts/reader_trials.py), so an unsure learned reading is the answer, with its doubt."""
    number = on_canvas(next(deal_lines(handwriting["test"], 1, seed=5, style=APART, length=3)))
    learned, png = scripted_predictor(cutter, number, sure=0.15)
    reading, cut = learned.read_number(png), cutter.read_number(png)
    assert reading.confidence < RECOUNT and reading.confidence < cut.confidence  # the cutting reader is surer...
    assert len(cut.digits) == len(reading.digits) and cut.text != reading.text  # ...of as many digits
    assert reading.segmentation.marks == () and cut.segmentation.marks  # the learned reader's pieces
    assert reading.text == number.text
    assert reading.confidence == pytest.approx(
        text_probability(learned.line_reader.read(png)[1], [*map(int, number.text)])
    )


class OneMore(Scripted):
    """The truth's frames with a 1 read halfway between the first two digits: a digit more, over no ink."""

    def __call__(self, strip: np.ndarray) -> np.ndarray:
        frames = super().__call__(strip)
        digits = np.flatnonzero(frames.argmax(axis=1) != BLANK)
        frames[(digits[0] + digits[1]) // 2] = frames_of([1], self.sure)[0]
        return frames


def one_more(predictor: Predictor, number, sure: float) -> tuple[Predictor, bytes]:
    learned, png = scripted_predictor(predictor, number, sure)
    net = OneMore(number, sure)
    net.line = learned.line_reader.net.line
    learned.line_reader = LineReader(net)
    return learned, png


def test_an_unsure_learned_reading_of_digits_apart_is_recounted_by_the_cutting_reader(cutter, handwriting):
    """Digits apart, the learned reader unsure and reading a digit more: the cutting reader, which parted
    no mark and counts three, answers, with its own confidence (``recounted``)."""
    number = on_canvas(next(deal_lines(handwriting["test"], 1, seed=0, style=APART, length=3)))
    learned, png = one_more(cutter, number, sure=0.9)
    seg, frames = learned.line_reader.read(png)
    sure = text_probability(frames, [int(np.argmax(p.probabilities)) for p in seg.pieces])
    assert len(seg.pieces) == 4 and sure < RECOUNT and not any(p.touching for p in seg.pieces)
    cut = cutter.read_number(png)
    assert cut.text == number.text and cut.confidence > sure and recounted(sure, seg, cut)
    reading = learned.read_number(png)
    assert reading.text == number.text and reading.segmentation.marks  # the cutting reader's pieces
    assert reading.confidence == cut.confidence and reading.text_probability is None


def test_a_sure_or_touching_learned_reading_is_not_recounted(cutter, handwriting):
    """The same digit more, read surely (if less surely than the cutting reader reads three), stands;
    and where digits touch (the learned reader parted a blot between two of them) the cutting reader's
    count is not trusted, however unsure the learned reader: two touching digits can be one mark to it."""
    number = on_canvas(next(deal_lines(handwriting["test"], 1, seed=0, style=APART, length=3)))
    learned, png = one_more(cutter, number, sure=0.99)
    reading, cut = learned.read_number(png), cutter.read_number(png)
    assert RECOUNT <= reading.confidence < cut.confidence and len(reading.text) == 4 and len(cut.text) == 3
    # "88", the two loops touching: the cutting reader reads one 8, surely, without cutting a mark apart.
    touching = on_canvas(next(deal_lines(handwriting["test"], 1, seed=0, style=JUST_TOUCHING, length=2)))
    learned, png = scripted_predictor(cutter, touching, sure=0.9)
    seg, _ = learned.line_reader.read(png)
    cut = cutter.read_number(png)
    assert touching.text == "88" and [p.touching for p in seg.pieces] == [True, True]
    assert cut.text == "8" and not cut.segmentation.pieces[0].touching
    reading = learned.read_number(png)
    assert reading.text == "88" and cut.confidence > reading.confidence
    assert reading.segmentation.marks == () and reading.confidence < RECOUNT  # the learned reading, unsure


def test_a_reading_with_memory_that_changes_a_digit_reports_the_digits_product(cutter, handwriting):
    number = on_canvas(next(deal_lines(handwriting["test"], 1, seed=5, style=APART, length=3)))
    learned, png = scripted_predictor(cutter, number)

    class Flip:  # a memory sure the first digit is something else
        def __len__(self):
            return 1

        def blend(self, probabilities, features):
            out = probabilities.copy()
            out[0] = np.roll(out[0], 1)
            return out

    learned.features = lambda framed: np.zeros((len(framed), 1))
    reading = learned.read_number(png, memory=Flip())
    assert reading.text[1:] == number.text[1:] and reading.text[0] != number.text[0]
    assert reading.text_probability is None
    assert reading.confidence == pytest.approx(np.prod([d.confidence for d in reading.digits]))


def test_a_blank_canvas_reads_as_nothing_with_a_learned_reader(predictor, handwriting):
    number = on_canvas(next(deal_lines(handwriting["test"], 1, seed=0, style=APART, length=2)))
    learned, _ = scripted_predictor(predictor, number)
    assert learned.read_number(np.full((280, 840, 3), 255, np.uint8)).text == ""


# --- which reader runs --------------------------------------------------------------------------------------


def test_without_a_reader_file_the_cutting_reader_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITREC_NUMBER_READER", str(tmp_path / "none.tflite"))
    p = Predictor.load()
    assert p.number_reader == "segmentation" and p.line_reader is None and "none.tflite" in p.number_reader_note
    monkeypatch.setenv("DIGITREC_NUMBER_READER", "off")
    assert reader_path() is None and Predictor.load().number_reader == "segmentation"


def test_a_reader_file_without_its_card_is_refused(tmp_path):
    fake = tmp_path / "number_reader.tflite"
    fake.write_bytes(b"not a model")
    with pytest.raises(Unavailable, match="card"):
        LineReader.load(fake)
    from digitrec.predict import ModelError

    with pytest.raises(ModelError, match="number reader"):
        Predictor.load(number_reader=fake)


def test_a_digit_read_over_no_ink_still_gets_a_piece(handwriting):
    from digitrec.segment.learned import pieces

    number = next(deal_lines(handwriting["test"], 1, seed=1, style=APART, length=2))
    line = line_of(to_png(number.image))
    # Two digits read over the blank columns past the ink, and one read twice in a row.
    spans = greedy(frames_of([B, 3, B, 3] + [B] * (FRAMES - 7) + [5, B, 6]))
    seg = pieces(line, spans)
    assert len(seg.pieces) == 4
    for piece in seg.pieces:
        x0, y0, x1, y1 = piece.box
        assert 0 <= x0 < x1 <= line.size[0] and 0 <= y0 < y1 <= line.size[1]
        assert piece.framed.shape == (28, 28) and piece.mask.shape == piece.ink.shape


def test_stray_dots_do_not_stretch_the_strip_and_noise_is_refused(handwriting):
    from digitrec import InvalidImage

    number = on_canvas(next(deal_lines(handwriting["test"], 1, seed=6, style=APART, length=3)))
    dotted = number.image.copy()
    dotted[10:13, 5:8] = 0  # a pen tap in the top-left corner, far from the number
    clean, with_dot = line_of(to_png(number.image)), line_of(to_png(dotted))
    assert with_dot.box == clean.box
    np.testing.assert_array_equal(with_dot.image, clean.image)
    noise = np.full((280, 840), 255, np.uint8)
    for r in range(0, 280, 8):  # thousands of separate 4x4 dots, as the cutting reader refuses them
        for c in range(0, 840, 8):
            noise[r : r + 4, c : c + 4] = 0
    with pytest.raises(InvalidImage) as info:
        line_of(to_png(noise))
    assert info.value.kind == "too_large"
