"""Ldap3ScpSource over real sockets: LDAPS on loopback with a trustme certificate, a small SCP tree.

The directory is ``_ldap_server``: a minimal RFC 4511 peer built on ldap3's ASN.1 classes (not on
ldap3's client code), answering binds, the RootDSE and subtree searches.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("ldap3", reason="the ad extra (ldap3) is not installed")

from _ldap_server import ldap_server

from autodiscover_client import (
    POINTER_KEYWORD,
    URL_KEYWORD,
    DiscoveryError,
    Ldap3ScpSource,
    Method,
    Outcome,
    RequestsTransport,
    ResolverError,
    discover,
)
from autodiscover_client.testing import LocalAutodiscoverServer, settings_body
from autodiscover_client.testing._https_server import ServerResponse

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"user@{DOMAIN}"
CONFIG = "CN=Configuration,DC=corp,DC=example,DC=test"
ACCOUNT = ("CN=svc-reader,CN=Users,DC=corp,DC=example,DC=test", "ldap-Passw0rd")
EWS = f"https://mail.{DOMAIN}/EWS/Exchange.asmx"


def scp(name: str, binding: str, *keywords: str) -> tuple[str, dict[str, list[str]]]:
    return (
        f"CN={name},CN=Autodiscover,CN=Protocols,CN=EX01,CN=Servers,{CONFIG}",
        {"objectClass": ["top", "serviceConnectionPoint"], "keywords": list(keywords),
         "serviceBindingInformation": [binding]},
    )  # fmt: skip


@pytest.fixture
def web() -> Iterator[LocalAutodiscoverServer]:
    with LocalAutodiscoverServer() as server:
        yield server


def source(web: LocalAutodiscoverServer, port: int, password: str = ACCOUNT[1]) -> Ldap3ScpSource:
    return Ldap3ScpSource(f"127.0.0.1:{port}", user=ACCOUNT[0], password=password, ca_bundle=web.ca_bundle)


def test_ldaps_search_reads_the_configuration_context(web: LocalAutodiscoverServer) -> None:
    """Bind over verified LDAPS, read the RootDSE, search its configurationNamingContext for both GUIDs."""
    url = f"https://exch01.{DOMAIN}/Autodiscover/Autodiscover.xml"
    tree = [scp("ex01", url, URL_KEYWORD, "Site=Default-First-Site-Name")]
    with ldap_server(tree, config_nc=CONFIG, ca=web.ca, account=ACCOUNT) as (port, log):
        records = source(web, port).search(None, timeout=5.0)
    assert [url] == [r.binding for r in records]
    assert "Site=Default-First-Site-Name" in records[0].keywords
    assert records[0].dn.startswith("CN=ex01,")
    assert [(ACCOUNT[0], True)] == log.binds
    assert [("", 0), (CONFIG, 2)] == [(base, scope) for base, scope, _ in log.searches]  # RootDSE, then subtree
    ber = log.searches[1][2]
    for needle in (URL_KEYWORD, POINTER_KEYWORD, "serviceConnectionPoint"):
        assert needle.encode() in ber


def test_discover_follows_a_pointer_between_two_real_directories(web: LocalAutodiscoverServer) -> None:
    """A Domain= pointer leads to a second LDAPS server whose SCP URL is POSTed to over real TLS."""
    url = f"https://exch02.{DOMAIN}/Autodiscover/Autodiscover.xml"
    web.add_host(f"exch02.{DOMAIN}", ServerResponse(body=settings_body(ews_url=EWS)), credentials=(EMAIL, "pw"))
    with ldap_server([scp("ex02", url, URL_KEYWORD)], config_nc=CONFIG, ca=web.ca, account=ACCOUNT) as (second, log2):
        pointer = scp("ptr", f"LDAP://127.0.0.1:{second}", POINTER_KEYWORD, f"Domain={DOMAIN}")
        with (
            ldap_server([pointer], config_nc=CONFIG, ca=web.ca, account=ACCOUNT) as (first, log1),
            RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides) as http,
        ):
            settings = discover(EMAIL, "pw", methods=[Method.SCP], transport=http, scp_source=source(web, first))
    assert (Method.SCP, url, EWS) == (settings.source.method, settings.source.url, settings.ews_url)
    assert 1 == len(log1.binds) and 1 == len(log2.binds)  # noqa: PT018


def test_a_certificate_for_another_name_is_refused_before_the_bind(web: LocalAutodiscoverServer) -> None:
    """LDAPS verifies the directory's certificate: a mismatch fails, and no password reaches it."""
    with (
        ldap_server([], ca=web.ca, cert_names=["dc.elsewhere.test"], account=ACCOUNT) as (port, log),
        pytest.raises(ResolverError),
    ):
        source(web, port).search(None, timeout=5.0)
    assert [] == log.binds


def test_a_wrong_password_is_a_directory_error_and_discovery_goes_on(web: LocalAutodiscoverServer) -> None:
    """A refused bind is one DIRECTORY_ERROR attempt; the next method still runs."""
    web.add_host(DOMAIN, ServerResponse(status=404))
    with (
        ldap_server([], ca=web.ca, account=ACCOUNT) as (port, log),
        RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides) as http,
        pytest.raises(DiscoveryError) as info,
    ):
        discover(EMAIL, methods=[Method.SCP, Method.HTTPS_ROOT], transport=http,
                 scp_source=source(web, port, password="wrong"))  # fmt: skip
    first = info.value.attempts[0]
    assert (Method.SCP, Outcome.DIRECTORY_ERROR) == (first.method, first.outcome)
    assert "bind" in (first.error or "")
    assert "wrong" not in str(info.value)
    assert [(ACCOUNT[0], False)] == log.binds
