"""Discovery semantics (DESIGN §3-4) driven through the public fakes: no network, no sleeping."""

from __future__ import annotations

import pickle

import pytest

from autodiscover_client import (
    DEFAULT_ORDER,
    MICROSOFT_ORDER,
    AuthenticationError,
    AutodiscoverError,
    ConnectError,
    DeadlineExceededError,
    DiscoveryError,
    HttpRequest,
    HttpResponse,
    InvalidEmailError,
    Method,
    Outcome,
    RedirectDeniedError,
    RedirectReason,
    Settings,
    TLSError,
    discover,
)
from autodiscover_client.testing import (
    FakeClock,
    FakeResolver,
    FakeTransport,
    RecordingApprover,
    error_body,
    html_response,
    mobilesync_body,
    redirect_addr_body,
    redirect_response,
    redirect_url_body,
    settings_body,
    unauthorized_response,
    xml_response,
)

ROOT = "https://example.com/autodiscover/autodiscover.xml"
AUTO = "https://autodiscover.example.com/autodiscover/autodiscover.xml"
PROBE = "http://autodiscover.example.com/autodiscover/autodiscover.xml"
SRV_NAME = "_autodiscover._tcp.example.com"
EWS = "https://mail.example.com/EWS/Exchange.asmx"
OK = xml_response(settings_body(ews_url=EWS))


def run(transport: FakeTransport, resolver: FakeResolver | None = None, **kwargs: object) -> Settings:
    # A FakeClock makes the concurrent driver (the default) simulate its overlapping work in order.
    kwargs.setdefault("clock", FakeClock())
    return discover(
        "user@example.com",
        kwargs.pop("password", "secret"),  # type: ignore[arg-type]
        resolver=resolver or FakeResolver(),
        transport=transport,
        **kwargs,  # type: ignore[arg-type]
    )


def urls(transport: FakeTransport) -> list[str]:
    return [request.url for request in transport.requests]


def test_default_order_is_srv_root_autodiscover_probe() -> None:
    """With nothing answering, the default order tries SRV, root, autodiscover., then the http probe."""
    resolver = FakeResolver()
    transport = FakeTransport()
    with pytest.raises(DiscoveryError) as info:
        run(transport, resolver)
    assert [(SRV_NAME, "SRV")] == list(resolver.queries)
    assert [ROOT, AUTO, PROBE] == urls(transport)
    assert [Method.SRV, Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER, Method.HTTP_REDIRECT] == [
        a.method for a in info.value.attempts
    ]


def test_microsoft_order_puts_srv_last() -> None:
    """MICROSOFT_ORDER tries root, autodiscover., the probe, then SRV."""
    resolver = FakeResolver()
    transport = FakeTransport()
    with pytest.raises(DiscoveryError) as info:
        run(transport, resolver, methods=MICROSOFT_ORDER)
    assert [Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER, Method.HTTP_REDIRECT, Method.SRV] == [
        a.method for a in info.value.attempts
    ]


def test_any_subset_in_any_order() -> None:
    """A caller can pass any subset of methods in any order."""
    transport = FakeTransport()
    with pytest.raises(DiscoveryError):
        run(transport, methods=[Method.HTTPS_AUTODISCOVER, Method.HTTPS_ROOT])
    assert [AUTO, ROOT] == urls(transport)


def test_first_answer_in_order_wins_and_later_candidates_are_not_tried() -> None:
    """Sequentially, root answering stops discovery before autodiscover. is contacted."""
    transport = FakeTransport({ROOT: OK, AUTO: OK})
    settings = run(transport, parallel=False)
    assert Method.HTTPS_ROOT == settings.source.method
    assert [ROOT] == urls(transport)
    assert EWS == settings.ews_url


def test_fallback_after_dead_root_and_html_site() -> None:
    """Connect errors and HTML pages fail their candidate and discovery goes on."""
    transport = FakeTransport({ROOT: html_response(), AUTO: OK})
    settings = run(transport)
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    assert [Outcome.NO_RECORDS, Outcome.INVALID_RESPONSE, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]


