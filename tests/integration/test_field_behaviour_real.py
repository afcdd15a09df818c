"""Field behaviour (issue 2's list) over real sockets: a DNS server and HTTPS hosts on loopback, default adapters.

The same kinds are covered with fakes in ``tests/unit/test_field_behaviour.py``; here the default resolver
and transport meet them for real (status lines, Location headers, SRV answers, IPv6).
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from _support import transport_for

from autodiscover_client import (
    DiscoveryError,
    DnspythonResolver,
    Method,
    Outcome,
    RequestsTransport,
    Settings,
    discover,
)
from autodiscover_client.testing import (
    LocalAutodiscoverServer,
    LocalDnsServer,
    error_body,
    redirect_addr_body,
    refused_port,
    settings_body,
)
from autodiscover_client.testing._https_server import RecordedRequest, ServerResponse, html_page, redirect

pytestmark = pytest.mark.integration

DOMAIN = "field.test"
EMAIL = f"user@{DOMAIN}"
PASSWORD = "correct horse battery staple"
EWS = f"https://mail.{DOMAIN}/EWS/Exchange.asmx"
SETTINGS = ServerResponse(headers=(("Content-Type", "application/xml"),), body=settings_body(ews_url=EWS))
LOWER = "/autodiscover/autodiscover.xml"
OUTLOOK = "/Autodiscover/Autodiscover.xml"
BOTH = [Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER]


def run(
    web: LocalAutodiscoverServer,
    resolver: DnspythonResolver,
    methods: list[Method],
    email: str = EMAIL,
    *,
    parallel: bool = True,
) -> Settings | DiscoveryError:
    """discover() with the default adapters; returns Settings or the DiscoveryError.

    Tests of the order in which servers see requests pass ``parallel=False``: concurrently, lower-priority
    candidates are asked at the same time.
    """
    with transport_for(web, resolver) as transport:
        try:
            return discover(
                email, PASSWORD, methods=methods, resolver=resolver, transport=transport, timeout=20.0,
                parallel=parallel,
            )  # fmt: skip
        except DiscoveryError as exc:
            return exc


def outcomes(result: Settings | DiscoveryError) -> list[Outcome]:
    return [a.outcome for a in result.attempts]


# --- errors and HTTP -------------------------------------------------------------------------------


def test_an_unknown_error_in_a_200_and_an_empty_204_each_fail_their_candidate(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """An unknown Error code inside HTTP 200 and an empty 204 are each one failed candidate, explained."""
    web.add_host(DOMAIN, ServerResponse(status=200, body=error_body(4711, "Made up")))
    web.add_host(f"autodiscover.{DOMAIN}", ServerResponse(status=204))
    result = run(web, resolver, BOTH)
    assert isinstance(result, DiscoveryError)
    assert [(Outcome.SERVER_ERROR, 200), (Outcome.INVALID_RESPONSE, 204)] == [
        (a.outcome, a.status) for a in result.attempts
    ]
    assert "Autodiscover error 4711: Made up" == result.attempts[0].error


def test_a_401_on_one_candidate_while_a_later_one_succeeds(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """The root host rejects the password, autodiscover. accepts it after its own challenge."""
    web.add_host(DOMAIN, SETTINGS, credentials=(EMAIL, "another password"))
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, credentials=(EMAIL, PASSWORD))
    result = run(web, resolver, BOTH, parallel=False)
    assert [Outcome.UNAUTHORIZED] * 3 + [Outcome.SETTINGS] == outcomes(result)
    assert [None, False, None, True] == [r.credentials_valid for r in web.requests]


def test_root_domain_301_to_its_web_site(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """https://<domain> answers 301 to https://www.<domain>/, a web page; autodiscover. answers next."""
    web.add_host(DOMAIN, redirect(f"https://www.{DOMAIN}/", 301))
    web.add_host(f"www.{DOMAIN}", html_page())
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS)
    result = run(web, resolver, BOTH, parallel=False)
    assert [Outcome.REDIRECT_URL, Outcome.INVALID_RESPONSE, Outcome.SETTINGS] == outcomes(result)
    assert [(DOMAIN, "POST"), (f"www.{DOMAIN}", "POST"), (f"autodiscover.{DOMAIN}", "POST")] == [
        (r.host, r.method) for r in web.requests
    ]


