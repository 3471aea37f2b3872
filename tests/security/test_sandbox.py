"""Untrusted media is parsed in a sandbox: what ffmpeg and the probe's child
can see and do (``converter.pipeline.sandbox``).

A stand-in takes the decoder's place and reports what it finds: for ffmpeg,
a script the pipeline runs as its ffmpeg (``ffmpeg.use``), whose report comes
out of ffmpeg's own pipe; for the probe, the child's code, run by the
probe's own launcher (``isolated._run``). Both try to read the secrets of
the process that started them, other jobs' files and a root-only file, to
write outside their folder and to reach a listener on this machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from converter.pipeline import ffmpeg, isolated, sandbox
from converter.pipeline.errors import PipelineError
from converter.pipeline.limits import Limits
from converter.pipeline.probe_child import STARTED
from tests.poll import wait_until
from tests.security.listener import Listener

SECRETS = {
    "AWS_SECRET_ACCESS_KEY": "aws-secret-" + uuid.uuid4().hex,
    "DJANGO_SECRET_KEY": "django-secret-" + uuid.uuid4().hex,
    "CONVERTER_S3_SECRET_KEY": "s3-secret-" + uuid.uuid4().hex,
}
ROOT = os.geteuid() == 0
# What a child's environment may hold: ours (sandbox.ENVIRONMENT), and the
# working directory bwrap notes.
ALLOWED_ENV = {*sandbox.ENVIRONMENT, "PWD"}
PYTHON3 = "/usr/bin/python3"  # Debian's, under /usr: inside every sandbox

# The stand-in's code: it reports its identity and environment, then tries
# each path and address it is given. ``T`` is filled in by ``spy_code``.
SPY = """
import json, os, socket

def attempt(action):
    try:
        action()
        return "ok"
    except OSError as exc:
        return type(exc).__name__

def read(path):
    with open(path, "rb") as f:
        f.read(1)

def write(path):
    with open(path, "ab") as f:
        f.write(b"x")

def connect(address):
    socket.create_connection(tuple(address), timeout=3).close()

report = {
    "env": dict(os.environ),
    "uid": os.getuid(),
    "gid": os.getgid(),
    "groups": os.getgroups(),
    "interfaces": [name for _, name in socket.if_nameindex()],
    "read": {p: attempt(lambda p=p: read(p)) for p in T["read"]},
    "write": {p: attempt(lambda p=p: write(p)) for p in T["write"]},
    "connect": {str(a): attempt(lambda a=a: connect(a)) for a in T["connect"]},
}
"""


@pytest.fixture
def secrets(monkeypatch) -> dict[str, str]:
    """The worker's environment holds secrets, as it does in production."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


@pytest.fixture
def listener() -> Iterator[Listener]:
    with Listener() as server:
        yield server


@pytest.fixture
def jobs(tmp_path) -> dict[str, Path]:
    """A job's folder with its source, and what a child must not reach:
    another job's folder with a world-readable file in it, and a root-only
    file like /etc/shadow."""
    mine, other = tmp_path / "job-mine", tmp_path / "job-other"
    mine.mkdir(mode=0o700)
    other.mkdir(mode=0o700)
    source = mine / "source.video"
    source.write_bytes(b"\x00" * 64)
    source.chmod(0o600)
    (other / "source.video").write_bytes(b"another tenant's video")
    (other / "source.video").chmod(0o644)
    shadow = tmp_path / "shadow"
    shadow.write_text("root:$6$secret:19000:0:99999:7:::\n")
    shadow.chmod(0o600)
    return {"source": source, "other": other / "source.video", "shadow": shadow}


def spy_code(jobs: dict[str, Path], listener: Listener, *, writes: bool = True) -> str:
    """The stand-in's code for these jobs; without ``writes`` it tries no
    write (for a child that runs unsandboxed)."""
    planted = [jobs["source"].parent / "planted", jobs["other"].parent / "planted"]
    targets = {
        "read": [str(jobs["source"]), str(jobs["other"]), str(jobs["shadow"]), "/etc/passwd"],
        "write": [str(p) for p in (jobs["source"], *planted)] if writes else [],
        "connect": [["127.0.0.1", listener.port]],
    }
    return f"T = {json.dumps(targets)}\n" + textwrap.dedent(SPY)


def ffmpeg_spy(folder: Path, code: str) -> Path:
    """An executable that reports, on stdout, as the pipeline's ffmpeg."""
    folder.mkdir(exist_ok=True)
    spy = folder / "ffmpeg"
    spy.write_text(f"#!{PYTHON3} -I\n{code}\nprint(json.dumps(report))\n")
    spy.chmod(0o755)
    return spy


@pytest.fixture
def as_ffmpeg() -> Iterator[None]:
    yield
    ffmpeg.use(None)