@pytest.mark.parametrize(
    ("route", "outcome"),
    [
        (ConnectError("refused"), Outcome.CONNECT_ERROR),
        (TLSError("certificate verify failed"), Outcome.TLS_ERROR),
        (xml_response(b"", status=204), Outcome.INVALID_RESPONSE),
        (xml_response(b"<html/>", status=404), Outcome.HTTP_ERROR),
        (xml_response(b"", status=405), Outcome.HTTP_ERROR),
        (xml_response(b"oops", status=503), Outcome.HTTP_ERROR),
        (xml_response(error_body(600, "Invalid Request")), Outcome.SERVER_ERROR),
        (xml_response(error_body(777, "Made up")), Outcome.SERVER_ERROR),
        (xml_response(b"<not-autodiscover/>"), Outcome.INVALID_RESPONSE),
        (redirect_response("https://www.example.com/", 301), Outcome.REDIRECT_URL),
    ],
)
def test_misbehaving_root_fails_only_its_candidate(route: HttpResponse | AutodiscoverError, outcome: Outcome) -> None:
    """Whatever the root domain does wrong, autodiscover. still answers."""
    transport = FakeTransport({ROOT: route, AUTO: OK})
    settings = run(transport, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER])
    assert outcome == settings.attempts[0].outcome
    assert Method.HTTPS_AUTODISCOVER == settings.source.method


def test_error_response_text_reaches_the_trail() -> None:
    """An Autodiscover Error's code and message are in the attempt's error text."""
    transport = FakeTransport({ROOT: xml_response(error_body(500, "The email address can't be found."))})
    with pytest.raises(DiscoveryError) as info:
        run(transport, methods=[Method.HTTPS_ROOT])
    assert "Autodiscover error 500: The email address can't be found." == info.value.attempts[0].error


# --- 401 and credentials -------------------------------------------------------------------------


def test_credentials_are_sent_only_after_a_challenge() -> None:
    """The first POST is anonymous; the 401 challenge gets one authenticated retry."""
    transport = FakeTransport({ROOT: [unauthorized_response(), OK]})
    settings = run(transport, methods=[Method.HTTPS_ROOT])
    assert [False, True] == [r.authenticated for r in transport.requests]
    assert "user@example.com" == transport.requests[1].username
    assert [Outcome.UNAUTHORIZED, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]
    assert settings.attempts[1].authenticated


def test_username_overrides_the_address() -> None:
    """An explicit username is what the Basic credentials carry."""
    transport = FakeTransport({ROOT: [unauthorized_response(), OK]})
    run(transport, methods=[Method.HTTPS_ROOT], username="DOMAIN\\user")
    assert "DOMAIN\\user" == transport.requests[1].username


def test_rejected_credentials_on_every_endpoint_raise_authentication_error() -> None:
    """Two 401s in a row mean rejected credentials; with nothing else working that is AuthenticationError."""
    transport = FakeTransport({ROOT: unauthorized_response(), AUTO: unauthorized_response()})
    with pytest.raises(AuthenticationError) as info:
        run(transport, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER])
    assert 4 == len(transport.requests)
    assert "rejected" in str(info.value)


def test_a_401_on_one_candidate_does_not_stop_a_later_success() -> None:
    """A single 401 is not proof of a bad password: a later candidate may still answer."""
    transport = FakeTransport({ROOT: unauthorized_response(), AUTO: OK})
    settings = run(transport, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER])
    assert Method.HTTPS_AUTODISCOVER == settings.source.method


def test_no_password_means_no_credentials_and_not_an_authentication_error() -> None:
    """Without a password, a 401 fails the candidate with a clear reason, and nothing is sent."""
    transport = FakeTransport({ROOT: unauthorized_response()})
    with pytest.raises(DiscoveryError) as info:
        run(transport, methods=[Method.HTTPS_ROOT], password=None)
    assert not isinstance(info.value, AuthenticationError)
    assert () == transport.credentials_sent_to()
    assert "none were given" in (info.value.attempts[0].error or "")


