"""Fuzzing of media (``converter.mediafuzz``): valid clips of every container,
mutated, run through the probe and the conversion. Every case ends in
success or a documented code of the source's fault: never InternalError,
another exception, a hang or a crash. A bounded run of 2,000 cases (the
first shard in the fast tier, the rest in the full one), 40 more through a
real worker, the tests of the mutators and of the runner's classification,
and the regressions the fuzzer found."""

from __future__ import annotations

import dataclasses
import os
import re
import time
from pathlib import Path

import pytest

from converter.errors import SOURCE_CODES, Code
from converter.mediafuzz import fields, h264, runner, seeds, structure
from converter.mediafuzz.mutators import Case, make_case
from converter.mediafuzz.target import LIMITS, probe_and_convert
from converter.models import Task
from converter.pipeline.convert import convert
from converter.pipeline.errors import PipelineError
from converter.pipeline.probe import probe
from converter.spec import AnimationSpec
from tests.factories import make_task, make_user, task_spec
from tests.media import ffmpeg, pattern
from tests.poll import wait_until
from tests.security import hostile

SEED = 20240612  # the bounded run's: fixed, so a failure names a case to replay
CASES, SHARDS = 2000, 8
WORKER_CASES = 40


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, bytes]:
    return seeds.make(tmp_path_factory.mktemp("fuzz-seeds"))


def jobs() -> int:
    """Children per run: one per core, or one where xdist spreads the tests."""
    return 1 if "PYTEST_XDIST_WORKER" in os.environ else min(2, os.cpu_count() or 1)


# --- the seeds and the mutations ---------------------------------------------------


@pytest.mark.parametrize("kind", list(seeds.SEEDS))
def test_every_seed_clip_converts(clips, kind, tmp_path):
    path = tmp_path / "source.video"
    path.write_bytes(clips[kind])
    # MPEG program streams state a shorter duration (0.28 s): three frames.
    assert re.fullmatch(r"[34] frames 32x24 from .*", probe_and_convert(path, "webp"))


def test_a_case_is_the_same_file_whatever_ran_before_it(clips):
    later = make_case(clips, 7, 123)
    for index in range(5):
        make_case(clips, 7, index)
    again = make_case(clips, 7, 123)
    assert again == later and again.data == later.data
    assert later.data != clips[later.kind] and later.mutations
    assert make_case(clips, 8, 123).data != later.data


# (family, seed, {field name: the value a valid clip holds}); the fields of
# the picture size prove that the walk is in step with the file.
EXPECTED_FIELDS = [
    ("mp4", "mp4-h264", {"mp4:tkhd.width": 64 << 16, "mp4:entry.width": 64, "mp4:entry.height": 48,
                         "mp4:stsz.entry": None, "mp4:stco.entry": None, "mp4:stts.delta": None,
                         "mp4:stsc.first_chunk": 1, "mp4:box.size": None, "avcc:sps_length": None}),
    ("mp4", "3gp-h263", {"mp4:entry.width": 128, "mp4:stss.entry": 1}),
    ("ebml", "mkv-h264", {"ebml:pixel_width": 64, "ebml:pixel_height": 48, "ebml:size": None,
                          "ebml:block.timestamp": 0, "avcc:sps_count": 0xE1}),
    ("ebml", "webm-vp8", {"ebml:pixel_width": 64, "ebml:timestamp_scale": 1_000_000}),
    ("riff", "avi-mjpeg", {"riff:avih.width": 64, "riff:avih.height": 48, "riff:avih.streams": 2,
                           "riff:strh.rate": None, "riff:strf.video.width": 64,
                           "riff:idx1.size": None, "riff:chunk.size": None}),
    ("jpeg", "avi-mjpeg", {"jpeg:sof.width": 64, "jpeg:sof.height": 48, "jpeg:sof.components": 3}),
    ("flv", "flv-h264", {"flv:meta.width": 64.0, "flv:meta.height": 48.0, "flv:tag.size": None,
                         "flv:tag.timestamp": None, "flv:previous_size": None,
                         "avcc:length_size": 0xFF}),
    ("mpegts", "ts-h264", {"ts:pes.pts": None, "ts:section.length": None,
                           "ts:pmt.stream_type": 0x1B}),
    ("mpegps", "vob-mpeg2", {"mpegv:sequence.size": (64 << 12) | 48, "ps:pes.length": None}),
    ("asf", "wmv-wmv2", {"asf:video.width": 64, "asf:video.height": 48,
                         "asf:video.bitmap.width": 64, "asf:file.max_packet": None}),
    ("rm", "rm-rv10", {"rm:video.width": 64, "rm:video.height": 48, "rm:prop.streams": 1}),
]  # fmt: skip