def run_as_ffmpeg(spy: Path, source: Path) -> dict:
    ffmpeg.use(str(spy))
    out = b"".join(ffmpeg.stream([], 1, timeout_s=30, inputs=[source]))
    return json.loads(out)


def run_as_probe_child(monkeypatch, code: str, source: Path) -> dict:
    """``code`` run by the probe's launcher in place of the probe's own; it
    answers with its report."""
    boot = f"{code}\nprint({STARTED!r}); print(json.dumps({{'report': report}}))"
    monkeypatch.setattr(isolated, "_BOOT", boot)
    return isolated._run({"op": "probe"}, source, Limits())["report"]


def check_contained(report: dict, jobs: dict[str, Path], listener: Listener) -> None:
    """What a sandboxed child must see: its own input and nothing else."""
    assert set(report["env"]) <= ALLOWED_ENV, report["env"]
    assert not any(value in json.dumps(report["env"]) for value in SECRETS.values())
    source, other, shadow = str(jobs["source"]), str(jobs["other"]), str(jobs["shadow"])
    assert report["read"][source] == "ok", "the child must read its own input"
    assert report["read"][other] == "FileNotFoundError", "another job's folder is not there"
    assert report["read"][shadow] == "FileNotFoundError"
    assert report["read"]["/etc/passwd"] == "FileNotFoundError"
    assert all(result != "ok" for result in report["write"].values()), report["write"]
    assert not (jobs["source"].parent / "planted").exists()
    assert not (jobs["other"].parent / "planted").exists()
    assert jobs["source"].read_bytes() == b"\x00" * 64
    assert report["interfaces"] == ["lo"], "no network device but the sandbox's own loopback"
    assert report["connect"] == {str(["127.0.0.1", listener.port]): "ConnectionRefusedError"}
    assert listener.connections == 0
    if ROOT:
        assert (report["uid"], report["gid"], report["groups"]) == (65534, 65534, [])


def test_ffmpeg_runs_contained(secrets, jobs, listener, tmp_path, as_ffmpeg):
    spy = ffmpeg_spy(tmp_path / "bin", spy_code(jobs, listener))
    check_contained(run_as_ffmpeg(spy, jobs["source"]), jobs, listener)


def test_the_probe_child_runs_contained(secrets, jobs, listener, monkeypatch):
    report = run_as_probe_child(monkeypatch, spy_code(jobs, listener), jobs["source"])
    check_contained(report, jobs, listener)


def test_without_bwrap_the_children_still_get_no_secrets(secrets, jobs, listener, monkeypatch):
    """``CONVERTER_SANDBOX=none`` drops bubblewrap, never the minimal environment."""
    monkeypatch.setattr(sandbox, "_mode", "none")
    code = spy_code(jobs, listener, writes=False)
    report = run_as_probe_child(monkeypatch, code, jobs["source"])
    assert set(report["env"]) <= ALLOWED_ENV
    assert not any(value in json.dumps(report) for value in SECRETS.values())


def test_an_upload_is_probed_in_the_sandbox_not_in_the_web_process(clips, no_pyav_here):
    from converter.services.submission import upload_check
    from tests.factories import task_spec, upload_of

    info = upload_check(upload_of(clips.portrait()), task_spec())
    assert (info.width, info.height, info.duration) == (320, 180, 2.0)  # headers only


def test_a_folder_named_writable_is_the_one_place_a_child_writes(tmp_path):
    folder, outside = tmp_path / "work", tmp_path / "outside"
    folder.mkdir(mode=0o700)
    outside.mkdir(mode=0o700)
    script = f"echo made > {folder}/made; echo made > {outside}/made; pwd"
    proc = sandbox.start(["/bin/sh", "-c", script], writable=folder, memory_bytes=None)
    out, _ = proc.communicate(timeout=30)
    assert (folder / "made").read_text() == "made\n"
    assert not (outside / "made").exists(), "a folder that was not named is not there"
    assert out.decode().strip() == str(folder), "the writable folder is the working directory"


def live(marker: str) -> list[int]:
    """Processes whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def sleeper(marker: str) -> str:
    """Python that starts a grandchild and sleeps; both hold ``marker`` in
    their command lines."""
    return (
        "import subprocess, sys, time; "
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', '{marker}']); "
        "time.sleep(60)"
    )


def test_an_ffmpeg_past_its_time_is_gone_with_everything_it_started(tmp_path, as_ffmpeg):
    """bwrap puts its child in a session of its own, out of reach of the
    process group we kill: the sandbox's PID namespace takes it down."""
    marker = f"sleeper-{uuid.uuid4().hex}"
    spy = ffmpeg_spy(tmp_path / marker, sleeper(marker))
    ffmpeg.use(str(spy))
    started = time.monotonic()
    with pytest.raises(PipelineError) as caught:
        list(ffmpeg.stream([], 1, timeout_s=1, inputs=[]))
    assert caught.value.code == "Timeout" and time.monotonic() - started < 10
    wait_until(lambda: not live(marker), timeout_s=5, what="the sandboxed sleepers to end")


