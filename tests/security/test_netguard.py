"""Outbound requests (webhooks, URL import) cannot reach our own network."""

from __future__ import annotations

import socket

import pytest

from converter import netguard
from converter.netguard import BlockedURL, check_url, safe_post
from tests.security.listener import Listener

BLOCKED = [
    "http://127.0.0.1/",
    "http://localhost:8000/hook",
    "http://127.1/",
    "http://2130706433/",  # 127.0.0.1 as a decimal number
    "http://0x7f000001/",
    "http://0.0.0.0:8000/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://100.64.0.1/",  # CGNAT
    "http://224.0.0.1/",
    "http://[::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456::1]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 around 169.254.169.254
    "file:///etc/passwd",
    "gopher://example.com/",
    "ftp://example.com/",
    "http://user:pass@93.184.216.34/",
    "http://93.184.216.34:25/",  # SMTP on a public address
    "http://93.184.216.34/\r\nHost: evil",
    "http:///nohost",
    "",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_non_public_targets_are_refused(url, settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = []
    with pytest.raises(BlockedURL) as info:
        check_url(url)
    assert info.value.message


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.216.34/hook",
        "https://93.184.216.34:8443/x?y=1",
        "http://[2606:2800:220:1:248:1893:25c8:1946]/",
    ],
)
def test_public_addresses_are_allowed(url, settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = []
    check_url(url)


def test_a_name_is_refused_if_any_of_its_addresses_is_private(monkeypatch, settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = []

    def answers(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in ("93.184.216.34", "10.0.0.5")
        ]

    monkeypatch.setattr(socket, "getaddrinfo", answers)
    with pytest.raises(BlockedURL, match="not public") as refused:
        check_url("http://mixed.example.test/")
    assert "10.0.0.5" not in refused.value.message  # the installation's network stays unmapped


def test_safe_post_never_connects_to_a_refused_listener(settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = []
    with Listener() as listener, pytest.raises(BlockedURL):
        safe_post(listener.url + "/hook", b"{}", {"Content-Type": "application/json"}, 2)
    assert listener.connections == 0 and listener.requests == []


def test_safe_post_reaches_an_allowed_loopback_listener(settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = ["127.0.0.1/32"]
    with Listener() as listener:
        response = safe_post(
            listener.url + "/hook?a=1", b'{"x": 1}', {"Content-Type": "application/json"}, 5
        )
    assert response.status == 200 and response.body == b"ok"
    [request] = listener.requests
    assert (
        request["method"] == "POST"
        and request["path"] == "/hook?a=1"
        and request["body"] == b'{"x": 1}'
    )


def test_safe_post_connects_to_the_address_it_checked(monkeypatch, settings):
    """DNS rebinding: the name is resolved once, and the connection goes to
    that checked address, whatever a second lookup would answer."""
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = ["127.0.0.1/32"]
    calls = []
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):
        calls.append(host)
        if host == "hooks.example.test":
            ip = "127.0.0.1" if len(calls) == 1 else "169.254.169.254"
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with Listener() as listener:
        response = safe_post(f"http://hooks.example.test:{listener.port}/h", b"{}", {}, 5)
    assert response.status == 200 and calls.count("hooks.example.test") == 1
    assert listener.requests[0]["headers"]["Host"] == f"hooks.example.test:{listener.port}"


def test_redirects_are_not_followed_by_default(settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = ["127.0.0.1/32"]
    with (
        Listener(host="127.0.0.2") as inner,
        Listener(status=307, headers={"Location": inner.url + "/meta"}) as outer,
    ):
        response = safe_post(outer.url + "/hook", b"{}", {}, 5)
    assert response.status == 307 and inner.connections == 0


def test_each_redirect_hop_is_checked_again(settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = ["127.0.0.1/32"]  # not 127.0.0.2
    with (
        Listener(host="127.0.0.2") as inner,
        Listener(status=307, headers={"Location": inner.url + "/meta"}) as outer,
        pytest.raises(BlockedURL),
    ):
        safe_post(outer.url + "/hook", b"{}", {}, 5, max_redirects=3)
    assert len(outer.requests) == 1 and inner.connections == 0


def test_an_allowed_redirect_is_followed_with_the_body(settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = ["127.0.0.0/8"]
    with (
        Listener(host="127.0.0.2") as inner,
        Listener(status=308, headers={"Location": inner.url + "/moved"}) as outer,
    ):
        response = safe_post(outer.url + "/hook", b"payload", {}, 5, max_redirects=1)
    assert response.status == 200 and inner.requests[0]["body"] == b"payload"


def test_a_slow_receiver_times_out_as_an_os_error(settings):
    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = ["127.0.0.1/32"]
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)  # accepts the TCP connection, never answers
    try:
        with pytest.raises(OSError):
            safe_post(f"http://127.0.0.1:{server.getsockname()[1]}/", b"{}", {}, 0.5)
    finally:
        server.close()


def test_address_allowed_covers_the_cidr_setting(settings):
    import ipaddress

    settings.CONVERTER_OUTBOUND_ALLOW_CIDRS = ["10.9.0.0/16"]
    assert netguard.address_allowed(ipaddress.ip_address("10.9.1.1"))
    assert not netguard.address_allowed(ipaddress.ip_address("10.8.1.1"))
