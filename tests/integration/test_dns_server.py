"""Tests for the loopback DNS server used by the integration suite, over real UDP and TCP sockets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from autodiscover_client.testing._dns_server import LocalDnsServer

pytestmark = pytest.mark.integration

SRV_NAME = "_autodiscover._tcp.example.com"


@pytest.fixture
def server() -> Iterator[LocalDnsServer]:
    with LocalDnsServer() as running:
        yield running


def make_resolver(server: LocalDnsServer, *, lifetime: float = 2.0) -> dns.resolver.Resolver:
    host, port = server.address
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.nameserver_ports = {host: port}
    resolver.lifetime = lifetime
    return resolver


def ask_udp(server: LocalDnsServer, name: str, rdtype: str) -> dns.message.Message:
    host, port = server.address
    return dns.query.udp(dns.message.make_query(name, rdtype), host, port=port, timeout=2.0)


def srv_tuples(answer: dns.resolver.Answer) -> set[tuple[int, int, int, str]]:
    return {(rd.priority, rd.weight, rd.port, rd.target.to_text()) for rd in answer}


def test_srv_records_including_the_no_service_target(server: LocalDnsServer) -> None:
    """All SRV records of a name are returned, and target "." survives as the root name."""
    server.add_srv(SRV_NAME, "mail.example.com", 443, priority=10, weight=5)
    server.add_srv(SRV_NAME, "backup.example.com.", 8443, priority=20, weight=0, ttl=30)
    server.add_srv("_imaps._tcp.example.com", ".", 0)

    answer = make_resolver(server).resolve(SRV_NAME + ".", "SRV")
    no_service = make_resolver(server).resolve("_imaps._tcp.example.com.", "SRV")

    assert {(10, 5, 443, "mail.example.com."), (20, 0, 8443, "backup.example.com.")} == srv_tuples(answer)
    assert {(0, 0, 0, ".")} == srv_tuples(no_service)


def test_a_and_aaaa_records(server: LocalDnsServer) -> None:
    """A and AAAA records of one name are answered separately by type."""
    server.add_a("host.example.com", "192.0.2.7")
    server.add_aaaa("host.example.com", "2001:db8::7")

    resolver = make_resolver(server)

    expected = (["192.0.2.7"], ["2001:db8::7"])
    assert expected == (
        [rd.to_text() for rd in resolver.resolve("host.example.com.", "A")],
        [rd.to_text() for rd in resolver.resolve("host.example.com.", "AAAA")],
    )


def test_response_is_authoritative_and_echoes_id_and_question(server: LocalDnsServer) -> None:
    """A response carries AA, the query's id and the query's question."""
    server.add_a("host.example.com", "192.0.2.7")
    query = dns.message.make_query("host.example.com", "A")
    host, port = server.address

    response = dns.query.udp(query, host, port=port, timeout=2.0)

    expected = (dns.flags.AA, query.id, query.question)
    assert expected == (response.flags & dns.flags.AA, response.id, response.question)


def test_cname_chain_is_followed_to_the_target_records(server: LocalDnsServer) -> None:
    """A CNAME chain is answered with every CNAME and the final target's records."""
    server.add_cname("autodiscover.example.com", "alias.example.net")
    server.add_cname("alias.example.net", "real.example.org")
    server.add_a("real.example.org", "192.0.2.9")

    answer = make_resolver(server).resolve("autodiscover.example.com.", "A")
    raw = ask_udp(server, "autodiscover.example.com", "A")

    expected = ("real.example.org.", ["192.0.2.9"], ["CNAME", "CNAME", "A"])
    assert expected == (
        answer.canonical_name.to_text(),
        [rd.to_text() for rd in answer],
        [dns.rdatatype.to_text(rrset.rdtype) for rrset in raw.answer],
    )


