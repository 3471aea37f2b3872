"""Machines made of Linux network namespaces, for the multi-machine test.

Each machine is a namespace with one veth link to a switch (a bridge in a
namespace of its own) and an address on a private /24 that nothing on this
host uses; no namespace has a route anywhere else, so no traffic leaves
them. A process started on a machine also gets a UTS namespace with the
machine's host name, so that RQ and the reconciler see machines apart (as
on real hosts, a dead worker elsewhere is known only by its heartbeat).
Everything is removed by ``remove``, whatever state the set-up reached.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

IP = "/usr/sbin/ip" if os.path.exists("/usr/sbin/ip") else "ip"
COMMAND_TIMEOUT_S = 20


class NamespacesRefused(Exception):
    """The kernel (or our privileges) does not allow network namespaces."""


def _ip(*args: str) -> None:
    subprocess.run([IP, *args], check=True, capture_output=True, timeout=COMMAND_TIMEOUT_S)


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.213.0.0/16 that no address or route of this host touches."""
    shown = subprocess.run(
        [IP, "-o", "-4", "addr", "show"], capture_output=True, text=True, timeout=10
    ).stdout
    routes = subprocess.run(
        [IP, "-4", "route", "show", "table", "all"], capture_output=True, text=True, timeout=10
    ).stdout
    for n in range(os.getpid() % 200, os.getpid() % 200 + 50):
        net = ipaddress.ip_network(f"10.213.{n % 250}.0/24")
        prefix = f"10.213.{n % 250}."
        if prefix not in shown and prefix not in routes:
            return net
    raise RuntimeError("no free subnet in 10.213.0.0/16")


@dataclass(frozen=True)
class Machine:
    name: str  # also its host name
    netns: str
    address: str


class Network:
    """A switch and the machines on it; ``add`` each, ``remove`` all."""

    def __init__(self, tag: str | None = None) -> None:
        self.tag = tag or f"{os.getpid() % 100000:05d}"
        self.subnet = free_subnet()
        self.hosts = iter(self.subnet.hosts())
        next(self.hosts)  # .1 is left alone
        self.switch = f"lf{self.tag}-sw"
        self.machines: dict[str, Machine] = {}
        self._namespaces: list[str] = []

    def create(self) -> Network:
        try:
            self._add_namespace(self.switch)
        except subprocess.CalledProcessError as exc:
            raise NamespacesRefused(exc.stderr.decode(errors="replace").strip()) from None
        _ip("-n", self.switch, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.switch, "link", "set", "br0", "up")
        return self

    def _add_namespace(self, name: str) -> None:
        _ip("netns", "add", name)
        self._namespaces.append(name)
        _ip("-n", name, "link", "set", "lo", "up")

    def add(self, name: str) -> Machine:
        index = len(self.machines)
        netns = f"lf{self.tag}-{name}"
        machine = Machine(name, netns, str(next(self.hosts)))
        self._add_namespace(netns)
        inside, outside = f"v{self.tag}n{index}", f"b{self.tag}n{index}"
        _ip("link", "add", inside, "netns", netns, "type", "veth", "peer", "name", outside,
            "netns", self.switch)  # fmt: skip
        _ip("-n", self.switch, "link", "set", outside, "master", "br0")
        _ip("-n", self.switch, "link", "set", outside, "up")
        _ip("-n", netns, "addr", "add", f"{machine.address}/{self.subnet.prefixlen}", "dev", inside)
        _ip("-n", netns, "link", "set", inside, "up")
        self.machines[name] = machine
        return machine

    def argv(self, machine: Machine, argv: list[str]) -> list[str]:
        """``argv`` run on ``machine``: in its network namespace, under its host name."""
        return [
            IP, "netns", "exec", machine.netns,
            "unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', machine.name,
            *argv,
        ]  # fmt: skip

    def python(self, machine: Machine, code: str, timeout_s: float = 60) -> str:
        """Run ``code`` with this interpreter on ``machine``; its stdout."""
        done = subprocess.run(
            self.argv(machine, [sys.executable, "-c", code]),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
        if done.returncode:
            raise RuntimeError(f"on {machine.name}: {done.stderr[-2000:]}")
        return done.stdout

    def pids(self, machine: Machine) -> list[int]:
        out = subprocess.run(
            [IP, "netns", "pids", machine.netns], capture_output=True, text=True, timeout=10
        ).stdout
        return [int(p) for p in out.split()]

    def kill_all(self, machine: Machine, sig: int = signal.SIGKILL) -> list[int]:
        """Send ``sig`` to every process on ``machine``; the pids signalled."""
        pids = self.pids(machine)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        return pids

    def remove(self) -> None:
        """Stop every process on every machine (TERM, then KILL after 10 s)
        and delete the namespaces (their links go with them)."""
        machines = list(self.machines.values())
        for machine in machines:
            self.kill_all(machine, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(self.pids(m) for m in machines):
            time.sleep(0.2)
        for machine in machines:
            self.kill_all(machine, signal.SIGKILL)
        for name in reversed(self._namespaces):
            subprocess.run([IP, "netns", "del", name], capture_output=True, timeout=10)
        self._namespaces.clear()
