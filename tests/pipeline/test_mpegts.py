"""The MPEG-TS copy ffmpeg reads: the same packets minus the SDT."""

from __future__ import annotations

import pytest

from converter.pipeline.mpegts import SDT_PID, without_sdt


def pids(data: bytes, stride: int, sync: int) -> list[int]:
    return [
        ((data[i + sync + 1] & 0x1F) << 8) | data[i + sync + 2] for i in range(0, len(data), stride)
    ]


@pytest.mark.parametrize(("kind", "stride", "sync"), [("ts-h264", 188, 0), ("m2ts-h264", 192, 4)])
def test_only_the_service_description_packets_are_dropped(clips, tmp_path, kind, stride, sync):
    src = clips.container(kind)
    data = src.read_bytes()
    out = without_sdt(src, tmp_path / "copy.ts").read_bytes()
    before, after = pids(data, stride, sync), pids(out, stride, sync)
    assert SDT_PID in before and SDT_PID not in after
    assert after == [p for p in before if p != SDT_PID]
    kept = b"".join(
        data[i : i + stride] for i in range(0, len(data), stride) if before[i // stride] != SDT_PID
    )
    assert out == kept


def test_bytes_out_of_sync_are_kept_as_they_are(clips, tmp_path):
    data = clips.container("ts-h264").read_bytes()
    torn = b"junk" * 10 + data[: 188 * 7 + 50] + data[188 * 7 :]  # garbage, then a torn packet
    src = tmp_path / "torn.ts"
    src.write_bytes(torn)
    out = without_sdt(src, tmp_path / "copy.ts").read_bytes()
    assert out.startswith(b"junk" * 10)
    assert len(torn) - len(out) == 188 * pids(data, 188, 0).count(SDT_PID)


def test_a_file_that_is_not_a_packet_stream_is_copied_unchanged(tmp_path):
    src = tmp_path / "x.ts"
    src.write_bytes(bytes(range(256)) * 100)
    assert without_sdt(src, tmp_path / "copy.ts").read_bytes() == src.read_bytes()