def _only(path: str, response: ServerResponse, status: int = 404) -> Callable[[RecordedRequest], ServerResponse]:
    def handler(request: RecordedRequest) -> ServerResponse:
        return response if request.path == path else ServerResponse(status=status, body=b"<h1>Not Found</h1>")

    return handler


@pytest.mark.parametrize("status", [404, 405])
def test_a_host_that_answers_only_outlooks_path_spelling(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver, status: int
) -> None:
    """A case-sensitive route for /Autodiscover/Autodiscover.xml: our spelling gets 404/405, Outlook's answers."""
    web.add_host(f"autodiscover.{DOMAIN}", _only(OUTLOOK, SETTINGS, status))
    result = run(web, resolver, [Method.HTTPS_AUTODISCOVER])
    assert [(Outcome.HTTP_ERROR, status), (Outcome.SETTINGS, 200)] == [(a.outcome, a.status) for a in result.attempts]
    assert [LOWER, OUTLOOK] == [r.path for r in web.requests]


def test_5xx_then_success(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """A 503 from the root host fails it once (no path retry for 5xx); autodiscover. answers."""
    web.add_host(DOMAIN, ServerResponse(status=503, body=b"busy"))
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS)
    result = run(web, resolver, BOTH)
    assert [(Outcome.HTTP_ERROR, 503), (Outcome.SETTINGS, 200)] == [(a.outcome, a.status) for a in result.attempts]
    assert 2 == len(web.requests)


def _locations(request: RecordedRequest) -> ServerResponse:
    if request.path == LOWER:
        return redirect("/ews/ad.xml", 302)  # relative
    if request.path == "/ews/ad.xml":
        return redirect(f"https://autodiscover.{DOMAIN.upper()}:443{OUTLOOK}", 307)  # default port, other case
    return ServerResponse(status=404)


