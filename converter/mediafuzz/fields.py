"""A header field of a media file (where it is, how wide, how it is coded)
and the values a mutation writes into it: the edges that parsers get wrong
(0, 1, all ones, off by one, doubled, halved, a sign bit) and random ones.
"""

from __future__ import annotations

import math
import random
import struct
from dataclasses import dataclass
from typing import Literal

# be/le: an unsigned integer; vint: an EBML variable-length integer whose
# length marker is kept; f32/f64: a big-endian IEEE float.
Kind = Literal["be", "le", "vint", "f32", "f64"]


@dataclass(frozen=True)
class Field:
    name: str  # "<family>:<what>", e.g. "mp4:stsz.entry"; fields of a name are alike
    offset: int
    width: int  # bytes
    kind: Kind = "be"

    def fits(self, data: bytes | bytearray) -> bool:
        return self.offset >= 0 and self.width > 0 and self.offset + self.width <= len(data)


def read(data: bytes | bytearray, field: Field) -> int | float:
    raw = bytes(data[field.offset : field.offset + field.width])
    if field.kind == "le":
        return int.from_bytes(raw, "little")
    if field.kind == "vint":
        return int.from_bytes(raw, "big") & ((1 << (7 * field.width)) - 1)
    if field.kind == "f32":
        return float(struct.unpack(">f", raw)[0])
    if field.kind == "f64":
        return float(struct.unpack(">d", raw)[0])
    return int.from_bytes(raw, "big")


def encode(field: Field, value: int | float) -> bytes:
    if field.kind == "f32":
        return struct.pack(">f", value)
    if field.kind == "f64":
        return struct.pack(">d", value)
    if field.kind == "vint":
        bits = 7 * field.width
        marker = 1 << (8 * field.width - field.width)
        return (marker | (int(value) & ((1 << bits) - 1))).to_bytes(field.width, "big")
    value = int(value) & ((1 << (8 * field.width)) - 1)
    return value.to_bytes(field.width, "little" if field.kind == "le" else "big")


def new_value(field: Field, old: int | float, rng: random.Random) -> int | float:
    """A value for ``field`` other than ``old`` (as far as there is one)."""
    if field.kind in ("f32", "f64"):
        return _new_float(old, rng)
    bits = 7 * field.width if field.kind == "vint" else 8 * field.width
    top = (1 << bits) - 1
    old = int(old)
    for _ in range(8):
        value = (
            rng.choice(
                [
                    0,
                    1,
                    old + 1,
                    old - 1,
                    old * 2,
                    old // 2,
                    top,
                    top - 1,
                    1 << (bits - 1),
                    (1 << (bits - 1)) - 1,
                    old ^ (1 << rng.randrange(bits)),
                    old + rng.randint(-64, 64),
                    rng.randint(0, top),
                    rng.randint(0, min(top, 1 << 16)),
                ]
            )
            & top
        )
        if value != old:
            return value
    return (old + 1) & top


def _new_float(old: int | float, rng: random.Random) -> float:
    old = float(old)
    return float(
        rng.choice(
            [
                0.0,
                -1.0,
                -old,
                old * 1000,
                old / 1000,
                math.nan,
                math.inf,
                -math.inf,
                1e300,
                1e-300,
                2.0**63,
                rng.uniform(-1e6, 1e6),
            ]
        )
    )


def describe(field: Field, old: int | float, new: int | float) -> str:
    def show(v: int | float) -> str:
        return f"{v:g}" if isinstance(v, float) else f"{v:#x}"

    return f"{field.name}@{field.offset} {show(old)}->{show(new)}"
