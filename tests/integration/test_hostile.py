"""Hostile servers over real sockets on loopback: nothing leaks, nothing hangs, nothing crashes.

Each test asserts three things (issue 3, item 6): the outcome, that the deadline held (within 10 %),
and where credentials arrived, from the Authorization headers the local servers log by host and scheme.
The ``leak_free`` fixture also checks that no thread or file descriptor outlives the test.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pytest

from autodiscover_client import (
    DiscoveryError,
    DnspythonResolver,
    Method,
    Outcome,
    RequestsTransport,
    ResolverError,
    Settings,
    discover,
)
from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer, settings_body
from autodiscover_client.testing._dead_hosts import BlackHole
from autodiscover_client.testing._https_server import (
    ServerResponse,
    Wire,
    endless_body,
    html_page,
    redirect,
    reset_connection,
    stall,
    trickle,
)

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"user@{DOMAIN}"
PASSWORD = "hostile-suite-password"
CREDENTIALS = (EMAIL, PASSWORD)
PATH = "/autodiscover/autodiscover.xml"
ROOT = f"https://{DOMAIN}{PATH}"
AUTODISCOVER = f"https://autodiscover.{DOMAIN}{PATH}"
SETTINGS = ServerResponse(body=settings_body(ews_url=f"https://mail.{DOMAIN}/EWS/Exchange.asmx"))
SLACK = 1.10  # DESIGN §3: the deadline is enforced to within 10 %


def _threads() -> set[threading.Thread]:
    return set(threading.enumerate())


def _fds() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")} if os.path.isdir("/proc/self/fd") else set()


@pytest.fixture
def leak_free() -> Iterator[None]:
    """No thread and no file descriptor opened during the test (client or servers) survives it."""
    threads, fds = _threads(), _fds()
    yield
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and (_threads() - threads or _fds() - fds):
        time.sleep(0.02)
    assert set() == {thread.name for thread in _threads() - threads}
    assert set() == {os.readlink(f"/proc/self/fd/{fd}") for fd in _fds() - fds if os.path.exists(f"/proc/self/fd/{fd}")}


@pytest.fixture
def dns_server(leak_free: None) -> Iterator[LocalDnsServer]:
    with LocalDnsServer() as server:
        yield server


@pytest.fixture
def web(leak_free: None) -> Iterator[LocalAutodiscoverServer]:
    with LocalAutodiscoverServer() as server:
        yield server


@pytest.fixture
def resolver(dns_server: LocalDnsServer) -> DnspythonResolver:
    return DnspythonResolver(nameservers=[dns_server.address], timeout=1.0)


@dataclass
class Result:
    """What one discover() call gave, and how long it took."""

    settings: Settings | None
    error: DiscoveryError | None
    elapsed: float

    @property
    def outcomes(self) -> list[Outcome]:
        attempts = self.settings.attempts if self.settings else self.error.attempts if self.error else ()
        return [attempt.outcome for attempt in attempts]


def run(
    web: LocalAutodiscoverServer,
    resolver: DnspythonResolver,
    *,
    methods: list[Method],
    timeout: float = 3.0,
    request_timeout: float = 1.0,
    connect_to: Mapping[tuple[str, int], tuple[str, int]] | None = None,
    **options: object,
) -> Result:
    """discover() with the default transport (trusting the test CA) over real sockets; never raises."""
    overrides = {**web.connect_overrides, **(connect_to or {})}
    started = time.monotonic()
    with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=overrides, resolver=resolver) as transport:
        try:
            settings = discover(
                EMAIL, PASSWORD, methods=methods, timeout=timeout, request_timeout=request_timeout,
                resolver=resolver, transport=transport, **options,  # type: ignore[arg-type]
            )  # fmt: skip
        except DiscoveryError as exc:
            return Result(settings=None, error=exc, elapsed=time.monotonic() - started)
    return Result(settings=settings, error=None, elapsed=time.monotonic() - started)


def credential_hosts(web: LocalAutodiscoverServer) -> set[tuple[str, str]]:
    return {(scheme, host) for scheme, host, _ in web.credentials_seen()}


def within_deadline(result: Result, limit: float) -> None:
    assert result.elapsed <= limit * SLACK, f"took {result.elapsed:.2f}s for a {limit}s bound"


@contextlib.contextmanager
def black_hole() -> Iterator[tuple[str, int]]:
    """A TCP port on loopback whose SYNs get no answer (the kit's ``BlackHole``), proven so on this kernel.

    With ``listen(0)`` Linux queues one connection and silently drops later SYNs while the queue is
    full, which is what a firewall DROP rule looks like to a client. The check below proves it here.
    """
    with BlackHole() as hole:
        with socket.socket() as probe:
            probe.settimeout(0.3)
            try:
                probe.connect((hole.address, hole.port))
            except TimeoutError:
                pass
            else:
                pytest.skip("this kernel answers SYNs beyond a full accept queue, so it cannot black-hole a port")
        yield hole.address, hole.port


# --- hosts that never answer ---------------------------------------------------------------------


def test_black_holed_host_times_out_and_the_next_candidate_answers(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """A host whose SYNs vanish costs one request timeout; the next candidate still answers."""
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, credentials=CREDENTIALS)
    with black_hole() as hole:
        result = run(
            web, resolver, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER], connect_to={(DOMAIN, 443): hole},
            timeout=3.0, request_timeout=0.5,
        )  # fmt: skip
    assert result.settings is not None
    assert [Outcome.TIMEOUT, Outcome.UNAUTHORIZED, Outcome.SETTINGS] == result.outcomes
    within_deadline(result, 0.5 + 1.0)
    assert {("https", f"autodiscover.{DOMAIN}")} == credential_hosts(web)


def test_black_holed_host_cannot_stretch_the_overall_deadline(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """With a request timeout longer than the deadline, the overall deadline still ends the call on time."""
    with black_hole() as hole:
        result = run(
            web, resolver, methods=[Method.HTTPS_ROOT], connect_to={(DOMAIN, 443): hole}, timeout=1.0,
            request_timeout=10.0,
        )  # fmt: skip
    assert result.error is not None
    assert Outcome.TIMEOUT in result.outcomes
    within_deadline(result, 1.0)
    assert set() == credential_hosts(web)


def test_tls_handshake_that_never_completes(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """A host that accepts TCP but never answers the ClientHello times out; nothing is sent to it."""
    web.add_host(DOMAIN, SETTINGS, credentials=CREDENTIALS, complete_handshake=False)
    result = run(web, resolver, methods=[Method.HTTPS_ROOT], timeout=1.0, request_timeout=10.0)
    assert result.error is not None
    assert Outcome.TIMEOUT in result.outcomes
    within_deadline(result, 1.0)
    assert () == web.requests
    assert set() == credential_hosts(web)


@contextlib.contextmanager
def slow_relay(upstream: tuple[str, int], interval: float) -> Iterator[tuple[str, int]]:
    """A TCP relay to ``upstream`` that passes the server's bytes on one at a time, ``interval`` apart.

    In front of a TLS host it trickles the handshake itself (ServerHello, certificate …), so each read
    gets a byte well within any read timeout.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def pump(source: socket.socket, sink: socket.socket, size: int) -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set() and (data := source.recv(size)):
                sink.sendall(data)
                if size == 1:
                    stop.wait(interval)
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def serve() -> None:
        listener.settimeout(0.05)  # so that the loop sees stop: close() does not wake a blocked accept()
        with contextlib.suppress(OSError):
            while not stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                client.settimeout(None)
                server = socket.create_connection(upstream, timeout=5)
                server.settimeout(None)
                pipes.append((client, server))
                for source, sink, size in ((client, server, 65536), (server, client, 1)):
                    threading.Thread(target=pump, args=(source, sink, size), daemon=True).start()

    pipes: list[tuple[socket.socket, socket.socket]] = []
    acceptor = threading.Thread(target=serve, daemon=True)
    acceptor.start()
    try:
        yield listener.getsockname()[:2]
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()
        for pair in pipes:
            for end in pair:
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()


def test_trickled_tls_handshake_cannot_outlast_the_deadline(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """The handshake's bytes trickle in 20 ms apart (a few seconds' worth): the attempt still ends on time.

    Since Python 3.5 the socket timeout bounds the whole handshake, not each read; the transport gives
    it the time left. Nothing reaches the host, so no credentials either.
    """
    web.add_host(DOMAIN, SETTINGS)
    with slow_relay(web.connect_overrides[(DOMAIN, 443)], 0.0) as relay:  # the control: the relay works
        fast = run(web, resolver, methods=[Method.HTTPS_ROOT], connect_to={(DOMAIN, 443): relay}, timeout=5.0)
    assert fast.settings is not None
    web.add_host(f"slow.{DOMAIN}", SETTINGS, credentials=CREDENTIALS)
    requests_before = len(web.requests)
    with slow_relay(web.connect_overrides[(f"slow.{DOMAIN}", 443)], 0.02) as relay:
        result = run(
            web, resolver, methods=[Method.HTTPS_ROOT], connect_to={(DOMAIN, 443): relay}, timeout=1.5,
            request_timeout=1.0,
        )  # fmt: skip
    assert result.error is not None
    assert [Outcome.TIMEOUT] == result.outcomes
    within_deadline(result, 1.0)
    assert requests_before == len(web.requests)
    assert set() == credential_hosts(web)


def test_connection_reset_after_the_request(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """A RST instead of an answer is a connect error for that candidate, and the next one answers."""
    web.add_host(DOMAIN, reset_connection())
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS)
    result = run(web, resolver, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER])
    assert result.settings is not None
    assert [Outcome.CONNECT_ERROR, Outcome.SETTINGS] == result.outcomes
    within_deadline(result, 3.0)
    assert set() == credential_hosts(web)


def test_host_that_hangs_after_the_request(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """A host that reads the request and never answers is abandoned at the deadline."""
    web.add_host(DOMAIN, stall())
    result = run(web, resolver, methods=[Method.HTTPS_ROOT], timeout=1.0, request_timeout=10.0)
    assert result.error is not None
    assert Outcome.TIMEOUT in result.outcomes
    within_deadline(result, 1.0)
    assert 1 == len(web.requests)
    assert set() == credential_hosts(web)


@pytest.mark.parametrize("stage", ["headers", "body"])
def test_one_byte_per_second_trickle_cannot_outlast_the_deadline(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver, stage: str
) -> None:
    """A response trickled a byte at a time, in the headers or in the body, ends at the deadline.

    Each byte arrives well within the read timeout, so only a deadline re-armed before every read stops it.
    """
    if stage == "headers":
        hostile = trickle(SETTINGS, interval=1.0)
    else:
        head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"

        def slow_body(wire: Wire) -> None:
            wire.write(head)
            while not wire.wait(1.0):
                wire.write(b"<")

        hostile = ServerResponse(stream=slow_body)
    web.add_host(DOMAIN, hostile, credentials=None)
    result = run(web, resolver, methods=[Method.HTTPS_ROOT], timeout=2.0, request_timeout=1.5)
    assert result.error is not None
    assert [Outcome.TIMEOUT] == result.outcomes[:1]
    within_deadline(result, 1.5)
    assert set() == credential_hosts(web)


# --- hosts that answer too much ------------------------------------------------------------------


def test_endless_body_is_cut_at_the_cap(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """A body without end is cut at 1 MiB and reported as too large."""
    web.add_host(DOMAIN, endless_body())
    result = run(web, resolver, methods=[Method.HTTPS_ROOT])
    assert result.error is not None
    assert [Outcome.TOO_LARGE] == result.outcomes
    within_deadline(result, 3.0)
    assert set() == credential_hosts(web)


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(tuple((f"X-Filler-{i}", "x" * 10_000) for i in range(90)), id="900-KiB-in-90-headers"),
        pytest.param((("X-Huge", "x" * 70_000),), id="one-70-KiB-line"),
        pytest.param(tuple((f"X-{i}", "y") for i in range(150)), id="150-headers"),
    ],
)
def test_huge_headers_are_refused(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver, headers: tuple[tuple[str, str], ...]
) -> None:
    """Headers over the 64 KiB cap (in total, per line, or in count) are refused as too large."""
    web.add_host(DOMAIN, ServerResponse(headers=headers, body=SETTINGS.body))
    result = run(web, resolver, methods=[Method.HTTPS_ROOT])
    assert result.error is not None
    assert [Outcome.TOO_LARGE] == result.outcomes
    within_deadline(result, 3.0)
    assert set() == credential_hosts(web)


def test_redirect_storm_stops_at_ten_hops(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """A host that redirects to a fresh URL every time is followed ten times, then the branch ends."""
    counter = iter(range(1000))
    web.add_host(DOMAIN, lambda _request: redirect(f"https://{DOMAIN}{PATH}?hop={next(counter)}"))
    result = run(web, resolver, methods=[Method.HTTPS_ROOT])
    assert result.error is not None
    assert Outcome.REDIRECT_LIMIT == result.outcomes[-1]
    assert 11 == len(web.requests)
    within_deadline(result, 3.0)
    assert set() == credential_hosts(web)


def test_redirect_cycle_is_caught(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """Two hosts that redirect to each other are each asked once."""
    web.add_host(DOMAIN, redirect(AUTODISCOVER))
    web.add_host(f"autodiscover.{DOMAIN}", redirect(ROOT))
    result = run(web, resolver, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER])
    assert result.error is not None
    assert Outcome.REDIRECT_LOOP in result.outcomes
    assert 2 == len(web.requests)
    within_deadline(result, 3.0)
    assert set() == credential_hosts(web)


# --- certificates --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "certificate",
    [
        pytest.param({"cert_not_after": datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)}, id="expired"),
        pytest.param({"self_signed": True}, id="self-signed"),
        pytest.param({"cert_hostnames": ["other.test"]}, id="wrong-name"),
    ],
)
def test_bad_certificates_get_nothing(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver, certificate: dict[str, object]
) -> None:
    """Expired, self-signed and wrong-name certificates fail TLS: no request, no credentials reach them."""
    web.add_host(DOMAIN, SETTINGS, credentials=CREDENTIALS, **certificate)  # type: ignore[arg-type]
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, credentials=CREDENTIALS)
    result = run(web, resolver, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER])
    assert result.settings is not None
    assert [Outcome.TLS_ERROR, Outcome.UNAUTHORIZED, Outcome.SETTINGS] == result.outcomes
    assert {f"autodiscover.{DOMAIN}"} == {request.host for request in web.requests}
    within_deadline(result, 3.0)
    assert {("https", f"autodiscover.{DOMAIN}")} == credential_hosts(web)