def test_a_killed_worker_takes_the_sandbox_with_it():
    """SIGKILL to the process that started a child (a worker killed by the
    reconciler or the OOM killer) ends the child and what it started."""
    marker = f"orphan-{uuid.uuid4().hex}"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from converter.pipeline import sandbox; "
            f"sandbox.start([{PYTHON3!r}, '-c', {sleeper(marker)!r}], memory_bytes=None); "
            "print('started', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert parent.stdout is not None and parent.stdout.readline() == b"started\n"
        # Once the grandchild runs, bwrap's set-up is over: a parent killed
        # during it leaves bwrap's child behind (sandbox.child_setup says how
        # that one ends), which is not what this test is about.
        grandchild = f"time.sleep(60)\x00{marker}"
        wait_until(lambda: live(grandchild), timeout_s=10, what="the sandbox to start")
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        wait_until(lambda: not live(marker), timeout_s=10, what="the orphaned sandbox to end")
    finally:
        parent.kill()
        parent.wait(10)


def test_a_child_that_outlives_its_parent_ends_at_its_cpu_limit():
    """The backstop for a sandbox orphaned while bwrap set it up."""
    started = time.monotonic()
    proc = sandbox.start([PYTHON3, "-c", "while True: pass"], memory_bytes=None, cpu_seconds=1)
    proc.wait(timeout=30)
    assert proc.returncode == 128 + signal.SIGXCPU, proc.returncode
    assert time.monotonic() - started < 10


def test_the_sandbox_holds_for_a_normal_user(tmp_path):
    """Run as an ordinary user (uid 1000, from root through setpriv), bwrap
    sets the sandbox up unprivileged, in a user namespace of its own, and it
    holds the same: no secret, no other folder, no network, no nested user
    namespace (a kernel attack surface)."""
    folder = Path(tempfile.mkdtemp(prefix="sandbox-user-"))  # outside pytest's root-only tree
    try:
        folder.chmod(0o755)
        shutil.copy(Path(sandbox.__file__), folder / "sandbox.py")
        mine = folder / "mine"
        mine.mkdir()
        (mine / "source.video").write_text("my video")
        (folder / "other.video").write_text("another job's video")
        script = folder / "check.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import json, subprocess, sys
                from pathlib import Path
                sys.path.insert(0, {str(folder)!r})
                import sandbox
                sandbox.use("bwrap")
                shell = (
                    "cat {mine}/source.video; echo; cat {folder}/other.video; "
                    "echo env=$(env | cut -d= -f1 | sort | tr '\\\\n' ,); "
                    "unshare -U true && echo nested=yes || echo nested=no; "
                    "echo x > {mine}/source.video || echo readonly"
                )
                proc = sandbox.start(["/bin/sh", "-c", shell],
                                     readable=[Path({str(mine)!r}) / "source.video"],
                                     memory_bytes=None)
                out, err = proc.communicate(timeout=30)
                print(json.dumps({{"out": out.decode(), "err": err.decode()}}))
                """
            )
        )
        user = ["setpriv", "--reuid=1000", "--regid=1000", "--clear-groups"] if ROOT else []
        if ROOT:
            for path in (mine, mine / "source.video", folder / "other.video"):
                os.chown(path, 1000, 1000)
            (mine / "source.video").chmod(0o600)
            mine.chmod(0o700)
        done = subprocess.run(
            [*user, PYTHON3, "-I", str(script)],
            env={"PATH": "/usr/bin:/bin", **SECRETS},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        out = report["out"]
        assert out.startswith("my video\n"), report
        assert "another job's video" not in out
        assert "env=LANG,MALLOC_ARENA_MAX,PATH,PWD," in out
        assert "nested=no" in out and "readonly" in out
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_bwrap_missing_stops_start_up_rather_than_running_unsandboxed(
    monkeypatch, tmp_path, settings
):
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setattr(sandbox, "BWRAP_PATH", str(tmp_path))  # a folder without bwrap
    settings.CONVERTER_SANDBOX = "bwrap"
    try:
        with pytest.raises(ImproperlyConfigured, match="apt-get install bubblewrap"):
            apps.get_app_config("converter").ready()
        with pytest.raises(sandbox.SandboxUnavailable):
            sandbox.start(["/usr/bin/true"], memory_bytes=None)
        settings.CONVERTER_SANDBOX = "none"  # said explicitly: then it runs
        apps.get_app_config("converter").ready()
        assert sandbox.mode() == "none"
    finally:
        monkeypatch.undo()
        sandbox.use("bwrap")
