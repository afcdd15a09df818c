"""SCP look-up (MS-OXDISCO §3.1.5.1, PROTOCOL.md §1.3): planning, pointers, the flow, and Ldap3ScpSource.

The ldap3 tests use ldap3's own offline strategy (``MOCK_SYNC``) with its bundled Active Directory
schema (``OFFLINE_AD_2012_R2``): a real ldap3 client against an in-memory directory, not a real LDAP
server on a socket.
"""

from __future__ import annotations

from typing import Any

import pytest

from autodiscover_client import (
    DEFAULT_ORDER,
    POINTER_KEYWORD,
    URL_KEYWORD,
    DiscoveryError,
    Ldap3ScpSource,
    Method,
    Outcome,
    RedirectReason,
    ResolverError,
    ScpRecord,
    discover,
)
from autodiscover_client._flow import ordered_methods
from autodiscover_client._scp import ldap_server, plan
from autodiscover_client.testing import (
    FakeResolver,
    FakeScpSource,
    FakeTransport,
    RecordingApprover,
    scp_pointer,
    scp_url,
    settings_body,
    xml_response,
)

EMAIL = "user@example.com"
EWS = "https://mail.example.com/EWS/Exchange.asmx"
OK = xml_response(settings_body(ews_url=EWS))
A = "https://a.example.com/Autodiscover/Autodiscover.xml"
B = "https://b.example.com/Autodiscover/Autodiscover.xml"
C = "https://c.example.com/Autodiscover/Autodiscover.xml"


# --- planning ----------------------------------------------------------------------------------------


def test_urls_are_ordered_own_site_then_no_site_then_other_sites() -> None:
    """Priority 1 is Site=<own site>, 2 no Site keyword, 3 another site; ties keep directory order."""
    records = [scp_url(C, "Site=Far"), scp_url(B), scp_url(A, "site=HOME")]
    assert (A, B, C) == plan(records, domain="example.com", site="Home").urls


def test_without_a_known_site_no_url_has_priority_one() -> None:
    """An unknown client site puts URLs without Site= first."""
    records = [scp_url(A, "Site=Home"), scp_url(B)]
    assert (B, A) == plan(records, domain="example.com", site=None).urls


def test_urls_are_deduplicated_case_insensitively() -> None:
    """The same URL in another case is tried once, at its best priority."""
    records = [scp_url(A.upper(), "Site=Far"), scp_url(A, "Site=Home")]
    assert (A,) == plan(records, domain="example.com", site="home").urls


def test_keyword_guids_compare_case_insensitively() -> None:
    """Servers write the GUIDs in mixed case; both spellings count."""
    records = [
        ScpRecord(binding=A, keywords=(URL_KEYWORD.lower(),)),
        ScpRecord(binding=B, keywords=(URL_KEYWORD.upper(),)),
    ]
    assert (A, B) == plan(records, domain="example.com", site=None).urls


def test_pointers_are_classified_by_their_domain_keyword() -> None:
    """Domain=<mail domain> is followed at once; no Domain= is a fallback; another domain is skipped."""
    records = [
        scp_pointer("LDAP://dc1.example.com", "Domain=EXAMPLE.com"),
        scp_pointer("ldap://dc2.example.com:3268"),
        scp_pointer("LDAP://dc3.example.org", "Domain=example.org"),
        scp_pointer("https://not-ldap.example.com"),
        ScpRecord(binding=A, keywords=("Site=Home",)),  # neither GUID: ignored
        scp_url("ftp://x.example.com/a"),
    ]
    found = plan(records, domain="example.com", site=None)
    assert ("dc1.example.com",) == found.domain_pointers
    assert ("dc2.example.com:3268",) == found.fallback_pointers
    assert () == found.urls
    assert 3 == len(found.skipped)


@pytest.mark.parametrize(
    ("binding", "server"),
    [("LDAP://DC1.example.com", "dc1.example.com"), ("ldap://dc1:389/CN=x", "dc1:389"), ("ldap://", None),
     ("ldap://dc1:99999", None), ("https://dc1", None)],
)  # fmt: skip
def test_ldap_server_parsing(binding: str, server: str | None) -> None:
    """Pointers name LDAP://host[:port]; anything else is not a server."""
    assert server == ldap_server(binding)


