"""Draw a digit with the mouse; digitrec says which one it is, with honest probabilities.

    python pygame_frontend.py [--model PATH] [--canvas PX] [--db URL] [--user NAME]

Draw with the left mouse button (the answer comes when you let go), Enter to predict again,
C or Backspace to clear, Esc or closing the window to quit. After an answer, a digit key 0-9 saves
the drawing as that digit ("Right" when it is the answer, "Wrong, it was N" otherwise) in the
drawing store (``digitrec.store``), for ``python -m digitrec finetune``. N switches to a wide canvas
that reads a whole number ("2026"): each digit's box over the ink, its top readings below; there
Tab, the arrow keys or a click on a digit's column picks a digit, 0-9 saves it as that digit and
Space as what was read (``pygame_numbers.py``).

The layout follows pygame's own examples: constants up top, the drawing state (``Canvas``) apart
from the window (``App``), events only change state and ``App.draw`` only reads it.
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
from digitrec.feedback import Feedback, SavingOff
from digitrec.present import format_percent
from digitrec.store import InvalidDrawing, StoreError

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

BACKGROUND = (28, 30, 38)
PAPER = (250, 250, 247)
INK = (20, 24, 40)
FRAME = (70, 74, 88)
TEXT = (232, 234, 240)
MUTED = (140, 145, 160)
TRACK = (48, 51, 62)
BAR = (110, 116, 136)
ACCENT = (90, 170, 255)

HELP = "draw with the mouse    Enter: predict    C / Backspace: clear    N: whole number    Esc: quit"
BLANK = "draw a digit"
SAVE_HINT = "0-9 after an answer: save the drawing as that digit."
DIGIT_KEYS = {getattr(pygame, f"K_{d}"): d for d in range(10)} | {getattr(pygame, f"K_KP{d}"): d for d in range(10)}
NUMBER_KEYS = (pygame.K_TAB, pygame.K_LEFT, pygame.K_RIGHT, pygame.K_SPACE)  # number mode: pick a digit, "Right"

Point = tuple[float, float]


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


def confidence_text(prediction: Prediction | None) -> str:
    return "" if prediction is None or prediction.blank else f"confidence {format_percent(prediction.confidence)}"


class App:
    """The window: ``handle`` turns events into state, ``draw`` renders the state."""

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
        self.saved_line = f"{SAVE_HINT} {feedback.status(user)}" if feedback else ""
        self.screen = screen
        self.canvas = canvas or Canvas()
        self.layout = Layout(self.canvas.size)
        self.prediction: Prediction | None = None  # None until asked, and after clearing
        self.running = True
        self.fonts = {
            size: pygame.font.Font(None, px)
            for size, px in (("huge", 150), ("large", 34), ("medium", 24), ("small", 20))
        }
        self.number_mode = False  # N: a wide canvas, read as a whole number
        self.reading = None  # in number mode, the NumberReading of the canvas (pygame_numbers.py shows it)
        self.selected = 0  # in number mode, the digit that 0-9 and Space save (0-based, left to right)
        self.saved_digits: dict[int, int] = {}  # in number mode, the digits of this reading saved: position -> label
        self.digit_size = self.canvas.size

    # --- events -> state --------------------------------------------------------------------

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
            self.running = False
        elif event.type == pygame.KEYDOWN and event.key == pygame.K_n:
            self.switch_mode()
        elif event.type == pygame.KEYDOWN and event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self.predict()
        elif event.type == pygame.KEYDOWN and event.key in (pygame.K_c, pygame.K_BACKSPACE):
            self.clear()
        elif event.type == pygame.KEYDOWN and event.key in DIGIT_KEYS:
            self.save(DIGIT_KEYS[event.key])
        elif self.number_mode and event.type == pygame.KEYDOWN and event.key in NUMBER_KEYS:
            import pygame_numbers

            pygame_numbers.key(self, event)  # pick a digit, or Space: "Right"
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            if self.layout.canvas.collidepoint(event.pos):
                self.canvas.begin(self._on_canvas(event.pos))
            elif self.number_mode:
                import pygame_numbers

                pygame_numbers.click(self, event.pos)  # a digit's column picks it
        elif event.type == pygame.MOUSEMOTION and self.canvas.drawing:
            self.canvas.extend(self._on_canvas(event.pos))  # leaving the canvas just clips the ink
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1 and self.canvas.drawing:
            self.canvas.end()
            self.predict()

    def predict(self) -> None:
        # About 2 ms a drawing (2.5 ms with the NumPy engine): calling it synchronously never stalls a frame.
        if self.number_mode:
            self.reading = self.predictor.read_number(self.canvas.as_array())  # about 2-3 ms a digit
            self.selected, self.saved_digits = 0, {}
        else:
            self.prediction = self.predictor.predict(self.canvas.as_array())

    def clear(self) -> None:
        self.canvas.clear()
        self.prediction = None
        self.reading = None
        self.selected, self.saved_digits = 0, {}

    def switch_mode(self) -> None:
        """One digit <-> a whole number: a new, empty canvas of the mode's shape, the window resized to fit."""
        import pygame_numbers as numbers  # number mode's layout and drawing

        self.number_mode = not self.number_mode
        self.canvas = Canvas(numbers.HEIGHT, width=numbers.WIDTH) if self.number_mode else Canvas(self.digit_size)
        self.layout = numbers.NumberLayout() if self.number_mode else Layout(self.digit_size)
        self.prediction = self.reading = None
        self.selected, self.saved_digits = 0, {}
        if self.feedback is not None:
            self.saved_line = (
                f"{numbers.SAVE_HINT if self.number_mode else SAVE_HINT} {self.feedback.status(self.user)}"
            )
        if pygame.display.get_surface() is self.screen:  # a real window (tests may draw on a plain surface)
            self.screen = pygame.display.set_mode(self.layout.window)
        else:
            self.screen = pygame.Surface(self.layout.window)

    def save(self, label: int | None) -> None:
        """Keep the drawing as ``label``: "Right" when it is the answer shown, a correction otherwise.
        In number mode, only the selected digit, and ``label`` None is "Right"."""
        if self.feedback is None:
            return
        if self.number_mode:
            import pygame_numbers

            pygame_numbers.save(self, label)
            return
        if self.prediction is None or self.prediction.blank:
            self.saved_line = f"Draw a digit first. {SAVE_HINT}"
            return
        label = self.prediction.digit if label is None else label
        try:
            self.saved_line = present.saved_line(
                self.feedback.save(self.canvas.as_array(), label, self.user, self.prediction)
            )
        except SavingOff as exc:
            self.saved_line = str(exc)
        except (InvalidImage, InvalidDrawing, StoreError) as exc:
            self.saved_line = f"Not saved: {exc}"

    def _on_canvas(self, pos: tuple[int, int]) -> Point:
        return float(pos[0] - self.layout.canvas.left), float(pos[1] - self.layout.canvas.top)

    # --- state -> screen --------------------------------------------------------------------

    def draw(self) -> None:
        if self.number_mode:
            import pygame_numbers

            pygame_numbers.draw(self, sys.modules[__name__])  # this module: its colours and sizes
            return
        self.screen.fill(BACKGROUND)
        self.screen.blit(self.canvas.surface, self.layout.canvas)
        pygame.draw.rect(self.screen, FRAME, self.layout.canvas.inflate(4, 4), 2)
        self._draw_answer()
        self._draw_preview()
        self._draw_bars()
        self._text(HELP, "small", MUTED, midleft=self.layout.help.midleft)
        self.draw_saved_line()

    def draw_saved_line(self) -> None:
        """The saving line in the margin under the help line, wrapped to the window: a store's path can be long."""
        if not self.saved_line:
            return
        font, help_line = self.fonts["small"], self.layout.help
        for k, line in enumerate(wrap(self.saved_line, font, help_line.width)[:SAVED_LINES]):
            self._text(line, "small", ACCENT, topleft=(help_line.left, help_line.bottom + k * font.get_linesize()))

    def _draw_answer(self) -> None:
        box = self.layout.answer
        text = headline(self.prediction)
        if text == BLANK:
            self._text(text, "large", MUTED, midleft=(box.left, box.centery))
            return
        self._text(text, "huge", TEXT, midleft=(box.left, box.centery + 6))
        self._text(confidence_text(self.prediction), "medium", ACCENT, topleft=(box.left, box.bottom + 14))

    def _draw_preview(self) -> None:
        box = self.layout.preview
        if self.prediction is None:
            image = np.zeros((PREVIEW, PREVIEW), np.uint8)
        else:
            image = self.prediction.model_image(PREVIEW_SCALE)  # enlarged with square pixels
        grey = image.T  # surfarray is (x, y)
        self.screen.blit(pygame.surfarray.make_surface(np.repeat(grey[..., None], 3, axis=2)), box)
        pygame.draw.rect(self.screen, FRAME, box.inflate(4, 4), 2)
        self._text("what the model sees", "small", MUTED, topright=(box.right, box.bottom + 8))

    def _draw_bars(self) -> None:
        area = self.layout.bars
        shown = self.prediction is not None and not self.prediction.blank
        probs = self.prediction.probabilities if shown else (0.0,) * 10
        label_w, value_w = 24, 64
        for digit, p in enumerate(probs):
            row = pygame.Rect(area.left, area.top + digit * BAR_ROW, area.width, BAR_ROW)
            best = shown and digit == self.prediction.digit
            self._text(str(digit), "medium", TEXT if best else MUTED, midleft=(row.left + 4, row.centery))
            track = pygame.Rect(row.left + label_w, row.top + 4, row.width - label_w - value_w, row.height - 8)
            pygame.draw.rect(self.screen, TRACK, track, border_radius=3)
            if round(p * track.width) > 0:
                fill = track.copy()
                fill.width = round(p * track.width)
                pygame.draw.rect(self.screen, ACCENT if best else BAR, fill, border_radius=3)
            if shown:
                self._text(format_percent(p), "small", TEXT if best else MUTED, midright=(row.right, row.centery))

    def _text(self, text: str, font: str, colour: tuple[int, int, int], **where: tuple[int, int]) -> None:
        image = self.fonts[font].render(text, True, colour)
        self.screen.blit(image, image.get_rect(**where))

    # --- the loop ---------------------------------------------------------------------------

    def step(self) -> bool:
        """One frame: handle the waiting events, redraw, show. False once the app should stop."""
        for event in pygame.event.get():
            self.handle(event)
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


def replay_stroke(points: Sequence[Point], origin: tuple[int, int], release: bool = True) -> None:
    """Queue one pen stroke as a user makes it: left button down, moves with it held, release.

    ``points`` are canvas coordinates and ``origin`` the canvas's top-left in the window. For
    tests and scripts that drive the real event loop without a mouse.
    """
    pts = [(round(x + origin[0]), round(y + origin[1])) for x, y in points]
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pts[0], button=1))
    for prev, pos in zip(pts, pts[1:], strict=False):
        rel = (pos[0] - prev[0], pos[1] - prev[1])
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=rel, buttons=(1, 0, 0)))
    if release:
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pts[-1], button=1))


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
        run(open_window(predictor, args.canvas, Feedback(predictor, "pygame", db=args.db), args.user))
    finally:
        pygame.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
