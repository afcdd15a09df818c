"""Keep-alive: RequestsTransport reuses TCP connections inside a run and across runs (counted at the socket)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import shutil
import threading
import time
import weakref
from pathlib import Path

import pytest
from _counting_proxy import CountingProxy

from autodiscover_client import Discoverer, HttpRequest, Method, RequestsTransport, TLSError, _response_limits
from autodiscover_client.testing import LocalAutodiscoverServer, settings_body
from autodiscover_client.testing._https_server import ServerResponse

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"user@{DOMAIN}"
PASSWORD = "correct horse battery staple"
HOST = f"autodiscover.{DOMAIN}"
SETTINGS = ServerResponse(body=settings_body(ews_url=f"https://mail.{DOMAIN}/EWS/Exchange.asmx"))


def _transport(web: LocalAutodiscoverServer, proxy: CountingProxy) -> RequestsTransport:
    return RequestsTransport(ca_bundle=web.ca_bundle, connect_to={(HOST, 443): ("127.0.0.1", proxy.port)})


def test_the_401_challenge_and_the_answer_share_one_connection(web: LocalAutodiscoverServer) -> None:
    """The unauthenticated POST, its 401 and the POST with credentials travel over one TCP connection."""
    endpoint = web.add_host(HOST, SETTINGS, credentials=(EMAIL, PASSWORD))
    with CountingProxy((endpoint.address, endpoint.port)) as proxy, _transport(web, proxy) as transport:
        settings = Discoverer(methods=[Method.HTTPS_AUTODISCOVER], transport=transport).discover(EMAIL, PASSWORD)
        assert [401, 200] == [attempt.status for attempt in settings.attempts]
        assert 1 == proxy.accepted
    assert 2 == len(web.requests)


@pytest.mark.parametrize("parallel", [True, False], ids=["concurrent", "sequential"])
def test_a_reused_discoverer_reuses_its_connections(web: LocalAutodiscoverServer, parallel: bool) -> None:
    """Ten discoveries through one Discoverer (and its transport) open one TCP connection, not ten."""
    endpoint = web.add_host(HOST, SETTINGS)
    with CountingProxy((endpoint.address, endpoint.port)) as proxy, _transport(web, proxy) as transport:
        discoverer = Discoverer(methods=[Method.HTTPS_AUTODISCOVER], transport=transport, parallel=parallel)
        for number in range(10):
            discoverer.discover(f"user{number}@{DOMAIN}")
        assert 10 == len(web.requests)
        assert 1 == proxy.accepted


def test_concurrent_requests_to_one_host_are_pooled_without_discarding(web: LocalAutodiscoverServer) -> None:
    """Many threads sharing one transport each get a connection, and the pool keeps them for the next round."""
    import concurrent.futures

    from autodiscover_client import HttpRequest

    endpoint = web.add_host(HOST, SETTINGS)
    url = f"https://{HOST}/autodiscover/autodiscover.xml"
    with CountingProxy((endpoint.address, endpoint.port)) as proxy, _transport(web, proxy) as transport:
        request = HttpRequest(method="POST", url=url, body=b"<x/>")
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            for _ in range(3):
                statuses = list(pool.map(lambda _: transport.send(request, timeout=5).status, range(16)))
                assert [200] * 16 == statuses
        assert 48 == len(web.requests)
        assert proxy.accepted <= 16


# --- one TLS context per transport ---------------------------------------------------------------------


def _post(host: str) -> HttpRequest:
    return HttpRequest(method="POST", url=f"https://{host}/autodiscover/autodiscover.xml", headers=(), body=b"<x/>")


@pytest.mark.parametrize("change", ["replaced", "removed"])
def test_the_ca_bundle_is_read_once_per_transport(web: LocalAutodiscoverServer, tmp_path: Path, change: str) -> None:
    """Kept and new connections use the context loaded for the first one: the bundle file is not read again.

    Before, urllib3 loaded the bundle into a new context for every connection (about 15 ms of CPU with
    certifi's): replacing the file after the first connection would then have broken the next ones. And
    requests checked that the file still existed on every request: removing it failed them all.
    """
    hosts = [f"{change}{n}.{DOMAIN}" for n in range(3)]
    for host in hosts:
        web.add_host(host, SETTINGS)
    bundle = tmp_path / "ca.pem"
    shutil.copy(web.ca_bundle, bundle)
    with RequestsTransport(ca_bundle=bundle, connect_to=web.connect_overrides) as transport:
        assert 200 == transport.send(_post(hosts[0]), timeout=5).status
        if change == "replaced":
            bundle.write_text("not a certificate\n")
        else:
            bundle.unlink()
        for host in hosts:  # a kept connection, then new hosts: new connections
            assert 200 == transport.send(_post(host), timeout=5).status


def test_the_shared_context_still_verifies_every_connection(web: LocalAutodiscoverServer) -> None:
    """After a verified connection, a certificate from an unknown CA or for another name is still refused."""
    web.add_host(f"good.{DOMAIN}", SETTINGS)
    web.add_host(f"foreign-ca.{DOMAIN}", SETTINGS, self_signed=True)
    web.add_host(f"wrong-name.{DOMAIN}", SETTINGS, cert_hostnames=[f"other.{DOMAIN}"])
    with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides) as transport:
        for _ in range(2):
            assert 200 == transport.send(_post(f"good.{DOMAIN}"), timeout=5).status
            for host in (f"foreign-ca.{DOMAIN}", f"wrong-name.{DOMAIN}"):
                with pytest.raises(TLSError):
                    transport.send(_post(host), timeout=5)
    assert {f"good.{DOMAIN}"} == {request.host for request in web.requests}


def test_an_unreadable_ca_bundle_is_a_tls_error(web: LocalAutodiscoverServer, tmp_path: Path) -> None:
    web.add_host(f"good.{DOMAIN}", SETTINGS)
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a certificate\n")
    with (
        RequestsTransport(ca_bundle=bundle, connect_to=web.connect_overrides) as transport,
        pytest.raises(TLSError, match="CA bundle"),
    ):
        transport.send(_post(f"good.{DOMAIN}"), timeout=5)


def _open_client_connections(ports: set[int]) -> int:
    """Established TCP connections from this machine to one of ``ports``, as the kernel lists them."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table, encoding="ascii") as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                remote_port, state = int(fields[2].rsplit(":", 1)[1], 16), fields[3]
                count += state == "01" and remote_port in ports  # 01: ESTABLISHED
    return count


def test_idle_connections_stay_under_the_process_limit(web: LocalAutodiscoverServer) -> None:
    """Eight requests at once on each of twelve hosts would leave 96 idle connections open: 64 stay at most.

    This is a batch whose input is sorted by domain: every worker on one host, then on the next.
    """
    if not Path("/proc/net/tcp").exists():
        pytest.skip("counts connections in /proc/net/tcp, which this system does not have")
    hosts = [f"busy{n}.{DOMAIN}" for n in range(12)]
    ports = {web.add_host(host, SETTINGS).port for host in hosts}
    assert len(ports) == len(hosts)
    with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides) as transport:
        for host in hosts:
            barrier = threading.Barrier(8)

            def send(host: str = host, barrier: threading.Barrier = barrier) -> int:
                barrier.wait(5)
                return transport.send(_post(host), timeout=10).status

            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                assert [200] * 8 == list(pool.map(lambda _: send(), range(8)))
        assert _open_client_connections(ports) <= _response_limits.IDLE_LIMIT
        for host in hosts:  # the connections kept are still used, and closed ones reopen
            assert 200 == transport.send(_post(host), timeout=10).status


