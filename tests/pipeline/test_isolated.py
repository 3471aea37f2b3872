"""The probe in its sandboxed child (``isolated``): it answers what the
in-process probe answers, and every way the child can end is a code that
says what happened to the file, never an internal error."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest

from converter.pipeline import isolated
from converter.pipeline.errors import PipelineError
from converter.pipeline.limits import Limits
from converter.pipeline.probe import key_frame_before, probe
from converter.pipeline.probe_child import STARTED
from tests.security import hostile


@pytest.mark.parametrize("decode", [True, False])
@pytest.mark.parametrize("clip", ["moving", "portrait", "interlaced", "alpha", "ten_bit"])
def test_the_child_describes_a_file_as_the_probe_does(clips, clip, decode):
    source = getattr(clips, clip)()
    expected = probe(source, decode=decode)
    assert isolated.probe(source, decode=decode) == expected


def test_a_portrait_phone_clip_is_described_upright(clips, no_pyav_here):
    info = isolated.probe(clips.portrait())
    assert (info.rotation, info.width, info.height) == (90, 180, 320)


def test_a_sound_file_is_described_for_a_waveform_only_when_asked(clips, no_pyav_here):
    source = clips.audio_only("mp3")
    with pytest.raises(PipelineError) as refused:
        isolated.probe(source)
    assert refused.value.code == "NoVideoStream" and "waveform" in refused.value.message
    assert isolated.probe(source, audio_only_ok=True).audio_only


@pytest.mark.parametrize(
    ("limits", "code"),
    [(Limits(max_source_pixels=100 * 100), "SourceTooLarge"), (Limits(), "UnsupportedFormat")],
)
def test_refusals_come_back_with_their_codes(tmp_path, clips, limits, code, no_pyav_here):
    source = clips.moving() if code == "SourceTooLarge" else tmp_path / "notes.mp4"
    if code == "UnsupportedFormat":
        source.write_text("not a video at all\n" * 100)
    with pytest.raises(PipelineError) as refused:
        isolated.probe(source, limits)
    assert refused.value.code == code


def test_the_key_frame_before_a_time_is_the_one_the_probe_finds(clips):
    source = clips.moving(duration=3)
    info = probe(source)
    for t in (0.0, 1.3, 2.9):
        assert isolated.key_frame_before(source, info, t) == key_frame_before(source, info, t)


def test_the_probe_reads_a_short_clips_key_frames_as_seeking_finds_them(clips):
    source = clips.key_frame_every(12)
    info = probe(source, key_frames=True)
    assert info.key_frames_until >= info.duration
    assert info.key_frames == pytest.approx([k * 0.5 for k in range(12)])
    for t in (0.0, 0.49, 0.5, 2.7, 5.9):
        assert info.key_frame_before(t) == pytest.approx(key_frame_before(source, info, t))
    assert isolated.probe(source, key_frames=True) == info  # the child answers them too
    unasked = probe(source)  # a conversion that never splits reads none
    assert unasked.key_frame_before(2.7) is None
    assert unasked == dataclasses.replace(info, key_frames=(), key_frames_until=0.0)
    assert probe(source, decode=False, key_frames=True).key_frame_before(2.7) is None


def test_past_the_key_frames_it_read_the_probe_says_it_does_not_know(clips, monkeypatch):
    monkeypatch.setattr("converter.pipeline.probe.KEY_FRAME_SCAN_PACKETS", 40)
    source = clips.key_frame_every(12)
    info = probe(source, key_frames=True)
    assert 1.5 <= info.key_frames_until < 2.5  # about 40 frames in, as decoded
    assert info.key_frames == pytest.approx([0.0, 0.5, 1.0, 1.5][: len(info.key_frames)])
    assert info.key_frame_before(1.2) == pytest.approx(1.0)
    assert info.key_frame_before(4.0) is None


@pytest.mark.parametrize(
    "key_frames", [[2.0, 1.0], [1, 2], ["0.5"], [0.5] * 501, {"0": 0.5}, [float("nan")]]
)
def test_a_child_answering_impossible_key_frames_is_not_believed(clips, key_frames):
    data = probe(clips.moving()).to_dict()
    with pytest.raises(PipelineError) as refused:
        isolated._checked_info({**data, "key_frames": key_frames}, Limits())
    assert refused.value.code == "SourceUnreadable"
    assert isolated._checked_info(json.loads(json.dumps(data)), Limits()) == probe(clips.moving())


def test_a_probe_past_its_wall_time_is_stopped_as_a_timeout(clips):
    started = time.monotonic()
    with pytest.raises(PipelineError) as stopped:
        isolated.probe(clips.moving(), Limits(probe_timeout_s=0.01))
    assert stopped.value.code == "Timeout" and "0.01 s" in stopped.value.message
    assert time.monotonic() - started < 10


def test_a_probe_past_its_memory_is_refused_and_the_caller_survives(tmp_path):
    """Decoding a UHD frame needs far more than reading the headers: under a
    cap that lets the child read the headers, the first frame fails to decode."""
    source = hostile.big_frames_mp4(tmp_path / "uhd.mp4", "3840x2160", seconds=0.4, fps=5)
    fits = next(
        Limits(ffmpeg_memory_bytes=mib * 1024 * 1024)
        for mib in (96, 128, 160, 192, 256)
        if _reads_headers(source, Limits(ffmpeg_memory_bytes=mib * 1024 * 1024))
    )
    with pytest.raises(PipelineError) as refused:
        isolated.probe(source, fits)
    assert refused.value.code == "DecodeFailed", refused.value
    assert isolated.probe(source).width == 3840  # with the default cap it reads


def _reads_headers(source, limits: Limits) -> bool:
    try:
        isolated.probe(source, limits, decode=False)
    except RuntimeError:  # the child could not even start under this cap
        return False
    return True


def child_saying(monkeypatch, code: str) -> None:
    """The child runs ``code`` after it has said it started (as the probe's
    child does before it opens the file)."""
    monkeypatch.setattr(isolated, "_BOOT", f"print({STARTED!r}, flush=True)\n{code}")


@pytest.mark.parametrize(
    "ending",
    ["import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "import os; os.abort()"],
)
def test_a_child_the_file_crashes_is_an_unreadable_source(clips, monkeypatch, ending):
    child_saying(monkeypatch, ending)
    with pytest.raises(PipelineError) as failed:
        isolated.probe(clips.moving())
    assert failed.value.code == "SourceUnreadable" and "crashed" in failed.value.message


@pytest.mark.parametrize(
    "lie",
    [
        {"demuxer": "hls"},  # would become ffmpeg's -f and -format_whitelist
        {"coded_width": 100_000, "width": 100_000},
        {"duration": float("nan")},
        {"stream_index": True},
    ],
)
def test_a_child_that_lies_is_not_believed(clips, monkeypatch, lie):
    """A child a file took over answers what it likes; its description must
    still be one the probe could have given."""
    answer = {**dataclasses.asdict(probe(clips.moving())), **lie}
    child_saying(monkeypatch, f"print({json.dumps({'info': answer})!r})")
    with pytest.raises(PipelineError) as refused:
        isolated.probe(clips.moving())
    assert refused.value.code == "SourceUnreadable"


def test_a_child_that_answers_a_code_we_do_not_give_is_not_believed(clips, monkeypatch):
    reply = {"error": {"code": "StorageUnavailable", "message": "retry me forever"}}
    child_saying(monkeypatch, f"print({json.dumps(reply)!r})")
    with pytest.raises(PipelineError) as refused:
        isolated.probe(clips.moving())
    assert refused.value.code == "SourceUnreadable"


def test_a_child_that_never_starts_is_our_failure_not_the_files(clips, monkeypatch):
    monkeypatch.setattr(isolated, "_BOOT", "import no_such_module_here")
    with pytest.raises(RuntimeError, match="no_such_module_here"):
        isolated.probe(clips.moving())