def test_basic_credentials_never_answer_a_challenge_without_basic() -> None:
    """A server offering only Negotiate/NTLM does not get Basic credentials (no scheme switching)."""
    transport = FakeTransport({ROOT: unauthorized_response("Negotiate, NTLM")})
    with pytest.raises(DiscoveryError) as info:
        run(transport, methods=[Method.HTTPS_ROOT])
    assert () == transport.credentials_sent_to()
    assert "negotiate, ntlm" in (info.value.attempts[0].error or "")


def test_challenge_with_quoted_commas_is_understood() -> None:
    """A Basic challenge whose realm contains commas still offers Basic."""
    transport = FakeTransport({ROOT: [unauthorized_response('Negotiate, Basic realm="a, b", NTLM'), OK]})
    run(transport, methods=[Method.HTTPS_ROOT])
    assert (ROOT,) == transport.credentials_sent_to()


def test_http_probe_is_never_authenticated_even_when_challenged() -> None:
    """The plain-http probe never carries credentials, whatever it answers."""
    transport = FakeTransport({PROBE: unauthorized_response()})
    with pytest.raises(DiscoveryError):
        run(transport, methods=[Method.HTTP_REDIRECT])
    assert [False] == [r.authenticated for r in transport.requests]


# --- URL redirects -------------------------------------------------------------------------------


def test_http_probe_redirect_to_https_in_domain_is_posted_to() -> None:
    """A probe 302 to https inside the domain is followed with a POST, with credentials on challenge."""
    target = "https://mail.example.com/Autodiscover/Autodiscover.xml"
    transport = FakeTransport({PROBE: redirect_response(target), target: [unauthorized_response(), OK]})
    settings = run(transport, methods=[Method.HTTP_REDIRECT])
    assert Method.HTTP_REDIRECT == settings.source.method
    assert target == settings.source.url
    assert ["GET", "POST", "POST"] == [r.method for r in transport.requests]
    assert (target,) == transport.credentials_sent_to()


@pytest.mark.parametrize(
    "location",
    [
        "http://mail.example.com/autodiscover/autodiscover.xml",
        "https://mail.example.com/owa/",
        "https://evil.example.net/autodiscover/autodiscover.xml",
    ],
)
def test_http_probe_refuses_http_wrong_path_and_foreign_hosts(location: str) -> None:
    """The probe's redirect must be https, to the Autodiscover path, inside the domain (or approved)."""
    transport = FakeTransport({PROBE: redirect_response(location)}, handler=lambda request: OK)
    with pytest.raises(DiscoveryError) as info:
        run(transport, methods=[Method.HTTP_REDIRECT])
    assert [PROBE] == urls(transport)
    assert Outcome.REDIRECT_DENIED == info.value.attempts[0].outcome
    # Only the foreign host is one an approval could allow; http and a wrong path are refused outright.
    denied = "evil.example.net" if "evil" in location else None
    assert (location, denied) == (info.value.attempts[0].redirect_target, info.value.attempts[0].denied_host)


def test_relative_location_and_default_port_are_resolved() -> None:
    """A relative Location is resolved against the URL, and :443 is the same URL as none."""
    target = "https://example.com:443/other/autodiscover.xml"
    transport = FakeTransport({ROOT: redirect_response("/other/autodiscover.xml", 307), target: OK})
    transport_routes = FakeTransport(
        {ROOT: redirect_response("/other/autodiscover.xml", 307), "https://example.com/other/autodiscover.xml": OK}
    )
    settings = run(transport_routes, methods=[Method.HTTPS_ROOT])
    assert "https://example.com/other/autodiscover.xml" == settings.source.url
    del transport, target


def test_post_redirect_to_foreign_host_is_denied_with_a_hint() -> None:
    """A 302 to a host outside the mail domain is denied by default; the trail names the host and the fix."""
    transport = FakeTransport({ROOT: redirect_response("https://autodiscover.evil.test/autodiscover/autodiscover.xml")})
    with pytest.raises(RedirectDeniedError) as info:
        run(transport, methods=[Method.HTTPS_ROOT])
    error = info.value.attempts[0].error or ""
    assert "autodiscover.evil.test" in error
    assert "allowed_hosts" in error
    assert [ROOT] == urls(transport)