@pytest.mark.parametrize(("family", "kind", "expected"), EXPECTED_FIELDS)
def test_the_header_fields_of_each_container_are_found(clips, family, kind, expected):
    found = structure.LOCATORS[family](clips[kind])
    values: dict[str, set[int | float]] = {}
    for f in found:
        values.setdefault(f.name, set()).add(fields.read(clips[kind], f))
    for name, value in expected.items():
        assert name in values, (name, sorted(values))
        if value is not None:
            assert value in values[name], (name, values[name])


def test_the_locators_survive_any_bytes(clips):
    junk = [b"", os.urandom(5000), clips["mp4-h264"][:100], clips["mkv-h264"][::2]]
    for locate in structure.LOCATORS.values():
        for data in junk:
            assert all(f.fits(data) for f in locate(data))


@pytest.mark.parametrize("kind", ["mp4-h264", "mov-h264", "mkv-h264", "flv-h264", "ts-h264"])
def test_a_rewritten_sps_changes_the_picture_size_the_decoder_sees(clips, kind, tmp_path):
    data = clips[kind]
    found = h264.find(data)
    assert found and all(s.value("pic_width_in_mbs_minus1") == 3 for s in found)  # 64 px
    for sps in found:
        data = h264.rewrite(data, sps, "pic_width_in_mbs_minus1", 7)  # 128 px, a longer code
    path = tmp_path / "source.video"
    path.write_bytes(data)
    info = probe(path)
    assert (info.coded_width, info.coded_height) == (128, 48)


# --- the runner tells findings from refusals -----------------------------------------


def _one_case(clips, index: int = 0, fmt: str = "gif") -> Case:
    return dataclasses.replace(make_case(clips, 1, index), format=fmt)


@pytest.mark.parametrize(
    ("target", "outcome", "finding"),
    [
        ("succeeds", "ok", False),
        ("refuses", "DecodeFailed", False),
        ("internal_error", "InternalError", True),
        ("storage_unavailable", "code:StorageUnavailable", True),
        ("raises_key_error", "exception:builtins.KeyError", True),
        ("hangs", "hang", True),
        ("crashes", "crash:SIGSEGV", True),
    ],
)
def test_the_runner_classifies_how_a_case_ends(clips, tmp_path, target, outcome, finding):
    report = runner.run(
        [_one_case(clips)],
        tmp_path,
        seed=1,
        digests={},
        target=f"tests.security.fuzz_targets:{target}",
        wall_s=3,
    )
    (result,) = report.results
    assert (result.outcome, result.finding) == (outcome, finding), result.detail
    assert report.counts() == {outcome: 1}
    if finding:
        assert "replay: manage.py fuzzmedia --seed 1 --replay 0" in report.table()
    assert hostile.ffmpeg_descendants(os.getpid()) == []


def test_a_crashed_child_is_replaced_for_the_next_case(clips, tmp_path):
    cases = [_one_case(clips, i, fmt) for i, fmt in enumerate(["gif", "webp", "gif", "webp"])]
    report = runner.run(
        cases, tmp_path, seed=1, digests={}, target="tests.security.fuzz_targets:crashes_on_gif"
    )
    assert [r.outcome for r in report.results] == ["crash:SIGSEGV", "ok", "crash:SIGSEGV", "ok"]


# --- the bounded run -----------------------------------------------------------------


