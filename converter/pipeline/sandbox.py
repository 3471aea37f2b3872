"""Where untrusted media is parsed: every ffmpeg and every probe child starts here.

The decoder is the largest attack surface of the product (the ffmpeg bundled
with imageio-ffmpeg cannot receive fixes), so whatever a hostile file makes it
do happens in a child process that has:

- a minimal environment (``ENVIRONMENT``: no secret, no setting, no proxy);
- an address-space cap (RLIMIT_AS), its own process group, and
  ``PR_SET_PDEATHSIG``: it dies with the process that started it;
- in ``bwrap`` mode (the default), bubblewrap around it: new network, PID,
  IPC, UTS and cgroup namespaces (no network at all: only a loopback that is
  down), a new session (no terminal to inject into), an empty root with
  ``/usr`` and the paths the caller names bound read-only, a fresh small
  ``/tmp``, no ``/etc``, no home, no other job's folder. Only a folder the
  caller names as ``writable`` can be written. The child runs as
  ``nobody`` (65534): when the app runs as root, bwrap sets the sandbox up
  without a user namespace and ``setpriv`` drops to 65534 with no
  capabilities and ``no_new_privs`` before the command runs (a user
  namespace would map the child back to root outside: it could read and
  write files of root in what is bound); as any other user, bwrap runs
  unprivileged in a user namespace of its own and forbids nested ones.

``mode`` ``none`` keeps the environment and the limits and drops bubblewrap:
only for machines that cannot run it, chosen explicitly
(``CONVERTER_SANDBOX=none``). The pipeline reads no settings: the app calls
``use`` at start-up. Standard library only: the web process imports this.
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import os
import resource
import shutil
import signal
import stat
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

MODES = ("bwrap", "none")
# The unprivileged identity sandboxed children run as (Debian's nobody/nogroup).
SANDBOX_UID = SANDBOX_GID = 65534
# glibc reserves 64 MiB of address space per thread arena: without a cap a
# tiny decode with a few threads reserves far more address space than it
# uses, and RLIMIT_AS could not tell a bomb from a normal file (figures and
# the command: docs/encoding.md, "ffmpeg's address space").
MALLOC_ARENA_MAX = "2"
# All a child's environment: what ffmpeg and Python need to run, nothing that
# could name a secret, a server or a proxy.
ENVIRONMENT: Mapping[str, str] = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "MALLOC_ARENA_MAX": MALLOC_ARENA_MAX,
}
# A child's own /tmp (tmpfs, so its pages count as memory): neither ffmpeg
# nor the probe writes files, so a small one is plenty.
TMP_BYTES = 64 * 1024 * 1024
# That /tmp, inside the child's own mount namespace (not the host's /tmp).
CHILD_TMP = "/tmp"  # noqa: S108
# Top-level system paths that the loader and libraries need, bound read-only
# (or re-made as the symlinks they are on a merged-/usr system).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
SETPRIV = "/usr/bin/setpriv"
# Where bubblewrap is looked for (never the caller's PATH).
BWRAP_PATH = "/usr/bin:/bin:/usr/local/bin"
_PR_SET_PDEATHSIG = 1

_mode = "bwrap"


class SandboxUnavailable(RuntimeError):
    """``bwrap`` mode was asked for but bubblewrap cannot run here. Never
    answered by running unsandboxed: the app refuses to start instead."""


def use(mode: str) -> None:
    """Run every later child in ``mode`` (``bwrap`` or ``none``). For
    ``bwrap``, first check that a sandbox really starts here; raises
    ``SandboxUnavailable`` (saying what to install or set) if not, and
    ``ValueError`` for an unknown mode."""
    global _mode
    if mode not in MODES:
        raise ValueError(f"unknown sandbox mode {mode!r}; one of {', '.join(MODES)}")
    if mode == "bwrap":
        check()
    _mode = mode


def mode() -> str:
    """The mode every child starts in now."""
    return _mode


def bwrap() -> str:
    """bubblewrap's path, or ``SandboxUnavailable`` when it is not installed."""
    found = shutil.which("bwrap", path=BWRAP_PATH)
    if found is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, and CONVERTER_SANDBOX=bwrap runs ffmpeg and "
            "the probe inside it: install it (apt-get install bubblewrap), or set "
            "CONVERTER_SANDBOX=none to run them without a sandbox."
        )
    return found