def test_scp_is_off_by_default_and_goes_before_domain_methods() -> None:
    """SCP is in no default order; enabled, it runs after V2 and before everything else."""
    assert Method.SCP not in DEFAULT_ORDER
    assert (Method.V2_JSON, Method.SCP, Method.SRV, Method.HTTPS_ROOT) == ordered_methods(
        [Method.SRV, Method.SCP, Method.HTTPS_ROOT, Method.V2_JSON]
    )


# --- the flow with the public fake ---------------------------------------------------------------------


def run_scp(source: FakeScpSource, transport: FakeTransport, **kwargs: Any) -> Any:
    return discover(
        EMAIL, "pw", methods=kwargs.pop("methods", [Method.SCP, Method.HTTPS_ROOT]), resolver=FakeResolver(),
        transport=transport, scp_source=source, **kwargs,
    )  # fmt: skip


def test_scp_urls_are_tried_first_in_site_order_and_errors_are_inconclusive() -> None:
    """The own-site URL goes first; its failure moves on to the next SCP URL, before HTTPS_ROOT."""
    source = FakeScpSource({None: [scp_url(B), scp_url(A, "Site=Home")]})
    transport = FakeTransport({B: OK})
    settings = run_scp(source, transport, ad_site="Home", parallel=False)  # the request order is sequential
    assert (Method.SCP, B) == (settings.source.method, settings.source.url)
    assert [A, B] == [r.url for r in transport.requests]


def test_a_domain_pointer_discards_the_current_set_and_searches_there() -> None:
    """Learn: on a pointer for the user's domain, discard the SCP objects and start over there."""
    source = FakeScpSource({
        None: [scp_url(A), scp_pointer("LDAP://dc2.example.com", "Domain=example.com")],
        "dc2.example.com": [scp_url(B)],
    })  # fmt: skip
    transport = FakeTransport({A: OK, B: OK})
    settings = run_scp(source, transport)
    assert B == settings.source.url
    assert (None, "dc2.example.com") == source.searches
    assert Outcome.REDIRECT_URL == settings.attempts[0].outcome


def test_fallback_pointers_are_used_only_when_nothing_else_yields_urls() -> None:
    """A pointer without Domain= is searched only after the current directory gave no URL."""
    source = FakeScpSource({None: [scp_pointer("LDAP://gc.example.com:3268")], "gc.example.com:3268": [scp_url(C)]})
    settings = run_scp(source, FakeTransport({C: OK}))
    assert C == settings.source.url
    assert (None, "gc.example.com:3268") == source.searches


def test_pointer_loops_and_chains_are_bounded() -> None:
    """Pointers that point at each other are searched once each; discovery moves on."""
    source = FakeScpSource({
        None: [scp_pointer("LDAP://dc1.example.com", "Domain=example.com")],
        "dc1.example.com": [scp_pointer("LDAP://dc2.example.com", "Domain=example.com")],
        "dc2.example.com": [scp_pointer("LDAP://dc1.example.com", "Domain=example.com")],
    })  # fmt: skip
    root = "https://example.com/autodiscover/autodiscover.xml"
    settings = run_scp(source, FakeTransport({root: OK}))
    assert Method.HTTPS_ROOT == settings.source.method
    assert (None, "dc1.example.com", "dc2.example.com") == source.searches


def test_a_long_pointer_chain_stops_at_the_limit() -> None:
    """More than 10 distinct pointers in a row end the SCP method with REDIRECT_LIMIT."""
    chain: dict[str | None, list[ScpRecord]] = {
        (f"dc{i}.example.com" if i else None): [scp_pointer(f"LDAP://dc{i + 1}.example.com", "Domain=example.com")]
        for i in range(20)
    }
    with pytest.raises(DiscoveryError) as info:
        run_scp(FakeScpSource(chain), FakeTransport(), methods=[Method.SCP])
    assert Outcome.REDIRECT_LIMIT == info.value.attempts[-1].outcome


