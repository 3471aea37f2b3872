"""H.264 sequence parameter sets found in a file and rewritten field by field.

An SPS sits in an MP4's avcC, a Matroska CodecPrivate or an FLV sequence
header (after a 16-bit length), or in the stream itself (after a start code,
MPEG-TS; after a 32-bit length, in-band in MP4 and Matroska samples). ``find``
parses each one up to ``vui_parameters_present_flag``; ``rewrite`` writes it
again with one field changed, in the same number of bytes: the VUI that
follows is kept when it still fits and dropped (its flag cleared) when not,
and the rest is the stop bit and zero bytes, which decoders skip.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

# Profiles whose SPS has chroma_format_idc, bit depths and scaling lists.
HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})
PROFILES = HIGH_PROFILES | {66, 77, 88}
MAX_SPS_BYTES = 256
# The fields a mutation targets, and the values it favours for each.
DIMENSIONS = ("pic_width_in_mbs_minus1", "pic_height_in_map_units_minus1")
TARGETS = (
    *DIMENSIONS,
    "frame_mbs_only_flag",
    "frame_cropping_flag",
    "frame_crop_right_offset",
    "frame_crop_bottom_offset",
    "profile_idc",
    "level_idc",
    "chroma_format_idc",
    "bit_depth_luma_minus8",
    "log2_max_frame_num_minus4",
    "pic_order_cnt_type",
    "log2_max_pic_order_cnt_lsb_minus4",
    "max_num_ref_frames",
    "seq_parameter_set_id",
    "vui_parameters_present_flag",
)


@dataclass(frozen=True)
class Sps:
    offset: int  # of the NAL header byte in the file
    length: int  # bytes of the NAL as stored (escaped), its header included
    fields: tuple[tuple[str, str, int], ...]  # (name, coding: u8/u1/ue/se, value) in order
    rest: tuple[int, ...]  # the bits after vui_parameters_present_flag, before the stop bit

    def value(self, name: str) -> int | None:
        return next((v for n, _, v in self.fields if n == name), None)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.bits = [(byte >> (7 - k)) & 1 for byte in data for k in range(8)]
        self.pos = 0

    def u(self, n: int) -> int:
        if self.pos + n > len(self.bits):
            raise ValueError("past the end of the SPS")
        value = 0
        for bit in self.bits[self.pos : self.pos + n]:
            value = (value << 1) | bit
        self.pos += n
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("exp-Golomb code too long")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


def _write(fields: tuple[tuple[str, str, int], ...]) -> list[int]:
    bits: list[int] = []

    def put(value: int, n: int) -> None:
        bits.extend((value >> (n - 1 - k)) & 1 for k in range(n))

    for _, coding, value in fields:
        if coding == "u8":
            put(value & 0xFF, 8)
        elif coding == "u1":
            put(value & 1, 1)
        else:
            code = value if coding == "ue" else (2 * value - 1 if value > 0 else -2 * value)
            n = (code + 1).bit_length()
            put(0, n - 1)
            put(code + 1, n)
    return bits


def unescape(nal: bytes) -> bytes:
    """The RBSP of a NAL: its emulation prevention bytes (00 00 03) removed."""
    out, zeros = bytearray(), 0
    for byte in nal:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def escape(rbsp: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


class _Reader:
    """Reads an SPS's fields in order, recording each (name, coding, value)."""

    def __init__(self, rbsp: bytes) -> None:
        self.bits = _Bits(rbsp)
        self.fields: list[tuple[str, str, int]] = []

    def take(self, name: str, coding: str) -> int:
        b = self.bits
        value = {"u8": lambda: b.u(8), "u1": lambda: b.u(1), "ue": b.ue, "se": b.se}[coding]()
        self.fields.append((name, coding, value))
        return value


def _parse(rbsp: bytes) -> tuple[tuple[tuple[str, str, int], ...], tuple[int, ...]]:
    r = _Reader(rbsp)
    take = r.take
    take("nal_header", "u8")
    profile = take("profile_idc", "u8")
    take("constraint_flags", "u8")
    take("level_idc", "u8")
    take("seq_parameter_set_id", "ue")
    if profile in HIGH_PROFILES:
        _parse_high(r)
    take("log2_max_frame_num_minus4", "ue")
    _parse_order_count(r)
    take("max_num_ref_frames", "ue")
    take("gaps_in_frame_num_value_allowed_flag", "u1")
    take("pic_width_in_mbs_minus1", "ue")
    take("pic_height_in_map_units_minus1", "ue")
    if not take("frame_mbs_only_flag", "u1"):
        take("mb_adaptive_frame_field_flag", "u1")
    take("direct_8x8_inference_flag", "u1")
    if take("frame_cropping_flag", "u1"):
        for side in ("left", "right", "top", "bottom"):
            take(f"frame_crop_{side}_offset", "ue")
    take("vui_parameters_present_flag", "u1")
    bits = r.bits.bits
    stop = max((k for k, bit in enumerate(bits) if bit), default=-1)
    if stop < r.bits.pos - 1:
        raise ValueError("no stop bit after the fields")
    return tuple(r.fields), tuple(bits[r.bits.pos : stop])


