"""Mutations of a media file, and the cases made of them.

Generic mutators change bytes without knowing the format: bit flips, runs of
bytes overwritten, truncation, a span duplicated or removed. Structure-aware
ones rewrite a header field that ``structure`` found (box, element, chunk and
tag sizes, sample tables, picture sizes, timestamps), or a field of an H.264
SPS (``h264``). A case is a seed clip and one to four mutations, all drawn
from a ``random.Random`` seeded by the run's seed and the case's index alone:
case ``i`` of seed ``s`` is the same file whatever else runs.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from . import h264
from .fields import describe, encode, new_value, read
from .seeds import SEEDS
from .structure import LOCATORS

# A mutation of ``data``: the new bytes and what was done, or None where it
# does not apply (no field of its kind in the file).
Mutator = Callable[[bytes, random.Random], tuple[bytes, str] | None]
# Structure-aware mutations are most of a case's: generic ones mostly break
# what the demuxer checks first, targeted ones get past it.
STRUCTURED_SHARE = 0.65
FORMATS = ("gif", "webp")


def bit_flips(data: bytes, rng: random.Random) -> tuple[bytes, str] | None:
    out = bytearray(data)
    at = [rng.randrange(len(out) * 8) for _ in range(rng.choice((1, 1, 2, 4, 8, 32)))]
    for bit in at:
        out[bit // 8] ^= 0x80 >> (bit % 8)
    return bytes(out), f"flip bits {','.join(map(str, at[:8]))}{'...' if len(at) > 8 else ''}"


def byte_run(data: bytes, rng: random.Random) -> tuple[bytes, str] | None:
    size = rng.choice((1, 2, 4, 8, 16, 64, 512))
    at = rng.randrange(len(data))
    fill = rng.choice((b"\x00", b"\xff", b"\x7f", b"\x80", None))
    run = rng.randbytes(size) if fill is None else fill * size
    out = data[:at] + run + data[at + size :]
    return out[
        : len(data)
    ], f"overwrite {size} bytes at {at} with {fill.hex() if fill else 'random'}"


def truncation(data: bytes, rng: random.Random) -> tuple[bytes, str] | None:
    at = rng.choice(
        (
            rng.randrange(len(data)),
            rng.randrange(min(len(data), 1024)),
            len(data) - rng.randint(1, 64),
        )
    )
    at = max(0, at)
    return data[:at], f"truncate to {at} bytes"


def duplication(data: bytes, rng: random.Random) -> tuple[bytes, str] | None:
    size = rng.choice((4, 16, 188, 512, 2048))
    start = rng.randrange(len(data))
    chunk = data[start : start + size]
    at = rng.randrange(len(data) + 1)
    return data[:at] + chunk + data[at:], f"copy {len(chunk)} bytes from {start} to {at}"


def removal(data: bytes, rng: random.Random) -> tuple[bytes, str] | None:
    size = rng.choice((1, 4, 16, 188, 512, 2048))
    at = rng.randrange(len(data))
    return data[:at] + data[at + size :], f"remove {size} bytes at {at}"


GENERIC: dict[str, Mutator] = {
    "bit_flips": bit_flips,
    "byte_run": byte_run,
    "truncation": truncation,
    "duplication": duplication,
    "removal": removal,
}


def field_mutator(family: str) -> Mutator:
    """Rewrites a field that ``structure.LOCATORS[family]`` finds: a kind of
    field drawn first (so a long sample table does not crowd out the box
    sizes), then one of them, or now and then every field of that kind with
    the same value (every JPEG frame of an MJPEG claiming one size)."""
    locate = LOCATORS[family]

    def mutate(data: bytes, rng: random.Random) -> tuple[bytes, str] | None:
        found = locate(data)
        if not found:
            return None
        names = sorted({f.name for f in found})
        name = rng.choice(names)
        alike = [f for f in found if f.name == name]
        every = len(alike) > 1 and rng.random() < 0.2
        chosen = alike if every else [rng.choice(alike)]
        old = read(data, chosen[0])
        value = new_value(chosen[0], old, rng)
        out = bytearray(data)
        for f in chosen:
            out[f.offset : f.offset + f.width] = encode(f, value)
        what = describe(chosen[0], old, value)
        return bytes(out), what + (f" (all {len(chosen)})" if every else "")

    mutate.__name__ = f"fields_{family}"
    return mutate


def sps_field(data: bytes, rng: random.Random) -> tuple[bytes, str] | None:
    """Rewrites a field of an H.264 SPS (the picture size most often)."""
    found = h264.find(data)
    if not found:
        return None
    sps = rng.choice(found)
    for _ in range(6):
        name = rng.choice(h264.DIMENSIONS) if rng.random() < 0.5 else rng.choice(h264.TARGETS)
        old = sps.value(name)
        if old is None:
            continue
        value = h264.new_value(name, old, rng)
        out = h264.rewrite(data, sps, name, value)
        if out is not None:
            return out, f"h264:sps.{name}@{sps.offset} {old}->{value}"
    return None


def structured(kind: str) -> dict[str, Mutator]:
    """The structure-aware mutators for a seed of ``kind``."""
    mutators: dict[str, Mutator] = {}
    for family in SEEDS[kind].families:
        if family == "h264":
            mutators["sps"] = sps_field
        else:
            mutators[f"fields:{family}"] = field_mutator(family)
    return mutators


@dataclass(frozen=True)
class Case:
    seed: int
    index: int
    kind: str  # of the seed clip
    format: str  # of the animation to make
    mutations: tuple[str, ...]
    data: bytes = field(repr=False)

    def label(self) -> str:
        return f"seed {self.seed} case {self.index} ({self.kind}: {'; '.join(self.mutations)})"


def mutate_once(data: bytes, kind: str, rng: random.Random) -> tuple[bytes, str]:
    """One mutation of ``data``: a structure-aware one mostly, a generic one
    where none applies. The bytes always change."""
    targeted = structured(kind)
    for _ in range(8):
        if targeted and rng.random() < STRUCTURED_SHARE:
            name = rng.choice(sorted(targeted))
            done = targeted[name](data, rng)
        else:
            name = rng.choice(sorted(GENERIC))
            done = GENERIC[name](data, rng) if data else None
        if done is not None and done[0] != data:
            return done
    return data + b"\x00", "append a zero byte"


def make_case(seeds: Mapping[str, bytes], seed: int, index: int) -> Case:
    """Case ``index`` of the run ``seed``: the seeds taken in turn, each
    mutated one to four times, and a GIF or a WebP to make of it."""
    kinds = sorted(seeds)
    kind = kinds[index % len(kinds)]
    rng = random.Random(f"loopforge-mediafuzz:{seed}:{index}")  # noqa: S311 - reproducible, not secret
    data, applied = seeds[kind], []
    for _ in range(1 if rng.random() < 0.6 else rng.randint(2, 4)):
        data, what = mutate_once(data, kind, rng)
        applied.append(what)
    return Case(seed, index, kind, rng.choice(FORMATS), tuple(applied), data)