def test_cname_to_unknown_target_answers_only_the_cname(server: LocalDnsServer) -> None:
    """A CNAME whose target is unknown is answered with NOERROR and just the CNAME."""
    server.add_cname("autodiscover.example.com", "elsewhere.example.net")

    response = ask_udp(server, "autodiscover.example.com", "A")

    expected = (dns.rcode.NOERROR, ["CNAME"])
    assert expected == (response.rcode(), [dns.rdatatype.to_text(rrset.rdtype) for rrset in response.answer])


def test_cname_query_returns_the_cname_itself(server: LocalDnsServer) -> None:
    """A query for type CNAME returns the alias record without following it."""
    server.add_cname("autodiscover.example.com", "real.example.org")
    server.add_a("real.example.org", "192.0.2.9")

    answer = make_resolver(server).resolve("autodiscover.example.com.", "CNAME")

    expected = ["real.example.org."]
    assert expected == [rd.to_text() for rd in answer]


def test_unknown_name_is_nxdomain(server: LocalDnsServer) -> None:
    """A name with no records at all gets NXDOMAIN."""
    server.add_a("host.example.com", "192.0.2.7")

    expected = dns.rcode.NXDOMAIN
    assert expected == ask_udp(server, "missing.example.com", "A").rcode()
    with pytest.raises(dns.resolver.NXDOMAIN):
        make_resolver(server).resolve("missing.example.com.", "A")


def test_known_name_without_the_type_is_nodata(server: LocalDnsServer) -> None:
    """A known name without records of the asked type gets NOERROR with an empty answer."""
    server.add_a("host.example.com", "192.0.2.7")

    response = ask_udp(server, "host.example.com", "SRV")

    expected = (dns.rcode.NOERROR, 0)
    assert expected == (response.rcode(), len(response.answer))
    with pytest.raises(dns.resolver.NoAnswer):
        make_resolver(server).resolve("host.example.com.", "SRV")


def test_fail_answers_servfail(server: LocalDnsServer) -> None:
    """A name passed to fail() is answered with SERVFAIL even if it has records."""
    server.add_srv(SRV_NAME, "mail.example.com", 443)
    server.fail(SRV_NAME)

    expected = dns.rcode.SERVFAIL
    assert expected == ask_udp(server, SRV_NAME, "SRV").rcode()
    with pytest.raises(dns.resolver.NoNameservers):
        make_resolver(server).resolve(SRV_NAME + ".", "SRV")


def test_drop_makes_the_client_time_out(server: LocalDnsServer) -> None:
    """A name passed to drop() is never answered, so the resolver times out, while the query is logged."""
    server.add_a("host.example.com", "192.0.2.7")
    server.drop("host.example.com.")

    with pytest.raises(dns.exception.Timeout):
        make_resolver(server, lifetime=0.3).resolve("host.example.com.", "A")
    expected = (("host.example.com", "A"),)
    assert expected == server.queries


def test_query_over_tcp(server: LocalDnsServer) -> None:
    """Queries over TCP are answered using the two-byte length prefix, several per connection."""
    server.add_a("host.example.com", "192.0.2.7")
    host, port = server.address

    with socket.create_connection((host, port), timeout=2.0) as sock:
        first = dns.query.tcp(dns.message.make_query("host.example.com", "A"), host, port=port, sock=sock)
        second = dns.query.tcp(dns.message.make_query("other.example.com", "A"), host, port=port, sock=sock)

    expected = (["192.0.2.7"], dns.rcode.NXDOMAIN)
    assert expected == ([rd.to_text() for rd in first.answer[0]], second.rcode())


def test_large_answer_is_truncated_over_udp_and_complete_over_tcp(server: LocalDnsServer) -> None:
    """An answer too big for UDP sets TC, and the client's TCP retry gets every record."""
    for index in range(100):
        server.add_srv(SRV_NAME, f"host-{index:03}.example.com", 443, priority=index)
    host, port = server.address
    query = dns.message.make_query(SRV_NAME, "SRV")

    truncated = dns.query.udp(query, host, port=port, timeout=2.0)
    fallback, used_tcp = dns.query.udp_with_fallback(query, host, port=port, timeout=2.0)
    answer = make_resolver(server).resolve(SRV_NAME + ".", "SRV")

    expected = (dns.flags.TC, 0, True, 100, 100)
    assert expected == (
        truncated.flags & dns.flags.TC,
        len(truncated.answer),
        used_tcp,
        len(fallback.answer[0]),
        len(answer),
    )