@pytest.mark.parametrize(
    "shard",
    [pytest.param(n, marks=() if n == 0 else pytest.mark.slow) for n in range(SHARDS)],
)
def test_mutated_media_ends_in_success_or_a_documented_code(clips, tmp_path, shard):
    """Shard ``shard`` of the bounded run: cases ``shard x 250`` onwards of
    ``SEED``. The first shard is in the fast tier; the full tier runs all."""
    size = CASES // SHARDS
    cases = (make_case(clips, SEED, i) for i in range(shard * size, (shard + 1) * size))
    report = runner.run(cases, tmp_path, seed=SEED, digests=seeds.digests(clips), jobs=jobs())
    print(report.table())
    assert not report.findings(), report.table()
    counts = report.counts()
    assert len(report.results) == size
    # Not a fuzzer that only ever breaks the first byte: most cases get past
    # the probe, and the refusals are of several kinds.
    assert counts["ok"] > size // 3 and len(counts) >= 4, counts
    assert hostile.ffmpeg_descendants(os.getpid()) == []


# --- through a real worker -------------------------------------------------------------


def test_mutated_uploads_end_in_success_or_a_documented_code_in_a_worker(clips, worker, tmp_path):
    """What the worker makes of mutated uploads: each task succeeds or fails
    with a documented code, once (no retry), and the worker lives on."""
    import django_rq
    from rq.registry import ScheduledJobRegistry

    owner = make_user()
    cases = [make_case(clips, SEED + 1, index) for index in range(WORKER_CASES)]
    # And what the fuzzer found, each once an InternalError or minutes of ffmpeg.
    found = {
        "tagged": ("gif", tagged_mkv(tmp_path).read_bytes()),
        "day": ("gif", one_frame_a_day(clips)),
        "hours": ("gif", hours_ahead(clips)),
        "tall": ("webp", tall_sps(clips)),
    }
    for n, (name, (fmt, data)) in enumerate(found.items()):
        cases.append(Case(0, WORKER_CASES + n, name, fmt, (f"found: {name}",), data))
    tasks = []
    for case in cases:
        path = tmp_path / f"case-{case.index}.video"
        path.write_bytes(case.data)
        spec = task_spec(format=case.format, interval=0.1, number=4, width=32.0)
        tasks.append((case, make_task(path, owner=owner, spec=spec)))
    wait_until(
        lambda: (
            Task.objects.filter(pk__in=[t.pk for _, t in tasks], status__in=FINISHED).count()
            == len(tasks)
        ),
        240,
        what=lambda: f"every task to finish (worker log: {worker.log_tail(3000)})",
    )
    outcomes = {}
    for case, task in tasks:
        task.refresh_from_db()
        label = f"{case.label()}: {task.status} {task.code} {task.message}"
        assert task.attempts == 1, label
        if task.status == Task.Status.FAILED:
            assert Code(task.code.split(".")[0]) in SOURCE_CODES, label
            assert task.message and "unexpected" not in task.message, label
        outcomes[task.code or "ok"] = outcomes.get(task.code or "ok", 0) + 1
    assert outcomes.get("ok", 0) > WORKER_CASES // 3, outcomes
    assert worker.running, worker.log_tail()
    log = worker.log()
    assert "failed unexpectedly" not in log and "terminated unexpectedly" not in log, log[-3000:]
    queue = django_rq.get_queue("convert")
    assert queue.count == 0 and ScheduledJobRegistry(queue=queue).count == 0  # nothing retried


FINISHED = (Task.Status.SUCCEEDED, Task.Status.FAILED)


# --- what the fuzzer found ---------------------------------------------------------------


def tagged_mkv(folder: Path) -> Path:
    """An H.264 Matroska file whose stream and container titles are not
    UTF-8 (an old muxer's Latin-1, or a damaged byte): PyAV decodes every tag
    when it opens the file."""
    path = folder / "tagged.mkv"
    ffmpeg(
        *pattern("64x48", 25, 0.4), "-c:v", "libx264", "-pix_fmt", "yuv420p",
        "-metadata", "title=QQQQcontainer", "-metadata:s:v:0", "title=QQQQstream", str(path),
    )  # fmt: skip
    data = path.read_bytes()
    assert data.count(b"QQQQ") == 2
    path.write_bytes(data.replace(b"QQQQ", b"caf\xe9"))
    return path


def test_tags_that_are_not_utf8_do_not_stop_the_probe(tmp_path):
    """Found as seed 1 case 95 (mkv-h264, one byte of a tag set to 0x80):
    a UnicodeDecodeError escaped the probe, so the task failed with
    InternalError. Tags mean nothing to a conversion."""
    path = tagged_mkv(tmp_path)
    info = probe(path)
    assert (info.width, info.height) == (64, 48)
    assert probe_and_convert(path, "gif").startswith("4 frames")