def check() -> None:
    """Start ``true`` in the sandbox; ``SandboxUnavailable`` with bwrap's own
    words when that fails (a kernel without user namespaces, a container
    that forbids mounts...)."""
    try:
        done = subprocess.run(
            wrap(["/usr/bin/true"], mode="bwrap"),
            env=dict(ENVIRONMENT),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bubblewrap could not start a sandbox: {exc}") from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip()[-500:]
        raise SandboxUnavailable(
            f"bubblewrap could not start a sandbox here ({said or f'exit {done.returncode}'}); "
            "set CONVERTER_SANDBOX=none to run ffmpeg and the probe without one."
        )


def wrap(
    argv: Sequence[str],
    *,
    readable: Sequence[Path] = (),
    writable: Path | None = None,
    mode: str | None = None,
) -> list[str]:
    """The command line that runs ``argv`` in the sandbox, seeing only the
    system and ``readable`` (files or folders, bound read-only at their own
    paths) and writing only ``writable`` (bound read-write at its own path,
    and the working directory; else the fresh /tmp is), with ``ENVIRONMENT``
    as its whole environment. What the child must read or write
    is made accessible to it (``_grant``). In ``none`` mode: ``argv``."""
    if (mode or _mode) == "none":
        return list(argv)
    as_root = os.geteuid() == 0
    cmd = [bwrap(), *_namespaces(as_root), "--die-with-parent", "--new-session", "--clearenv"]
    for name, value in ENVIRONMENT.items():
        cmd += ["--setenv", name, value]
    cmd += _system()
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    cmd += ["--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", CHILD_TMP]
    made: set[Path] = {Path("/"), Path(CHILD_TMP)}
    folder = Path(os.path.realpath(writable)) if writable is not None else None
    for path in _distinct(readable, inside=folder):
        if as_root:
            _grant(path, write=False)
        cmd += [*_parents(path, made), "--ro-bind", str(path), str(path)]
    if folder is not None:
        if as_root:
            _grant(folder, write=True)
        cmd += [*_parents(folder, made), "--bind", str(folder), str(folder)]
    cmd += ["--chdir", str(folder or CHILD_TMP)]
    if as_root:
        cmd += [SETPRIV, f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_GID}", "--clear-groups"]
        cmd += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return [*cmd, *argv]


def _namespaces(as_root: bool) -> list[str]:
    common = ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    common += ["--unshare-cgroup-try"]
    if as_root:
        # No user namespace: it would map the child to root outside. bwrap sets
        # up as root and keeps only what setpriv needs to drop to nobody.
        keep = ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
        return [*common, "--cap-drop", "ALL", *[a for c in keep for a in ("--cap-add", c)]]
    ids = ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID)]
    return [*common, "--unshare-user", "--disable-userns", *ids]


def _system() -> list[str]:
    args: list[str] = []
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    return args


def _distinct(paths: Sequence[Path], *, inside: Path | None) -> list[Path]:
    """Resolved paths, outermost first, without those inside another, inside
    the system paths (bound already) or inside the writable folder."""
    outers = [Path(os.path.realpath(p)) for p in SYSTEM_PATHS]
    outers += [inside] if inside is not None else []
    kept: list[Path] = []
    for path in sorted({Path(os.path.realpath(p)) for p in paths}, key=lambda p: len(p.parts)):
        if not any(path.is_relative_to(outer) for outer in [*outers, *kept]):
            kept.append(path)
    return kept