def test_locations_relative_with_default_port_and_other_path_case(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """A relative Location, then one with an explicit :443, upper-case host and Outlook's path, reach the answer."""
    web.add_host(DOMAIN, _locations)
    web.add_host(f"autodiscover.{DOMAIN}", _only(OUTLOOK, SETTINGS))
    result = run(web, resolver, BOTH, parallel=False)
    assert [Outcome.REDIRECT_URL, Outcome.REDIRECT_URL, Outcome.SETTINGS] == outcomes(result)
    assert [f"https://{DOMAIN}/ews/ad.xml", f"https://autodiscover.{DOMAIN.upper()}:443{OUTLOOK}"] == [
        a.url for a in result.attempts[1:]
    ]
    assert [(DOMAIN, LOWER), (DOMAIN, "/ews/ad.xml"), (f"autodiscover.{DOMAIN}", OUTLOOK)] == [
        (r.host, r.path) for r in web.requests
    ]


# --- DNS -------------------------------------------------------------------------------------------

SRV = f"_autodiscover._tcp.{DOMAIN}."


def test_several_srv_targets_are_all_tried_in_priority_order(
    dns_server: LocalDnsServer, web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """Two weighted targets at priority 10 and one at 20 are dead; the priority-30 one, on its own port, answers."""
    alive = web.add_host(f"d.{DOMAIN}", SETTINGS)
    dns_server.add_srv(SRV, f"d.{DOMAIN}.", alive.port, priority=30)
    dns_server.add_srv(SRV, f"c.{DOMAIN}.", refused_port(), priority=20)
    dns_server.add_srv(SRV, f"a.{DOMAIN}.", refused_port(), priority=10, weight=60)
    dns_server.add_srv(SRV, f"b.{DOMAIN}.", refused_port(), priority=10, weight=40)
    for name in "abcd":
        dns_server.add_a(f"{name}.{DOMAIN}.", "127.0.0.1")
    result = run(web, resolver, [Method.SRV])
    assert [Outcome.CONNECT_ERROR] * 3 + [Outcome.SETTINGS] == outcomes(result)
    hosts = [a.url.split("/")[2].split(":")[0] for a in result.attempts]
    assert {f"a.{DOMAIN}", f"b.{DOMAIN}"} == set(hosts[:2])  # weighted order within priority 10 is random
    assert [f"c.{DOMAIN}", f"d.{DOMAIN}"] == hosts[2:]
    assert isinstance(result, Settings)
    assert f"https://d.{DOMAIN}:{alive.port}{LOWER}" == result.source.url


def test_a_dot_srv_target_means_no_service_and_https_goes_on(
    dns_server: LocalDnsServer, web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """SRV answering '.' over real DNS is "no service": nothing is contacted for it, the root domain answers."""
    dns_server.add_srv(SRV, ".", 0)
    web.add_host(DOMAIN, SETTINGS)
    result = run(web, resolver, [Method.SRV, Method.HTTPS_ROOT])
    assert [Outcome.NO_RECORDS, Outcome.SETTINGS] == outcomes(result)
    assert [DOMAIN] == [r.host for r in web.requests]


def test_a_trailing_dot_and_upper_case_in_the_address_domain(
    dns_server: LocalDnsServer, web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """``user@FIELD.test.`` is discovered as ``user@field.test``: the same DNS names, hosts and request body."""
    endpoint = web.add_host(f"mail.{DOMAIN}", SETTINGS)
    dns_server.add_srv(SRV, f"MAIL.{DOMAIN.upper()}.", endpoint.port)
    dns_server.add_a(f"mail.{DOMAIN}", "127.0.0.1")
    result = run(web, resolver, [Method.SRV], email=f"user@{DOMAIN.upper()}.")
    assert EMAIL == result.email
    assert (f"_autodiscover._tcp.{DOMAIN}", "SRV") in dns_server.queries
    assert f"<EMailAddress>{EMAIL}</EMailAddress>".encode() in web.requests[0].body


def _ipv6_loopback_reason() -> str | None:
    if not socket.has_ipv6:
        return "this Python has no IPv6 support (socket.has_ipv6 is False)"
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError as exc:
        return f"the IPv6 loopback ::1 cannot be bound here: {exc}"
    return None


def test_a_target_with_only_an_aaaa_record_among_ipv4_ones(
    dns_server: LocalDnsServer, resolver: DnspythonResolver
) -> None:
    """An IPv4 target that refuses, then a target with only an AAAA record (::1) that answers over IPv6."""
    reason = _ipv6_loopback_reason()
    if reason is not None:
        pytest.skip(reason)
    with LocalAutodiscoverServer(address="::1") as web6:
        endpoint = web6.add_host(f"v6.{DOMAIN}", SETTINGS)
        dns_server.add_srv(SRV, f"v4.{DOMAIN}.", refused_port(), priority=0)
        dns_server.add_srv(SRV, f"v6.{DOMAIN}.", endpoint.port, priority=5)
        dns_server.add_a(f"v4.{DOMAIN}", "127.0.0.1")
        dns_server.add_aaaa(f"v6.{DOMAIN}", "::1")
        with RequestsTransport(ca_bundle=web6.ca_bundle, resolver=resolver) as transport:
            settings = discover(EMAIL, PASSWORD, methods=[Method.SRV], resolver=resolver, transport=transport)
    assert [Outcome.CONNECT_ERROR, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]
    assert EWS == settings.ews_url
    assert (f"v6.{DOMAIN}", "AAAA") in dns_server.queries
    assert [f"v6.{DOMAIN}"] == [r.host for r in web6.requests]


# --- redirects -------------------------------------------------------------------------------------


def test_a_redirect_addr_chain_over_real_sockets(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """user@field.test → b@one.field.test → c@two.field.test, each restarting discovery, ends in settings."""
    web.add_host(DOMAIN, ServerResponse(body=redirect_addr_body(f"b@one.{DOMAIN}")))
    web.add_host(f"one.{DOMAIN}", ServerResponse(body=redirect_addr_body(f"c@two.{DOMAIN}")))
    web.add_host(f"two.{DOMAIN}", SETTINGS)
    result = run(web, resolver, [Method.HTTPS_ROOT])
    assert f"c@two.{DOMAIN}" == result.email
    assert [Outcome.REDIRECT_ADDRESS, Outcome.REDIRECT_ADDRESS, Outcome.SETTINGS] == outcomes(result)
    assert [f"<EMailAddress>{a}</EMailAddress>".encode() in r.body for a, r in zip(
        (EMAIL, f"b@one.{DOMAIN}", f"c@two.{DOMAIN}"), web.requests, strict=True)] == [True] * 3  # fmt: skip
