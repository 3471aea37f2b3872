"""For the people and machines that run the service: ``/healthz`` (the
process answers), ``/readyz`` (what it needs answers too) and ``/metrics``
(Prometheus, behind a token)."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import django_rq
from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import exposition
from rq.worker import Worker

from .. import metrics, storage
from ..services.queueing import QUEUE

# A worker that has not beaten its heart for this long is not counted.
WORKER_HEARTBEAT_S = 120


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "answers"


def _redis() -> str:
    django_rq.get_connection(QUEUE).ping()
    return "answers"


def _storage() -> str:
    storage.check_reachable()
    return "answers"


def _workers() -> str:
    cutoff = datetime.now(UTC) - timedelta(seconds=WORKER_HEARTBEAT_S)
    live = [
        w
        for w in Worker.all(connection=django_rq.get_connection(QUEUE))
        if QUEUE in w.queue_names()
        and w.last_heartbeat
        and w.last_heartbeat.replace(tzinfo=UTC) >= cutoff
    ]
    if not live:
        raise RuntimeError(
            f"no worker of the {QUEUE} queue beat its heart in the last {WORKER_HEARTBEAT_S} s"
        )
    return f"{len(live)} live"


CHECKS: dict[str, Callable[[], str]] = {
    "database": _database,
    "redis": _redis,
    "storage": _storage,
    "workers": _workers,
}


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Each check by name, with what it found or why it failed; 503 when
    one failed (a load balancer then sends no traffic here)."""
    results = {}
    for name, check in CHECKS.items():
        started = time.monotonic()
        try:
            results[name] = {"ok": True, "detail": check()}
        except Exception as exc:
            results[name] = {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
        results[name]["ms"] = int((time.monotonic() - started) * 1000)
    ok = all(r["ok"] for r in results.values())
    return JsonResponse(
        {"status": "ok" if ok else "fail", "checks": results}, status=200 if ok else 503
    )


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus' text format, for ``Authorization: Bearer
    <CONVERTER_METRICS_TOKEN>``; without a token set, there are no metrics."""
    token = settings.CONVERTER_METRICS_TOKEN
    if not token:
        raise Http404("Metrics are off: set CONVERTER_METRICS_TOKEN.")
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return JsonResponse(
            {"code": "Unauthorized", "message": "A valid metrics token is needed."}, status=401
        )
    encoder, content_type = exposition.choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(metrics.registry()), content_type=content_type)
