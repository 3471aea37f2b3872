"""Prometheus metrics, collected when scraped: django-rq's own exporter
(``RQCollector``: workers, jobs by queue and status) and ours, read from the
database and Redis, so that every web process answers with the same figures
whatever process did the work (no per-process counters to merge)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import django_rq
from django_rq.contrib.prometheus import RQCollector
from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from . import selectors
from .errors import Code
from .models import Task
from .services.queueing import NOTIFY_QUEUE, QUEUE

DURATION_BOUNDS_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
FRAME_BOUNDS = (10, 25, 50, 100, 200, 500, 1000)


def _histogram(
    name: str, doc: str, bounds: tuple[float, ...], counts: list[int], count: int, total: float
) -> HistogramMetricFamily:
    buckets = [(f"{b:g}", float(n)) for b, n in zip(bounds, counts, strict=True)]
    return HistogramMetricFamily(
        name, doc, buckets=[*buckets, ("+Inf", float(count))], sum_value=total
    )


class LoopforgeCollector:
    def collect(self) -> Iterator[Metric]:
        tasks = GaugeMetricFamily("loopforge_tasks", "Tasks by state", labels=["state"])
        counts = selectors.task_counts_by_status()
        for status in Task.Status.values:
            tasks.add_metric([status], counts.get(status, 0))
        yield tasks

        made = CounterMetricFamily(
            "loopforge_conversions", "Animations written, by format", labels=["format"]
        )
        for fmt, n in sorted(selectors.output_counts_by_format().items()):
            made.add_metric([fmt], n)
        yield made

        failures = selectors.failure_counts_by_code()
        failed = CounterMetricFamily("loopforge_failures", "Failed tasks, by code", labels=["code"])
        for code, n in sorted(failures.items()):
            failed.add_metric([code], n)
        yield failed
        yield CounterMetricFamily(
            "loopforge_storage_errors",
            "Tasks that failed because storage could not be reached",
            value=failures.get(Code.STORAGE_UNAVAILABLE.value, 0),
        )

        counts_s, count, total_s = selectors.task_duration_buckets(DURATION_BOUNDS_S)
        yield _histogram(
            "loopforge_task_duration_seconds",
            "Start to finish of each task that ran",
            DURATION_BOUNDS_S,
            counts_s,
            count,
            total_s,
        )
        frame_counts, outputs, frames = selectors.output_frame_buckets(FRAME_BOUNDS)
        yield _histogram(
            "loopforge_animation_frames",
            "Frames in each animation written",
            tuple(float(b) for b in FRAME_BOUNDS),
            frame_counts,
            outputs,
            float(frames),
        )
        yield from self._queues()

    def _queues(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("loopforge_queue_depth", "Jobs waiting", labels=["queue"])
        oldest = GaugeMetricFamily(
            "loopforge_queue_oldest_job_age_seconds",
            "How long the job at the head of the queue has waited",
            labels=["queue"],
        )
        for name in (QUEUE, NOTIFY_QUEUE):
            queue = django_rq.get_queue(name)
            depth.add_metric([name], queue.count)
            head = queue.get_job_ids(0, 1)
            job = queue.fetch_job(head[0]) if head else None
            age = time.time() - job.enqueued_at.timestamp() if job and job.enqueued_at else 0
            oldest.add_metric([name], max(0.0, age))
        yield depth
        yield oldest


def registry() -> CollectorRegistry:
    """A registry of what a scrape reports: ours and django-rq's."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(LoopforgeCollector())
    reg.register(RQCollector())
    return reg