def test_approver_sees_proposal_and_approved_host_gets_credentials() -> None:
    """An approved foreign redirect is followed and that host may then receive credentials."""
    target = "https://outlook.office365.com/autodiscover/autodiscover.xml"
    approver = RecordingApprover(allow=["outlook.office365.com"])
    transport = FakeTransport({ROOT: redirect_response(target), target: [unauthorized_response(), OK]})
    settings = run(transport, methods=[Method.HTTPS_ROOT], approve_redirect=approver, trust_microsoft365=False)
    assert target == settings.source.url
    assert [RedirectReason.URL_REDIRECT] == [p.reason for p in approver.proposals]
    assert (ROOT, target) == (approver.proposals[0].source, approver.proposals[0].target)
    assert (target,) == transport.credentials_sent_to()


def test_allowed_hosts_permit_without_asking() -> None:
    """A host in allowed_hosts is followed without consulting the approver."""
    target = "https://autodiscover.partner.test/autodiscover/autodiscover.xml"
    approver = RecordingApprover()
    transport = FakeTransport({ROOT: redirect_response(target), target: OK})
    settings = run(
        transport, methods=[Method.HTTPS_ROOT], approve_redirect=approver, allowed_hosts=["Autodiscover.Partner.test"]
    )
    assert target == settings.source.url
    assert [] == approver.proposals


def test_redirect_url_action_is_followed() -> None:
    """Action=redirectUrl re-POSTs to the new URL."""
    target = "https://mail.example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport({ROOT: xml_response(redirect_url_body(target)), target: OK})
    settings = run(transport, methods=[Method.HTTPS_ROOT])
    assert target == settings.source.url
    assert Outcome.REDIRECT_URL == settings.attempts[0].outcome


def test_redirect_cycle_is_detected() -> None:
    """A→B→A ends the branch with a loop in the trail instead of going round, however A's host is spelled."""
    other = "https://mail.example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport(
        {
            ROOT: redirect_response(other),
            other: redirect_response(ROOT.replace("https://example.com", "HTTPS://EXAMPLE.COM:443")),
        }
    )
    with pytest.raises(DiscoveryError) as info:
        run(transport, methods=[Method.HTTPS_ROOT])
    assert Outcome.REDIRECT_LOOP == info.value.attempts[-1].outcome
    assert 2 == len(transport.requests)


def test_redirect_budget_is_ten_hops_per_run() -> None:
    """A redirect chain stops after 10 hops, and the next run gets a fresh budget."""

    def handler(request: object) -> object:
        url = request.url  # type: ignore[attr-defined]
        number = int(url.rsplit("/", 1)[1]) if url[-1].isdigit() else 0
        return redirect_response(f"https://mail.example.com/hop/{number + 1}")

    for _ in range(2):
        transport = FakeTransport(handler=handler)  # type: ignore[arg-type]
        with pytest.raises(DiscoveryError) as info:
            run(transport, methods=[Method.HTTPS_ROOT])
        assert 11 == len(transport.requests)
        assert Outcome.REDIRECT_LIMIT == info.value.attempts[-1].outcome


# --- address redirects ---------------------------------------------------------------------------


def test_redirect_addr_restarts_discovery_for_the_new_address_with_same_credentials() -> None:
    """redirectAddr restarts the whole method list for the new address, keeping the credentials."""
    new_root = "https://sub.example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport(
        {ROOT: [unauthorized_response(), xml_response(redirect_addr_body("other@sub.example.com"))],
         new_root: [unauthorized_response(), OK]}
    )  # fmt: skip
    resolver = FakeResolver()
    settings = run(transport, resolver)
    assert "other@sub.example.com" == settings.email
    assert [(SRV_NAME, "SRV"), ("_autodiscover._tcp.sub.example.com", "SRV")] == list(resolver.queries)
    assert (ROOT, new_root) == transport.credentials_sent_to()
    assert {"user@example.com"} == {r.username for r in transport.requests if r.authenticated}
    assert b"other@sub.example.com" in transport.requests[-1].body