# --- redirects out of the mail domain, and wrong answers -------------------------------------------


def test_plain_http_probe_redirecting_to_http_is_refused(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """The http probe redirecting to another http URL is refused; the target is never contacted."""
    web.add_host(f"autodiscover.{DOMAIN}", redirect(f"http://collector.evil.test{PATH}"), scheme="http")
    web.add_host("collector.evil.test", SETTINGS, scheme="http")
    result = run(web, resolver, methods=[Method.HTTP_REDIRECT])
    assert result.error is not None
    assert [Outcome.REDIRECT_DENIED] == result.outcomes
    assert "only https" in (result.error.attempts[0].error or "")
    assert {f"autodiscover.{DOMAIN}"} == {request.host for request in web.requests}
    assert all(request.header("Authorization") is None for request in web.requests)
    within_deadline(result, 3.0)
    assert set() == credential_hosts(web)


def test_http_probe_to_a_foreign_https_host_is_denied_unless_allowed(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """The probe's https target outside the mail domain is denied by default, and credentials go there only
    when the caller allows the host, over verified TLS, after a 401."""
    web.add_host(f"autodiscover.{DOMAIN}", redirect(f"https://mail.hoster.test{PATH}"), scheme="http")
    web.add_host("mail.hoster.test", SETTINGS, credentials=CREDENTIALS)
    denied = run(web, resolver, methods=[Method.HTTP_REDIRECT])
    assert denied.error is not None
    assert [Outcome.REDIRECT_DENIED] == denied.outcomes
    assert "--allow-redirect mail.hoster.test" in (denied.error.attempts[0].error or "")
    assert set() == credential_hosts(web)
    allowed = run(web, resolver, methods=[Method.HTTP_REDIRECT], allowed_hosts=["mail.hoster.test"])
    assert allowed.settings is not None
    within_deadline(allowed, 3.0)
    assert {("https", "mail.hoster.test")} == credential_hosts(web)


def test_html_200_is_not_success(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """A 200 with an HTML page (parked domain, captive portal) is an invalid answer, never settings."""
    web.add_host(DOMAIN, html_page(), credentials=CREDENTIALS)
    result = run(web, resolver, methods=[Method.HTTPS_ROOT])
    assert result.error is not None
    assert [Outcome.UNAUTHORIZED, Outcome.INVALID_RESPONSE] == result.outcomes
    within_deadline(result, 3.0)
    assert {("https", DOMAIN)} == credential_hosts(web)


def test_srv_to_a_foreign_host_with_a_valid_certificate(
    dns_server: LocalDnsServer, web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """An SRV target outside the mail domain is a redirect: not contacted unless approved, even with a valid cert."""
    foreign = web.add_host("autodiscover.attacker.test", SETTINGS, credentials=CREDENTIALS)
    dns_server.add_srv(f"_autodiscover._tcp.{DOMAIN}", "autodiscover.attacker.test", foreign.port)
    dns_server.add_a("autodiscover.attacker.test", "127.0.0.1")
    result = run(web, resolver, methods=[Method.SRV])
    assert result.error is not None
    assert [Outcome.REDIRECT_DENIED] == result.outcomes
    assert () == web.requests
    within_deadline(result, 3.0)
    assert set() == credential_hosts(web)
    proposals: list[object] = []

    def approve(proposal: object) -> bool:
        proposals.append(proposal)
        return True

    approved = run(web, resolver, methods=[Method.SRV], approve_redirect=approve)
    assert approved.settings is not None
    assert 1 == len(proposals)
    assert {("https", "autodiscover.attacker.test")} == credential_hosts(web)


@pytest.mark.parametrize("trusted", [True, False])
def test_microsoft365_hosts_are_trusted_unless_switched_off(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver, trusted: bool
) -> None:
    """A redirect to outlook.office365.com is followed by default (built-in list) and denied when switched off."""
    target = f"https://outlook.office365.com{PATH}"
    web.add_host(DOMAIN, redirect(target))
    web.add_host("outlook.office365.com", SETTINGS, credentials=CREDENTIALS)
    result = run(web, resolver, methods=[Method.HTTPS_ROOT], trust_microsoft365=trusted)
    within_deadline(result, 3.0)
    if trusted:
        assert result.settings is not None
        assert target == result.settings.source.url
        assert {("https", "outlook.office365.com")} == credential_hosts(web)
    else:
        assert result.error is not None
        assert Outcome.REDIRECT_DENIED == result.outcomes[-1]
        assert set() == credential_hosts(web)


def test_default_transport_resolves_names_within_the_deadline(leak_free: None) -> None:
    """With no resolver given, a name lookup against a nameserver that never answers still ends on time.

    The system's getaddrinfo has no timeout; the default transport resolves with dnspython instead.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # a nameserver that reads and never answers
        silent.bind(("127.0.0.1", 0))
        host, port = silent.getsockname()
        resolver = DnspythonResolver(nameservers=[(host, port)], timeout=30.0)
        started = time.monotonic()
        with RequestsTransport(resolver=resolver) as transport, pytest.raises(DiscoveryError) as info:
            discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT], timeout=1.0, transport=transport)
        elapsed = time.monotonic() - started
    assert elapsed <= 1.0 * SLACK
    assert Outcome.TIMEOUT in [attempt.outcome for attempt in info.value.attempts]


def test_default_transport_resolves_with_a_bounded_resolver() -> None:
    """Without a resolver argument the transport still resolves with dnspython, never the unbounded getaddrinfo."""
    with RequestsTransport() as transport:
        try:
            resolver = transport.resolver
        except ResolverError as exc:
            pytest.skip(f"no system DNS configuration to build the default resolver from: {exc}")
        assert isinstance(resolver, DnspythonResolver)


@pytest.mark.parametrize("lookup", ["srv", "addresses"])
def test_dns_lookups_end_by_their_bound_against_a_silent_nameserver(leak_free: None, lookup: str) -> None:
    """A nameserver that never answers costs at most the lookup's bound (A and AAAA share one), never more."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        resolver = DnspythonResolver(nameservers=[silent.getsockname()], timeout=30.0)
        started = time.monotonic()
        look_up = resolver.resolve_srv if lookup == "srv" else resolver.resolve_addresses
        with pytest.raises(ResolverError):
            look_up(f"_autodiscover._tcp.{DOMAIN}", timeout=0.5)
        elapsed = time.monotonic() - started
    assert elapsed <= 0.5 * SLACK


def test_srv_against_a_silent_nameserver_keeps_the_overall_deadline(leak_free: None) -> None:
    """discover() with SRV first and a dead nameserver ends at its deadline even with a long request timeout."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        resolver = DnspythonResolver(nameservers=[silent.getsockname()], timeout=30.0)
        started = time.monotonic()
        with RequestsTransport(resolver=resolver) as transport, pytest.raises(DiscoveryError) as info:
            discover(EMAIL, PASSWORD, timeout=1.0, request_timeout=10.0, resolver=resolver, transport=transport)
        elapsed = time.monotonic() - started
    assert elapsed <= 1.0 * SLACK
    assert Outcome.TIMEOUT == info.value.attempts[0].outcome
