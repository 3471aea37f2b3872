"""Where the header fields of each container are: a ``Field`` for every box,
element, chunk, tag or object size, the sample tables, the picture size and
timing fields, found by walking the file's own structure.

Each locator takes the whole file and returns its fields; on bytes it cannot
follow (a file mutated already) it returns what it found before losing its
way, never raises. ``LOCATORS`` names them by family.
"""

from __future__ import annotations

import contextlib
import re
import struct
import uuid
from collections.abc import Callable, Iterator

from .fields import Field, Kind

Locator = Callable[[bytes], list[Field]]

# How deep a walk recurses and how many fields it collects: enough for the
# small seed clips, bounded for anything else.
MAX_DEPTH = 12
MAX_FIELDS = 20_000


class _Fields(list[Field]):
    def add(self, name: str, offset: int, width: int, kind: Kind = "be") -> None:
        if len(self) < MAX_FIELDS:
            self.append(Field(name, offset, width, kind))


def _u(data: bytes, offset: int, width: int, order: str = "big") -> int:
    if offset < 0 or offset + width > len(data):
        raise IndexError(offset)
    return int.from_bytes(data[offset : offset + width], order)  # type: ignore[arg-type]


def _safe(locate: Callable[[bytes, _Fields], None]) -> Locator:
    def run(data: bytes) -> list[Field]:
        found = _Fields()
        # Lost the way (bytes that follow no structure): keep what was found.
        with contextlib.suppress(IndexError, ValueError, struct.error, RecursionError):
            locate(data, found)
        return [f for f in found if f.fits(data)]

    run.__name__ = locate.__name__
    run.__doc__ = locate.__doc__
    return run


# --- ISO base media (MP4, MOV, 3GP) ------------------------------------------------

_MP4_CONTAINERS = {
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf", b"edts", b"udta",
    b"mvex", b"moof", b"traf", b"mfra", b"tref", b"sinf",
}  # fmt: skip
_VISUAL = {b"avc1", b"avc3", b"hvc1", b"hev1", b"mp4v", b"s263", b"h263", b"jpeg", b"mjpa"}
_AUDIO = {b"mp4a", b"samr", b"sowt", b"twos", b"alac", b"Opus", b"fLaC", b"ac-3"}
# Full boxes of tables: (the entry count's offset after version and flags,
# the width of each column of an entry).
_TABLES = {
    b"stco": (0, (4,)),
    b"co64": (0, (8,)),
    b"stts": (0, (4, 4)),
    b"ctts": (0, (4, 4)),
    b"stsc": (0, (4, 4, 4)),
    b"stss": (0, (4,)),
    b"stsz": (4, (4,)),  # sample_size first, then sample_count
}
_COLUMNS = {
    b"stts": ("count", "delta"),
    b"ctts": ("count", "offset"),
    b"stsc": ("first_chunk", "samples_per_chunk", "description"),
}


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """(type, offset, header size, box end) of each box in ``[start, end)``."""
    pos = start
    while pos + 8 <= end:
        size, kind = _u(data, pos, 4), data[pos + 4 : pos + 8]
        header = 8
        if size == 1:
            size, header = _u(data, pos + 8, 8), 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            yield kind, pos, header, end
            return
        yield kind, pos, header, pos + size
        pos += size


@_safe
def mp4(data: bytes, out: _Fields) -> None:
    """Box sizes, the sample tables (stsz, stco, stts, stsc, ctts, stss), the
    track, movie and media headers, sample entries and their avcC."""
    _mp4_walk(data, 0, len(data), out, 0)