def test_redirect_addr_to_the_same_address_fails_that_candidate_only() -> None:
    """redirectAddr to the address just sent marks that URL invalid and discovery continues."""
    transport = FakeTransport({ROOT: xml_response(redirect_addr_body("USER@example.com")), AUTO: OK})
    settings = run(transport, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER])
    assert Outcome.REDIRECT_LOOP == settings.attempts[0].outcome
    assert Method.HTTPS_AUTODISCOVER == settings.source.method


def test_redirect_addr_loop_a_b_a_is_detected() -> None:
    """user → other → user is a loop, not an endless restart."""
    other_root = "https://other.example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport(
        {ROOT: xml_response(redirect_addr_body("x@other.example.com")),
         other_root: xml_response(redirect_addr_body("user@example.com"))}
    )  # fmt: skip
    with pytest.raises(DiscoveryError) as info:
        run(transport, methods=[Method.HTTPS_ROOT])
    assert Outcome.REDIRECT_LOOP == info.value.attempts[-1].outcome


def test_redirect_addr_to_another_registrable_domain_needs_approval() -> None:
    """An address redirect leaving the registrable domain is a proposal the default policy denies."""
    transport = FakeTransport({ROOT: xml_response(redirect_addr_body("user@tenant.example.net"))})
    with pytest.raises(RedirectDeniedError):
        run(transport, methods=[Method.HTTPS_ROOT])
    approver = RecordingApprover(allow=["tenant.example.net"])
    routes = {ROOT: xml_response(redirect_addr_body("user@tenant.example.net")),
              "https://tenant.example.net/autodiscover/autodiscover.xml": [unauthorized_response(), OK]}  # fmt: skip
    transport = FakeTransport(routes)  # type: ignore[arg-type]
    settings = run(transport, methods=[Method.HTTPS_ROOT], approve_redirect=approver)
    assert "user@tenant.example.net" == settings.email
    assert RedirectReason.ADDRESS_REDIRECT == approver.proposals[0].reason


def test_invalid_redirect_addr_is_an_invalid_response() -> None:
    """A redirectAddr that is not a usable address fails the candidate with a typed reason."""
    transport = FakeTransport({ROOT: xml_response(redirect_addr_body("a@b@example.com")), AUTO: OK})
    settings = run(transport, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER])
    assert Outcome.INVALID_RESPONSE == settings.attempts[0].outcome


# --- SRV -----------------------------------------------------------------------------------------


def test_srv_targets_are_tried_in_order_with_their_ports() -> None:
    """Every SRV target is tried in the resolver's order, and a port other than 443 is kept."""
    resolver = FakeResolver(
        {SRV_NAME: [(0, 10, 8443, "a.example.com."), (0, 5, 443, "B.Example.com"), (10, 0, 443, "c.example.com")]}
    )
    transport = FakeTransport({"https://c.example.com/autodiscover/autodiscover.xml": OK})
    settings = run(transport, resolver, methods=[Method.SRV])
    assert [
        "https://a.example.com:8443/autodiscover/autodiscover.xml",
        "https://b.example.com/autodiscover/autodiscover.xml",
        "https://c.example.com/autodiscover/autodiscover.xml",
    ] == urls(transport)
    assert Method.SRV == settings.source.method


def test_srv_dot_target_means_no_service() -> None:
    """A '.' target is "no service here": nothing is contacted."""
    resolver = FakeResolver({SRV_NAME: [(0, 0, 443, ".")]})
    transport = FakeTransport()
    with pytest.raises(DiscoveryError) as info:
        run(transport, resolver, methods=[Method.SRV])
    assert [] == urls(transport)
    assert "no service" in (info.value.attempts[0].error or "")


