"""A bounded load run against a running Loopforge, from outside it: people
uploading clips through the page and API clients creating tasks, each
polling its task until it ends. Standard library only, so it runs on a
machine (or in a network namespace) that has nothing but Python.

``python -m converter.bench.load --web URL [--web URL ...] ...`` prints
the report; ``run(LoadConfig(...))`` returns it (the multi-machine test
drives it so). Every user is a closed loop: submit one task, poll it until
it ends, submit the next; tasks go round-robin over the web addresses.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

FINISHED = {"succeeded", "failed"}
# Per request: a stalled server shows as an error, never as a hung run.
REQUEST_TIMEOUT_S = 30


@dataclass(frozen=True)
class LoadConfig:
    web: tuple[str, ...]  # base URLs ("http://10.0.0.11:8000")
    username: str
    password: str
    key_id: str
    key_secret: str
    project: str
    clip: Path
    tasks: int = 100
    users: int = 4  # concurrent closed-loop clients
    api_share: float = 0.5  # the fraction of tasks made through the API
    bucket: str = "loopforge-api"
    poll_s: float = 1.0
    timeout_s: float = 600  # the whole run
    progress: Path | None = None  # a JSON file of the counts so far, rewritten as it goes


@dataclass
class TaskRecord:
    kind: str  # "web" or "api"
    web: str
    task_id: str = ""
    status: str = ""
    submitted: float = 0.0
    finished: float = 0.0
    error: str = ""

    @property
    def completion_s(self) -> float:
        return self.finished - self.submitted if self.finished else 0.0


@dataclass
class Report:
    tasks: list[TaskRecord] = field(default_factory=list)
    page_latency_s: list[float] = field(default_factory=list)
    api_latency_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        done = [t for t in self.tasks if t.status in FINISHED]
        ok = [t for t in done if t.status == "succeeded"]
        ids = [t.task_id for t in self.tasks if t.task_id]
        return {
            "tasks": len(self.tasks),
            "succeeded": len(ok),
            "failed": len(done) - len(ok),
            "lost": len([t for t in self.tasks if t.task_id and t.status not in FINISHED]),
            "not_submitted": len([t for t in self.tasks if not t.task_id]),
            "duplicate_ids": len(ids) - len(set(ids)),
            "errors": len(self.errors),
            "wall_s": round(self.wall_s, 2),
            "tasks_per_minute": round(len(ok) / self.wall_s * 60, 1) if self.wall_s else 0.0,
            "page_latency_s": percentiles(self.page_latency_s),
            "api_latency_s": percentiles(self.api_latency_s),
            "completion_s": percentiles([t.completion_s for t in ok]),
        }


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0, "p50": 0.0, "p95": 0.0}
    if len(values) == 1:
        return {"n": 1, "p50": round(values[0], 3), "p95": round(values[0], 3)}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"n": len(values), "p50": round(cuts[49], 3), "p95": round(cuts[94], 3)}


class Client:
    """HTTP without redirects (a login's cookies come on its 302), the
    session's cookies sent to every web address (one login serves them all:
    sessions live in the shared database, signed with the shared key)."""

    def __init__(self, report: Report, lock: threading.Lock) -> None:
        self.cookies: dict[str, str] = {}
        self.report = report
        self.lock = lock

    def request(
        self,
        method: str,
        url: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        api: bool = False,
    ) -> tuple[int, bytes]:
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(
            parts.hostname or "", parts.port or 80, timeout=REQUEST_TIMEOUT_S
        )
        sent = dict(headers or {})
        if self.cookies and not api:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.monotonic()
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            conn.request(method, path, body=body or None, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        elapsed = time.monotonic() - started
        with self.lock:
            (self.report.api_latency_s if api else self.report.page_latency_s).append(elapsed)
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return response.status, data

    def login(self, base: str, username: str, password: str) -> None:
        status, _ = self.request("GET", f"{base}/accounts/login/")
        if status != 200 or "csrftoken" not in self.cookies:
            raise RuntimeError(f"login page answered {status}")
        form = (
            f"username={username}&password={password}"
            f"&csrfmiddlewaretoken={self.cookies['csrftoken']}"
        ).encode()
        status, body = self.request(
            "POST",
            f"{base}/accounts/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"login refused ({status}): {body[:200]!r}")


def multipart(fields: dict[str, str], file_field: str, path: Path) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = bytearray()
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    out += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{path.name}"\r\nContent-Type: video/mp4\r\n\r\n'
    ).encode()
    out += path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def api_call(
    client: Client, config: LoadConfig, base: str, action: str, body: dict[str, Any]
) -> dict[str, Any]:
    status, data = client.request(
        "POST",
        f"{base}/api/v1/{action}",
        json.dumps(body).encode(),
        {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {config.key_id}:{config.key_secret}",
        },
        api=True,
    )
    answer: dict[str, Any] = json.loads(data or b"{}")
    if status != 200:
        raise RuntimeError(f"{action} answered {status}: {answer.get('Code')}")
    return answer


def upload_source(client: Client, config: LoadConfig, run: str) -> str:
    """The clip as an object of the API bucket, through a pre-signed URL."""
    uri = f"oss://{config.bucket}/load-{run}/source.mp4"
    answer = api_call(
        client,
        config,
        config.web[0],
        "CreateUploadURL",
        {"ProjectName": config.project, "URI": uri},
    )
    status, body = client.request("PUT", answer["UploadURL"], config.clip.read_bytes(), api=True)
    if status != 200:
        raise RuntimeError(f"upload to the pre-signed URL answered {status}: {body[:200]!r}")
    return uri


def submit_web(client: Client, record: TaskRecord, clip: Path) -> None:
    fields = {
        "csrfmiddlewaretoken": client.cookies["csrftoken"],
        "format": "gif",
        "start": "0",
        "duration": "",
        "fps": "2",
        "size": "half",
        "width": "",
        "quality": "low",
    }
    body, content_type = multipart(fields, "video", clip)
    status, data = client.request(
        "POST",
        f"{record.web}/",
        body,
        {
            "Content-Type": content_type,
            "Accept": "application/json",
            "X-CSRFToken": client.cookies["csrftoken"],
        },
    )
    if status != 201:
        raise RuntimeError(f"upload answered {status}: {data[:200]!r}")
    record.task_id = json.loads(data)["task_id"]


def submit_api(client: Client, config: LoadConfig, record: TaskRecord, source: str, n: int) -> None:
    out = source.rsplit("/", 1)[0] + f"/out-{n}.{{autoext}}"
    animation = {"Format": "gif", "FrameRate": 2, "Width": 32, "ScaleType": "fit", "URI": out}
    body = {
        "ProjectName": config.project,
        "Sources": [{"URI": source}],
        "Targets": [{"Image": {"Animations": [animation]}}],
    }
    answer = api_call(client, config, record.web, "CreateMediaConvertTask", body)
    record.task_id = answer["TaskId"]


def status_of(client: Client, config: LoadConfig, record: TaskRecord) -> str:
    if record.kind == "web":
        status, data = client.request("GET", f"{record.web}/tasks/{record.task_id}/status.json")
        if status != 200:
            raise RuntimeError(f"status answered {status}")
        return str(json.loads(data)["status"])
    answer = api_call(
        client,
        config,
        record.web,
        "GetTask",
        {"ProjectName": config.project, "TaskId": record.task_id},
    )
    return str(answer["State"]).lower()


def plan(tasks: int, web: tuple[str, ...], api_share: float) -> list[TaskRecord]:
    """Which kind each task is and which web address it goes to, fixed
    before the users start (so the mix does not depend on which user is
    faster): the kinds alternate within a block of ``1 / api_share`` tasks,
    the addresses by block, so every address gets both kinds."""
    api_every = round(1 / api_share) if api_share else 0
    return [
        TaskRecord(
            kind="api" if api_every and n % api_every == 0 else "web",
            web=web[(n // max(api_every, 1)) % len(web)],
        )
        for n in range(tasks)
    ]


class _Run:
    """One load run's shared state: the plan, the report, the deadline."""

    def __init__(self, config: LoadConfig) -> None:
        self.config = config
        self.report = Report()
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.deadline = self.started + config.timeout_s
        self.setup = Client(self.report, self.lock)
        self.setup.login(config.web[0], config.username, config.password)
        self.source = upload_source(self.setup, config, uuid.uuid4().hex[:8])
        self.report.tasks = plan(config.tasks, config.web, config.api_share)
        self.numbers = iter(range(config.tasks))

    def write_progress(self) -> None:
        if self.config.progress is None:
            return
        # Under the lock: users finish at the same moment, and two writers
        # of the one temporary file would move it from under each other.
        with self.lock:
            plan = self.report.tasks
            counts = {
                "submitted": len([t for t in plan if t.task_id]),
                "succeeded": len([t for t in plan if t.status == "succeeded"]),
                "failed": len([t for t in plan if t.status == "failed"]),
            }
            tmp = self.config.progress.with_suffix(".tmp")
            tmp.write_text(json.dumps(counts))
            tmp.replace(self.config.progress)

    def error(self, message: str) -> None:
        with self.lock:
            self.report.errors.append(message)

    def user(self) -> None:
        """One closed-loop user: submit, poll until it ends, the next."""
        client = Client(self.report, self.lock)
        client.cookies = dict(self.setup.cookies)  # the one login
        while time.monotonic() < self.deadline:
            with self.lock:
                n = next(self.numbers, None)
            if n is None:
                return
            record = self.report.tasks[n]
            record.submitted = time.monotonic()
            try:
                if record.kind == "web":
                    submit_web(client, record, self.config.clip)
                else:
                    submit_api(client, self.config, record, self.source, n)
            except Exception as exc:  # counted; the run goes on
                self.error(f"submit {record.kind} #{n}: {exc}")
                continue
            self.write_progress()
            self.poll(client, record)

    def poll(self, client: Client, record: TaskRecord) -> None:
        while time.monotonic() < self.deadline:
            time.sleep(self.config.poll_s)
            try:
                record.status = status_of(client, self.config, record)
            except Exception as exc:  # counted; polled again
                self.error(f"poll {record.task_id}: {exc}")
                continue
            if record.status in FINISHED:
                record.finished = time.monotonic()
                self.write_progress()
                return


