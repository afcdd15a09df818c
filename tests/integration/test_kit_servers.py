"""The kit's local servers hand back a resolver and transport that discover() uses as they are."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from autodiscover_client import (
    AuthenticationError,
    DiscoveryError,
    DnspythonResolver,
    Method,
    Outcome,
    RequestsTransport,
    discover,
)
from autodiscover_client.testing import (
    LocalAutodiscover,
    LocalAutodiscoverServer,
    LocalDnsServer,
    RecordedRequest,
    ServerResponse,
    html_response,
    redirect_response,
    refused_port,
    settings_body,
    unauthorized_response,
    xml_response,
)

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"ann@{DOMAIN}"
PASSWORD = "local-kit-secret"
EWS = f"https://mail.{DOMAIN}/EWS/Exchange.asmx"
BODY = settings_body(ews_url=EWS)


@pytest.fixture
def net() -> Iterator[LocalAutodiscover]:
    with LocalAutodiscover() as network:
        yield network


def test_dns_server_resolver_asks_that_server() -> None:
    """LocalDnsServer.resolver() is the default resolver pointed at the server's port."""
    with LocalDnsServer() as server:
        server.add_srv(f"_autodiscover._tcp.{DOMAIN}", f"mail.{DOMAIN}", 8443)
        server.add_a(f"mail.{DOMAIN}", "127.0.0.1")
        resolver = server.resolver(timeout=1.5)
        assert isinstance(resolver, DnspythonResolver)
        assert (server.address,) == resolver.nameservers
        assert [(f"mail.{DOMAIN}", 8443)] == [
            (r.target, r.port) for r in resolver.resolve_srv(f"_autodiscover._tcp.{DOMAIN}", timeout=1)
        ]
        assert ("127.0.0.1",) == tuple(resolver.resolve_addresses(f"mail.{DOMAIN}", timeout=1))


def test_https_server_transport_trusts_the_ca_and_reaches_the_hosts() -> None:
    """LocalAutodiscoverServer.transport() verifies TLS against the test CA and connects through the overrides."""
    with LocalAutodiscoverServer() as web:
        web.add_host(DOMAIN, ServerResponse(body=BODY))
        transport = web.transport()
        assert isinstance(transport, RequestsTransport)
        settings = discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT], transport=transport)
        assert EWS == settings.ews_url
        assert [(DOMAIN, "POST", "/autodiscover/autodiscover.xml")] == [
            (r.host, r.method, r.path) for r in web.requests
        ]


def test_local_autodiscover_resolves_names_and_serves_builder_responses(net: LocalAutodiscover) -> None:
    """Hosts added take the kit's HttpResponse builders or bare bodies, and get DNS records on loopback."""
    net.add_host(DOMAIN, html_response())
    net.add_host(f"autodiscover.{DOMAIN}", BODY, credentials=(EMAIL, PASSWORD))
    settings = discover(EMAIL, PASSWORD, **net.discover_kwargs())
    assert (Method.HTTPS_AUTODISCOVER, EWS) == (settings.source.method, settings.ews_url)
    expected = [Outcome.NO_RECORDS, Outcome.INVALID_RESPONSE, Outcome.UNAUTHORIZED, Outcome.SETTINGS]
    assert expected == [a.outcome for a in settings.attempts]
    assert ("127.0.0.1",) == tuple(net.resolver().resolve_addresses(f"autodiscover.{DOMAIN}", timeout=1))
    assert (f"_autodiscover._tcp.{DOMAIN}", "SRV") in net.queries


def test_basic_auth_checking_and_where_credentials_arrived(net: LocalAutodiscover) -> None:
    """Wrong credentials get 401 (AuthenticationError); the log says which host got them, never the secret."""
    net.add_host(DOMAIN, BODY, credentials=(EMAIL, "the-right-one"))
    with pytest.raises(AuthenticationError):
        net.discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT])
    assert {("https", DOMAIN)} == net.credential_hosts()
    assert [None, False] == [r.credentials_valid for r in net.requests]
    authenticated = net.requests[1]
    assert (EMAIL, "Basic", "<redacted>") == (
        authenticated.auth_user,
        authenticated.auth_scheme,
        authenticated.header("Authorization"),
    )
    assert all(PASSWORD not in repr(request) for request in net.requests)
    assert EWS == net.discover(EMAIL, "the-right-one", methods=[Method.HTTPS_ROOT]).ews_url
    assert net.requests[-1].credentials_valid is True