def test_an_scp_host_outside_the_mail_domain_needs_approval() -> None:
    """SCP URLs obey the same credential boundary: another domain's host is proposed, not trusted."""
    other = "https://mail.corp.example.net/autodiscover/autodiscover.xml"
    approver = RecordingApprover()
    with pytest.raises(DiscoveryError) as info:
        run_scp(FakeScpSource({None: [scp_url(other)]}), FakeTransport({other: OK}), methods=[Method.SCP],
                approve_redirect=approver)  # fmt: skip
    assert [RedirectReason.SCP_URL] == [p.reason for p in approver.proposals]
    assert Outcome.REDIRECT_DENIED == info.value.attempts[0].outcome
    settings = run_scp(FakeScpSource({None: [scp_url(other)]}), FakeTransport({other: OK}), methods=[Method.SCP],
                       allowed_hosts=["mail.corp.example.net"])  # fmt: skip
    assert other == settings.source.url


def test_http_scp_urls_are_never_used() -> None:
    """An http:// SCP URL is refused; credentials never go over plain http."""
    plain = "http://mail.example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport({plain: OK})
    with pytest.raises(DiscoveryError) as info:
        run_scp(FakeScpSource({None: [scp_url(plain)]}), transport, methods=[Method.SCP])
    assert [] == list(transport.requests)
    assert Outcome.REDIRECT_DENIED == info.value.attempts[0].outcome


def test_a_directory_failure_or_no_source_is_one_failed_attempt() -> None:
    """A failing directory, or SCP without a source, is DIRECTORY_ERROR in the trail; discovery goes on."""
    root = "https://example.com/autodiscover/autodiscover.xml"
    settings = run_scp(FakeScpSource(failures=[None]), FakeTransport({root: OK}))
    assert Outcome.DIRECTORY_ERROR == settings.attempts[0].outcome
    settings = discover(EMAIL, methods=[Method.SCP, Method.HTTPS_ROOT], resolver=FakeResolver(),
                        transport=FakeTransport({root: OK}))  # fmt: skip
    assert Outcome.DIRECTORY_ERROR == settings.attempts[0].outcome
    assert "needs an ScpSource" in (settings.attempts[0].error or "")


def test_an_empty_directory_is_no_records() -> None:
    """No SCP object: NO_RECORDS, then the domain-derived methods."""
    root = "https://example.com/autodiscover/autodiscover.xml"
    settings = run_scp(FakeScpSource({None: []}), FakeTransport({root: OK}))
    assert [Outcome.NO_RECORDS, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]


# --- Ldap3ScpSource on ldap3's offline mock ---------------------------------------------------------------

ldap3 = pytest.importorskip("ldap3", reason="the ad extra (ldap3) is not installed")
CONFIG = "CN=Configuration,DC=AD2012,DC=LAB"  # the naming context of ldap3's bundled offline AD schema
READER = ("CN=reader,CN=Users,DC=AD2012,DC=LAB", "reader-pw")


class MockDirectory:
    """ldap3 MOCK_SYNC connections, one in-memory directory per host."""

    def __init__(self, entries: dict[str, list[tuple[str, dict[str, Any]]]], *, password: str = READER[1]) -> None:
        self.entries = entries
        self.password = password
        self.connected: list[tuple[str, int | None]] = []

    def connect(self, host: str, port: int | None, timeout: float) -> Any:
        self.connected.append((host, port))
        server = ldap3.Server(host, get_info=ldap3.OFFLINE_AD_2012_R2)
        connection = ldap3.Connection(server, user=READER[0], password=self.password, client_strategy=ldap3.MOCK_SYNC)
        connection.strategy.add_entry(READER[0], {"userPassword": READER[1], "objectClass": "person"})
        for dn, attributes in self.entries.get(host, []):
            connection.strategy.add_entry(dn, attributes)
        return connection


def scp_entry(name: str, binding: str, *keywords: str) -> tuple[str, dict[str, Any]]:
    return (
        f"CN={name},CN=Autodiscover,CN=Protocols,CN=EX1,CN=Servers,{CONFIG}",
        {"objectClass": ["top", "serviceConnectionPoint"], "keywords": list(keywords),
         "serviceBindingInformation": [binding]},
    )  # fmt: skip


