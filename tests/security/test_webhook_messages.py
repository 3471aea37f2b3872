"""What a completion message tells its receiver and its sender: signatures
carry their time, so a receiver can refuse a replay; a failed attempt says
what kind of failure it was, never an address inside the installation."""

from __future__ import annotations

import socket

import pytest

from converter import notifications

BODY = notifications.body_of({"id": "1", "content": {"Status": "Succeeded"}})


def test_the_time_is_signed_with_the_body():
    header = notifications.sign(BODY, "k", timestamp=1_800_000_000)
    t, v1 = header.split(",")
    assert t == "t=1800000000"
    assert notifications.verify(BODY, "k", header, now=1_800_000_100)
    # The same signature with another time is not valid: the time cannot be moved.
    assert not notifications.verify(BODY, "k", f"t=1800000100,{v1}", now=1_800_000_100)


def test_a_replay_after_the_tolerance_is_refused():
    header = notifications.sign(BODY, "k", timestamp=1_800_000_000)
    late = 1_800_000_000 + notifications.SIGNATURE_TOLERANCE_S + 1
    assert not notifications.verify(BODY, "k", header, now=late)


@pytest.mark.parametrize(
    "header",
    ["", "v1=abc", "t=,v1=abc", "t=12a,v1=abc", "t=1,t=2,v1=abc", "t=١٢,v1=abc", "sha256=abc"],
)
def test_malformed_headers_do_not_verify(header):
    assert not notifications.verify(BODY, "k", header, now=1)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_refused_address_is_not_named(settings):
    settings.CONVERTER_WEBHOOK_ALLOW_PRIVATE = False
    outcome = notifications.post_webhook("http://localhost:8080/hook", "", {"id": "1", "type": "t"})
    assert not outcome.ok and outcome.permanent
    assert "127.0.0.1" not in outcome.error and "::1" not in outcome.error, outcome.error


def test_a_failed_connection_names_no_address(settings):
    settings.CONVERTER_WEBHOOK_ALLOW_PRIVATE = True
    port = _closed_port()
    outcome = notifications.post_webhook(
        f"http://localhost:{port}/hook", "", {"id": "1", "type": "t"}
    )
    assert not outcome.ok and not outcome.permanent
    assert outcome.error == "The receiver refused the connection."


def test_a_stream_failure_names_no_redis_address(settings):
    port = _closed_port()
    settings.CONVERTER_NOTIFY_REDIS_URL = f"redis://127.0.0.1:{port}/5"
    message = {"id": "1", "type": "t", "subject": "s"}
    outcome = notifications.publish_stream("p", "topic", message)
    assert not outcome.ok
    assert str(port) not in outcome.error and "127.0.0.1" not in outcome.error, outcome.error