def tall_sps(clips) -> bytes:
    """The H.264 FLV seed with its SPS claiming 64x65520 pixels."""
    data = clips["flv-h264"]
    (sps,) = h264.find(data)
    return h264.rewrite(data, sps, "pic_height_in_map_units_minus1", 4095)


def test_a_tall_sps_is_output_too_large_as_webp(clips, tmp_path):
    path = tmp_path / "source.video"
    path.write_bytes(tall_sps(clips))
    with pytest.raises(PipelineError) as refused:
        probe_and_convert(path, "webp")
    assert refused.value.code == "OutputTooLarge"
    assert "a WebP can be at most 16,383 pixels on a side" in refused.value.message


@pytest.mark.parametrize(("fmt", "height", "most"), [("webp", 16384, 16383), ("gif", 65536, 65535)])
def test_an_animation_taller_than_its_format_allows_is_output_too_large(
    clips, tmp_path, fmt, height, most
):
    """Found as seed 1 case 1879 (flv-h264, the SPS claiming 64x65520 pixels,
    within the pixel limit): a 32x32760 WebP made libwebp fail, an
    InternalError. A request can ask for such a size too (20 x 16384 is far
    under the output pixel limit); GIF's sides are 16-bit."""
    source = tmp_path / "source.video"
    source.write_bytes(clips["mp4-h264"])
    info = probe(source)
    tall = AnimationSpec.create(
        format=fmt, interval=0.1, frame_rate=10.0, width=2.0, height=float(height), number=1
    )
    with pytest.raises(PipelineError) as refused:
        convert(source, info, tall)
    assert refused.value.code == "OutputTooLarge" and f"{most:,}" in refused.value.message
    just = dataclasses.replace(tall, height=float(most))
    assert convert(source, info, just).height == most


def one_frame_a_day(clips) -> bytes:
    """The 3GP seed with its one sample duration (stts) made 1.5e9 ticks."""
    data = bytearray(clips["3gp-h263"])
    (delta,) = [f for f in structure.mp4(bytes(data)) if f.name == "mp4:stts.delta"]
    data[delta.offset : delta.offset + 4] = (0x5A29E425).to_bytes(4, "big")
    return bytes(data)


def test_one_frame_a_day_does_not_keep_ffmpeg_busy(clips, tmp_path):
    """Found as seed 1 case 1215 (3gp-h263, a sample duration in stts of
    1.5e9 ticks: 8e-6 frames per second). ffmpeg's tpad put its padding
    frame a day after the last one and the fps filter filled every slot up to
    it, long after the frames asked for were out: 10 minutes of a worker (the
    wall-time limit) for a 12 KB file."""
    path = tmp_path / "source.video"
    path.write_bytes(one_frame_a_day(clips))
    info = probe(path, LIMITS)
    assert info.fps < 1e-4
    started = time.monotonic()
    spec = AnimationSpec.create(format="gif", interval=0.1, frame_rate=10.0, number=4, width=32.0)
    result = convert(path, info, spec, limits=LIMITS)
    assert result.frames >= 1 and time.monotonic() - started < 5


def hours_ahead(clips) -> bytes:
    """The Sorenson FLV seed with the timestamp of its frame at 0.2 s made
    0xfffffe ms (4 h 39 min)."""
    data = bytearray(clips["flv-flv1"])
    stamps = [f for f in structure.flv(bytes(data)) if f.name == "flv:tag.timestamp"]
    late = next(f for f in stamps if fields.read(data, f) == 200)
    data[late.offset : late.offset + 3] = (0xFFFFFE).to_bytes(3, "big")
    return bytes(data)


def test_a_timestamp_hours_ahead_does_not_keep_ffmpeg_busy(clips, tmp_path):
    """Found as seed 20240612 case 78 (flv-flv1, one tag's timestamp set to
    4 h 39 min): the stream then ends hours after its frames, and the fps
    filter filled every tenth of a second up to there with copies of the
    last frame (8 s for this 4 KB file; a day's jump, the limit of 10 minutes)."""
    path = tmp_path / "source.video"
    path.write_bytes(hours_ahead(clips))
    started = time.monotonic()
    assert probe_and_convert(path, "gif").startswith("4 frames")
    assert time.monotonic() - started < 3
