"""Saving corrections from a front end: "Right" and "Wrong, it was 7", the count, where they are kept.

    feedback = Feedback(predictor, source="gradio", allowed=saving_allowed(host, share, allow_flag))
    saved = feedback.save(image, 7, user="ana")   # -> Saved(id=12, label=7, predicted=1, count=12, ...)
    present.saved_line(saved)                     # "Saved as a 7 (a correction). 12 drawings saved by ana, kept in ..."
    feedback.status("ana")                        # the count line alone, without saving
    feedback.save_digit(image, reading, 1, 7, "ana")   # number mode: the second digit was a 7
    feedback.forget("ana")                        # "Forget me": "Forgot ana: 12 drawings deleted."
    answerer, memory = feedback.answering("ana")   # after Learn her personal model; her saved drawings help at once

The front ends stay thin: they hand over the drawing they showed and the label the user chose; in
number mode, the whole drawing, its ``NumberReading`` and which digit, and the digit's own ink is
kept (``digit_image``), so each digit is confirmed or corrected on its own. The store
opens on the first save, so an app that nobody corrects writes nothing. A server reachable beyond
this machine saves nothing unless it was started with ``--allow-saving``: strangers must not fill or
poison the store by default. Behind a reverse proxy an app bound to 127.0.0.1 cannot tell, so its
operator starts it with ``--no-saving`` (or ``DIGITREC_ALLOW_SAVING=0``); and a request that came
through a proxy (``is_remote``) is never shown the store's path.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from digitrec.imageio import ImageLike, InvalidImage, picture
from digitrec.learning.models import PersonalModels
from digitrec.memory import Memories, Memory
from digitrec.predict import ModelError, NumberReading, Prediction, Predictor
from digitrec.store import (
    InvalidDrawing,
    Store,
    StoreError,
    check_label,
    clean_user,
    default_user,
    drawing_png,
    whole_number,
)

ALLOW_ENV = "DIGITREC_ALLOW_SAVING"
ENV_ON, ENV_OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
SAVING_OFF = "Saving is off on this server: drawings are not kept (its operator can start it with --allow-saving)."
# What a reverse proxy adds to each request it passes on: its visitors are elsewhere, though it connects from here.
PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")
log = logging.getLogger("digitrec.feedback")


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` (an interface or address to listen on) is this machine alone."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_remote(address: str | None, headers: Mapping[str, str] | None = None) -> bool:
    """Whether a request's visitor is elsewhere: it came from an address not this machine's, or through a
    reverse proxy (one of ``PROXY_HEADERS`` is set), which connects from 127.0.0.1 for everyone."""
    headers = headers or {}
    return not is_loopback(address) or any(name in headers or name.lower() in headers for name in PROXY_HEADERS)


def saving_allowed(host: str | None, share: bool = False, allow: bool | None = None) -> bool:
    """Whether an app served on ``host`` saves drawings. ``allow`` is the command line's word, if it said
    one: True for ``--allow-saving``, False for ``--no-saving``. Else ``$DIGITREC_ALLOW_SAVING``'s (``env_allows``);
    else on for an app served on loopback only, off beyond it or through a public share link."""
    if allow is None:
        allow = env_allows()
    return (is_loopback(host) and not share) if allow is None else allow


def env_allows() -> bool | None:
    """What ``$DIGITREC_ALLOW_SAVING`` says: True for 1/true/yes/on, False for 0/false/no/off, else None
    (unset, or a word it does not know: the app's own default then)."""
    value = os.environ.get(ALLOW_ENV, "").strip().lower()
    return True if value in ENV_ON else False if value in ENV_OFF else None


class SavingOff(Exception):
    """This app saves nothing: it is served beyond this machine without ``--allow-saving``, or was
    started with ``--no-saving`` (``$DIGITREC_ALLOW_SAVING=0``)."""

    def __init__(self) -> None:
        super().__init__(SAVING_OFF)


class NothingDrawn(ValueError):
    """ "Right" on a blank canvas: there is no answer to confirm."""

    def __init__(self) -> None:
        super().__init__("Draw a digit first.")


@dataclass(frozen=True)
class Saved:
    """What one save kept, for the front end to word (``digitrec.present.saved_line``) or send as JSON."""

    id: int  # the drawing's id in the store
    label: int  # the true digit, as the user said
    predicted: int | None  # what the network read (None: blank)
    position: int | None  # which digit of a number (0-based), None for a whole drawing
    user: str | None
    count: int  # drawings saved by ``user`` (by everyone when None), this one included
    where: str  # the store's place for this user: a path, or "on the server"

    @property
    def correction(self) -> bool:
        return self.predicted != self.label


def count_line(count: int, where: str, user: str | None = None) -> str:
    """ "3 drawings saved by ana, kept in /path" (or "kept on the server")."""
    noun = "drawing" if count == 1 else "drawings"
    by = f" by {user}" if user else ""
    place = where if where.startswith("on ") else f"in {where}"
    return f"{count} {noun} saved{by}, kept {place}."


def forgot_line(user: str, deleted: int) -> str:
    """ "Forgot ana: 12 drawings deleted." """
    return f"Forgot {user}: {deleted} drawing{'' if deleted == 1 else 's'} deleted."


def check_position(position: Any, reading: NumberReading) -> int:
    """Which digit of ``reading`` (0-based, left to right): an int, or a string of ASCII digits (as a
    label is, ``whole_number``), that the number has. Raises ``InvalidDrawing`` with a sentence
    saying what was wrong."""
    k = whole_number(position, 3)
    if k is None:
        raise InvalidDrawing(f"the digit's position must be a whole number, not {position!r}"[:120])
    if reading.blank:
        raise InvalidDrawing("the drawing is blank: write a number before saving its digits")
    n = len(reading.digits)
    if not 0 <= k < n:
        raise InvalidDrawing(f"there is no digit at position {k}: the number read has {n} (0 to {n - 1})")
    return k


def digit_image(image: ImageLike, reading: NumberReading, position: int) -> ImageLike:
    """The digit at ``position`` (0-based, left to right) of ``reading`` as a picture of its own: what
    a front end keeps when the user confirms or corrects that digit.

    Its ink alone (a neighbour's ink in its box left out), dark on white, at the resolution the number
    was read at, with a margin of paper: ``preprocess`` of it gives the 28x28 the network read for
    this digit (to 8-bit rounding). A number of one digit was read as ``predict`` reads the whole
    drawing, so that is kept as it is. Raises ``IndexError`` for a position the reading lacks.
    """
    if not 0 <= position < len(reading.digits):
        raise IndexError(f"no digit at position {position}: the number has {len(reading.digits)}")
    if len(reading.digits) == 1:
        return image
    if reading.segmentation is None:  # a reading made elsewhere: the box's pixels
        x0, y0, x1, y1 = reading.digits[position].box
        return picture(image)[y0:y1, x0:x1]
    own = reading.segmentation.pieces[position].ink  # kept by segment: the image is not read again
    # A margin wider than the band preprocess reads the paper's colour from, so the paper is all it sees there.
    margin = max(4, min(own.shape) // 8)
    own = np.pad(own, margin)
    return np.round((1.0 - own) * 255).astype(np.uint8)


class Feedback:
    """A front end's corrections: the saving policy, the store (opened on first use) and the words."""

    def __init__(
        self,
        predictor: Predictor,
        source: str,
        *,
        db: str | os.PathLike | None = None,
        allowed: bool = True,
        remote: bool = False,
    ) -> None:
        self.predictor = predictor
        self.source = source
        self.db = db
        self.allowed = allowed
        self.remote = remote  # its users are elsewhere: they are told "on the server", never a path
        self._store: Store | None = None
        self._sha256: str | None = None
        self._lock = threading.Lock()
        self.memories = Memories(predictor, lambda user: self.store.drawings(user=user))
        self.personal = PersonalModels(predictor, lambda: self.store)  # after "Learn my handwriting"

    @property
    def store(self) -> Store:
        with self._lock:
            if self._store is None:
                self._store = Store.open(self.db)
            return self._store

    def model_sha256(self) -> str:
        """The SHA-256 of the model file that answered (the card's, else computed once)."""
        if self._sha256 is None:
            from digitrec import card

            self._sha256 = (self.predictor.card or {}).get("sha256") or card.sha256(self.predictor.path)
        return self._sha256

    def save(
        self,
        image: Any,
        label: Any,
        user: str | None = None,
        prediction: Prediction | None = None,
        *,
        remote: bool = False,
    ) -> Saved:
        """Keep ``image`` with its true ``label``; return what was kept.

        ``prediction`` is what the model said about this image (computed here when not given); ``remote``:
        this visitor is elsewhere (``is_remote``), told "on the server" even when the app's users are not.
        Raises ``SavingOff`` when saving is off, ``InvalidImage``/``InvalidDrawing`` for what cannot
        be kept and ``StoreError`` (``StoreFull`` at the cap) when the store refuses.
        """
        self._check_allowed()
        if prediction is None:
            answerer, memory = self.answering(user)
            prediction = answerer.predict(image, memory=memory)  # what the user was shown
        return self._keep(image, label, user, prediction, None, remote)

    def save_digit(
        self,
        image: Any,
        reading: NumberReading,
        position: Any,
        label: Any = None,
        user: str | None = None,
        *,
        remote: bool = False,
    ) -> Saved:
        """Number mode: keep the digit at ``position`` (0-based) of ``reading``, the ``NumberReading``
        of ``image``, as ``label`` ("Wrong, it was 7"), or as what was read there when ``label`` is
        None ("Right"); return what was kept. Only that digit's ink is kept, flagged ``touching`` when
        it could not be parted from a neighbour's. Raises as ``save`` does, and ``InvalidDrawing`` for a
        position the number lacks."""
        self._check_allowed()
        k = check_position(position, reading)
        prediction, seg = reading.digits[k].prediction, reading.segmentation
        # Its ink could not be parted from a neighbour's (segment.Piece.touching): fine-tuning leaves it out.
        touching = len(reading.digits) > 1 and seg is not None and seg.pieces[k].touching
        label = prediction.digit if label is None else label
        return self._keep(digit_image(image, reading, k), label, user, prediction, k, remote, touching)

    def right(self, image: Any, user: str | None = None, *, remote: bool = False) -> Saved:
        """ "Right": keep ``image`` labelled with the model's own answer; return what was kept.
        Raises ``NothingDrawn`` for a blank canvas, and as ``save`` does."""
        self._check_allowed()
        answerer, memory = self.answering(user)
        prediction = answerer.predict(image, memory=memory)  # the answer the user saw
        if prediction.blank:
            raise NothingDrawn()
        return self.save(image, prediction.digit, user, prediction, remote=remote)

    def forget(self, user: str | None) -> str:
        """ "Forget me": delete every drawing ``user`` saved (``Store.forget``); the line to show. Who may
        forget whom is who may save: the name typed. Raises ``SavingOff`` when saving is off,
        ``InvalidDrawing`` for a name that cannot be saved (none included) and ``StoreError``."""
        return forgot_line(*self.erase(user))

    def erase(self, user: str | None) -> tuple[str, int]:
        """``forget`` without the words: the user's checked name and how many drawings were deleted; their
        memory goes too. Raises as ``forget`` does."""
        self._check_allowed()
        name = clean_user(user if user is not None else "")
        deleted = self.personal.forget(name, lambda: self.store.forget(name))  # and the personal model's cached files
        self.memories.drop(name)
        return name, deleted

    def memory(self, user: str | None) -> Memory | None:
        """``user``'s saved drawings for ``Predictor.predict(memory=...)``, kept per user (``Memories``) and
        updated as this Feedback saves and forgets; None (the network alone) for no user or one who saved
        nothing, with saving off, and for a store that cannot be read (logged: predicting never fails)."""
        return self.answering(user)[1]

    def answering(self, user: str | None) -> tuple[Predictor, Memory | None]:
        """Who answers ``user``: their personal model after "Learn my handwriting" (``digitrec.learning``),
        else the app's, with ``memory(user)`` built on it; the app's alone as ``memory`` says."""
        if not self.allowed or not user:
            return self.predictor, None
        try:
            name = clean_user(user)
            return self.personal.get(name) or (self.predictor, self.memories.get(name))
        except InvalidDrawing:
            return self.predictor, None
        except (StoreError, InvalidImage, ModelError, ValueError) as exc:
            log.warning("answering with the app's model alone: %s", exc)
            return self.predictor, None

    def remember(self, user: str | None, image: Any, label: int) -> None:
        """``user`` (None: ``default_user``) saved ``image`` as ``label``: their memory has it from now on."""
        name = clean_user(user) if user else default_user()
        try:
            png = drawing_png(image)
            self.memories.add(name, png, label)
            self.personal.add(name, png, label)
        except (InvalidImage, ModelError, ValueError) as exc:
            log.warning("a saved drawing left out of its user's memory: %s", exc)
            self.memories.drop(name)  # built again from the store when next asked

    def _check_allowed(self) -> None:
        if not self.allowed:
            raise SavingOff()

    def _keep(
        self,
        image: Any,
        label: Any,
        user: str | None,
        prediction: Prediction,
        position: int | None,
        remote: bool,
        touching: bool = False,
    ) -> Saved:
        label = check_label(label)
        name = clean_user(user) if user else None
        sha256 = self.model_sha256()
        drawing_id = self.store.save(
            image, label, prediction=prediction, model_sha256=sha256, source=self.source, user=name, touching=touching
        )
        self.remember(name, image, label)
        count = self.store.count(name)
        where = self.store.where(self.remote or remote)
        return Saved(drawing_id, label, prediction.digit, position, name, count, where)

    def status(self, user: str | None = None, *, remote: bool = False) -> str:
        """How many drawings are saved (by ``user``) and where; a store that cannot be read says so."""
        if not self.allowed:
            return SAVING_OFF
        try:
            name = clean_user(user) if user else None
        except ValueError:
            name = None
        remote = self.remote or remote
        try:
            return count_line(self.store.count(name), self.store.where(remote), name)
        except StoreError as exc:
            return f"The drawing store cannot be read: {exc if not remote else 'try again later'}."