def test_srv_target_outside_the_domain_is_denied_by_default() -> None:
    """A foreign SRV target is a redirect in disguise: denied unless approved, and never sent credentials."""
    resolver = FakeResolver({SRV_NAME: [(0, 0, 443, "mail.hoster.test")]})
    transport = FakeTransport(handler=lambda request: OK)
    with pytest.raises(RedirectDeniedError):
        run(transport, resolver, methods=[Method.SRV])
    assert [] == urls(transport)
    approver = RecordingApprover(allow=["mail.hoster.test"])
    settings = run(FakeTransport(handler=lambda request: OK), resolver, methods=[Method.SRV], approve_redirect=approver)
    assert RedirectReason.SRV_TARGET == approver.proposals[0].reason
    assert "https://mail.hoster.test/autodiscover/autodiscover.xml" == settings.source.url


@pytest.mark.parametrize("kind", ["timeouts", "failures", "nxdomain"])
def test_srv_lookup_failures_fail_only_srv(kind: str) -> None:
    """A DNS timeout, SERVFAIL or NXDOMAIN for SRV fails that method and discovery goes on."""
    resolver = FakeResolver(**{kind: [SRV_NAME]})  # type: ignore[arg-type]
    settings = run(FakeTransport({ROOT: OK}), resolver)
    expected = {"timeouts": Outcome.TIMEOUT, "failures": Outcome.DNS_ERROR, "nxdomain": Outcome.NO_RECORDS}[kind]
    assert expected == settings.attempts[0].outcome


# --- schemas, deadline, seams, results ----------------------------------------------------------


def test_mobilesync_answer_gives_the_activesync_url() -> None:
    """A mobilesync response (even to an Outlook request) is success with an ActiveSync URL."""
    url = "https://eas.example.com/Microsoft-Server-ActiveSync"
    settings = run(FakeTransport({ROOT: xml_response(mobilesync_body(url))}))
    assert url == settings.activesync_url
    assert "mobilesync" == settings.schema


def test_deadline_stops_discovery_and_says_so() -> None:
    """When slow candidates eat the overall deadline, DeadlineExceededError carries the trail."""
    clock = FakeClock()
    transport = FakeTransport(latency={"*": 6.0}, clock=clock)
    with pytest.raises(DeadlineExceededError) as info:
        run(transport, clock=clock, timeout=10.0, parallel=False)
    assert 2 == len(transport.requests)
    assert Outcome.TIMEOUT == info.value.attempts[-1].outcome
    assert "deadline" in str(info.value)


def test_request_timeout_is_bounded_by_time_left() -> None:
    """Each exchange gets min(request_timeout, time left) as its timeout."""
    clock = FakeClock()
    transport = FakeTransport(latency={"*": 4.0}, clock=clock)
    with pytest.raises(DiscoveryError):
        run(transport, clock=clock, timeout=10.0, request_timeout=5.0, parallel=False,
            methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER, Method.HTTP_REDIRECT])  # fmt: skip
    assert [5.0, 5.0, 2.0] == [request.timeout for request in transport.requests]


def test_a_seam_raising_anything_fails_one_candidate() -> None:
    """A transport bug (any exception) becomes a failed attempt, not a crash."""

    def broken(request: HttpRequest) -> HttpResponse:
        raise RuntimeError("boom")

    transport = FakeTransport({ROOT: broken, AUTO: OK})
    settings = run(transport, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER])
    assert "boom" in (settings.attempts[0].error or "")


def test_bad_address_raises_before_any_io() -> None:
    """An invalid address raises InvalidEmailError and touches neither seam."""
    resolver = FakeResolver()
    transport = FakeTransport()
    with pytest.raises(InvalidEmailError):
        discover("user@@example.com", "pw", resolver=resolver, transport=transport)
    assert () == resolver.queries
    assert () == transport.requests


