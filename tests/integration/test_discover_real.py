"""discover() with the default resolver and transport over real sockets: DNS on loopback, HTTPS with a test CA."""

from __future__ import annotations

import pytest

from autodiscover_client import (
    DiscoveryError,
    DnspythonResolver,
    Method,
    Outcome,
    RequestsTransport,
    discover,
)
from autodiscover_client.testing import (
    LocalAutodiscoverServer,
    LocalDnsServer,
    ServerResponse,
    refused_port,
    settings_body,
)
from autodiscover_client.testing._https_server import html_page, redirect

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"user@{DOMAIN}"
PASSWORD = "correct horse battery staple"
EWS = f"https://mail.{DOMAIN}/EWS/Exchange.asmx"
SETTINGS = ServerResponse(headers=(("Content-Type", "text/html"),), body=settings_body(ews_url=EWS))


def credential_hosts(web: LocalAutodiscoverServer) -> set[tuple[str, str]]:
    return {(scheme, host) for scheme, host, _ in web.credentials_seen()}


def test_srv_with_a_non_default_port_over_real_dns(
    dns_server: LocalDnsServer, web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """SRV and A records from a real DNS server lead to https://target:port, where Basic auth succeeds."""
    endpoint = web.add_host(f"mail.{DOMAIN}", SETTINGS, credentials=(EMAIL, PASSWORD))
    dns_server.add_srv(f"_autodiscover._tcp.{DOMAIN}.", f"mail.{DOMAIN}.", endpoint.port)
    dns_server.add_a(f"mail.{DOMAIN}", "127.0.0.1")
    with web.transport(resolver=resolver) as transport:
        settings = discover(EMAIL, PASSWORD, methods=[Method.SRV], resolver=resolver, transport=transport)
    assert f"https://mail.{DOMAIN}:{endpoint.port}/autodiscover/autodiscover.xml" == settings.source.url
    assert EWS == settings.ews_url
    assert {("https", f"mail.{DOMAIN}")} == credential_hosts(web)
    assert ("_autodiscover._tcp.example.test", "SRV") in dns_server.queries


def test_srv_targets_are_tried_in_priority_order(
    dns_server: LocalDnsServer, web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """The lowest priority is tried first; when its host refuses, the next priority answers."""
    endpoint = web.add_host(f"backup.{DOMAIN}", SETTINGS)
    dns_server.add_srv(f"_autodiscover._tcp.{DOMAIN}", f"backup.{DOMAIN}", endpoint.port, priority=20)
    dns_server.add_srv(f"_autodiscover._tcp.{DOMAIN}", f"primary.{DOMAIN}", refused_port(), priority=10, weight=5)
    for name in ("primary", "backup"):
        dns_server.add_a(f"{name}.{DOMAIN}", "127.0.0.1")
    with web.transport(resolver=resolver) as transport:
        settings = discover(EMAIL, PASSWORD, methods=[Method.SRV], resolver=resolver, transport=transport)
    assert [Outcome.CONNECT_ERROR, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]
    assert f"primary.{DOMAIN}" in settings.attempts[0].url


def test_host_with_only_an_aaaa_record(
    dns_server: LocalDnsServer, resolver: DnspythonResolver, web: LocalAutodiscoverServer
) -> None:
    """A target that has only an AAAA record is reached over IPv6."""
    try:
        endpoint = web.add_host(f"v6.{DOMAIN}", SETTINGS, address="::1")
    except OSError as exc:
        pytest.skip(f"IPv6 loopback (::1) is not available here: {exc}")
    dns_server.add_srv(f"_autodiscover._tcp.{DOMAIN}", f"v6.{DOMAIN}", endpoint.port)
    dns_server.add_aaaa(f"v6.{DOMAIN}", "::1")
    with RequestsTransport(ca_bundle=web.ca_bundle, resolver=resolver) as transport:
        settings = discover(EMAIL, PASSWORD, methods=[Method.SRV], resolver=resolver, transport=transport)
    assert EWS == settings.ews_url
    assert [f"v6.{DOMAIN}"] == [r.host for r in web.requests]


def test_outlook_fallback_over_real_sockets(
    dns_server: LocalDnsServer, web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """No SRV, a web site on the root domain, then autodiscover. answers after a 401."""
    web.add_host(DOMAIN, html_page())
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, credentials=(EMAIL, PASSWORD))
    with web.transport(resolver=resolver) as transport:
        settings = discover(EMAIL, PASSWORD, resolver=resolver, transport=transport)
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    expected = [Outcome.NO_RECORDS, Outcome.INVALID_RESPONSE, Outcome.UNAUTHORIZED, Outcome.SETTINGS]
    assert expected == [a.outcome for a in settings.attempts]
    assert {("https", f"autodiscover.{DOMAIN}")} == credential_hosts(web)


def test_certificate_for_the_wrong_name_is_refused_before_credentials(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """A certificate issued for another name fails TLS, so the password never leaves."""
    web.add_host(DOMAIN, SETTINGS, credentials=(EMAIL, PASSWORD), cert_hostnames=["other.example.test"])
    with web.transport(resolver=resolver) as transport, pytest.raises(DiscoveryError) as info:
        discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT], resolver=resolver, transport=transport)
    assert Outcome.TLS_ERROR == info.value.attempts[0].outcome
    assert [] == [r for r in web.requests]


def test_certificate_from_an_untrusted_ca_is_refused(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """Without the test CA (certifi's bundle only), the local certificate does not verify."""
    web.add_host(DOMAIN, SETTINGS)
    with RequestsTransport(connect_to=web.connect_overrides) as transport, pytest.raises(DiscoveryError) as info:
        discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT], resolver=resolver, transport=transport)
    assert Outcome.TLS_ERROR == info.value.attempts[0].outcome


