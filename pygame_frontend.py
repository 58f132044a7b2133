"""Draw a digit with the mouse; digitrec says which one it is, with honest probabilities.

    python pygame_frontend.py [--model PATH] [--canvas PX] [--db URL] [--user NAME] [--no-saving]

Draw with the left mouse button (the answer comes when you let go), Enter to predict again,
C or Backspace to clear, Esc or closing the window to quit. After an answer, a digit key 0-9 saves
the drawing as that digit ("Right" when it is the answer, "Wrong, it was N" otherwise) in the
drawing store (``digitrec.store``), for ``python -m digitrec finetune``; with ``--no-saving`` (or
``DIGITREC_ALLOW_SAVING=0``) the digit keys save nothing. F, then F again, forgets the window's user:
every drawing saved under that name is deleted (any other key after the first F keeps them). L learns
the window user's handwriting: a fine-tune in a worker process, its progress and then the figures before
and after on the saving line; from then on that user's own model answers. Every answer is read with the
window user's saved drawings (``Feedback.answering``): a correction changes the next similar answer at once.

N switches to number mode (``NumberMode``): a wide canvas read as a whole number ("2026"), each digit's
box over the ink, its top readings below. There Tab, the arrow keys or a click on a digit's column picks
a digit, 0-9 saves it as that digit and Space as what was read (only that digit's ink is kept).

The layout follows pygame's own examples: constants up top, the state (``Canvas``, ``NumberMode``) apart
from the window (``App``), events only change state and drawing only reads it.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # no banner on stdout

import numpy as np
import pygame

from digitrec import InvalidImage, ModelError, Prediction, Predictor, present
from digitrec.feedback import Feedback, Saved, SavingOff, saving_allowed
from digitrec.learning import Job, Learner, LearnRefused, TooFewDrawings
from digitrec.listen import add_saving_flags
from digitrec.memory import Memory
from digitrec.predict import NumberReading
from digitrec.preprocess import NUMBER_CANVAS
from digitrec.present import COLOURS, format_percent
from digitrec.store import InvalidDrawing, StoreError, default_user

TITLE = "digitrec: draw a digit"
CANVAS = 360  # default drawing area side, in pixels
MIN_CANVAS = 140
PEN_RATIO = 0.07  # pen width / canvas side: a digit filling 60% of the canvas gets MNIST-like strokes
STAMP_SPACING = 0.25  # distance between brush stamps along a stroke, in pen widths: looks continuous
FPS = 60

MARGIN = 20
PANEL = 300  # width of the answer panel right of the canvas
PANEL_HEIGHT = 360  # answer, confidence and ten bars
SAVED_LINES = 2  # the saving line, wrapped: "12 drawings saved by ana, kept in <a long path>"
FOOTER = 80  # under the canvas and panel: the help line and the saving line's two lines
BAR_ROW = 20
PREVIEW_SCALE = 4  # the 28x28 model input, each pixel shown 4x4
PREVIEW = 28 * PREVIEW_SCALE

# Number mode (N)
NUMBER_WIDTH, NUMBER_HEIGHT = NUMBER_CANVAS  # the canvas: three single-digit canvases side by side
NUMBER_PANEL = 250  # under the canvas: the number, its confidence, the columns
COLUMN = 112  # each digit's readings, one column a digit
ROWS = 3  # its three likeliest readings

BACKGROUND = (28, 30, 38)
PAPER = (250, 250, 247)
INK = (20, 24, 40)
FRAME = (70, 74, 88)
TEXT = (232, 234, 240)
MUTED = (140, 145, 160)
TRACK = (48, 51, 62)
BAR = (110, 116, 136)
ACCENT = (90, 170, 255)
# Each digit of a number in its own colour: digitrec.present.COLOURS, as the other front ends.

HELP = "draw with the mouse    Enter: predict    C / Backspace: clear    N: whole number    Esc: quit"
BLANK = "draw a digit"
SAVE_HINT = "0-9 after an answer: save the drawing as that digit."
NUMBER_HELP = "draw    Enter: read    C: clear    N: one digit    Esc: quit"
# When saving is on, the keys that pick and save a digit stay in sight after the first save.
NUMBER_SAVING_HELP = NUMBER_HELP.replace("Esc", "Tab / click: pick a digit    0-9 / Space: save it    Esc")
NUMBER_BLANK = "write a number"
# With saving on, "Learn my handwriting" (L: a fine-tune in a worker process, its progress on the saving
# line) and "Forget me" (F asks, a second F deletes every drawing of the window's user).
FORGET_HELP = "L: learn me    F F: forget me    Esc"
ASK_FORGET = "Press F again to delete every drawing saved by {user}; any other key keeps them."
KEPT = "Nothing deleted."
NUMBER_SAVE_HINT = "Tab, arrows or a click on a column: pick a digit. 0-9: save it as that digit, Space: it was right."

DIGIT_KEYS = {getattr(pygame, f"K_{d}"): d for d in range(10)} | {getattr(pygame, f"K_KP{d}"): d for d in range(10)}
PICK_KEYS = (pygame.K_TAB, pygame.K_LEFT, pygame.K_RIGHT)  # number mode: the next (previous) digit

Point = tuple[float, float]
Colour = tuple[int, int, int]


def make_brush(diameter: float) -> pygame.Surface:
    """A round, anti-aliased pen tip: ink on white, to stamp with BLEND_RGB_MIN (ink only darkens)."""
    side = math.ceil(diameter) + 2
    big = pygame.Surface((4 * side, 4 * side), 0, 32)  # draw 4x, then smoothscale: soft edges
    big.fill((255, 255, 255))
    pygame.draw.circle(big, INK, (2 * side, 2 * side), 2 * diameter)
    return pygame.transform.smoothscale(big, (side, side))


class Canvas:
    """The drawing: the strokes as lists of points, and the ink they leave on a paper surface."""

    def __init__(self, size: int = CANVAS, pen: float | None = None, width: int | None = None) -> None:
        self.size = size  # the height; the width too, unless ``width`` makes it wide (number mode)
        self.width = width or size
        self.pen = pen if pen is not None else max(2.0, PEN_RATIO * size)
        self.surface = pygame.Surface((self.width, size), 0, 32)
        self.strokes: list[list[Point]] = []
        self.drawing = False  # the pen is down
        self._brush = make_brush(self.pen)
        self.clear()

    @property
    def empty(self) -> bool:
        return not self.strokes

    def begin(self, pos: Point) -> None:
        """Put the pen down: a click without movement still leaves a dot."""
        self.strokes.append([pos])
        self.drawing = True
        self._stamp(pos)

    def extend(self, pos: Point) -> None:
        """Move the pen to ``pos``, inking the whole way from the last point."""
        if not self.drawing:
            return
        stroke = self.strokes[-1]
        a = stroke[-1]
        # Motion events come once per frame at best, and a fast hand travels far in between:
        # stamping the round tip every quarter pen width along the segment leaves no gaps or corners.
        steps = max(1, math.ceil(math.dist(a, pos) / (STAMP_SPACING * self.pen)))
        for i in range(1, steps + 1):
            t = i / steps
            self._stamp((a[0] + t * (pos[0] - a[0]), a[1] + t * (pos[1] - a[1])))
        stroke.append(pos)

    def end(self) -> None:
        self.drawing = False

    def clear(self) -> None:
        self.strokes.clear()
        self.drawing = False
        self.surface.fill(PAPER)

    def as_array(self) -> np.ndarray:
        """The drawing as an (H, W, 3) uint8 array, for ``Predictor.predict``."""
        return pygame.surfarray.array3d(self.surface).transpose(1, 0, 2)  # surfarray is (x, y)

    def _stamp(self, pos: Point) -> None:
        half = self._brush.get_width() / 2
        self.surface.blit(self._brush, (round(pos[0] - half), round(pos[1] - half)), special_flags=pygame.BLEND_RGB_MIN)


@dataclass(frozen=True)
class Layout:
    """Where everything goes in a window for a canvas of side ``size``."""

    size: int

    @property
    def canvas(self) -> pygame.Rect:
        return pygame.Rect(MARGIN, MARGIN, self.size, self.size)

    @property
    def panel(self) -> pygame.Rect:
        return pygame.Rect(self.canvas.right + MARGIN, MARGIN, PANEL, PANEL_HEIGHT)

    @property
    def answer(self) -> pygame.Rect:
        return pygame.Rect(self.panel.left, self.panel.top, PANEL - PREVIEW - MARGIN, PREVIEW)

    @property
    def preview(self) -> pygame.Rect:
        return pygame.Rect(self.panel.right - PREVIEW, self.panel.top, PREVIEW, PREVIEW)

    @property
    def bars(self) -> pygame.Rect:
        top = self.panel.bottom - 10 * BAR_ROW
        return pygame.Rect(self.panel.left, top, PANEL, 10 * BAR_ROW)

    @property
    def help(self) -> pygame.Rect:
        top = MARGIN + max(self.size, PANEL_HEIGHT) + MARGIN // 2
        return pygame.Rect(MARGIN, top, self.window[0] - 2 * MARGIN, 20)

    @property
    def window(self) -> tuple[int, int]:
        return MARGIN + self.size + MARGIN + PANEL + MARGIN, MARGIN + max(self.size, PANEL_HEIGHT) + FOOTER


@dataclass(frozen=True)
class NumberLayout:
    """Where everything goes in number mode: the wide canvas on top, the answer under it."""

    @property
    def canvas(self) -> pygame.Rect:
        return pygame.Rect(MARGIN, MARGIN, NUMBER_WIDTH, NUMBER_HEIGHT)

    @property
    def answer(self) -> pygame.Rect:
        return pygame.Rect(MARGIN, self.canvas.bottom + MARGIN, NUMBER_WIDTH, 110)

    @property
    def digits(self) -> pygame.Rect:
        return pygame.Rect(MARGIN, self.answer.bottom + 10, NUMBER_WIDTH, NUMBER_PANEL - 120)

    @property
    def columns(self) -> int:
        """How many digits' columns fit under the number."""
        return self.digits.width // COLUMN

    def column(self, k: int) -> pygame.Rect:
        """Where digit ``k``'s column is drawn (and clicked)."""
        return pygame.Rect(self.digits.left + k * COLUMN, self.digits.top, COLUMN - 12, self.digits.height)

    @property
    def help(self) -> pygame.Rect:
        return pygame.Rect(MARGIN, self.canvas.bottom + MARGIN + NUMBER_PANEL + MARGIN // 2, NUMBER_WIDTH, 20)

    @property
    def window(self) -> tuple[int, int]:
        return MARGIN + NUMBER_WIDTH + MARGIN, MARGIN + NUMBER_HEIGHT + MARGIN + NUMBER_PANEL + FOOTER


def wrap(text: str, font: pygame.font.Font, width: int) -> list[str]:
    """``text`` in lines no wider than ``width`` in ``font``: broken at spaces, and a word too long for
    a line (a path) broken where it must be."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.size(candidate)[0] <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        while font.size(word)[0] > width:  # cut as much as fits
            cut = max(1, next(i for i in range(len(word), 0, -1) if font.size(word[:i])[0] <= width))
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    return lines + [line] if line else lines


def headline(prediction: Prediction | None) -> str:
    """The big text: the digit, or an invitation when there is nothing to judge."""
    return BLANK if prediction is None or prediction.blank else str(prediction.digit)


def confidence_text(answer: Prediction | NumberReading | None) -> str:
    """How sure the network is of a digit, or of a whole number; nothing when there is nothing to judge."""
    return "" if answer is None or answer.blank else f"confidence {format_percent(answer.confidence)}"


class NumberMode:
    """Number mode (N): the reading of the wide canvas, the digit picked and the digits saved; what keys
    and clicks do to them, saving the picked digit, and drawing it all on the window.

    Each digit is confirmed or corrected on its own: 0-9 saves the picked one as that digit and Space as
    what was read (``Feedback.save_digit``: only that digit's ink is kept); then the next one is picked.
    """

    def __init__(self) -> None:
        self.layout = NumberLayout()
        self.reading: NumberReading | None = None  # None until read, and after clearing
        self.selected = 0  # the digit that 0-9 and Space save (0-based, left to right)
        self.saved_digits: dict[int, int] = {}  # the digits of this reading saved: position -> label

    @property
    def headline(self) -> str:
        """The number, or an invitation when there is nothing to read."""
        return NUMBER_BLANK if self.reading is None or self.reading.blank else self.reading.text

    @property
    def count(self) -> int:
        return len(self.reading.digits) if self.reading is not None else 0

    # --- events -> state --------------------------------------------------------------------

    def read(self, predictor: Predictor, image: np.ndarray, memory: Memory | None = None) -> None:
        """A new reading (about 2-3 ms a digit) starts at its first digit, none saved."""
        self.clear()
        self.reading = predictor.read_number(image, memory=memory)

    def clear(self) -> None:
        self.reading = None
        self.selected, self.saved_digits = 0, {}

    def pick(self, event: pygame.event.Event) -> None:
        """Tab or Right: the next digit (Shift+Tab or Left: the previous one), round the number."""
        if self.count:
            back = event.key == pygame.K_LEFT or (
                event.key == pygame.K_TAB and getattr(event, "mod", 0) & pygame.KMOD_SHIFT
            )
            self.selected = (self.selected + (-1 if back else 1)) % self.count

    def click(self, pos: tuple[int, int]) -> None:
        """A click on a digit's column (under the number) picks that digit."""
        for k in range(min(self.count, self.layout.columns)):
            if self.layout.column(k).collidepoint(pos):
                self.selected = k

    def save(self, feedback: Feedback, image: np.ndarray, label: int | None, user: str | None) -> Saved | None:
        """Keep the picked digit's ink as ``label`` (None: as read) and pick the next digit; None when there is
        no number to save from. Raises as ``Feedback.save_digit`` does."""
        if self.reading is None or self.reading.blank:
            return None
        k = self.selected
        saved = feedback.save_digit(image, self.reading, k, label, user)
        self.saved_digits[k] = saved.label
        self.selected = min(k + 1, self.count - 1)  # on to the next digit: a number is checked in one go
        return saved

    # --- state -> screen --------------------------------------------------------------------

    def draw(self, window: App) -> None:
        """Each digit's box over its ink, the number and a column per digit, on ``window``'s screen. The
        picked digit shows only when saving is on: then 0-9 and Space save it."""
        picking = window.feedback is not None
        digits = self.reading.digits if self.reading is not None else ()
        area = self.layout.canvas
        for k, d in enumerate(digits):
            colour = COLOURS[k % len(COLOURS)]
            x0, y0, x1, y1 = d.box
            box = pygame.Rect(area.left + x0 - 3, area.top + y0 - 3, x1 - x0 + 6, y1 - y0 + 6).clip(area)
            pygame.draw.rect(window.screen, colour, box, 4 if picking and k == self.selected else 2, border_radius=4)
            window.text(str(d.digit), "medium", colour, bottomleft=(box.left, max(box.top, area.top + 18)))
        answer, text = self.layout.answer, self.headline
        if text == NUMBER_BLANK:
            window.text(text, "large", MUTED, midleft=answer.midleft)
        else:
            if window.fonts["huge"].size(text)[0] > answer.width:  # a long number: smaller, never off the window
                window.text(text, "large", TEXT, midleft=answer.midleft)
            else:
                window.text(text, "huge", TEXT, midleft=(answer.left, answer.centery + 4))
            window.text(confidence_text(self.reading), "medium", ACCENT, midright=(answer.right, answer.centery))
        for k, d in enumerate(digits[: self.layout.columns]):
            self._draw_column(window, k, d.prediction, picking and k == self.selected)
        if len(digits) > self.layout.columns:
            more = f"+{len(digits) - self.layout.columns} more"
            window.text(more, "small", MUTED, bottomright=self.layout.digits.bottomright)

    def _draw_column(self, window: App, k: int, prediction: Prediction, picked: bool) -> None:
        """Under the number, digit ``k``'s column: its three likeliest readings as bars; framed when picked."""
        colour = COLOURS[k % len(COLOURS)]
        box = self.layout.column(k)
        pygame.draw.rect(window.screen, colour, (box.left, box.top, box.width, 4))
        if picked:  # framed, as its box on the canvas
            pygame.draw.rect(window.screen, colour, box.inflate(8, 4), 2, border_radius=4)
        if k in self.saved_digits:
            window.text(f"saved as {self.saved_digits[k]}", "small", colour, bottomleft=(box.left, box.bottom - 2))
        for row, (digit, p) in enumerate(prediction.top(ROWS)):
            line = pygame.Rect(box.left, box.top + 14 + row * (BAR_ROW + 4), box.width, BAR_ROW)
            window.text(str(digit), "medium", TEXT if row == 0 else MUTED, midleft=(line.left, line.centery))
            window.text(format_percent(p), "small", MUTED, midright=(line.right, line.centery))
            track = pygame.Rect(line.left + 16, line.top + 5, line.width - 16 - 46, line.height - 10)
            window.bar(track, p, colour if row == 0 else BAR)


class App:
    """The window: ``handle`` turns events into state, ``draw`` renders the state. ``numbers`` is number
    mode's state while N is on (None: one digit, ``prediction``)."""

    def __init__(
        self,
        predictor: Predictor,
        screen: pygame.Surface,
        canvas: Canvas | None = None,
        feedback: Feedback | None = None,
        user: str | None = None,
    ) -> None:
        self.predictor = predictor
        self.feedback = feedback  # None: no saving (digit keys do nothing)
        self.user = user
        self.screen = screen
        self.canvas = canvas or Canvas()
        self.digit_size = self.canvas.size  # the square canvas's side, for coming back from number mode
        self.layout: Layout | NumberLayout = Layout(self.canvas.size)
        self.prediction: Prediction | None = None  # None until asked, and after clearing
        self.numbers: NumberMode | None = None  # N: a wide canvas, read as a whole number
        self.saved_line = self.saving_hint()
        self.forgetting = False  # F was pressed once: a second F forgets the user
        self.learner: Learner | None = None  # L: made on first use (tests set their own)
        self.learning: Job | None = None  # the window user's Learn while it is queued or running
        self.running = True
        self.fonts = {
            size: pygame.font.Font(None, px)
            for size, px in (("huge", 150), ("large", 34), ("medium", 24), ("small", 20))
        }

    @property
    def save_hint(self) -> str:
        """Which keys save, in this mode."""
        return SAVE_HINT if self.numbers is None else NUMBER_SAVE_HINT

    @property
    def help_line(self) -> str:
        """The keys, in this mode; with saving on, those that save and "F F: forget me" too."""
        if self.feedback is None:
            return HELP if self.numbers is None else NUMBER_HELP
        # "with the mouse" makes room for L and F F in the square window
        return (HELP.replace("draw with the mouse", "draw") if self.numbers is None else NUMBER_SAVING_HELP).replace(
            "Esc", FORGET_HELP
        )

    def saving_hint(self) -> str:
        """The saving line before a save: which keys save, and how many drawings are kept where."""
        return f"{self.save_hint} {self.feedback.status(self.user)}" if self.feedback is not None else ""

    # --- events -> state --------------------------------------------------------------------

    def handle(self, event: pygame.event.Event) -> None:
        key = event.key if event.type == pygame.KEYDOWN else None
        if self.forgetting and key not in (None, pygame.K_f):  # any other key: nothing is forgotten
            self.forgetting = False
            self.saved_line = KEPT
        if event.type == pygame.QUIT or key == pygame.K_ESCAPE:
            self.running = False
        elif key == pygame.K_f and self.feedback is not None:
            self.forget()
        elif key == pygame.K_l and self.feedback is not None:
            self.learn()
        elif key == pygame.K_n:
            self.switch_mode()
        elif key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self.predict()
        elif key in (pygame.K_c, pygame.K_BACKSPACE):
            self.clear()
        elif key in DIGIT_KEYS:
            self.save(DIGIT_KEYS[key])
        elif key == pygame.K_SPACE and self.numbers is not None:
            self.save(None)  # "Right": the picked digit is what was read
        elif key in PICK_KEYS and self.numbers is not None:
            self.numbers.pick(event)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            if self.layout.canvas.collidepoint(event.pos):
                self.canvas.begin(self._on_canvas(event.pos))
            elif self.numbers is not None:
                self.numbers.click(event.pos)  # a digit's column picks it
        elif event.type == pygame.MOUSEMOTION and self.canvas.drawing:
            self.canvas.extend(self._on_canvas(event.pos))  # leaving the canvas just clips the ink
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1 and self.canvas.drawing:
            self.canvas.end()
            self.predict()

    def predict(self) -> None:
        # About 2 ms a drawing (2.5 ms with the NumPy engine): calling it synchronously never stalls a frame.
        # The window user's saved drawings help (None without saving: the network alone).
        # After L, the user's own model answers (Feedback.answering).
        answerer, memory = (
            (self.predictor, None) if self.feedback is None else self.feedback.answering(self.user or default_user())
        )
        if self.numbers is not None:
            self.numbers.read(answerer, self.canvas.as_array(), memory)
        else:
            self.prediction = answerer.predict(self.canvas.as_array(), memory=memory)

    def clear(self) -> None:
        self.canvas.clear()
        self.prediction = None
        if self.numbers is not None:
            self.numbers.clear()

    def switch_mode(self) -> None:
        """One digit <-> a whole number: a new, empty canvas of the mode's shape, the window resized to fit."""
        self.numbers = NumberMode() if self.numbers is None else None
        if self.numbers is not None:
            self.canvas, self.layout = Canvas(NUMBER_HEIGHT, width=NUMBER_WIDTH), self.numbers.layout
        else:
            self.canvas, self.layout = Canvas(self.digit_size), Layout(self.digit_size)
        self.prediction = None
        self.saved_line = self.saving_hint()
        if pygame.display.get_surface() is self.screen:  # a real window (tests may draw on a plain surface)
            self.screen = pygame.display.set_mode(self.layout.window)
        else:
            self.screen = pygame.Surface(self.layout.window)

    def save(self, label: int | None) -> None:
        """Keep the drawing as ``label``: "Right" when it is the answer shown, a correction otherwise. In
        number mode only the picked digit, and ``label`` None is "Right". The saving line says what happened."""
        if self.feedback is None:
            return
        image = self.canvas.as_array()
        try:
            if self.numbers is not None:
                saved = self.numbers.save(self.feedback, image, label, self.user)
            elif self.prediction is None or self.prediction.blank:
                saved = None
            else:
                saved = self.feedback.save(image, label, self.user, self.prediction)
        except SavingOff as exc:
            self.saved_line = str(exc)
        except (InvalidImage, InvalidDrawing, StoreError) as exc:
            self.saved_line = f"Not saved: {exc}"
        else:
            first = "Draw a digit first." if self.numbers is None else "Write a number first."
            self.saved_line = present.saved_line(saved) if saved else f"{first} {self.save_hint}"

    def forget(self) -> None:
        """ "Forget me": the first F asks, the second deletes every drawing saved under the window's user
        (``--user``, else the login name). The saving line says what happened."""
        user = self.user or default_user()
        if not self.forgetting:
            self.forgetting = True
            self.saved_line = ASK_FORGET.format(user=user)
            return
        self.forgetting = False
        try:
            self.saved_line = self.feedback.forget(user)
        except SavingOff as exc:
            self.saved_line = str(exc)
        except (InvalidDrawing, StoreError) as exc:
            self.saved_line = f"Nothing deleted: {exc}"

    def learn(self) -> None:
        """ "Learn my handwriting" for the window's user: a fine-tune in a worker process
        (``digitrec.learning``); the saving line shows its progress (``follow``), then before / after."""
        if self.learner is None:
            feedback = self.feedback
            self.learner = Learner(self.predictor.path, lambda: feedback.store, on_done=feedback.personal.drop)
        try:
            self.learning = self.learner.submit(self.user or default_user())
        except (LearnRefused, TooFewDrawings, InvalidDrawing, StoreError) as exc:
            self.saved_line = f"Not learnt: {exc}"
            return
        self.saved_line = present.learn_line(self.learning.to_dict())

    def follow(self) -> None:
        """Each frame while a Learn is under way: its progress on the saving line; once done, the answer
        shown is read again by the user's own model."""
        if self.learning is None or self.learner is None:
            return
        job = self.learner.status(self.learning.user) or self.learning
        self.saved_line = present.learn_line(job.to_dict())
        self.learning = job if job.state in ("queued", "running") else None
        if job.state == "done" and not self.canvas.empty:
            self.predict()

    def _on_canvas(self, pos: tuple[int, int]) -> Point:
        return float(pos[0] - self.layout.canvas.left), float(pos[1] - self.layout.canvas.top)

    # --- state -> screen --------------------------------------------------------------------

    def draw(self) -> None:
        self.screen.fill(BACKGROUND)
        self.screen.blit(self.canvas.surface, self.layout.canvas)
        pygame.draw.rect(self.screen, FRAME, self.layout.canvas.inflate(4, 4), 2)
        if self.numbers is not None:
            self.numbers.draw(self)
        else:
            self._draw_answer()
            self._draw_preview()
            self._draw_bars()
        self.text(self.help_line, "small", MUTED, midleft=self.layout.help.midleft)
        self._draw_saved_line()

    def _draw_saved_line(self) -> None:
        """The saving line in the margin under the help line, wrapped to the window: a store's path can be long."""
        font, help_line = self.fonts["small"], self.layout.help
        for k, line in enumerate(wrap(self.saved_line, font, help_line.width)[:SAVED_LINES]):
            self.text(line, "small", ACCENT, topleft=(help_line.left, help_line.bottom + k * font.get_linesize()))

    def _draw_answer(self) -> None:
        box = self.layout.answer
        text = headline(self.prediction)
        if text == BLANK:
            self.text(text, "large", MUTED, midleft=(box.left, box.centery))
            return
        self.text(text, "huge", TEXT, midleft=(box.left, box.centery + 6))
        self.text(confidence_text(self.prediction), "medium", ACCENT, topleft=(box.left, box.bottom + 14))

    def _draw_preview(self) -> None:
        box = self.layout.preview
        if self.prediction is None:
            image = np.zeros((PREVIEW, PREVIEW), np.uint8)
        else:
            image = self.prediction.model_image(PREVIEW_SCALE)  # enlarged with square pixels
        grey = image.T  # surfarray is (x, y)
        self.screen.blit(pygame.surfarray.make_surface(np.repeat(grey[..., None], 3, axis=2)), box)
        pygame.draw.rect(self.screen, FRAME, box.inflate(4, 4), 2)
        self.text("what the model sees", "small", MUTED, topright=(box.right, box.bottom + 8))

    def _draw_bars(self) -> None:
        area = self.layout.bars
        shown = self.prediction is not None and not self.prediction.blank
        probs = self.prediction.probabilities if shown else (0.0,) * 10
        label_w, value_w = 24, 64
        for digit, p in enumerate(probs):
            row = pygame.Rect(area.left, area.top + digit * BAR_ROW, area.width, BAR_ROW)
            best = shown and digit == self.prediction.digit
            self.text(str(digit), "medium", TEXT if best else MUTED, midleft=(row.left + 4, row.centery))
            track = pygame.Rect(row.left + label_w, row.top + 4, row.width - label_w - value_w, row.height - 8)
            self.bar(track, p, ACCENT if best else BAR)
            if shown:
                self.text(format_percent(p), "small", TEXT if best else MUTED, midright=(row.right, row.centery))

    def bar(self, track: pygame.Rect, p: float, colour: Colour) -> None:
        """A probability as a bar: the ``track``, filled ``p`` of the way in ``colour``."""
        pygame.draw.rect(self.screen, TRACK, track, border_radius=3)
        if round(p * track.width) > 0:
            fill = pygame.Rect(track.left, track.top, round(p * track.width), track.height)
            pygame.draw.rect(self.screen, colour, fill, border_radius=3)

    def text(self, text: str, font: str, colour: Colour, **where: tuple[int, int]) -> None:
        image = self.fonts[font].render(text, True, colour)
        self.screen.blit(image, image.get_rect(**where))

    # --- the loop ---------------------------------------------------------------------------

    def step(self) -> bool:
        """One frame: handle the waiting events, redraw, show. False once the app should stop."""
        for event in pygame.event.get():
            self.handle(event)
        self.follow()
        if self.running:
            self.draw()
            pygame.display.flip()
        return self.running


def run(app: App, fps: int = FPS) -> None:
    clock = pygame.time.Clock()
    while app.step():
        clock.tick(fps)


def open_window(
    predictor: Predictor, size: int = CANVAS, feedback: Feedback | None = None, user: str | None = None
) -> App:
    """Start Pygame's display and fonts and open the app's window for a canvas of side ``size``.

    Only the display and fonts: no audio device is needed. ``pygame.quit()`` closes it. Events
    already queued stay queued (tests post a drawing before ``main()`` opens the window).
    """
    pygame.display.init()
    pygame.font.init()
    canvas = Canvas(size)
    screen = pygame.display.set_mode(Layout(size).window)
    pygame.display.set_caption(TITLE)
    return App(predictor, screen, canvas, feedback, user)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="Draw a digit; digitrec recognizes it.")
    ap.add_argument("--model", help="model file (default: $DIGITREC_MODEL or models/digit_recognizer.keras)")
    ap.add_argument(
        "--canvas",
        type=int,
        default=CANVAS,
        metavar="PX",
        help=f"side of the drawing area in pixels (default {CANVAS}, at least {MIN_CANVAS})",
    )
    ap.add_argument("--db", help="drawing store: a database URL or SQLite file (default: $DIGITREC_DB)")
    ap.add_argument("--user", help="whose drawings these are (default: your login name)")
    add_saving_flags(
        ap, allow=False
    )  # a window on this machine: saving is on unless --no-saving or $DIGITREC_ALLOW_SAVING=0
    args = ap.parse_args(argv)
    if args.canvas < MIN_CANVAS:
        ap.error(f"--canvas must be at least {MIN_CANVAS}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        predictor = Predictor.load(args.model)  # before the window opens: a missing model shows none
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        feedback = Feedback(predictor, "pygame", db=args.db) if saving_allowed("localhost", allow=args.saving) else None
        run(open_window(predictor, args.canvas, feedback, args.user))
    finally:
        pygame.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