def _parents(path: Path, made: set[Path]) -> list[str]:
    """``--dir`` for each folder above ``path`` not made yet, world-searchable
    (bwrap would copy the host's mode, and a job folder is 0700 for its
    owner, who the child is not)."""
    args: list[str] = []
    for parent in reversed(path.parents):
        if parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _grant(path: Path, *, write: bool) -> None:
    """Let the sandbox's group read (and for ``write``, change) ``path``,
    which the worker, running as root, made for this job. Files already
    readable by others are left as they are. Only what the child is handed
    is touched; the folders around it stay private to the worker."""
    info = path.stat()
    need = stat.S_IRGRP | (stat.S_IWGRP | stat.S_IXGRP if write else 0)
    if stat.S_ISDIR(info.st_mode):
        need |= stat.S_IXGRP
    world = stat.S_IROTH | (stat.S_IXOTH if stat.S_ISDIR(info.st_mode) else 0)
    if not write and info.st_mode & world == world:
        return
    if info.st_gid != SANDBOX_GID:
        os.chown(path, -1, SANDBOX_GID)
    if info.st_mode & need != need:
        os.chmod(path, stat.S_IMODE(info.st_mode) | need)


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def die_with_parent() -> None:
    """Ask the kernel to SIGKILL this process when its parent dies.

    RQ's work horse runs in a process group of its own, so killing a worker
    (even its whole group) leaves the horse, and the ffmpeg under it, running
    on as orphans while the reconciler hands the task to another worker. Called
    at the start of every job, it makes the chain worker -> horse -> ffmpeg
    die together."""
    parent = os.getppid()
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def cpu_budget(wall_s: float) -> int:
    """CPU seconds a child may use in ``wall_s`` of wall time on every core:
    a backstop for a child whose parent died (see ``child_setup``); while the
    parent lives, its wall-time limit ends the child first."""
    return math.ceil(wall_s * (os.cpu_count() or 1)) + 1


def child_setup(memory_bytes: int | None, cpu_seconds: int | None = None) -> Callable[[], None]:
    """What runs in a child between fork and exec: die with the parent, cap
    the address space at ``memory_bytes`` (soft and hard, so nothing inside
    can raise it) and the CPU time at ``cpu_seconds``, each unless None.

    The CPU limit is for a sandbox that outlives its parent: bwrap's own
    child arms its death signal only once the sandbox is set up, so a parent
    killed in those few milliseconds leaves it behind. Such an orphan ends
    when it touches its pipes (their other ends are gone), or at this limit."""

    def setup() -> None:
        _die_with_parent()
        if memory_bytes:
            # A decoding bomb then fails to allocate inside the child (a clean
            # failure) instead of pushing the worker's host into OOM.
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        if cpu_seconds:
            # SIGXCPU at the soft limit, SIGKILL a little later.
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))

    return setup


def start(
    argv: Sequence[str],
    *,
    readable: Sequence[Path] = (),
    writable: Path | None = None,
    memory_bytes: int | None,
    cpu_seconds: int | None = None,
    stdin: int | IO[Any] | None = subprocess.DEVNULL,
    stdout: int | IO[Any] | None = subprocess.PIPE,
    stderr: int | IO[Any] | None = subprocess.PIPE,
    bufsize: int = -1,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in the sandbox (``wrap``) with the minimal environment,
    in a session of its own, dying with this process, its address space and
    CPU time capped (``child_setup``). ``stop`` ends it and everything under
    it."""
    return subprocess.Popen(
        wrap(argv, readable=readable, writable=writable),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cwd=writable if _mode == "none" else None,
        bufsize=bufsize,
        start_new_session=True,
        preexec_fn=child_setup(memory_bytes, cpu_seconds),
        env=dict(ENVIRONMENT),
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's process group (bwrap, and through its PID
    namespace everything it runs) if it is still running, and reap it."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
