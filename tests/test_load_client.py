"""The load client's bookkeeping (converter/bench/load.py), without a
server: which task goes where, and how the report counts what came back.
It runs against real servers in tests/test_multimachine.py."""

from __future__ import annotations

from collections import Counter

from converter.bench.load import Report, TaskRecord, multipart, percentiles, plan


def test_the_plan_gives_each_web_address_both_kinds_evenly():
    web = ("http://a", "http://b")
    tasks = plan(300, web, 0.5)
    assert Counter((t.kind, t.web) for t in tasks) == {
        ("api", "http://a"): 75,
        ("web", "http://a"): 75,
        ("api", "http://b"): 75,
        ("web", "http://b"): 75,
    }
    assert {t.kind for t in plan(10, web, 0)} == {"web"}


def test_the_report_counts_lost_duplicated_and_unsubmitted_tasks():
    report = Report(
        tasks=[
            TaskRecord("web", "a", "t1", "succeeded", submitted=1, finished=3),
            TaskRecord("api", "a", "t1", "succeeded", submitted=1, finished=2),  # the same id
            TaskRecord("api", "b", "t2", "running", submitted=1),  # never finished: lost
            TaskRecord("web", "b"),  # never submitted
            TaskRecord("web", "b", "t3", "failed", submitted=1, finished=5),
        ],
        wall_s=60,
    )
    summary = report.summary()
    assert (summary["succeeded"], summary["failed"], summary["lost"]) == (2, 1, 1)
    assert summary["not_submitted"] == 1 and summary["duplicate_ids"] == 1
    assert summary["tasks_per_minute"] == 2.0
    assert summary["completion_s"] == {"n": 2, "p50": 1.5, "p95": 1.95}


def test_percentiles_of_none_one_and_many():
    assert percentiles([]) == {"n": 0, "p50": 0.0, "p95": 0.0}
    assert percentiles([2.0]) == {"n": 1, "p50": 2.0, "p95": 2.0}
    values = [float(v) for v in range(1, 101)]
    assert percentiles(values) == {"n": 100, "p50": 50.5, "p95": 95.05}


def test_a_multipart_body_carries_the_fields_and_the_file(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00video\xff")
    body, content_type = multipart({"format": "gif"}, "video", clip)
    boundary = content_type.split("boundary=")[1].encode()
    parts = body.split(b"--" + boundary)
    assert parts[-1] == b"--\r\n" and len(parts) == 4  # preamble, 2 parts, the end
    assert b'name="format"\r\n\r\ngif\r\n' in parts[1]
    assert b'filename="clip.mp4"' in parts[2] and parts[2].endswith(b"\x00video\xff\r\n")
