"""Number mode of the Pygame front end (N): a canvas three digits wide, read as a whole number.

``pygame_frontend.App`` switches to it and keeps its state (``app.reading``, a ``NumberReading``;
``app.selected``, the digit picked; ``app.saved_digits``); this module says where things go
(``NumberLayout``) and draws them (``draw``): each digit's box over its ink, the number, and a column
per digit with its three likeliest readings. The reading itself is ``Predictor.read_number``.

Each digit is confirmed or corrected on its own: Tab, the arrow keys or a click on its column picks
it (``key``, ``click``), 0-9 saves it as that digit and Space as what was read (``save``, through
``Feedback.save_digit``: only that digit's ink is kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

import pygame

from digitrec import present
from digitrec.feedback import SavingOff
from digitrec.imageio import InvalidImage
from digitrec.predict import DigitReading, NumberReading
from digitrec.present import COLOURS, format_percent
from digitrec.store import InvalidDrawing, StoreError

if TYPE_CHECKING:
    from pygame_frontend import App

WIDTH, HEIGHT = 840, 280  # the canvas: three single-digit canvases side by side
MARGIN = 20
PANEL = 250  # under the canvas: the number, its confidence, the columns
COLUMN = 112  # each digit's readings, one column a digit
ROWS = 3  # its three likeliest readings
BLANK = "write a number"
SAVE_HINT = "Tab, arrows or a click on a column: pick a digit. 0-9: save it as that digit, Space: it was right."
# The help line when saving is on: the keys that pick and save a digit stay in sight after the first save.
HELP = (
    "draw    Enter: read    C: clear    N: one digit    Tab / click: pick a digit    0-9 / Space: save it    Esc: quit"
)


@dataclass(frozen=True)
class NumberLayout:
    """Where everything goes in number mode: the wide canvas on top, the answer under it."""

    @property
    def canvas(self) -> pygame.Rect:
        return pygame.Rect(MARGIN, MARGIN, WIDTH, HEIGHT)

    @property
    def answer(self) -> pygame.Rect:
        return pygame.Rect(MARGIN, self.canvas.bottom + MARGIN, WIDTH, 110)

    @property
    def digits(self) -> pygame.Rect:
        return pygame.Rect(MARGIN, self.answer.bottom + 10, WIDTH, PANEL - 120)

    @property
    def help(self) -> pygame.Rect:
        return pygame.Rect(MARGIN, self.canvas.bottom + MARGIN + PANEL + MARGIN // 2, WIDTH, 20)

    @property
    def window(self) -> tuple[int, int]:
        from pygame_frontend import FOOTER  # the help and saving lines, as in single-digit mode

        return MARGIN + WIDTH + MARGIN, MARGIN + HEIGHT + MARGIN + PANEL + FOOTER


def headline(reading: NumberReading | None) -> str:
    """The number, or an invitation when there is nothing to read."""
    return BLANK if reading is None or reading.blank else reading.text


# --- events -> state: each digit confirmed or corrected on its own ----------------------------------------


def key(app: App, event: pygame.event.Event) -> None:
    """Tab or Right: the next digit (Shift+Tab or Left: the previous one); Space: the picked digit was right."""
    if event.key == pygame.K_SPACE:
        app.save(None)
        return
    n = len(app.reading.digits) if app.reading is not None else 0
    if n:
        back = event.key == pygame.K_LEFT or (
            event.key == pygame.K_TAB and getattr(event, "mod", 0) & pygame.KMOD_SHIFT
        )
        app.selected = (app.selected + (-1 if back else 1)) % n


def click(app: App, pos: tuple[int, int]) -> None:
    """A click on a digit's column (under the number) picks that digit."""
    n = len(app.reading.digits) if app.reading is not None else 0
    for k in range(min(n, app.layout.digits.width // COLUMN)):
        if column(app, k).collidepoint(pos):
            app.selected = k


def save(app: App, label: int | None) -> None:
    """Keep the picked digit's ink as ``label`` (None: as read), then pick the next digit."""
    if app.reading is None or app.reading.blank:
        app.saved_line = f"Write a number first. {SAVE_HINT}"
        return
    k = app.selected
    try:
        app.saved_line = present.saved_line(
            app.feedback.save_digit(app.canvas.as_array(), app.reading, k, label, app.user)
        )
    except SavingOff as exc:
        app.saved_line = str(exc)
        return
    except (InvalidImage, InvalidDrawing, StoreError) as exc:
        app.saved_line = f"Not saved: {exc}"
        return
    if app.feedback.allowed:
        app.saved_digits[k] = app.reading.digits[k].digit if label is None else label
        app.selected = min(k + 1, len(app.reading.digits) - 1)  # on to the next digit: a number is checked in one go


def column(app: App, k: int) -> pygame.Rect:
    """Where digit ``k``'s column is drawn (and clicked)."""
    area = app.layout.digits
    return pygame.Rect(area.left + k * COLUMN, area.top, COLUMN - 12, area.height)


def replay_number(app: App, text: str) -> None:
    """Queue ``text`` written with the mouse, digit after digit across the wide canvas, each 60% of its height.

    For tests and scripts that drive the real event loop without a mouse, as ``replay_stroke``.
    """
    from digitrec.data.canvases import pen_paths
    from pygame_frontend import replay_stroke

    side = app.canvas.size
    for i, digit in enumerate(text):
        left = 40 + i * 0.62 * side
        for stroke in pen_paths(int(digit), canvas=side):
            replay_stroke([(x - 0.2 * side + left, y) for x, y in stroke], app.layout.canvas.topleft)


# --- state -> screen --------------------------------------------------------------------------------------


def draw(app: App, front: ModuleType) -> None:
    """The number-mode screen from ``app``'s state; ``front`` is pygame_frontend (its colours and help line)."""
    app.screen.fill(front.BACKGROUND)
    area = app.layout.canvas
    app.screen.blit(app.canvas.surface, area)
    pygame.draw.rect(app.screen, front.FRAME, area.inflate(4, 4), 2)
    digits = app.reading.digits if app.reading is not None else ()
    for k, d in enumerate(digits):
        colour = COLOURS[k % len(COLOURS)]
        x0, y0, x1, y1 = d.box
        box = pygame.Rect(area.left + x0 - 3, area.top + y0 - 3, x1 - x0 + 6, y1 - y0 + 6).clip(area)
        picked = app.feedback is not None and k == app.selected  # the digit 0-9 and Space save: a bolder box
        pygame.draw.rect(app.screen, colour, box, 4 if picked else 2, border_radius=4)
        app._text(str(d.digit), "medium", colour, bottomleft=(box.left, max(box.top, area.top + 18)))
    answer = app.layout.answer
    text = headline(app.reading)
    if text == BLANK:
        app._text(text, "large", front.MUTED, midleft=answer.midleft)
    else:
        shown = app.fonts["huge"].render(text, True, front.TEXT)
        if shown.get_width() > answer.width:  # a long number: smaller, never off the window
            app._text(text, "large", front.TEXT, midleft=answer.midleft)
        else:
            app.screen.blit(shown, shown.get_rect(midleft=(answer.left, answer.centery + 4)))
        sure = f"confidence {format_percent(app.reading.confidence)}"
        app._text(sure, "medium", front.ACCENT, midright=(answer.right, answer.centery))
    _columns(app, front, digits)
    app._text(HELP if app.feedback is not None else front.HELP, "small", front.MUTED, midleft=app.layout.help.midleft)
    app.draw_saved_line()  # in the margin under the help line, as in single-digit mode


def _columns(app: App, front: ModuleType, digits: Sequence[DigitReading]) -> None:
    """Under the number, a column per digit (as many as fit): its three likeliest readings as bars."""
    area = app.layout.digits
    fit = area.width // COLUMN
    for k, d in enumerate(digits[:fit]):
        colour = COLOURS[k % len(COLOURS)]
        box = column(app, k)
        pygame.draw.rect(app.screen, colour, (box.left, box.top, box.width, 4))
        if app.feedback is not None and k == app.selected:  # picked: framed, as its box on the canvas
            pygame.draw.rect(app.screen, colour, box.inflate(8, 4), 2, border_radius=4)
        if k in app.saved_digits:
            app._text(f"saved as {app.saved_digits[k]}", "small", colour, bottomleft=(box.left, box.bottom - 2))
        for row, (digit, p) in enumerate(d.prediction.top(ROWS)):
            line = pygame.Rect(box.left, box.top + 14 + row * (front.BAR_ROW + 4), box.width, front.BAR_ROW)
            app._text(str(digit), "medium", front.TEXT if row == 0 else front.MUTED, midleft=(line.left, line.centery))
            app._text(format_percent(p), "small", front.MUTED, midright=(line.right, line.centery))
            track = pygame.Rect(line.left + 16, line.top + 5, line.width - 16 - 46, line.height - 10)
            pygame.draw.rect(app.screen, front.TRACK, track, border_radius=3)
            fill = round(p * track.width)
            if fill > 0:
                bar = pygame.Rect(track.left, track.top, fill, track.height)
                pygame.draw.rect(app.screen, colour if row == 0 else front.BAR, bar, border_radius=3)
    if len(digits) > fit:
        app._text(f"+{len(digits) - fit} more", "small", front.MUTED, bottomright=area.bottomright)