def test_http_probe_redirect_over_real_sockets(
    dns_server: LocalDnsServer, web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """A plain-http 302 to https in the domain is POSTed to; the http host never sees credentials."""
    target = web.add_host(f"mail.{DOMAIN}", SETTINGS, credentials=(EMAIL, PASSWORD))
    dns_server.add_a(f"mail.{DOMAIN}", "127.0.0.1")
    location = f"https://mail.{DOMAIN}:{target.port}/Autodiscover/Autodiscover.xml"
    web.add_host(f"autodiscover.{DOMAIN}", redirect(location), scheme="http")
    with web.transport(resolver=resolver) as transport:
        settings = discover(EMAIL, PASSWORD, methods=[Method.HTTP_REDIRECT], resolver=resolver, transport=transport)
    assert location == settings.source.url
    assert {("https", f"mail.{DOMAIN}")} == credential_hosts(web)
    assert [("http", "GET")] == [(r.scheme, r.method) for r in web.requests if r.scheme == "http"]


def test_oversized_body_is_refused(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> None:
    """A body over the 1 MiB cap fails the candidate as too large."""
    web.add_host(DOMAIN, ServerResponse(body=b"<" * (1024 * 1024 + 10)))
    with web.transport(resolver=resolver) as transport, pytest.raises(DiscoveryError) as info:
        discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT], resolver=resolver, transport=transport)
    assert Outcome.TOO_LARGE == info.value.attempts[0].outcome


def test_refused_connection_and_missing_dns_name(resolver: DnspythonResolver, web: LocalAutodiscoverServer) -> None:
    """A name with no A/AAAA records and a refused port are each one failed candidate."""
    with (
        RequestsTransport(ca_bundle=web.ca_bundle, resolver=resolver) as transport,
        pytest.raises(DiscoveryError) as info,
    ):
        discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT], resolver=resolver, transport=transport)
    assert Outcome.CONNECT_ERROR == info.value.attempts[0].outcome
    assert "cannot resolve example.test" in (info.value.attempts[0].error or "")
