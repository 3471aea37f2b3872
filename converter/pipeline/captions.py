"""Captions drawn over the frames (the editor's ``Captions``).

Each caption is laid out once per animation by Pillow with raqm (the
bidirectional algorithm, so Arabic and Hebrew run right to left; shaping, so
Arabic letters join and Indic clusters form) in an open font that covers its
text, with an outline, into a transparent picture. That picture is blended
over every frame of the caption's time range, in the frames' channel order.

The fonts come from Debian: ``fonts-noto-cjk`` (Noto Sans CJK: Chinese,
Japanese, Korean, with Latin, Greek and Cyrillic) first, then the scripts of
``fonts-noto-core`` (Arabic, Hebrew, Thai, Devanagari and the rest), then
DejaVu. A caption is set in one font: the first that has a glyph for every
character of it, or failing that the one that has the most.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image, ImageDraw, ImageFont

from .encoding import Order

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
# The faces of the CJK collection: Han characters are drawn the way each
# language writes them (the first of these whose script the text holds).
CJK_FACES = {"ja": 0, "ko": 1, "zh": 2}
SCRIPT_FONTS = Path("/usr/share/fonts/truetype/noto")  # NotoSans<Script>-Bold.ttf
LAST_RESORT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
MISSING = "No caption font is installed: install Debian's fonts-noto-cjk and fonts-noto-core."

# Room kept between a caption and the frame's edge, and the widest a line
# may be, as fractions of the frame: longer text is set smaller to fit.
MARGIN = 0.04
MAX_WIDTH = 0.94
MIN_FONT_PX = 6


class CaptionRequest(Protocol):
    """A requested caption (``converter.spec.Caption``)."""

    @property
    def text(self) -> str: ...
    @property
    def size(self) -> float: ...  # a fraction (below 1) of the height, or pixels
    @property
    def color(self) -> str: ...  # "#rrggbb"
    @property
    def outline(self) -> int | None: ...  # pixels; None: about size / 12
    @property
    def outline_color(self) -> str: ...
    @property
    def position(self) -> str: ...  # top, middle or bottom
    @property
    def x(self) -> float | None: ...  # the text's centre, fractions of the frame
    @property
    def y(self) -> float | None: ...
    @property
    def start_time(self) -> float: ...  # seconds of the animation
    @property
    def end_time(self) -> float | None: ...


@dataclass(frozen=True)
class Overlay:
    """A caption laid out: its pixels (``colour``, in the frames' channel
    order, and ``alpha``, 0..1) at ``(left, top)`` of frames
    ``first`` .. ``end - 1``."""

    left: int
    top: int
    colour: np.ndarray  # h x w x 3 float32
    alpha: np.ndarray  # h x w x 1 float32
    first: int
    end: float  # math.inf: to the last frame

    def shows_on(self, index: int) -> bool:
        return self.first <= index < self.end

    def draw_on(self, frame: np.ndarray) -> np.ndarray:
        h, w = self.alpha.shape[:2]
        out = frame if frame.flags.writeable else frame.copy()
        area = out[self.top : self.top + h, self.left : self.left + w]  # a view
        below = area[..., :3].astype(np.float32)
        area[..., :3] = np.rint(below + (self.colour - below) * self.alpha)
        if area.shape[2] == 4:  # a caption is opaque over a transparent frame
            area[..., 3] = np.maximum(area[..., 3], np.rint(self.alpha[..., 0] * 255))
        return out


def overlays(
    captions: Sequence[CaptionRequest], width: int, height: int, frame_ms: float, order: Order
) -> list[Overlay]:
    """Every caption laid out for frames of ``width`` x ``height`` shown
    ``frame_ms`` each (frame k shows at k x frame_ms)."""
    return [_overlay(c, width, height, frame_ms, order) for c in captions]


def drawn(
    runs: Sequence[Iterable[np.ndarray]], firsts: Sequence[int], laid_out: Sequence[Overlay]
) -> list[Iterator[np.ndarray]]:
    """The runs with the captions drawn; ``firsts[n]`` is the animation's
    index of run n's first frame (a later run starts with the frame before
    its own: ``encoding``'s overlap, captioned as that frame)."""
    return [_drawn_run(run, first, laid_out) for run, first in zip(runs, firsts, strict=True)]


def _drawn_run(
    frames: Iterable[np.ndarray], first: int, laid_out: Sequence[Overlay]
) -> Iterator[np.ndarray]:
    for index, frame in enumerate(frames, start=first):
        for overlay in laid_out:
            if overlay.shows_on(index):
                frame = overlay.draw_on(frame)
        yield frame