def run(config: LoadConfig) -> Report:
    """The load run: ``config.tasks`` tasks by ``config.users`` users, bounded
    by ``config.timeout_s`` in all (a task still unfinished then is lost)."""
    state = _Run(config)
    threads = [threading.Thread(target=state.user, daemon=True) for _ in range(config.users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, state.deadline - time.monotonic()) + REQUEST_TIMEOUT_S + 1)
    state.report.wall_s = time.monotonic() - state.started
    return state.report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--web", action="append", required=True, help="a web address (repeat)")
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--key-id", required=True)
    parser.add_argument("--key-secret", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--clip", type=Path, required=True)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--api-share", type=float, default=0.5)
    parser.add_argument("--bucket", default="loopforge-api")
    parser.add_argument("--poll-s", type=float, default=1.0)
    parser.add_argument("--timeout-s", type=float, default=600)
    parser.add_argument("--progress", type=Path)
    parser.add_argument("--records", type=Path, help="write every task's record here (JSON)")
    args = vars(parser.parse_args(argv))
    records = args.pop("records")
    args["web"] = tuple(w.rstrip("/") for w in args["web"])
    report = run(LoadConfig(**args))
    if records:
        records.write_text(
            json.dumps(
                {
                    "summary": report.summary(),
                    "tasks": [asdict(t) for t in report.tasks],
                    "errors": report.errors,
                }
            )
        )
    print(json.dumps(report.summary(), indent=2))


if __name__ == "__main__":
    main()
