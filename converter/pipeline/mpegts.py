"""MPEG-TS made safe for static ffmpeg builds.

The static ffmpeg 7.0.2 that imageio-ffmpeg 0.7.0 ships (the default until
9.0.2, and still a possible ``CONVERTER_FFMPEG``) crashes (SIGSEGV) on
every MPEG-TS input as soon as its demuxer parses the Service Description
Table: decoding the DVB service name calls iconv, which a static glibc cannot
load. Reported against this very build, e.g.
https://github.com/gradio-app/gradio/issues/13848 and
https://github.com/honey720/chzzk-vod-downloader-v2/issues/94.
The SDT only names the channel and its provider, so ``without_sdt`` copies the
stream minus its SDT packets (PID 0x11), and ffmpeg reads that copy instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import BinaryIO

import numpy as np

SYNC = 0x47
SDT_PID = 0x0011  # DVB Service Description Table (and BAT), nothing to decode
# Packet layouts: plain TS; M2TS/Blu-ray (4-byte timecode before each packet);
# DVB with 16 bytes of Reed-Solomon parity after each packet.
LAYOUTS = ((188, 0), (192, 4), (204, 0))  # (stride, offset of the sync byte)
CHUNK_PACKETS = 4096  # ~0.8 MB read at a time
CHECK_PACKETS = 5  # consecutive sync bytes that establish a layout


def _layout(head: bytes) -> tuple[int, int, int] | None:
    """(stride, sync offset, first packet start) that ``head`` follows."""
    for stride, sync in LAYOUTS:
        for start in range(min(stride, max(0, len(head) - stride * CHECK_PACKETS))):
            if all(head[start + sync + k * stride] == SYNC for k in range(CHECK_PACKETS)):
                return stride, sync, start
    return None


def without_sdt(source: Path, target: Path) -> Path:
    """Write ``source`` to ``target`` without its SDT packets and return
    ``target``. Bytes that are not recognisable packets (garbage before the
    first packet, a torn packet) are copied unchanged, so ffmpeg resyncs on
    them exactly as it would have on the original."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        head = src.read(204 * (CHECK_PACKETS + 1))
        layout = _layout(head)
        if layout is None:  # not a packet stream we recognise: leave it to ffmpeg
            dst.write(head)
            shutil.copyfileobj(src, dst, 1024 * 1024)
            return target
        stride, sync, start = layout
        dst.write(head[:start])
        buffer = head[start:]
        while True:
            more = src.read(stride * CHUNK_PACKETS)
            buffer += more
            pos = _filter(buffer, stride, sync, dst)
            buffer = buffer[pos:]
            if not more:
                dst.write(buffer)
                return target


def _filter(buffer: bytes, stride: int, sync: int, dst: BinaryIO) -> int:
    """Write the whole packets of ``buffer`` minus SDT ones; return how many
    bytes were consumed (a torn packet at the end waits for more data)."""
    pos = 0
    while len(buffer) - pos >= stride:
        n = (len(buffer) - pos) // stride
        block = np.frombuffer(buffer, np.uint8, count=n * stride, offset=pos).reshape(n, stride)
        lost = np.flatnonzero(block[:, sync] != SYNC)
        good = int(lost[0]) if lost.size else n
        if good:
            rows = block[:good]
            pid = ((rows[:, sync + 1].astype(np.uint16) & 0x1F) << 8) | rows[:, sync + 2]
            dst.write(rows[pid != SDT_PID].tobytes())
            pos += good * stride
            continue
        # Lost sync: copy bytes unchanged up to the next sync byte candidate.
        nxt = buffer.find(bytes([SYNC]), pos + sync + 1)
        skip = (nxt - sync - pos) if nxt >= 0 else len(buffer) - pos - stride + 1
        skip = max(1, skip)
        dst.write(buffer[pos : pos + skip])
        pos += skip
    return pos