def _overlay(
    caption: CaptionRequest, width: int, height: int, frame_ms: float, order: Order
) -> Overlay:
    px = round(caption.size * height) if caption.size < 1 else int(caption.size)
    picture = _set(caption, max(MIN_FONT_PX, px), width)
    rgba = np.asarray(picture, dtype=np.float32)
    # A caption taller or wider than the frame (a large size on a tiny
    # animation) is cut at the frame's edges.
    rgba = rgba[:height, :width]
    h, w = rgba.shape[:2]
    cx, cy = _centre(caption, width, height, h)
    left = min(max(0, round(cx - w / 2)), width - w)
    top = min(max(0, round(cy - h / 2)), height - h)
    colour = rgba[..., :3] if order == "rgb" else rgba[..., 2::-1]
    first = max(0, math.ceil(caption.start_time * 1000 / frame_ms - 1e-6))
    end = math.inf
    if caption.end_time is not None:
        end = math.ceil(caption.end_time * 1000 / frame_ms - 1e-6)
    return Overlay(left, top, np.ascontiguousarray(colour), rgba[..., 3:] / 255, first, end)


def _centre(caption: CaptionRequest, width: int, height: int, h: int) -> tuple[float, float]:
    if caption.x is not None and caption.y is not None:
        return caption.x * width, caption.y * height
    margin = MARGIN * height
    cy = {"top": margin + h / 2, "middle": height / 2}.get(
        caption.position, height - margin - h / 2
    )
    return width / 2, cy


def _set(caption: CaptionRequest, px: int, width: int) -> Image.Image:
    """The caption's text on a transparent picture just large enough for it,
    set smaller where a line would be wider than ``MAX_WIDTH`` of the frame."""
    path, index = font_for(caption.text)
    for _ in range(4):  # the width is close to proportional to the size
        font = ImageFont.truetype(str(path), px, index=index, layout_engine=ImageFont.Layout.RAQM)
        stroke = _outline(caption, px)
        probe = ImageDraw.Draw(Image.new("RGBA", (1, 1)))
        box = probe.multiline_textbbox(
            (0, 0), caption.text, font=font, stroke_width=stroke, align="center"
        )
        room = MAX_WIDTH * width
        if box[2] - box[0] <= room or px <= MIN_FONT_PX:
            break
        px = max(MIN_FONT_PX, math.floor(px * room / (box[2] - box[0])))
    size = (math.ceil(box[2] - box[0]), math.ceil(box[3] - box[1]))
    picture = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(picture).multiline_text(
        (-box[0], -box[1]),
        caption.text,
        font=font,
        fill=caption.color,
        stroke_width=stroke,
        stroke_fill=caption.outline_color,
        align="center",
    )
    return picture


def _outline(caption: CaptionRequest, px: int) -> int:
    return max(1, round(px / 12)) if caption.outline is None else caption.outline


def font_for(text: str) -> tuple[Path, int]:
    """(font file, face index) to set ``text`` in: the first font that has
    every character, else the one with the most. Raises ``RuntimeError``
    when no font is installed."""
    wanted = {ord(c) for c in text if not c.isspace()}
    best: tuple[int, tuple[Path, int]] | None = None
    for candidate in _candidates(text):
        have = len(wanted & _characters(*candidate))
        if have == len(wanted):
            return candidate
        if best is None or have > best[0]:
            best = (have, candidate)
    if best is None:
        raise RuntimeError(MISSING)
    return best[1]


def _candidates(text: str) -> Iterator[tuple[Path, int]]:
    if CJK_FONT.exists():
        yield CJK_FONT, CJK_FACES[_han_language(text)]
    yield from ((path, 0) for path in _script_fonts())
    if LAST_RESORT.exists():
        yield LAST_RESORT, 0


def _han_language(text: str) -> str:
    """Which language's Han forms to draw: Japanese where the text has kana,
    Korean where it has hangul, else Chinese."""
    if any("\u3040" <= c <= "\u30ff" for c in text):
        return "ja"
    if any("\uac00" <= c <= "\ud7af" or "\u1100" <= c <= "\u11ff" for c in text):
        return "ko"
    return "zh"


@functools.cache
def _script_fonts() -> tuple[Path, ...]:
    """Noto Sans for each script (not its Display, Mono or UI cuts)."""
    if not SCRIPT_FONTS.is_dir():
        return ()
    found = sorted(SCRIPT_FONTS.glob("NotoSans*-Bold.ttf"))
    plain = [p for p in found if not any(cut in p.name for cut in ("Display", "Mono", "UI"))]
    return tuple(plain)


@functools.cache
def _characters(path: Path, index: int) -> frozenset[int]:
    """The characters a font has glyphs for (its best cmap)."""
    if path.suffix == ".ttc":
        with TTCollection(str(path), lazy=True) as collection:
            return frozenset(collection.fonts[index].getBestCmap())
    with TTFont(str(path), lazy=True) as font:
        return frozenset(font.getBestCmap())
