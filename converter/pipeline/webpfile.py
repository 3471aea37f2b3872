"""The WebP container (RIFF), for what libwebp's assembler does not do:
join animations encoded side by side into one, and set the alpha flag.

Layout (https://developers.google.com/speed/webp/docs/riff_container):
``RIFF <size> WEBP``, then chunks of ``<fourcc> <size, u32 LE> <payload>``
padded to even length. An animation has ``VP8X`` (flags, canvas size),
``ANIM`` (background colour, loop count) and one ``ANMF`` per frame: offset,
size, duration (24-bit ms), a flags byte (bit 1: do not blend, bit 0: dispose
to background), then the frame's own ``ALPH``/``VP8 ``/``VP8L`` chunks. A
one-frame encode may come out as a still image: no ``ANIM``/``ANMF``, just the
image chunks.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

VP8X_ALPHA = 0x10
VP8X_ANIMATION = 0x02
ANMF_NO_BLEND = 0x02
ANMF_DISPOSE = 0x01
IMAGE_CHUNKS = (b"ALPH", b"VP8 ", b"VP8L")


@dataclass
class _Chunk:
    fourcc: bytes
    payload: bytes

    def pack(self) -> bytes:
        pad = b"\0" if len(self.payload) % 2 else b""
        return self.fourcc + struct.pack("<I", len(self.payload)) + self.payload + pad


def _chunks(data: bytes) -> list[_Chunk]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    out, pos = [], 12
    while pos + 8 <= len(data):
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        out.append(_Chunk(fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return out


def _riff(chunks: list[_Chunk]) -> bytes:
    body = b"WEBP" + b"".join(c.pack() for c in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _u24(b: bytes) -> int:
    return b[0] | b[1] << 8 | b[2] << 16


MAX_24 = 0xFFFFFF  # a 24-bit field: a frame's duration in ms, among others


def _p24(n: int) -> bytes:
    if not 0 <= n <= MAX_24:
        raise ValueError(f"{n} does not fit in 24 bits")
    return bytes((n & 0xFF, n >> 8 & 0xFF, n >> 16 & 0xFF))


@dataclass
class _Frame:
    x: int  # offset / 2, as stored
    y: int
    width: int
    height: int
    duration: int
    flags: int
    image: bytes  # the frame's packed image chunks

    @property
    def has_alpha(self) -> bool:
        return self.image[:4] == b"ALPH"

    @classmethod
    def parse(cls, payload: bytes) -> _Frame:
        return cls(
            _u24(payload[0:3]),
            _u24(payload[3:6]),
            _u24(payload[6:9]) + 1,
            _u24(payload[9:12]) + 1,
            _u24(payload[12:15]),
            payload[15],
            payload[16:],
        )

    def chunk(self) -> _Chunk:
        head = (
            _p24(self.x)
            + _p24(self.y)
            + _p24(self.width - 1)
            + _p24(self.height - 1)
            + _p24(self.duration)
            + bytes((self.flags,))
        )
        return _Chunk(b"ANMF", head + self.image)


def _frames(data: bytes, canvas: tuple[int, int], duration: int) -> list[_Frame]:
    """The frames of an animation, or of a still image as one frame lasting
    ``duration`` ms."""
    chunks = _chunks(data)
    frames = [_Frame.parse(c.payload) for c in chunks if c.fourcc == b"ANMF"]
    if frames:
        return frames
    image = b"".join(c.pack() for c in chunks if c.fourcc in IMAGE_CHUNKS)
    if not image:
        raise ValueError("a WebP file without a picture")
    return [_Frame(0, 0, *canvas, duration, ANMF_NO_BLEND, image)]


def join(parts: list[tuple[bytes, int, bool]], frame_ms: float) -> bytes:
    """One animation from animations of the same canvas made one after the
    other: ``parts`` is a list of (file, number of input frames it encoded,
    whether its first frame is an overlap), each encoded with frame j at
    ``round(j x frame_ms)`` ms.

    Frame durations are recomputed on the whole animation's timeline
    (frame i at ``round(i x frame_ms)``), so rounding spreads over the joined
    file as over one encode; the encoders merge identical consecutive frames,
    and such a frame's share of input frames is read back from its duration.

    An *overlap* is a copy of the previous part's last frame, encoded first
    so that the part's next frames are coded as changes from it, as in one
    encode, instead of starting with a key frame. It is dropped here; the
    previous part's last frame takes its disposal (the frames after it were
    coded against the canvas that disposal leaves). The frames after it then
    sit on the previous part's picture of that same frame: another lossy
    coding of the same source picture. If libwebp merged frames into the
    overlap, the merged frame stays, as the whole-canvas key frame it is.
    A part without an overlap must start with a frame that paints the whole
    canvas opaquely (the first frame of opaque input does).
    """
    first = _chunks(parts[0][0])
    vp8x = next((c for c in first if c.fourcc == b"VP8X"), None)
    anim = next((c for c in first if c.fourcc == b"ANIM"), None)
    if vp8x is None or anim is None:
        raise ValueError("the first part is not an animation")
    canvas = (_u24(vp8x.payload[4:7]) + 1, _u24(vp8x.payload[7:10]) + 1)
    frames: list[_Frame] = []
    index = 0  # input frames of the joined animation placed so far
    for n, (data, count, overlap) in enumerate(parts):
        part = _frames(data, canvas, round(count * frame_ms))
        whole = (part[0].x, part[0].y, part[0].width, part[0].height) == (0, 0, *canvas)
        if n and not overlap and not whole:
            raise ValueError("a later part does not start with a whole-canvas frame")
        local = 0  # input frames of this part read so far
        for k, frame in enumerate(part):
            end = round((round(local * frame_ms) + frame.duration) / frame_ms)
            spans = max(1, end - local)
            local += spans
            if n and k == 0:
                if overlap:
                    spans -= 1
                    if spans == 0:
                        frames[-1].flags = (frames[-1].flags & ~ANMF_DISPOSE) | (
                            frame.flags & ANMF_DISPOSE
                        )
                        continue
                frame.flags |= ANMF_NO_BLEND
            frame.duration = round((index + spans) * frame_ms) - round(index * frame_ms)
            index += spans
            frames.append(frame)
        if local != count:
            raise ValueError(f"a part holds {local} frames, not {count}")
    # A part after the first may blend frames with transparent pixels where
    # the first has none; without the flag Chrome blends them as opaque.
    flags = (
        vp8x.payload[0] | VP8X_ANIMATION | (VP8X_ALPHA if any(f.has_alpha for f in frames) else 0)
    )
    vp8x = _Chunk(b"VP8X", bytes((flags,)) + vp8x.payload[1:])
    return _riff([vp8x, anim, *(f.chunk() for f in frames)])


@dataclass
class Picture:
    """One frame of an animation: a still WebP image painted at (x, y) (even
    numbers) for ``duration`` ms, either blended over what the canvas shows
    (its transparent pixels let that through) or replacing it."""

    image: bytes  # a still WebP file
    x: int
    y: int
    width: int
    height: int
    duration: int
    blend: bool = False


def animation(pictures: list[Picture], canvas: tuple[int, int], loop: int) -> bytes:
    """An animation of the canvas size made of still pictures."""
    frames = []
    for p in pictures:
        if p.x % 2 or p.y % 2:
            raise ValueError("a frame's offset must be even")
        image = b"".join(c.pack() for c in _chunks(p.image) if c.fourcc in IMAGE_CHUNKS)
        flags = 0 if p.blend else ANMF_NO_BLEND
        frames.append(_Frame(p.x // 2, p.y // 2, p.width, p.height, p.duration, flags, image))
    flags = VP8X_ANIMATION | (VP8X_ALPHA if any(f.has_alpha for f in frames) else 0)
    vp8x = _Chunk(b"VP8X", bytes((flags, 0, 0, 0)) + _p24(canvas[0] - 1) + _p24(canvas[1] - 1))
    anim = _Chunk(b"ANIM", struct.pack("<IH", 0xFFFFFFFF, loop))
    return _riff([vp8x, anim, *(f.chunk() for f in frames)])


def mark_alpha(data: bytes) -> bytes:
    """Set the VP8X "has alpha" flag.

    libwebp crops each frame to what it must paint, so when every painted
    rectangle is opaque and the transparency lies only in the (transparent)
    canvas around them, it leaves the flag unset and decoders show the frames
    opaque. The flag only says that transparency is present, which it is.
    """
    if data[12:16] != b"VP8X":
        return data
    out = bytearray(data)
    out[20] |= VP8X_ALPHA
    return bytes(out)
