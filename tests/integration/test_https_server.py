"""Integration tests for the local HTTP(S) test servers, over real loopback sockets."""

from __future__ import annotations

import base64
import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autodiscover_client.testing._https_server import (
    Endpoint,
    LocalAutodiscoverServer,
    RecordedRequest,
    ServerResponse,
    html_page,
    redirect,
    sequence,
    xml_response,
)

pytestmark = pytest.mark.integration

HOST = "autodiscover.example.com"
TIMEOUT = 5.0

Overrides = dict[tuple[str, int], tuple[str, int]]


class _OverrideHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to a host name, connecting where ``overrides`` says, as the client under test would."""

    def __init__(self, host: str, overrides: Overrides) -> None:
        super().__init__(host, timeout=TIMEOUT)
        self._overrides = overrides

    def connect(self) -> None:
        self.sock = socket.create_connection(self._overrides[(self.host, self.port)], timeout=self.timeout)


class _OverrideHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a host name (SNI and verification use the name) at the overridden address."""

    def __init__(self, host: str, overrides: Overrides, context: ssl.SSLContext) -> None:
        super().__init__(host, timeout=TIMEOUT, context=context)
        self._overrides = overrides
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection(self._overrides[(self.host, self.port)], timeout=self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _connection(server: LocalAutodiscoverServer, host: str, scheme: str) -> http.client.HTTPConnection:
    if scheme == "http":
        return _OverrideHTTPConnection(host, server.connect_overrides)
    context = ssl.create_default_context(cafile=server.ca_bundle)
    return _OverrideHTTPSConnection(host, server.connect_overrides, context)


def _fetch(
    server: LocalAutodiscoverServer,
    path: str = "/",
    *,
    host: str = HOST,
    scheme: str = "https",
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """Send one request on a fresh connection and return status, headers (lower-case names), body."""
    with contextlib.closing(_connection(server, host, scheme)) as conn:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def _counting(calls: list[RecordedRequest]) -> Callable[[RecordedRequest], ServerResponse]:
    def handler(request: RecordedRequest) -> ServerResponse:
        calls.append(request)
        return ServerResponse()

    return handler


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def server() -> Iterator[LocalAutodiscoverServer]:
    with LocalAutodiscoverServer() as running:
        yield running
    assert () == running.errors


def test_serves_canned_response(server: LocalAutodiscoverServer) -> None:
    """A host added with a ServerResponse answers every request with it, with a Content-Length."""
    server.add_host(HOST, xml_response("<Autodiscover/>"))

    status, headers, body = _fetch(server, "/autodiscover/autodiscover.xml")

    assert (200, b"<Autodiscover/>") == (status, body)
    assert "text/xml; charset=utf-8" == headers["content-type"]
    assert "15" == headers["content-length"]


def test_handler_receives_body_and_headers(server: LocalAutodiscoverServer) -> None:
    """A handler gets the method, target, headers, body, Host, port, scheme and SNI of the request."""
    seen: list[RecordedRequest] = []

    def handler(request: RecordedRequest) -> ServerResponse:
        seen.append(request)
        return ServerResponse(status=201, body=request.body[::-1])

    endpoint = server.add_host(HOST, handler)
    status, _, body = _fetch(
        server, "/autodiscover/autodiscover.xml?x=1", method="POST", body=b"abc", headers={"X-Test": "yes"}
    )

    assert (201, b"cba") == (status, body)
    [request] = seen
    assert ("POST", "/autodiscover/autodiscover.xml?x=1", b"abc") == (request.method, request.path, request.body)
    assert (HOST, endpoint.port, "https", HOST) == (request.host, request.port, request.scheme, request.sni)
    assert "yes" == request.header("x-test")
    assert (None, None, None) == (request.auth_scheme, request.auth_user, request.credentials_valid)
    assert (request,) == server.requests


def test_missing_credentials_get_challenge(server: LocalAutodiscoverServer) -> None:
    """Without credentials a protected host answers 401 with a Basic challenge and skips the handler."""
    calls: list[RecordedRequest] = []
    server.add_host(HOST, _counting(calls), credentials=("alice", "s3cret"))

    status, headers, _ = _fetch(server)

    assert 401 == status
    assert 'Basic realm="autodiscover"' == headers["www-authenticate"]
    assert [] == calls
    assert [None] == [request.credentials_valid for request in server.requests]


def test_wrong_credentials_get_401(server: LocalAutodiscoverServer) -> None:
    """Wrong Basic credentials are refused with 401 and recorded as invalid."""
    calls: list[RecordedRequest] = []
    server.add_host(HOST, _counting(calls), credentials=("alice", "s3cret"))

    status, _, _ = _fetch(server, headers=_basic("alice", "wrong"))

    assert 401 == status
    assert [] == calls
    assert [("Basic", "alice", False)] == [(r.auth_scheme, r.auth_user, r.credentials_valid) for r in server.requests]


def test_right_credentials_reach_handler_and_are_redacted(server: LocalAutodiscoverServer) -> None:
    """Right Basic credentials reach the handler, and neither the header value nor the password is kept."""
    server.add_host(HOST, ServerResponse(body=b"ok"), credentials=("alice", "s3cret"))
    auth = _basic("alice", "s3cret")

    status, _, body = _fetch(server, headers=auth)

    assert (200, b"ok") == (status, body)
    [request] = server.requests
    assert ("Basic", "alice", True) == (request.auth_scheme, request.auth_user, request.credentials_valid)
    assert "<redacted>" == request.header("Authorization")
    assert (False, False) == (auth["Authorization"] in repr(request), "s3cret" in repr(request))
    assert (("https", HOST, "Basic"),) == server.credentials_seen()


def test_bearer_token_is_recorded_as_scheme_only(server: LocalAutodiscoverServer) -> None:
    """A non-Basic Authorization header is recorded by scheme, redacted, and never counts as valid."""
    server.add_host(HOST, ServerResponse())

    _fetch(server, headers={"Authorization": "Bearer token-123"})

    [request] = server.requests
    assert ("Bearer", None, False) == (request.auth_scheme, request.auth_user, request.credentials_valid)
    assert "token-123" not in repr(request)


def test_plain_http_host(server: LocalAutodiscoverServer) -> None:
    """A host added with scheme "http" serves plain HTTP, reachable through port 80 in the overrides."""
    endpoint = server.add_host(HOST, html_page(), scheme="http")

    status, headers, _ = _fetch(server, scheme="http", headers=_basic("alice", "pw"))

    assert 200 == status
    assert "text/html; charset=utf-8" == headers["content-type"]
    assert {(HOST, 80): ("127.0.0.1", endpoint.port)} == server.connect_overrides
    [request] = server.requests
    assert ("http", None) == (request.scheme, request.sni)
    assert (("http", HOST, "Basic"),) == server.credentials_seen()


def test_wrong_name_certificate_fails_verification(server: LocalAutodiscoverServer) -> None:
    """A certificate issued for other names fails the client's hostname check; nothing reaches the host."""
    server.add_host(HOST, ServerResponse(), cert_hostnames=["www.example.net"])

    with pytest.raises(ssl.SSLCertVerificationError):
        _fetch(server)

    assert () == server.requests


def test_stalled_handshake_does_not_block_other_clients(server: LocalAutodiscoverServer) -> None:
    """A client that connects and never starts TLS does not stop the host from serving others."""
    endpoint = server.add_host(HOST, ServerResponse(body=b"ok"))

    with socket.create_connection((endpoint.address, endpoint.port), timeout=TIMEOUT):
        status, _, body = _fetch(server)

    assert (200, b"ok") == (status, body)


def test_two_hosts_listen_on_separate_ports(server: LocalAutodiscoverServer) -> None:
    """Two hosts get distinct ports and each answers with its own behaviour."""
    first = server.add_host(HOST, ServerResponse(body=b"first"))
    second = server.add_host("example.com", ServerResponse(body=b"second"))

    assert first.port != second.port
    assert b"first" == _fetch(server, host=HOST)[2]
    assert b"second" == _fetch(server, host="example.com")[2]


def test_requests_are_logged_in_arrival_order(server: LocalAutodiscoverServer) -> None:
    """The request log lists every request across hosts and schemes in the order they arrived."""
    server.add_host(HOST, ServerResponse())
    server.add_host("example.com", ServerResponse())
    server.add_host(HOST, ServerResponse(), scheme="http")

    _fetch(server, "/1", host=HOST)
    _fetch(server, "/2", host="example.com")
    _fetch(server, "/3", host=HOST, scheme="http")
    _fetch(server, "/4", host="example.com")

    expected = [("https", HOST, "/1"), ("https", "example.com", "/2"), ("http", HOST, "/3")]
    expected.append(("https", "example.com", "/4"))
    assert expected == [(r.scheme, r.host, r.path) for r in server.requests]


def test_connect_overrides_map_default_ports(server: LocalAutodiscoverServer) -> None:
    """connect_overrides maps each (host name, 443 or 80) to the address and port really listening."""
    https = server.add_host("Autodiscover.Example.COM", ServerResponse())
    http_ = server.add_host(HOST, ServerResponse(), scheme="http")
    other = server.add_host("example.com", ServerResponse())

    expected = {
        (HOST, 443): ("127.0.0.1", https.port),
        (HOST, 80): ("127.0.0.1", http_.port),
        ("example.com", 443): ("127.0.0.1", other.port),
    }
    assert expected == server.connect_overrides
    assert https == server.endpoint(HOST)
    assert http_ == server.endpoint(HOST, "http")


def test_endpoint_url_omits_default_port() -> None:
    """Endpoint.url names the port only when it is not the scheme's default."""
    assert "https://a.example" == Endpoint(hostname="a.example", scheme="https", address="::1", port=443).url
    assert "http://a.example:8080" == Endpoint(hostname="a.example", scheme="http", address="::1", port=8080).url


def test_unknown_endpoint_raises_key_error(server: LocalAutodiscoverServer) -> None:
    """Asking for a host that was never added raises KeyError."""
    with pytest.raises(KeyError):
        server.endpoint("missing.example.com")


def test_host_added_before_start_is_served_after_enter() -> None:
    """A host added before __enter__ already has its real port and serves once the server starts."""
    with LocalAutodiscoverServer() as outer:  # only to own the CA; the server under test is separate
        server = LocalAutodiscoverServer(ca=outer.ca)
        endpoint = server.add_host(HOST, ServerResponse(body=b"early"))
        with server:
            assert (endpoint.port, b"early") == (server.endpoint(HOST).port, _fetch(server)[2])


def test_keep_alive_serves_several_requests_per_connection(server: LocalAutodiscoverServer) -> None:
    """Two requests on one connection are both answered over the same socket."""
    server.add_host(HOST, sequence(ServerResponse(body=b"one"), ServerResponse(body=b"two")))

    with contextlib.closing(_connection(server, HOST, "https")) as conn:
        bodies, sockets = [], []
        for _ in range(3):
            conn.request("GET", "/")
            bodies.append(conn.getresponse().read())
            sockets.append(conn.sock)

    assert [b"one", b"two", b"two"] == bodies
    assert 1 == len({id(sock) for sock in sockets})


def test_handler_failure_answers_500_and_is_recorded() -> None:
    """A handler that raises makes the host answer 500 and the exception appear in errors."""

    def broken(_request: RecordedRequest) -> ServerResponse:
        raise RuntimeError("boom")

    with LocalAutodiscoverServer() as server:
        server.add_host(HOST, broken)
        status = _fetch(server)[0]

    assert 500 == status
    assert ["boom"] == [str(error) for error in server.errors]


def test_oversized_body_is_refused(server: LocalAutodiscoverServer) -> None:
    """A declared body over 1 MiB is refused with 413 without being read."""
    server.add_host(HOST, ServerResponse())

    with contextlib.closing(_connection(server, HOST, "https")) as conn:
        conn.putrequest("POST", "/")
        conn.putheader("Content-Length", str(2 * 1024 * 1024))
        conn.endheaders()
        status = conn.getresponse().status

    assert 413 == status


def test_redirect_helper(server: LocalAutodiscoverServer) -> None:
    """redirect() answers with the status and Location given."""
    server.add_host(HOST, redirect("https://evil.example/", status=301), scheme="http")

    status, headers, _ = _fetch(server, scheme="http")

    assert (301, "https://evil.example/") == (status, headers["location"])


def test_clean_shutdown_leaves_no_threads_or_files() -> None:
    """Leaving the context stops every thread promptly, even with an idle keep-alive connection open."""
    before = set(threading.enumerate())
    with LocalAutodiscoverServer() as server:
        server.add_host(HOST, ServerResponse())
        server.add_host(HOST, ServerResponse(), scheme="http")
        bundle = server.ca_bundle
        idle = _connection(server, HOST, "https")
        idle.request("GET", "/")
        idle.getresponse().read()
        started = time.monotonic()
    elapsed = time.monotonic() - started
    idle.close()

    assert set() == set(threading.enumerate()) - before
    assert elapsed < 2.0
    assert (False, False) == (Path(bundle).exists(), Path(bundle).parent.exists())
