"""Who may receive credentials, and never walking up the domain (DESIGN §4 rules 3-4, PROTOCOL.md §8.2, §8.4)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest

from autodiscover_client import (
    DEFAULT_ORDER,
    MICROSOFT_ORDER,
    ConnectError,
    DiscoveryError,
    Method,
    Outcome,
    RedirectDeniedError,
    RedirectProposal,
    RedirectReason,
    deny_all,
    discover,
    parse_email,
)
from autodiscover_client._flow import (
    AUTODISCOVER_PATH,
    Flow,
    HttpCall,
    MethodResult,
    Operation,
    Reply,
    SrvLookup,
    endpoint_url,
    method_flow,
)
from autodiscover_client._policy import RedirectPolicy, is_public_suffix, registrable_domain, within
from autodiscover_client._run import Run
from autodiscover_client.testing import (
    FakeResolver,
    FakeTransport,
    RecordingApprover,
    html_response,
    redirect_response,
)


def proposal(
    host: str = "mail.other.example", reason: RedirectReason = RedirectReason.URL_REDIRECT
) -> RedirectProposal:
    return RedirectProposal(
        email="user@example.com",
        source="https://example.com/autodiscover/autodiscover.xml",
        target=f"https://{host}/autodiscover/autodiscover.xml",
        host=host,
        reason=reason,
    )


# --- registrable_domain / is_public_suffix / within ----------------------------------------------


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("example.com", "example.com"),
        ("mail.example.com", "example.com"),
        ("a.b.c.d.example.com", "example.com"),
        ("example.co.uk", "example.co.uk"),
        ("mail.example.co.uk", "example.co.uk"),
        ("a.b.example.co.uk", "example.co.uk"),
        ("a.b.example.com.au", "example.com.au"),
        ("x.github.io", "x.github.io"),
        ("a.b.x.github.io", "x.github.io"),
        ("www.ck", "www.ck"),
        ("a.www.ck", "www.ck"),
        ("autodiscover.xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_registrable_domain_is_the_label_below_the_public_suffix(host: str, site: str) -> None:
    """The registrable domain is the public suffix plus one label, however deep the host and the suffix are."""
    assert site == registrable_domain(host)


@pytest.mark.parametrize(
    ("host", "site"),
    [
        ("Mail.Example.COM", "example.com"),
        ("mail.example.com.", "example.com"),
        ("MAIL.EXAMPLE.CO.UK.", "example.co.uk"),
        ("X.GitHub.IO", "x.github.io"),
    ],
)
def test_registrable_domain_ignores_case_and_a_trailing_dot(host: str, site: str) -> None:
    """Host names are compared case-insensitively and without the root dot."""
    assert site == registrable_domain(host)


@pytest.mark.parametrize("suffix", ["com", "uk", "co.uk", "com.au", "github.io", "foo.ck", "CO.UK", "co.uk."])
def test_public_suffixes_have_no_registrable_domain(suffix: str) -> None:
    """A public suffix (ICANN or private section, wildcard rules included) has no registrable domain."""
    assert registrable_domain(suffix) is None
    assert is_public_suffix(suffix)


@pytest.mark.parametrize("domain", ["example.com", "example.co.uk", "x.github.io", "www.ck", "sub.example.co.uk"])
def test_registrable_domains_and_subdomains_are_not_public_suffixes(domain: str) -> None:
    """Anything at or below a registrable domain is not a public suffix."""
    assert not is_public_suffix(domain)


def test_within_checks_the_registrable_domain() -> None:
    """A host is within a site when its registrable domain is that site, never merely a shared suffix."""
    assert within("mail.example.co.uk", ["example.co.uk"])
    assert within("EXAMPLE.CO.UK.", ["example.co.uk"])
    assert not within("other.co.uk", ["example.co.uk"])
    assert not within("example.co.uk.evil.example", ["example.co.uk"])
    assert not within("y.github.io", ["x.github.io"])
    assert not within("co.uk", ["co.uk"])


# --- RedirectPolicy ------------------------------------------------------------------------------


def test_deny_all_denies_everything() -> None:
    """The default approver denies every proposal, whatever the reason."""
    for reason in RedirectReason:
        assert not deny_all(proposal(reason=reason))


def test_default_policy_denies() -> None:
    """A policy with no approver and no allowed hosts denies a redirect outside the mail domain."""
    assert not RedirectPolicy().allows(proposal())


def test_allowed_hosts_are_allowed_without_asking_the_approver() -> None:
    """A listed host is allowed outright, case-insensitively and without a root dot; the approver is not asked."""
    approver = RecordingApprover()
    policy = RedirectPolicy(approve=approver, allowed_hosts=frozenset({"mail.other.example"}))
    assert policy.allows(proposal("mail.other.example"))
    assert policy.allows(proposal("MAIL.Other.Example."))
    assert [] == approver.proposals


def test_allowed_hosts_are_exact_hosts_not_domains() -> None:
    """Listing a host does not allow its subdomains or its parent."""
    policy = RedirectPolicy(allowed_hosts=frozenset({"mail.other.example"}))
    assert not policy.allows(proposal("evil.mail.other.example"))
    assert not policy.allows(proposal("other.example"))


def test_the_approver_decides_for_unlisted_hosts() -> None:
    """Hosts that are not listed go to the approver, which sees the whole proposal."""
    approver = RecordingApprover(allow=["yes.example"])
    policy = RedirectPolicy(approve=approver)
    assert policy.allows(proposal("yes.example", RedirectReason.SRV_TARGET))
    assert not policy.allows(proposal("no.example"))
    assert [proposal("yes.example", RedirectReason.SRV_TARGET), proposal("no.example")] == approver.proposals


def test_a_truthy_approver_answer_becomes_a_bool() -> None:
    """Whatever the approver returns is read as a truth value and returned as a bool."""

    def sloppy(_proposal: RedirectProposal, /) -> bool:
        return "yes"  # type: ignore[return-value]

    assert True is RedirectPolicy(approve=sloppy).allows(proposal())


def test_how_to_allow_names_both_ways() -> None:
    """The hint for a denied host names allowed_hosts, the callback and the CLI flag."""
    hint = RedirectPolicy.how_to_allow("mail.other.example")
    assert "allowed_hosts=['mail.other.example']" in hint
    assert "approve_redirect" in hint
    assert "--allow-redirect mail.other.example" in hint


# --- never walk up the domain (DESIGN §4 rule 4) -------------------------------------------------

ADDRESS_SHAPES = [
    "user@example.com",
    "user@mail.example.com",
    "user@a.b.c.d.e.example.com",
    "user@example.co.uk",
    "user@a.b.example.co.uk",
    "user@deep.sub.example.com.au",
    "user@x.github.io",
    "user@a.b.x.github.io",
    "user@www.ck",
    "user@a.www.ck",
    "User@Bücher.example",
    "user@mail.bücher.co.uk",
    "用户@例子.广告",
    "user@\uff33\uff35\uff22\uff0e\uff25\uff38\uff21\uff2d\uff30\uff2c\uff25\uff0e\uff2f\uff32\uff27",
    "user@X.Y.Z.Example.Org.",
    "user@autodiscover.example.com",
]


def _walk_up(domain: str) -> set[str]:
    """Every proper parent of ``domain``, and ``autodiscover.`` + each of them: the hosts a back-off would try."""
    labels = domain.split(".")
    parents = {".".join(labels[i:]) for i in range(1, len(labels))}
    return parents | {f"autodiscover.{parent}" for parent in parents}


def _check_hosts(domain: str, urls: list[str]) -> None:
    allowed = {domain, f"autodiscover.{domain}"}
    forbidden = _walk_up(domain) - allowed
    for url in urls:
        host = urlsplit(url).hostname or ""
        assert host in allowed, url
        assert host not in forbidden, url
        assert not is_public_suffix(host.removeprefix("autodiscover.")), url
        assert AUTODISCOVER_PATH == urlsplit(url).path


@pytest.mark.parametrize("order", [DEFAULT_ORDER, MICROSOFT_ORDER], ids=["default", "microsoft"])
@pytest.mark.parametrize("email", ADDRESS_SHAPES)
def test_discover_builds_candidates_only_from_the_exact_mail_domain(email: str, order: tuple[Method, ...]) -> None:
    """With nothing answering, every request goes to the mail domain or autodiscover.<mail domain>, never a parent."""
    domain = parse_email(email).domain
    resolver, transport = FakeResolver(), FakeTransport()
    with pytest.raises(DiscoveryError):
        discover(email, "secret", methods=order, resolver=resolver, transport=transport)
    urls = [request.url for request in transport.requests]
    _check_hosts(domain, urls)
    assert {
        ("POST", endpoint_url(domain)),
        ("POST", endpoint_url(f"autodiscover.{domain}")),
        ("GET", f"http://autodiscover.{domain}{AUTODISCOVER_PATH}"),
    } == {(request.method, request.url) for request in transport.requests}
    assert 3 == len(transport.requests)
    assert () == transport.credentials_sent_to()
    assert ((f"_autodiscover._tcp.{domain}", "SRV"),) == resolver.queries


@pytest.mark.parametrize("email", ADDRESS_SHAPES)
def test_invalid_responses_do_not_make_discovery_walk_up(email: str) -> None:
    """HTML pages and SRV lookups that fail still lead to no candidate outside the exact mail domain."""
    domain = parse_email(email).domain
    resolver = FakeResolver(failures=[f"_autodiscover._tcp.{domain}"])
    transport = FakeTransport(handler=lambda _request: html_response())
    with pytest.raises(DiscoveryError):
        discover(email, resolver=resolver, transport=transport)
    _check_hosts(domain, [request.url for request in transport.requests])
    assert all(name == f"_autodiscover._tcp.{domain}" for name, kind in resolver.queries if kind == "SRV")


@pytest.mark.parametrize("email", ["user@example.co.uk", "user@a.b.example.co.uk", "user@x.github.io"])
def test_a_redirect_to_autodiscover_dot_public_suffix_is_denied_and_never_requested(email: str) -> None:
    """The http probe redirecting to autodiscover.<public suffix> is refused by default; no request goes there."""
    domain = parse_email(email).domain
    suffix = domain.split(".", 1)[1] if domain.count(".") == 1 else ".".join(domain.split(".")[-2:])
    assert is_public_suffix(suffix)
    target = f"https://autodiscover.{suffix}{AUTODISCOVER_PATH}"
    transport = FakeTransport({("GET", f"http://autodiscover.{domain}{AUTODISCOVER_PATH}"): redirect_response(target)})
    with pytest.raises(RedirectDeniedError) as info:
        discover(email, "secret", resolver=FakeResolver(), transport=transport)
    assert target not in [request.url for request in transport.requests]
    denied = [attempt for attempt in info.value.attempts if attempt.outcome is Outcome.REDIRECT_DENIED]
    assert 1 == len(denied)
    assert f"autodiscover.{suffix}" in (denied[0].error or "")


# --- the core itself, driven one operation at a time ---------------------------------------------


def _drive(flow: Flow[MethodResult], answer: Callable[[Operation], Reply]) -> tuple[list[Operation], MethodResult]:
    operations: list[Operation] = []
    try:
        operation = next(flow)
        while True:
            operations.append(operation)
            operation = flow.send(answer(operation))
    except StopIteration as stop:
        result: MethodResult = stop.value
        return operations, result


def _nothing(operation: Operation) -> Reply:
    if not isinstance(operation, HttpCall):
        return Reply(records=())
    return Reply(error=ConnectError(f"{operation.request.url}: refused"))


@pytest.mark.parametrize("method", DEFAULT_ORDER)  # V2 and SCP: tests/unit/test_v2.py, test_scp.py
@pytest.mark.parametrize("email", ADDRESS_SHAPES)
def test_each_method_flow_asks_only_about_the_exact_mail_domain(email: str, method: Method) -> None:
    """Each method's generator yields one operation, naming the mail domain itself, and gives up when it fails."""
    address = parse_email(email)
    run = Run(address=address, credentials=None, policy=RedirectPolicy())
    operations, result = _drive(method_flow(run, address, method), _nothing)
    assert result is None
    assert 1 == len(operations)
    operation = operations[0]
    if isinstance(operation, SrvLookup):
        assert Method.SRV is method
        assert f"_autodiscover._tcp.{address.domain}" == operation.name
    else:
        assert isinstance(operation, HttpCall)
        assert method is operation.method
        assert operation.request.credentials is None
        _check_hosts(address.domain, [operation.request.url])


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("example.com", 443, "https://example.com/autodiscover/autodiscover.xml"),
        ("autodiscover.example.co.uk", 443, "https://autodiscover.example.co.uk/autodiscover/autodiscover.xml"),
        ("mail.example.com", 8443, "https://mail.example.com:8443/autodiscover/autodiscover.xml"),
    ],
)
def test_endpoint_url_is_https_on_the_host_with_a_non_default_port_kept(host: str, port: int, url: str) -> None:
    """endpoint_url builds the https POX URL on exactly the host given, keeping a port other than 443."""
    assert url == endpoint_url(host, port)