def test_address_is_xml_escaped_and_domain_normalised() -> None:
    """The request carries the escaped local part and the IDNA, lower-cased domain."""
    transport = FakeTransport({"https://xn--bcher-kva.example/autodiscover/autodiscover.xml": OK})
    discover('"a<b&c"@BÜCHER.example', resolver=FakeResolver(), transport=transport)
    assert b"<EMailAddress>&quot;a&lt;b&amp;c&quot;@xn--bcher-kva.example</EMailAddress>" in transport.requests[0].body
    assert ("Content-Type", "text/xml; charset=utf-8") in transport.requests[0].headers


def test_results_and_errors_are_frozen_picklable_and_json_ready() -> None:
    """Settings and DiscoveryError survive pickling and convert to plain JSON data."""
    import json

    settings = run(FakeTransport({ROOT: OK}))
    assert settings == pickle.loads(pickle.dumps(settings))
    data = settings.to_dict()
    assert EWS == data["ews_url"]
    assert {"method": "https_root", "url": ROOT} == data["source"]
    json.dumps(data)
    with pytest.raises(AttributeError):
        settings.email = "x"  # type: ignore[misc,unused-ignore]
    with pytest.raises(DiscoveryError) as info:
        run(FakeTransport())
    clone = pickle.loads(pickle.dumps(info.value))
    assert info.value.attempts == clone.attempts
    assert str(info.value) == str(clone)
    json.dumps(info.value.to_dict())


def test_secret_never_appears_in_results_errors_or_reprs() -> None:
    """The password is absent from repr, str, the trail and JSON of results and errors."""
    secret = "pa55-w0rd-XYZZY"
    settings = run(FakeTransport({ROOT: [unauthorized_response(), OK]}), password=secret)
    with pytest.raises(AuthenticationError) as info:
        run(FakeTransport({ROOT: unauthorized_response()}), methods=[Method.HTTPS_ROOT], password=secret)
    texts = [repr(settings), str(settings.to_dict()), repr(info.value), str(info.value), str(info.value.to_dict())]
    assert all(secret not in text for text in texts)
    from autodiscover_client import BasicCredentials

    assert secret not in repr(BasicCredentials("u", secret))


def test_trail_explains_every_candidate() -> None:
    """str() of a failure lists one line per attempt, each naming method, URL and outcome."""
    with pytest.raises(DiscoveryError) as info:
        run(FakeTransport({ROOT: html_response()}))
    lines = str(info.value).splitlines()
    assert 1 + len(info.value.attempts) == len(lines)
    assert "HTTPS_ROOT https://example.com/autodiscover/autodiscover.xml -> invalid_response HTTP 200" in lines[2]
    assert DEFAULT_ORDER == tuple(a.method for a in info.value.attempts)


def test_every_redirect_names_its_target_and_a_denied_one_its_host() -> None:
    """redirect_target and denied_host say what a prompt or ``--allow-redirect`` needs, without parsing text."""
    foreign = "https://autodiscover.partner.example.net/autodiscover/autodiscover.xml"
    inside = "https://mail.example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport(
        {ROOT: redirect_response(inside), inside: xml_response(redirect_url_body(foreign))}, handler=lambda request: OK
    )
    with pytest.raises(DiscoveryError) as info:
        run(transport, methods=[Method.HTTPS_ROOT])
    followed, denied = info.value.attempts
    assert (Outcome.REDIRECT_URL, inside, None) == (followed.outcome, followed.redirect_target, followed.denied_host)
    assert (Outcome.REDIRECT_DENIED, foreign) == (denied.outcome, denied.redirect_target)
    assert "autodiscover.partner.example.net" == denied.denied_host
    assert {
        "redirect_target": foreign,
        "denied_host": "autodiscover.partner.example.net",
    }.items() <= denied.to_dict().items()


def test_a_denied_redirect_address_names_the_domain_to_allow() -> None:
    transport = FakeTransport({ROOT: xml_response(redirect_addr_body("user@partner.example.net"))})
    with pytest.raises(DiscoveryError) as info:
        run(transport, methods=[Method.HTTPS_ROOT])
    attempt = info.value.attempts[-1]
    assert Outcome.REDIRECT_DENIED == attempt.outcome
    assert ("user@partner.example.net", "partner.example.net") == (attempt.redirect_target, attempt.denied_host)