def _mp4_walk(data: bytes, start: int, end: int, out: _Fields, depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    for kind, pos, header, box_end in _boxes(data, start, end):
        out.add("mp4:box.size", pos, 4)  # 1 where a 64-bit size follows the type
        if header == 16:
            out.add("mp4:box.size", pos + 8, 8)
        body = pos + header
        if kind in _MP4_CONTAINERS:
            _mp4_walk(data, body, box_end, out, depth + 1)
        elif kind == b"meta":
            _mp4_walk(data, body + 4, box_end, out, depth + 1)
        elif kind == b"stsd":
            out.add("mp4:stsd.count", body + 4, 4)
            _mp4_entries(data, body + 8, box_end, out, depth)
        elif kind in _TABLES:
            _mp4_table(data, kind, body + 4, box_end, out)
        else:
            _mp4_header(data, kind, body, out)


def _mp4_table(data: bytes, kind: bytes, body: int, end: int, out: _Fields) -> None:
    name = kind.decode()
    skip, widths = _TABLES[kind]
    if skip:
        out.add(f"mp4:{name}.sample_size", body, 4)
    count_at = body + skip
    out.add(f"mp4:{name}.count", count_at, 4)
    columns = _COLUMNS.get(kind, ("entry",) * len(widths))
    if kind == b"stsz" and _u(data, body, 4):
        return  # one size for every sample: no table
    pos, step = count_at + 4, sum(widths)
    for _ in range(min(_u(data, count_at, 4), (end - pos) // step)):
        for column, width in zip(columns, widths, strict=True):
            out.add(f"mp4:{name}.{column}", pos, width)
            pos += width


def _mp4_header(data: bytes, kind: bytes, body: int, out: _Fields) -> None:
    version = data[body]
    if kind in (b"mvhd", b"mdhd"):
        at, w = (body + 4 + 16, 8) if version == 1 else (body + 4 + 8, 4)
        out.add(f"mp4:{kind.decode()}.timescale", at, 4)
        out.add(f"mp4:{kind.decode()}.duration", at + 4, w)
    elif kind == b"tkhd":
        at = body + 4 + (32 if version == 1 else 20)
        out.add("mp4:tkhd.duration", at - (8 if version == 1 else 4), 8 if version == 1 else 4)
        for k in range(9):
            out.add("mp4:tkhd.matrix", at + 16 + 4 * k, 4)
        out.add("mp4:tkhd.width", at + 52, 4)
        out.add("mp4:tkhd.height", at + 56, 4)
    elif kind == b"elst":
        w = 8 if version == 1 else 4
        out.add("mp4:elst.count", body + 4, 4)
        pos = body + 8
        for _ in range(min(_u(data, body + 4, 4), 16)):
            out.add("mp4:elst.duration", pos, w)
            out.add("mp4:elst.media_time", pos + w, w)
            pos += 2 * w + 4


def _mp4_entries(data: bytes, start: int, end: int, out: _Fields, depth: int) -> None:
    for kind, pos, header, box_end in _boxes(data, start, end):
        out.add("mp4:entry.size", pos, 4)
        body = pos + header
        if kind in _VISUAL:
            out.add("mp4:entry.width", body + 24, 2)
            out.add("mp4:entry.height", body + 26, 2)
            out.add("mp4:entry.depth", body + 74, 2)
            for sub, at, _, sub_end in _boxes(data, body + 78, box_end):
                out.add("mp4:entry.box.size", at, 4)
                if sub == b"avcC":
                    _avcc(data, at + 8, sub_end, out)
        elif kind in _AUDIO:
            out.add("mp4:audio.channels", body + 16, 2)
            out.add("mp4:audio.rate", body + 24, 4)
            _mp4_walk(data, body + 28, box_end, out, depth + 1)


def _avcc(data: bytes, body: int, end: int, out: _Fields) -> None:
    """An AVCDecoderConfigurationRecord (MP4's avcC, Matroska's CodecPrivate,
    FLV's sequence header): its NAL length size and parameter set lengths."""
    out.add("avcc:profile", body + 1, 1)
    out.add("avcc:length_size", body + 4, 1)
    out.add("avcc:sps_count", body + 5, 1)
    pos = body + 6
    for _ in range(data[body + 5] & 0x1F):
        out.add("avcc:sps_length", pos, 2)
        pos += 2 + _u(data, pos, 2)
    out.add("avcc:pps_count", pos, 1)
    count, pos = data[pos], pos + 1
    for _ in range(count):
        if pos + 2 > end:
            return
        out.add("avcc:pps_length", pos, 2)
        pos += 2 + _u(data, pos, 2)


# --- Matroska, WebM (EBML) ----------------------------------------------------------

_EBML_MASTERS = {
    0x1A45DFA3, 0x18538067, 0x114D9B74, 0x4DBB, 0x1549A966, 0x1654AE6B, 0xAE, 0xE0,
    0xE1, 0x1F43B675, 0xA0, 0x1C53BB6B, 0xBB, 0xB7, 0x1254C367, 0x7373, 0x67C8,
    0x63C0, 0x1043A770, 0x6D80, 0x6240, 0x55B0, 0x5035,
}  # fmt: skip
# Unsigned integer elements worth targeting, by ID.
_EBML_UINTS = {
    0xB0: "pixel_width", 0xBA: "pixel_height", 0x54B0: "display_width",
    0x54BA: "display_height", 0x2AD7B1: "timestamp_scale", 0x23E383: "default_duration",
    0xD7: "track_number", 0x83: "track_type", 0xE7: "cluster_timestamp", 0xB3: "cue_time",
    0xF1: "cue_cluster_position", 0x53AC: "seek_position", 0x9C: "flag_lacing",
    0x9F: "channels", 0x55AA: "flag_forced", 0x56AA: "codec_delay", 0x9A: "flag_interlaced",
}  # fmt: skip
_EBML_FLOATS = {0x4489: "duration", 0xB5: "sampling_frequency"}
_SIMPLE_BLOCK, _BLOCK, _CODEC_PRIVATE = 0xA3, 0xA1, 0x63A2


def _vint(data: bytes, pos: int, keep_marker: bool) -> tuple[int, int]:
    """(value, length) of the EBML variable-length integer at ``pos``."""
    first = data[pos]
    if first == 0:
        raise ValueError("no vint length marker")
    length = 9 - first.bit_length()
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for k in range(1, length):
        value = (value << 8) | data[pos + k]
    return value, length


@_safe
def ebml(data: bytes, out: _Fields) -> None:
    """Every element's size (a VINT), the picture size, timing and index
    elements, each block's track, timestamp and flags, and the avcC in an
    H.264 track's CodecPrivate."""
    _ebml_walk(data, 0, len(data), out, 0)


def _ebml_walk(data: bytes, start: int, end: int, out: _Fields, depth: int) -> None:
    pos = start
    while pos < end and depth <= MAX_DEPTH:
        element, id_len = _vint(data, pos, keep_marker=True)
        size, size_len = _vint(data, pos + id_len, keep_marker=False)
        out.add("ebml:size", pos + id_len, size_len, "vint")
        body = pos + id_len + size_len
        unknown = size == (1 << (7 * size_len)) - 1
        body_end = end if unknown else min(end, body + size)
        if element in _EBML_MASTERS:
            _ebml_walk(data, body, body_end, out, depth + 1)
        elif element in _EBML_UINTS and 1 <= size <= 8:
            out.add(f"ebml:{_EBML_UINTS[element]}", body, size)
        elif element in _EBML_FLOATS and size in (4, 8):
            out.add(f"ebml:{_EBML_FLOATS[element]}", body, size, "f32" if size == 4 else "f64")
        elif element in (_SIMPLE_BLOCK, _BLOCK):
            track_len = _vint(data, body, keep_marker=False)[1]
            out.add("ebml:block.track", body, track_len, "vint")
            out.add("ebml:block.timestamp", body + track_len, 2)
            out.add("ebml:block.flags", body + track_len + 2, 1)
        elif element == _CODEC_PRIVATE and size > 6 and data[body] == 1:
            _avcc(data, body, body_end, out)
        if unknown and element in _EBML_MASTERS:
            return
        pos = body_end


# --- RIFF (AVI) --------------------------------------------------------------------

_AVIH = ("micro_sec_per_frame", "max_bytes_per_sec", "padding", "flags", "total_frames",
         "initial_frames", "streams", "buffer_size", "width", "height")  # fmt: skip
_STRH = (("type", 4), ("handler", 4), ("flags", 4), ("priority", 2), ("language", 2),
         ("initial_frames", 4), ("scale", 4), ("rate", 4), ("start", 4), ("length", 4),
         ("buffer_size", 4), ("quality", 4), ("sample_size", 4), ("frame.left", 2),
         ("frame.top", 2), ("frame.right", 2), ("frame.bottom", 2))  # fmt: skip


@_safe
def riff(data: bytes, out: _Fields) -> None:
    """Chunk sizes, the main and stream headers (avih, strh), the stream
    formats (strf: BITMAPINFOHEADER, WAVEFORMATEX), the idx1 index and the
    OpenDML super index."""
    _riff_walk(data, 0, len(data), out, 0, b"")


def _riff_walk(data: bytes, start: int, end: int, out: _Fields, depth: int, stream: bytes) -> None:
    pos = start
    while pos + 8 <= end and depth <= MAX_DEPTH:
        fourcc, size = data[pos : pos + 4], _u(data, pos + 4, 4, "little")
        out.add("riff:chunk.size", pos + 4, 4, "le")
        body, chunk_end = pos + 8, min(end, pos + 8 + size)
        if fourcc in (b"RIFF", b"LIST"):
            _riff_walk(data, body + 4, chunk_end, out, depth + 1, stream)
        elif fourcc == b"strh":
            stream = data[body : body + 4]
            _riff_chunk(data, fourcc, body, chunk_end, out, stream)
        else:
            _riff_chunk(data, fourcc, body, chunk_end, out, stream)
        pos = body + size + (size & 1)


def _riff_chunk(
    data: bytes, fourcc: bytes, body: int, end: int, out: _Fields, stream: bytes
) -> None:
    """The fields of one chunk that is no list; ``stream`` is the type of
    the stream whose headers it is among (``vids``, ``auds``)."""
    if fourcc == b"avih":
        for k, name in enumerate(_AVIH):
            out.add(f"riff:avih.{name}", body + 4 * k, 4, "le")
    elif fourcc == b"strh":
        at = body
        for name, width in _STRH:
            out.add(f"riff:strh.{name}", at, width, "le")
            at += width
    elif fourcc == b"strf":
        _riff_strf(stream, body, out)
    elif fourcc == b"idx1":
        for at in range(body, min(end, body + 16 * 4096), 16):
            out.add("riff:idx1.flags", at + 4, 4, "le")
            out.add("riff:idx1.offset", at + 8, 4, "le")
            out.add("riff:idx1.size", at + 12, 4, "le")
    elif fourcc == b"indx" or fourcc[:2] == b"ix":
        out.add("riff:index.longs_per_entry", body, 2, "le")
        out.add("riff:index.entries", body + 4, 4, "le")


def _riff_strf(stream: bytes, body: int, out: _Fields) -> None:
    if stream == b"vids":
        for name, at, width in (("size", 0, 4), ("width", 4, 4), ("height", 8, 4),
                                ("planes", 12, 2), ("bit_count", 14, 2),
                                ("compression", 16, 4), ("image_size", 20, 4)):  # fmt: skip
            out.add(f"riff:strf.video.{name}", body + at, width, "le")
    elif stream == b"auds":
        for name, at, width in (("format", 0, 2), ("channels", 2, 2), ("rate", 4, 4),
                                ("byte_rate", 8, 4), ("block_align", 12, 2),
                                ("bits", 14, 2)):  # fmt: skip
            out.add(f"riff:strf.audio.{name}", body + at, width, "le")


# --- FLV ---------------------------------------------------------------------------

_AMF_NUMBERS = (b"duration", b"width", b"height", b"framerate", b"videocodecid",
                b"audiocodecid", b"filesize", b"videodatarate")  # fmt: skip


@_safe
def flv(data: bytes, out: _Fields) -> None:
    """The header's flags and data offset, every tag's type, data size,
    timestamp (and its extension) and previous-tag size, each video tag's
    codec byte and AVC packet header, the metadata's numbers."""
    if data[:3] != b"FLV":
        return
    out.add("flv:header.flags", 4, 1)
    out.add("flv:header.offset", 5, 4)
    pos = _u(data, 5, 4)
    out.add("flv:previous_size", pos, 4)
    pos += 4
    while pos + 11 <= len(data):
        kind, size = data[pos] & 0x1F, _u(data, pos + 1, 3)
        out.add("flv:tag.type", pos, 1)
        out.add("flv:tag.size", pos + 1, 3)
        out.add("flv:tag.timestamp", pos + 4, 3)
        out.add("flv:tag.timestamp_ext", pos + 7, 1)
        body = pos + 11
        if kind == 9:
            out.add("flv:video.codec", body, 1)
            if data[body] & 0x0F == 7:  # AVC
                out.add("flv:avc.packet_type", body + 1, 1)
                out.add("flv:avc.composition_time", body + 2, 3)
                if data[body + 1] == 0:
                    _avcc(data, body + 5, body + size, out)
        elif kind == 8:
            out.add("flv:audio.format", body, 1)
        elif kind == 18:
            for name in _AMF_NUMBERS:
                at = data.find(name + b"\x00", body, body + size)
                if at > 0:
                    out.add(f"flv:meta.{name.decode()}", at + len(name) + 1, 8, "f64")
        out.add("flv:previous_size", body + size, 4)
        pos = body + size + 4


# --- JPEG (inside MJPEG) -----------------------------------------------------------


@_safe
def jpeg(data: bytes, out: _Fields) -> None:
    """In every JPEG frame: the frame header (SOF0-3: precision, height,
    width, components, sampling, tables), the scan header, and the lengths of
    the quantisation and Huffman tables."""
    for match in re.finditer(rb"\xff[\xc0-\xc3]", data):
        at = match.start() + 2
        length, components = _u(data, at, 2), data[at + 7]
        if length != 8 + 3 * components or components not in (1, 3, 4):
            continue
        out.add("jpeg:sof.length", at, 2)
        out.add("jpeg:sof.precision", at + 2, 1)
        out.add("jpeg:sof.height", at + 3, 2)
        out.add("jpeg:sof.width", at + 5, 2)
        out.add("jpeg:sof.components", at + 7, 1)
        for k in range(components):
            out.add("jpeg:sof.sampling", at + 9 + 3 * k, 1)
            out.add("jpeg:sof.table", at + 10 + 3 * k, 1)
    for marker, name in ((rb"\xff\xda", "sos"), (rb"\xff\xdb", "dqt"), (rb"\xff\xc4", "dht")):
        for match in re.finditer(marker, data):
            out.add(f"jpeg:{name}.length", match.end(), 2)
            if name == "sos":
                out.add("jpeg:sos.components", match.end() + 2, 1)


# --- MPEG transport and program streams, MPEG-1/2 video ----------------------------


@_safe
def mpegts(data: bytes, out: _Fields) -> None:
    """Per packet: the PID word, the adaptation and continuity byte, the
    adaptation field's length; per PES start: its length, header length and
    PTS; per PAT/PMT: the section length and the stream entries."""
    for pos in range(0, len(data) - 187, 188):
        if data[pos] != 0x47:
            continue
        pid, control = _u(data, pos + 1, 2) & 0x1FFF, data[pos + 3]
        out.add("ts:pid", pos + 1, 2)
        out.add("ts:control", pos + 3, 1)
        payload = pos + 4
        if control & 0x20:
            out.add("ts:adaptation.length", payload, 1)
            payload += 1 + data[payload]
        if not data[pos + 1] & 0x40 or payload >= pos + 188:
            continue  # no unit starts here
        if data[payload : payload + 3] == b"\x00\x00\x01":
            out.add("ts:pes.length", payload + 4, 2)
            out.add("ts:pes.header_length", payload + 8, 1)
            if data[payload + 7] & 0x80:
                out.add("ts:pes.pts", payload + 9, 5)
        elif pid == 0 or data[payload + 1 + data[payload]] == 2:
            section = payload + 1 + data[payload]
            out.add("ts:section.length", section + 1, 2)
            if data[section] == 2:  # a PMT: its streams
                out.add("ts:pmt.pcr_pid", section + 8, 2)
                out.add("ts:pmt.info_length", section + 10, 2)
                at = section + 12 + (_u(data, section + 10, 2) & 0x3FF)
                end = section + 3 + (_u(data, section + 1, 2) & 0x3FF) - 4
                while at + 5 <= min(end, pos + 188):
                    out.add("ts:pmt.stream_type", at, 1)
                    out.add("ts:pmt.stream_pid", at + 1, 2)
                    out.add("ts:pmt.es_info_length", at + 3, 2)
                    at += 5 + (_u(data, at + 3, 2) & 0x3FF)


@_safe
def mpegps(data: bytes, out: _Fields) -> None:
    """Pack headers (clock, stuffing), system headers, PES lengths and
    timestamps, and the MPEG video sequence header (picture size, frame rate)."""
    for match in re.finditer(rb"\x00\x00\x01[\xb3\xba\xbb\xbd-\xef]", data):
        at, code = match.start(), data[match.start() + 3]
        if code == 0xBA:
            out.add("ps:pack.clock", at + 4, 6)
            out.add("ps:pack.stuffing", at + 13, 1)
        elif code == 0xB3:  # MPEG video sequence header
            out.add("mpegv:sequence.size", at + 4, 3)
            out.add("mpegv:sequence.rate", at + 7, 1)
        else:
            out.add("ps:pes.length", at + 4, 2)
            if code != 0xBB and data[at + 6] & 0xC0 == 0x80:  # MPEG-2 PES header
                out.add("ps:pes.header_length", at + 8, 1)
                if data[at + 7] & 0x80:
                    out.add("ps:pes.pts", at + 9, 5)


# --- ASF (WMV) ---------------------------------------------------------------------


def _guid(text: str) -> bytes:
    return uuid.UUID(text).bytes_le


_ASF_HEADER = _guid("75B22630-668E-11CF-A6D9-00AA0062CE6C")
_ASF_DATA = _guid("75B22636-668E-11CF-A6D9-00AA0062CE6C")
_ASF_FILE = _guid("8CABDCA1-A947-11CF-8EE4-00C00C205365")
_ASF_STREAM = _guid("B7DC0791-A9B7-11CF-8EE6-00C00C205365")
_ASF_EXTENSION = _guid("5FBF03B5-A92E-11CF-8EE3-00C00C205365")
_ASF_FILE_FIELDS = (("file_size", 40, 8), ("created", 48, 8), ("packets", 56, 8),
                    ("play_duration", 64, 8), ("send_duration", 72, 8), ("preroll", 80, 8),
                    ("flags", 88, 4), ("min_packet", 92, 4), ("max_packet", 96, 4))  # fmt: skip


@_safe
def asf(data: bytes, out: _Fields) -> None:
    """Object sizes (in the header and its extension too), the file
    properties (packet sizes and count, durations), the stream properties
    (picture size, the BITMAPINFOHEADER) and the data object's packet count."""
    _asf_walk(data, 0, len(data), out, 0)


def _asf_walk(data: bytes, start: int, end: int, out: _Fields, depth: int) -> None:
    pos = start
    while pos + 24 <= end and depth <= MAX_DEPTH:
        guid, size = data[pos : pos + 16], _u(data, pos + 16, 8, "little")
        out.add("asf:object.size", pos + 16, 8, "le")
        if guid == _ASF_HEADER:
            out.add("asf:header.objects", pos + 24, 4, "le")
            _asf_walk(data, pos + 30, min(end, pos + size), out, depth + 1)
        elif guid == _ASF_EXTENSION:
            out.add("asf:extension.size", pos + 42, 4, "le")
            _asf_walk(data, pos + 46, min(end, pos + size), out, depth + 1)
        else:
            _asf_object(data, guid, pos, out)
        if size < 24:
            return
        pos += size


def _asf_object(data: bytes, guid: bytes, pos: int, out: _Fields) -> None:
    """The fields of one object that holds no others."""
    if guid == _ASF_FILE:
        for name, at, width in _ASF_FILE_FIELDS:
            out.add(f"asf:file.{name}", pos + at, width, "le")
    elif guid == _ASF_STREAM:
        out.add("asf:stream.specific_length", pos + 64, 4, "le")
        out.add("asf:stream.flags", pos + 72, 2, "le")
        specific = pos + 78
        if data[pos + 24 : pos + 28] == bytes.fromhex("c0ef19bc"):  # video media
            out.add("asf:video.width", specific, 4, "le")
            out.add("asf:video.height", specific + 4, 4, "le")
            out.add("asf:video.format_size", specific + 9, 2, "le")
            for name, at in (("size", 11), ("width", 15), ("height", 19)):
                out.add(f"asf:video.bitmap.{name}", specific + at, 4, "le")
    elif guid == _ASF_DATA:
        out.add("asf:data.packets", pos + 40, 8, "le")


# --- RealMedia ---------------------------------------------------------------------

_RM_PROP = ("max_bit_rate", "avg_bit_rate", "max_packet", "avg_packet", "packets",
            "duration", "preroll", "index_offset", "data_offset")  # fmt: skip
_RM_MDPR = ("max_bit_rate", "avg_bit_rate", "max_packet", "avg_packet", "start_time",
            "preroll", "duration")  # fmt: skip


@_safe
def rm(data: bytes, out: _Fields) -> None:
    """Chunk sizes, the file properties (PROP), each stream's properties
    (MDPR, its type-specific size and the video's picture size and rate),
    and each data packet's length and timestamp."""
    pos = 0
    while pos + 10 <= len(data):
        chunk, size = data[pos : pos + 4], _u(data, pos + 4, 4)
        out.add("rm:chunk.size", pos + 4, 4)
        body = pos + 10
        if chunk == b"PROP":
            for k, name in enumerate(_RM_PROP):
                out.add(f"rm:prop.{name}", body + 4 * k, 4)
            out.add("rm:prop.streams", body + 36, 2)
        elif chunk == b"MDPR":
            _rm_stream(data, body, out)
        elif chunk == b"DATA":
            out.add("rm:data.packets", body, 4)
            at = body + 8
            while at + 12 <= min(len(data), pos + size):
                length = _u(data, at + 2, 2)
                out.add("rm:packet.length", at + 2, 2)
                out.add("rm:packet.timestamp", at + 6, 4)
                if length < 12:
                    break
                at += length
        if size < 10:
            return
        pos += size


def _rm_stream(data: bytes, body: int, out: _Fields) -> None:
    out.add("rm:mdpr.stream", body, 2)
    for k, name in enumerate(_RM_MDPR):
        out.add(f"rm:mdpr.{name}", body + 2 + 4 * k, 4)
    at = body + 30
    at += 1 + data[at]  # stream name
    at += 1 + data[at]  # mime type
    out.add("rm:mdpr.specific_length", at, 4)
    specific = at + 4
    if data[specific + 4 : specific + 8] == b"VIDO":
        out.add("rm:video.width", specific + 12, 2)
        out.add("rm:video.height", specific + 14, 2)
        out.add("rm:video.bpp", specific + 16, 2)
        out.add("rm:video.fps", specific + 22, 4)


LOCATORS: dict[str, Locator] = {
    "mp4": mp4,
    "ebml": ebml,
    "riff": riff,
    "flv": flv,
    "jpeg": jpeg,
    "mpegts": mpegts,
    "mpegps": mpegps,
    "asf": asf,
    "rm": rm,
}
