"""The kit's hostile behaviours on their own, over raw sockets: they do what their names say."""

from __future__ import annotations

import datetime
import socket
import ssl
import time

import pytest

from autodiscover_client.testing import LocalAutodiscoverServer
from autodiscover_client.testing._https_server import (
    ServerResponse,
    endless_body,
    reset_connection,
    stall,
    trickle,
)

pytestmark = pytest.mark.integration

REQUEST = b"POST /autodiscover/autodiscover.xml HTTP/1.1\r\nHost: h.test\r\nContent-Length: 0\r\n\r\n"


def test_to_bytes_is_a_complete_http_response() -> None:
    """to_bytes() gives the status line with its reason, the headers, a Content-Length and the body."""
    data = ServerResponse(status=404, headers=(("X-A", "1"),), body=b"nope").to_bytes()
    assert b"HTTP/1.1 404 Not Found\r\nX-A: 1\r\nContent-Length: 4\r\n\r\nnope" == data
    assert ServerResponse(status=599).to_bytes().startswith(b"HTTP/1.1 599\r\n")


def _plain(web: LocalAutodiscoverServer, response: ServerResponse) -> socket.socket:
    endpoint = web.add_host("h.test", response, scheme="http")
    connection = socket.create_connection((endpoint.address, endpoint.port), timeout=5)
    connection.sendall(REQUEST)
    return connection


def test_trickle_sends_the_response_slowly_but_completely() -> None:
    """trickle() delivers exactly the response's bytes, a chunk per interval."""
    response = ServerResponse(body=b"0123456789")
    with LocalAutodiscoverServer() as web, _plain(web, trickle(response, interval=0.01, chunk=4)) as connection:
        started = time.monotonic()
        received = b""
        while len(received) < len(response.to_bytes()):
            chunk = connection.recv(100)
            assert chunk
            assert len(chunk) <= 4 or time.monotonic() - started > 0  # chunks may coalesce in the kernel
            received += chunk
    assert response.to_bytes() == received


def test_stall_answers_nothing_and_close_releases_it_quickly() -> None:
    """stall() reads the request and sends nothing; closing the server ends the stalled worker at once."""
    web = LocalAutodiscoverServer()
    web.__enter__()
    connection = _plain(web, stall())
    connection.settimeout(0.3)
    with pytest.raises(TimeoutError):
        connection.recv(1)
    started = time.monotonic()
    web.close()
    assert time.monotonic() - started < 1.0
    connection.close()


def test_endless_body_keeps_sending() -> None:
    """endless_body() sends far more than any cap, with no Content-Length."""
    with LocalAutodiscoverServer() as web, _plain(web, endless_body()) as connection:
        received = 0
        head = connection.recv(4096)
        assert b"Content-Length" not in head.split(b"\r\n\r\n", 1)[0]
        while received < 4 * 1024 * 1024:
            received += len(connection.recv(65536))


def test_reset_connection_sends_a_rst() -> None:
    """reset_connection() aborts the connection: the client sees a reset, not an orderly close."""
    with LocalAutodiscoverServer() as web, _plain(web, reset_connection()) as connection:
        time.sleep(0.2)  # let the server read the request and abort
        with pytest.raises(ConnectionResetError):
            connection.recv(1024)


def test_incomplete_handshake_and_bad_certificates() -> None:
    """complete_handshake=False never answers the ClientHello; expired and self-signed certificates fail to verify."""
    with LocalAutodiscoverServer() as web:
        hung = web.add_host("hung.test", ServerResponse(), complete_handshake=False)
        expired = web.add_host(
            "old.test", ServerResponse(), cert_not_after=datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
        )
        foreign = web.add_host("own.test", ServerResponse(), self_signed=True)
        context = ssl.create_default_context(cafile=web.ca_bundle)
        with socket.create_connection((hung.address, hung.port), timeout=0.3) as raw, pytest.raises(TimeoutError):
            context.wrap_socket(raw, server_hostname="hung.test")
        for endpoint, why in ((expired, "expired"), (foreign, "self-signed")):
            with (
                socket.create_connection((endpoint.address, endpoint.port), timeout=5) as raw,
                pytest.raises(ssl.SSLCertVerificationError) as info,
            ):
                context.wrap_socket(raw, server_hostname=endpoint.hostname)
            assert why in str(info.value) or "unable to get local issuer" in str(info.value)