def test_query_log_records_every_query_in_order(server: LocalDnsServer) -> None:
    """The query log lists (lower-case name, type) of each query, including unanswered ones."""
    server.add_a("host.example.com", "192.0.2.7")

    ask_udp(server, "Host.Example.com.", "A")
    ask_udp(server, "missing.example.com", "AAAA")
    ask_udp(server, SRV_NAME, "SRV")

    expected = (("host.example.com", "A"), ("missing.example.com", "AAAA"), (SRV_NAME, "SRV"))
    assert expected == server.queries


def test_names_are_case_insensitive(server: LocalDnsServer) -> None:
    """Records added in one spelling answer queries in another, with or without the final dot."""
    server.add_a("Host.EXAMPLE.com.", "192.0.2.7")
    server.fail("BROKEN.example.com")

    answer = make_resolver(server).resolve("hOST.example.COM.", "A")

    expected = (["192.0.2.7"], dns.rcode.SERVFAIL)
    assert expected == (
        [rd.to_text() for rd in answer],
        ask_udp(server, "broken.EXAMPLE.com.", "A").rcode(),
    )


def test_malformed_queries_are_ignored(server: LocalDnsServer) -> None:
    """Garbage over UDP and TCP gets no answer and does not stop the server from answering later."""
    server.add_a("host.example.com", "192.0.2.7")
    host, port = server.address

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        udp.sendto(b"\x00\x01garbage", (host, port))
    with socket.create_connection((host, port), timeout=2.0) as tcp:
        tcp.sendall(b"\x00\x05junk!")
        tcp.settimeout(0.3)
        with pytest.raises(TimeoutError):
            tcp.recv(2)

    answer = ask_udp(server, "host.example.com", "A").answer
    expected = (["192.0.2.7"], (("host.example.com", "A"),))
    assert expected == ([rd.to_text() for rd in answer[0]], server.queries)


def test_stop_ends_the_thread_and_frees_the_port() -> None:
    """Leaving the context stops the serving thread promptly and closes both sockets."""
    before = set(threading.enumerate())
    with LocalDnsServer() as server:
        server.add_a("host.example.com", "192.0.2.7")
        ask_udp(server, "host.example.com", "A")
        host, port = server.address
        # An idle open TCP connection must not hold up shutdown.
        idle = socket.create_connection((host, port), timeout=2.0)
        expected_threads = 1
        assert expected_threads == len(set(threading.enumerate()) - before)

    try:
        expected: set[threading.Thread] = set()
        assert expected == set(threading.enumerate()) - before
        with LocalDnsServer(port=port) as again:
            assert (host, port) == again.address
    finally:
        idle.close()


def test_address_before_start_raises() -> None:
    """The address is unknown until the server is started."""
    with pytest.raises(RuntimeError):
        _ = LocalDnsServer().address


def test_ipv6_loopback() -> None:
    """The server also serves on ::1, over UDP and TCP."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        pytest.skip(f"cannot bind ::1 on this machine: {exc}")
    with LocalDnsServer(host="::1") as server:
        server.add_aaaa("host.example.com", "2001:db8::7")
        host, port = server.address
        query = dns.message.make_query("host.example.com", "AAAA")

        over_udp = dns.query.udp(query, host, port=port, timeout=2.0)
        over_tcp = dns.query.tcp(query, host, port=port, timeout=2.0)

    expected = ("::1", ["2001:db8::7"], ["2001:db8::7"])
    assert expected == (
        host,
        [rd.to_text() for rd in over_udp.answer[0]],
        [rd.to_text() for rd in over_tcp.answer[0]],
    )