def test_ldap3_source_reads_scp_objects_from_the_configuration_context() -> None:
    """The subtree search under configurationNamingContext returns both kinds, and nothing else."""
    directory = MockDirectory({
        "dc1.ad2012.lab": [
            scp_entry("ex1", A, URL_KEYWORD, "Site=Home"),
            scp_entry("ptr", "LDAP://dc2.ad2012.lab", POINTER_KEYWORD, "Domain=example.com"),
            scp_entry("other", "https://x.example.com/", "unrelated-keyword"),
        ],
    })  # fmt: skip
    source = Ldap3ScpSource("dc1.ad2012.lab", user=READER[0], password=READER[1], connect=directory.connect)
    records = source.search(None, timeout=5.0)
    assert {A, "LDAP://dc2.ad2012.lab"} == {r.binding for r in records}
    assert any("Site=Home" in r.keywords for r in records)
    assert "reader-pw" not in repr(source)


def test_ldap3_source_end_to_end_with_a_pointer() -> None:
    """discover() with Method.SCP follows a pointer to a second mock directory and POSTs its URL."""
    directory = MockDirectory({
        "dc1.ad2012.lab": [scp_entry("ptr", "LDAP://dc2.ad2012.lab:636", POINTER_KEYWORD, "Domain=example.com")],
        "dc2.ad2012.lab": [scp_entry("ex2", B, URL_KEYWORD)],
    })  # fmt: skip
    source = Ldap3ScpSource("dc1.ad2012.lab", user=READER[0], password=READER[1], connect=directory.connect)
    settings = run_scp(source, FakeTransport({B: OK}), methods=[Method.SCP])  # type: ignore[arg-type]
    assert B == settings.source.url
    assert [("dc1.ad2012.lab", None), ("dc2.ad2012.lab", 636)] == directory.connected


def test_ldap3_bind_failure_is_a_resolver_error() -> None:
    """A refused bind raises ResolverError (a typed error), never an ldap3 exception."""
    directory = MockDirectory({}, password="wrong")  # the mock checks the bind against its entry
    source = Ldap3ScpSource("dc1.ad2012.lab", user=READER[0], password="wrong", connect=directory.connect)
    with pytest.raises(ResolverError, match="bind"):
        source.search(None, timeout=5.0)


def test_ldap3_unreachable_directory_is_a_resolver_error() -> None:
    """A real connection attempt to a closed loopback port is a typed error, quickly."""
    source = Ldap3ScpSource("127.0.0.1:1", authentication="anonymous", use_ssl=False)
    with pytest.raises(ResolverError):
        source.search(None, timeout=2.0)


def test_a_simple_bind_without_tls_is_refused() -> None:
    """The password would travel in clear: ValueError at construction."""
    with pytest.raises(ValueError, match="in clear"):
        Ldap3ScpSource("dc1", user="u", password="p", use_ssl=False)
    with pytest.raises(ValueError, match="authentication"):
        Ldap3ScpSource("dc1", authentication="kerberos")


def test_an_address_loop_from_an_scp_endpoint_turns_scp_off_for_the_run() -> None:
    """a -> b -> a via SCP endpoints: the loop is refused and SCP is not searched again (EWS Managed API)."""
    from autodiscover_client.testing import redirect_addr_body

    def answer(request: Any) -> Any:
        target = "other@example.com" if b"user@example.com" in request.body else "user@example.com"
        return xml_response(redirect_addr_body(target))

    def root_answer(request: Any) -> Any:
        return xml_response(redirect_addr_body("third@example.com")) if b"other@" in request.body else OK

    source = FakeScpSource({None: [scp_url(A)]})
    root = "https://example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport({A: answer, root: root_answer})
    settings = run_scp(source, transport)
    assert (Method.HTTPS_ROOT, "third@example.com") == (settings.source.method, settings.email)
    assert (None, None) == source.searches  # for user@ and other@; off for third@
    loop = [a for a in settings.attempts if a.outcome is Outcome.REDIRECT_LOOP]
    assert [Method.SCP, Method.SCP] == [a.method for a in loop]
    assert "SCP is off" in (loop[1].error or "")
