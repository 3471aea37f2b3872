"""Outbound HTTP that cannot be turned against our own network (SSRF).

Webhook targets and URL imports are chosen by users. A URL is allowed only if
its scheme is http(s), it carries no credentials, its port is 80, 443 or
unprivileged, and **every** address its name resolves to is public: loopback,
private (RFC 1918), link-local (cloud metadata at 169.254.169.254), CGNAT
(100.64/10), "this network" (0/8), multicast, reserved, IPv6 ULA (fc00::/7)
and link-local, and IPv4 embedded in IPv6 (mapped, 6to4, Teredo) are refused
unless ``CONVERTER_OUTBOUND_ALLOW_CIDRS`` names them.

``safe_post`` resolves once and connects to the address it checked (so a DNS
answer that changes between check and connect, "rebinding", cannot redirect
it), sends SNI and verifies the certificate against the name, reads a bounded
reply, and re-checks every redirect it is allowed to follow.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings

# Privileged ports other than HTTP(S) belong to other protocols (SMTP, SSH...)
# that a crafted request body could talk to.
ALLOWED_LOW_PORTS = {80, 443}
# A webhook answer is a status line; nobody needs megabytes of it.
MAX_RESPONSE_BYTES = 64 * 1024
REDIRECT_STATUSES = {301, 302, 303, 307, 308}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedURL(ValueError):
    """The URL may not be fetched; ``message`` says why, for the user."""

    code = "InvalidArgument.URL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    address: str  # the checked IP to connect to


@dataclass
class Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    url: str = ""


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _allowed_networks(extra: Sequence[str] = ()) -> list[Network]:
    cidrs = [*settings.CONVERTER_OUTBOUND_ALLOW_CIDRS, *extra]
    return [ipaddress.ip_network(c, strict=False) for c in cidrs]


def _embedded_v4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return ip.ipv4_mapped
        if ip.sixtofour:
            return ip.sixtofour
        if ip.teredo:
            return ip.teredo[1]
        if ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_allowed(ip: IPAddress, extra: Sequence[str] = ()) -> bool:
    """Public, or inside a network the settings (or ``extra``) allow."""
    if any(ip in net for net in _allowed_networks(extra)):
        return True
    embedded = _embedded_v4(ip)
    if embedded is not None:
        return address_allowed(embedded, extra)
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def _split(url: str) -> tuple[str, str, int, str]:
    bad_char = any(ord(c) < 33 or ord(c) == 127 for c in url) if isinstance(url, str) else True
    if bad_char or len(url) > 2048:
        raise BlockedURL("The URL must be a plain http(s) URL of at most 2048 characters.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BlockedURL("Only http and https URLs are allowed.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise BlockedURL("URLs with user names or passwords are not allowed.")
    host = parts.hostname
    if not host:
        raise BlockedURL("The URL has no host name.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise BlockedURL("The URL's port is not valid.") from None
    if port < 1024 and port not in ALLOWED_LOW_PORTS:
        raise BlockedURL(f"Port {port} is not allowed; use 80, 443 or a port from 1024.")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port, path


def resolve(url: str, allow_cidrs: Sequence[str] = ()) -> Target:
    """Check ``url`` and pick the address to connect to. Every address the
    name resolves to must be allowed (an attacker's DNS may answer with a mix)."""
    scheme, host, port, path = _split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise BlockedURL(f"The host name {host!r} could not be resolved.") from None
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if not address_allowed(ip, allow_cidrs):
            # Not which address: that would map the installation's own network.
            raise BlockedURL(f"The host {host!r} resolves to an address that is not public.")
        addresses.append(str(ip))
    if not addresses:
        raise BlockedURL(f"The host name {host!r} has no address.")
    return Target(scheme, host, port, path, addresses[0])


def check_url(url: str, allow_cidrs: Sequence[str] = ()) -> None:
    """Raise ``BlockedURL`` unless ``url`` may be fetched now. Check again at
    send time (``safe_post`` does): DNS answers change. ``allow_cidrs`` adds
    networks to ``CONVERTER_OUTBOUND_ALLOW_CIDRS`` for this call."""
    resolve(url, allow_cidrs)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = target.address

    def connect(self) -> None:  # TCP to the checked address; TLS names the host
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target, timeout)
    return http.client.HTTPConnection(target.address, target.port, timeout=timeout)


def _cut(conn: http.client.HTTPConnection, expired: threading.Event) -> None:
    """Shut the connection's socket from the watchdog thread: a blocked read
    in the sending thread returns at once."""
    expired.set()
    sock = conn.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def safe_post(
    url: str,
    body: bytes,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    *,
    max_redirects: int = 0,
    allow_cidrs: Sequence[str] = (),
) -> Response:
    """POST ``body`` to ``url`` over a connection to the address that was
    checked. Redirects are returned as they are unless ``max_redirects`` > 0;
    then 307/308 are followed (each hop checked again) and others returned.

    ``timeout`` bounds the whole exchange, not each read: a receiver that
    answers one byte at a time is cut off when it passes.

    Raises ``BlockedURL`` for a refused target and ``OSError`` (including
    ``TimeoutError``) for network failures, which callers retry.
    """
    deadline = time.monotonic() + timeout
    for _ in range(max_redirects + 1):
        target = resolve(url, allow_cidrs)
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"{target.host} did not answer within {timeout:g} s")
        conn = _connection(target, left)
        expired = threading.Event()
        watchdog = threading.Timer(left, _cut, args=(conn, expired))
        watchdog.start()
        try:
            host = f"[{target.host}]" if ":" in target.host else target.host  # IPv6 literal
            host_header = host if target.port in (80, 443) else f"{host}:{target.port}"
            sent = {"Host": host_header, "Content-Length": str(len(body)), "Connection": "close"}
            sent.update(headers or {})
            conn.request("POST", target.path, body=body, headers=sent)
            reply = conn.getresponse()
            data = reply.read(MAX_RESPONSE_BYTES)
            headers_in = {k.lower(): v for k, v in reply.getheaders()}
            response = Response(reply.status, headers_in, data, url)
        except (http.client.HTTPException, OSError) as exc:
            if expired.is_set():
                raise TimeoutError(f"{target.host} did not answer within {timeout:g} s") from None
            if isinstance(exc, OSError):
                raise
            raise OSError(f"bad HTTP reply from {target.host}: {exc!r}") from None
        finally:
            watchdog.cancel()
            conn.close()
        location = response.headers.get("location")
        if response.status in (307, 308) and location and max_redirects > 0:
            url = urljoin(url, location)
            continue
        return response
    return response