def test_srv_defaults_to_the_port_the_target_listens_on(net: LocalAutodiscover) -> None:
    """add_srv() without a port points at the target's real https port; unknown targets need one."""
    endpoint = net.add_host(f"mail.{DOMAIN}", xml_response(BODY))
    net.add_srv(DOMAIN, f"mail.{DOMAIN}")
    settings = net.discover(EMAIL, PASSWORD, methods=[Method.SRV])
    assert f"https://mail.{DOMAIN}:{endpoint.port}/autodiscover/autodiscover.xml" == settings.source.url
    with pytest.raises(ValueError, match="not served here"):
        net.add_srv(DOMAIN, f"nowhere.{DOMAIN}")
    net.add_srv(DOMAIN, f"MAIL.{DOMAIN.upper()}.", priority=5)  # case and a final dot name the same host


def test_refused_port_and_srv_priorities(net: LocalAutodiscover) -> None:
    """A target on refused_port() fails fast with a connect error, and the next priority answers."""
    net.add_srv(DOMAIN, f"dead.{DOMAIN}", refused_port(), priority=0)
    net.add_host(f"backup.{DOMAIN}", BODY)
    net.add_srv(DOMAIN, f"backup.{DOMAIN}", priority=10)
    settings = net.discover(EMAIL, PASSWORD, methods=[Method.SRV])
    assert [Outcome.CONNECT_ERROR, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]


def test_sequences_handlers_and_plain_http_hosts(net: LocalAutodiscover) -> None:
    """A sequence answers in turn; a handler sees the recorded request; an http host redirects the probe."""
    seen: list[RecordedRequest] = []

    def handler(request: RecordedRequest) -> ServerResponse:
        seen.append(request)
        return ServerResponse(body=BODY)

    target = net.add_host(f"mail.{DOMAIN}", handler)
    net.add_host(
        f"autodiscover.{DOMAIN}", redirect_response(f"{target.url}/autodiscover/autodiscover.xml"), scheme="http"
    )
    net.add_host(DOMAIN, [unauthorized_response(), xml_response(b"", status=503), BODY])
    with pytest.raises(DiscoveryError):
        net.discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT])
    assert EWS == net.discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT]).ews_url
    settings = net.discover(EMAIL, PASSWORD, methods=[Method.HTTP_REDIRECT])
    assert target.url + "/autodiscover/autodiscover.xml" == settings.source.url
    assert [f"mail.{DOMAIN}"] == [r.host for r in seen]
    assert ("http", f"autodiscover.{DOMAIN}") not in net.credential_hosts()


def test_exit_closes_everything() -> None:
    """After the with block the ports are free again and the CA bundle is gone."""
    with LocalAutodiscover() as network:
        endpoint = network.add_host(DOMAIN, BODY)
        network.discover(EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT])
        bundle = network.ca_bundle
        dns_port = network.dns.address[1]
    assert not os.path.exists(bundle)
    with socket.socket() as probe:
        assert 0 != probe.connect_ex(("127.0.0.1", endpoint.port))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        assert 0 != probe.connect_ex(("127.0.0.1", dns_port))


def test_ipv6_hosts_get_aaaa_records() -> None:
    """On ::1, hosts are published as AAAA records and reached over IPv6."""
    network = LocalAutodiscover(address="::1")
    try:
        network.__enter__()
    except OSError as exc:
        pytest.skip(f"IPv6 loopback (::1) is not available here: {exc}")
    try:
        network.add_host(f"mail.{DOMAIN}", BODY)
        network.add_srv(DOMAIN, f"mail.{DOMAIN}")
        assert ("::1",) == tuple(network.resolver().resolve_addresses(f"mail.{DOMAIN}", timeout=1))
        assert EWS == network.discover(EMAIL, PASSWORD, methods=[Method.SRV]).ews_url
    finally:
        network.__exit__(None, None, None)
