"""The public fakes (FakeResolver, FakeTransport, FakeClock, RecordingApprover) behave as documented."""

from __future__ import annotations

import pytest

from autodiscover_client import (
    BasicCredentials,
    ConnectError,
    HttpRequest,
    HttpResponse,
    RedirectProposal,
    RedirectReason,
    ResolverError,
    ResolverTimeoutError,
    SrvRecord,
    TLSError,
    TransportError,
)
from autodiscover_client.testing import FakeClock, FakeResolver, FakeTransport, RecordingApprover

URL = "https://autodiscover.example.com/autodiscover/autodiscover.xml"
OK = HttpResponse(status=200, body=b"ok")
SECRET = "hunter2-never-kept"
REASON = RedirectReason.URL_REDIRECT


def post(url: str = URL, *, credentials: BasicCredentials | None = None, **fields: object) -> HttpRequest:
    return HttpRequest(method="POST", url=url, credentials=credentials, **fields)  # type: ignore[arg-type]


# --- FakeResolver -------------------------------------------------------------------------------


def test_resolver_returns_srv_records_given_as_tuples_or_records() -> None:
    """SRV data given as tuples or SrvRecords comes back as SrvRecords, in the order given."""
    record = SrvRecord(priority=5, weight=1, port=443, target="b.example.com")
    resolver = FakeResolver({"_autodiscover._tcp.example.com": [(0, 0, 8443, "a.example.com"), record]})
    expected = (SrvRecord(priority=0, weight=0, port=8443, target="a.example.com"), record)
    assert expected == tuple(resolver.resolve_srv("_autodiscover._tcp.example.com", timeout=1))


def test_resolver_names_ignore_case_and_the_final_dot() -> None:
    """Names are case-insensitive and may carry a trailing dot."""
    resolver = FakeResolver(addresses={"Mail.Example.COM.": ["192.0.2.1"]})
    assert ("192.0.2.1",) == tuple(resolver.resolve_addresses("mail.example.com", timeout=1))


def test_resolver_add_methods_append_srv_a_and_aaaa_per_name() -> None:
    """add_srv, add_a and add_aaaa append to a name's data, A and AAAA kept in the order added."""
    resolver = FakeResolver()
    resolver.add_srv("_autodiscover._tcp.example.com", "mail.example.com.", 443, priority=10, weight=5)
    resolver.add_srv("_autodiscover._tcp.example.com", "backup.example.com", 8443, priority=20)
    resolver.add_a("mail.example.com", "192.0.2.7")
    resolver.add_aaaa("mail.example.com", "2001:DB8::7")
    srv = resolver.resolve_srv("_autodiscover._tcp.example.com", timeout=1)
    assert [("mail.example.com", 443, 10, 5), ("backup.example.com", 8443, 20, 0)] == [
        (r.target, r.port, r.priority, r.weight) for r in srv
    ]
    assert ("192.0.2.7", "2001:db8::7") == tuple(resolver.resolve_addresses("MAIL.example.com", timeout=1))


@pytest.mark.parametrize(("method", "address"), [("add_a", "2001:db8::1"), ("add_aaaa", "192.0.2.1"), ("add_a", "x")])
def test_resolver_rejects_an_address_of_the_wrong_family(method: str, address: str) -> None:
    """An AAAA address given to add_a (and the reverse, or garbage) is a ValueError naming it."""
    with pytest.raises(ValueError, match="is not an IPv"):
        getattr(FakeResolver(), method)("mail.example.com", address)


def test_resolver_unknown_and_nxdomain_names_are_empty_answers() -> None:
    """A name with no data, or marked NXDOMAIN (even with data), answers empty, as the Resolver protocol says."""
    resolver = FakeResolver(
        {"gone.example.com": [(0, 0, 443, "mail.example.com")]},
        {"gone.example.com": ["192.0.2.1"]},
        nxdomain=["Gone.example.com."],
    )
    assert () == tuple(resolver.resolve_srv("gone.example.com", timeout=1))
    assert () == tuple(resolver.resolve_addresses("gone.example.com", timeout=1))
    assert () == tuple(resolver.resolve_addresses("nothing.example.com", timeout=1))


def test_resolver_timeouts_and_failures_raise_the_package_errors() -> None:
    """Names set to time out raise ResolverTimeoutError; failed names raise ResolverError (SERVFAIL)."""
    resolver = FakeResolver(timeouts=["slow.example.com"], failures=["broken.example.com"])
    resolver.drop("dropped.example.com")
    resolver.fail("failed.example.com")
    for name in ("slow.example.com", "dropped.example.com"):
        with pytest.raises(ResolverTimeoutError):
            resolver.resolve_srv(name, timeout=1)
    for name in ("broken.example.com", "failed.example.com"):
        with pytest.raises(ResolverError, match="SERVFAIL") as info:
            resolver.resolve_addresses(name, timeout=1)
        assert not isinstance(info.value, ResolverTimeoutError)


def test_resolver_records_every_query_even_failed_ones() -> None:
    """queries lists (name, type) in order, including queries that raised."""
    resolver = FakeResolver(timeouts=["slow.example.com"])
    resolver.resolve_srv("_autodiscover._tcp.Example.com.", timeout=1)
    with pytest.raises(ResolverTimeoutError):
        resolver.resolve_addresses("slow.example.com", timeout=1)
    assert (("_autodiscover._tcp.example.com", "SRV"), ("slow.example.com", "A/AAAA")) == resolver.queries


# --- FakeTransport ------------------------------------------------------------------------------