def _parse_high(r: _Reader) -> None:
    """The fields only the High profiles have."""
    if r.take("chroma_format_idc", "ue") == 3:
        r.take("separate_colour_plane_flag", "u1")
    r.take("bit_depth_luma_minus8", "ue")
    r.take("bit_depth_chroma_minus8", "ue")
    r.take("qpprime_y_zero_transform_bypass_flag", "u1")
    if r.take("seq_scaling_matrix_present_flag", "u1"):
        raise ValueError("scaling matrices are not parsed")


def _parse_order_count(r: _Reader) -> None:
    """pic_order_cnt_type and the fields it brings."""
    poc = r.take("pic_order_cnt_type", "ue")
    if poc == 0:
        r.take("log2_max_pic_order_cnt_lsb_minus4", "ue")
    elif poc == 1:
        r.take("delta_pic_order_always_zero_flag", "u1")
        r.take("offset_for_non_ref_pic", "se")
        r.take("offset_for_top_to_bottom_field", "se")
        for k in range(r.take("num_ref_frames_in_pic_order_cnt_cycle", "ue")):
            r.take(f"offset_for_ref_frame_{k}", "se")


def _extent(data: bytes, at: int) -> int | None:
    """How long the NAL whose header is at ``at`` is, from what precedes it."""
    if at >= 3 and data[at - 3 : at] == b"\x00\x00\x01":
        ends = [
            e for e in (data.find(b"\x00\x00\x00", at), data.find(b"\x00\x00\x01", at)) if e > 0
        ]
        return (min(ends) if ends else len(data)) - at
    for width in (2, 4):
        if at >= width:
            length = int.from_bytes(data[at - width : at], "big")
            if 4 <= length <= MAX_SPS_BYTES and at + length <= len(data):
                return length
    return None


def find(data: bytes) -> list[Sps]:
    """Every SPS in ``data`` that parses."""
    found = []
    for at in range(len(data) - 4):
        if data[at] & 0x9F != 0x07 or data[at + 1] not in PROFILES or data[at + 3] > 62:
            continue
        length = _extent(data, at)
        if length is None or length > MAX_SPS_BYTES:
            continue
        try:
            fields, rest = _parse(unescape(data[at : at + length]))
        except ValueError:
            continue
        found.append(Sps(at, length, fields, rest))
    return found


def rewrite(data: bytes, sps: Sps, name: str, value: int) -> bytes | None:
    """``data`` with ``sps``'s field ``name`` set to ``value``, the NAL kept
    at its length; None when it cannot be (the field is absent, or the new
    value does not fit even without the VUI)."""
    if sps.value(name) is None:
        return None
    fields = tuple((n, c, value if n == name else v) for n, c, v in sps.fields)
    for keep_vui in (True, False):
        if not keep_vui:
            fields = tuple(
                (n, c, 0 if n == "vui_parameters_present_flag" else v) for n, c, v in fields
            )
        bits = _write(fields)
        if dict((n, v) for n, _, v in fields)["vui_parameters_present_flag"]:
            bits += sps.rest
        bits += [1] + [0] * (-(len(bits) + 1) % 8)
        rbsp = bytes(int("".join(map(str, bits[k : k + 8])), 2) for k in range(0, len(bits), 8))
        nal = escape(rbsp)
        if len(nal) <= sps.length:
            nal += b"\x00" * (sps.length - len(nal))
            return data[: sps.offset] + nal + data[sps.offset + sps.length :]
    return None


def new_value(name: str, old: int, rng: random.Random) -> int:
    """A value for the SPS field ``name`` other than ``old``, edges favoured."""
    if name.endswith("_flag"):
        return 1 - old
    if name in ("profile_idc", "level_idc"):
        choices = [0, 1, 255, old + 1, old - 1, *sorted(PROFILES), rng.randint(0, 255)]
        return rng.choice([c & 0xFF for c in choices if c & 0xFF != old] or [old ^ 1])
    if name in DIMENSIONS:
        choices = [0, 1, old + 1, old - 1, old * 2, 63, 127, 255, 256, 511, 1023, 4095, 65535]
        choices.append(rng.randint(0, 300))
    else:
        choices = [0, 1, old + 1, old - 1, 3, 12, 15, 31, 255, 1000, rng.randint(0, 64)]
    return rng.choice([c for c in choices if c >= 0 and c != old] or [old + 1])