def test_a_dropped_transport_is_freed_without_the_garbage_collector(web: LocalAutodiscoverServer) -> None:
    """No reference cycle: an unclosed transport that goes out of scope releases its sockets at once."""
    web.add_host(f"dropped.{DOMAIN}", SETTINGS)
    transport = RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides)
    assert 200 == transport.send(_post(f"dropped.{DOMAIN}"), timeout=5).status
    alive = weakref.ref(transport)
    gc.disable()
    try:
        del transport
        assert alive() is None
    finally:
        gc.enable()


def test_connections_whose_server_hung_up_give_their_idle_slots_back(
    web: LocalAutodiscoverServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the limit, idle connections to a server that went away are closed, so live hosts keep theirs."""
    base = _response_limits.idle_connections()
    monkeypatch.setattr(_response_limits, "IDLE_LIMIT", base + 1)
    web.add_host(f"live.{DOMAIN}", SETTINGS)
    with LocalAutodiscoverServer(ca=web.ca) as gone:
        gone.add_host(f"gone.{DOMAIN}", SETTINGS)
        overrides = {**web.connect_overrides, **gone.connect_overrides}
        transport = RequestsTransport(ca_bundle=web.ca_bundle, connect_to=overrides)
        assert 200 == transport.send(_post(f"gone.{DOMAIN}"), timeout=5).status
        assert base + 1 == _response_limits.idle_connections()
    with transport:  # the server of gone.example.test has closed its end by now
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            assert 200 == transport.send(_post(f"live.{DOMAIN}"), timeout=5).status
            if base + 1 == _response_limits.idle_connections() and _idle_hosts() == {f"live.{DOMAIN}"}:
                break
            time.sleep(0.05)  # the hang-up may take a moment to reach this side
        assert {f"live.{DOMAIN}"} == _idle_hosts()


def _idle_hosts() -> set[str]:
    with _response_limits._idle_lock:
        hosts = {getattr(conn, "server_hostname", None) or conn.host for conn in _response_limits._idle}
    return hosts & {f"live.{DOMAIN}", f"gone.{DOMAIN}"}


def test_a_host_name_with_a_final_dot_is_verified_without_it(web: LocalAutodiscoverServer) -> None:
    """``https://host./`` is the same host: its certificate names ``host``, which is what is checked."""
    web.add_host(f"dot.{DOMAIN}", SETTINGS)
    web.add_host(f"other.{DOMAIN}", SETTINGS, cert_hostnames=[f"else.{DOMAIN}"])
    with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides) as transport:
        assert 200 == transport.send(_post(f"dot.{DOMAIN}."), timeout=5).status
        with pytest.raises(TLSError):  # and a wrong name is still wrong, dot or not
            transport.send(_post(f"other.{DOMAIN}."), timeout=5)