def test_transport_routes_by_method_and_url() -> None:
    """A (method, url) route beats a URL-only route; other methods get the URL-only one."""
    post_only = HttpResponse(status=201)
    transport = FakeTransport({("POST", URL): post_only, URL: OK})
    assert post_only == transport.send(post(), timeout=1)
    assert OK == transport.send(HttpRequest(method="GET", url=URL), timeout=1)


def test_transport_unknown_url_is_a_connect_error() -> None:
    """A URL without a route raises ConnectError, as a dead host does."""
    with pytest.raises(ConnectError, match="no route"):
        FakeTransport().send(post(), timeout=1)


def test_transport_raises_routed_errors_and_calls_handlers() -> None:
    """An exception route is raised; a handler route is called with the request."""
    seen: list[str] = []

    def handler(request: HttpRequest) -> HttpResponse:
        seen.append(request.url)
        return OK

    other = "https://example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport({URL: TLSError("bad certificate"), other: handler})
    with pytest.raises(TLSError):
        transport.send(post(), timeout=1)
    assert OK == transport.send(post(other), timeout=1)
    assert [other] == seen


def test_transport_fallback_handler_takes_unrouted_requests() -> None:
    """handler= answers every request no route matches, instead of ConnectError."""
    transport = FakeTransport(handler=lambda request: HttpResponse(status=404, body=request.url.encode()))
    assert 404 == transport.send(post(), timeout=1).status


def test_transport_sequences_answer_in_turn_and_repeat_the_last() -> None:
    """A sequence route gives its items in order, then keeps giving the last one."""
    first, last = HttpResponse(status=401), HttpResponse(status=200)
    transport = FakeTransport({URL: [first, last]})
    assert [401, 200, 200] == [transport.send(post(), timeout=1).status for _ in range(3)]


def test_add_route_replaces_a_route_and_restarts_its_sequence() -> None:
    """add_route sets or replaces a route; route_for reads it back."""
    transport = FakeTransport({URL: [HttpResponse(status=401), OK]})
    transport.send(post(), timeout=1)
    replacement = [HttpResponse(status=500), OK]
    transport.add_route(URL, replacement)
    assert replacement is transport.route_for(URL)
    assert 500 == transport.send(post(), timeout=1).status
    transport.add_route(URL, OK, method="get")
    assert OK is transport.route_for(URL, method="GET")
    assert None is transport.route_for("https://other.example.com/")


def test_transport_records_credentials_as_a_flag_and_a_user_name_only() -> None:
    """Each SentRequest says whether credentials were attached and for whom, and never holds the password."""
    transport = FakeTransport({URL: OK})
    transport.send(post(), timeout=3)
    transport.send(post(credentials=BasicCredentials("ann@example.com", SECRET)), timeout=2.5)
    anonymous, authenticated = transport.requests
    assert (False, None) == (anonymous.authenticated, anonymous.username)
    assert (True, "ann@example.com") == (authenticated.authenticated, authenticated.username)
    assert (3, 2.5) == (anonymous.timeout, authenticated.timeout)
    assert (URL,) == transport.credentials_sent_to()
    assert not hasattr(authenticated, "credentials")
    assert SECRET not in repr(transport.requests)
    assert all(SECRET not in repr(getattr(authenticated, slot)) for slot in authenticated.__slots__)


def test_transport_redacts_authorization_headers_a_caller_set() -> None:
    """An Authorization header the caller put in headers is kept by name, with its value redacted."""
    transport = FakeTransport({URL: OK})
    transport.send(post(headers=(("Authorization", f"Bearer {SECRET}"), ("X-Test", "1"))), timeout=1)
    sent = transport.requests[0]
    assert "<redacted>" == sent.header("authorization")
    assert "1" == sent.header("x-test")
    assert SECRET not in repr(sent)


def test_transport_refuses_credentials_over_plain_http() -> None:
    """Like the real transport, the fake refuses to send credentials to an http URL (DESIGN §4 rule 2)."""
    transport = FakeTransport(handler=lambda request: OK)
    with pytest.raises(TransportError, match="plain http"):
        transport.send(post("http://example.com/", credentials=BasicCredentials("u", SECRET)), timeout=1)
    assert () == transport.requests


def test_transport_latency_moves_the_fake_clock() -> None:
    """Per-URL latency (or "*" for all) advances the shared FakeClock by that much per request."""
    clock = FakeClock(start=100.0)
    other = "https://example.com/x"
    transport = FakeTransport({URL: OK, other: OK}, latency={URL: 2.5, "*": 0.5}, clock=clock)
    transport.send(post(), timeout=10)
    transport.send(post(other), timeout=10)
    with pytest.raises(ConnectError):
        transport.send(post("https://dead.example.com/"), timeout=10)
    assert 100.0 + 2.5 + 0.5 + 0.5 == clock.monotonic()


def test_fake_clock_moves_only_when_told() -> None:
    """FakeClock starts where told and moves only by advance()."""
    clock = FakeClock(start=5.0)
    assert 5.0 == clock.monotonic() == clock.monotonic()
    clock.advance(1.25)
    assert 6.25 == clock.monotonic()


# --- RecordingApprover --------------------------------------------------------------------------


def proposal(host: str) -> RedirectProposal:
    target = f"https://{host}/autodiscover/autodiscover.xml"
    return RedirectProposal(
        email="ann@example.com", source="https://example.com/", target=target, host=host, reason=REASON
    )


def test_recording_approver_records_and_answers_from_its_allow_list() -> None:
    """Every proposal is recorded; only allowed hosts (case-insensitive) are approved."""
    approver = RecordingApprover(allow=["Mail.Partner.example"])
    assert approver(proposal("mail.partner.example")) is True
    assert approver(proposal("evil.example")) is False
    assert ["mail.partner.example", "evil.example"] == [p.host for p in approver.proposals]
