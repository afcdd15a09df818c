"""Scenario and FakeKit: one-line worlds built from the fakes, ready for discover()."""

from __future__ import annotations

import pytest

from autodiscover_client import (
    AuthenticationError,
    Discoverer,
    DiscoveryError,
    InvalidEmailError,
    Method,
    Outcome,
    RedirectDeniedError,
    TLSError,
    discover,
)
from autodiscover_client.testing import (
    FakeClock,
    FakeKit,
    FakeResolver,
    FakeTransport,
    RecordingApprover,
    Scenario,
    html_response,
    redirect_addr_body,
    redirect_url_body,
    settings_body,
    xml_response,
)

EWS = "https://mail.example.com/EWS/Exchange.asmx"
BODY = settings_body(ews_url=EWS)
EMAIL = "ann@example.com"


def test_root_dead_autodiscover_answers_in_one_line() -> None:
    """The one-liner gives a world where only autodiscover.<domain> answers, after a 401 challenge."""
    scenario = Scenario.root_dead_autodiscover_answers("example.com", BODY)
    settings = discover(EMAIL, "pw", **scenario.discover_kwargs())
    assert (Method.HTTPS_AUTODISCOVER, EWS) == (settings.source.method, settings.ews_url)
    expected = [Outcome.NO_RECORDS, Outcome.CONNECT_ERROR, Outcome.UNAUTHORIZED, Outcome.SETTINGS]
    assert expected == [a.outcome for a in settings.attempts]
    assert (scenario.autodiscover_url,) == scenario.transport.credentials_sent_to()


def test_one_liner_checks_the_credentials_it_was_given() -> None:
    """With username and password, other credentials are rejected: AuthenticationError."""
    scenario = Scenario.root_dead_autodiscover_answers("example.com", BODY, username=EMAIL, password="right")
    assert EWS == scenario.discover(EMAIL, "right").ews_url
    with pytest.raises(AuthenticationError):
        Scenario.root_dead_autodiscover_answers("example.com", BODY, password="right").discover(EMAIL, "wrong")


def test_root_answers_and_srv_answers_one_liners() -> None:
    """root_answers serves the root URL; srv_answers publishes SRV and serves its target on that port."""
    assert Method.HTTPS_ROOT == Scenario.root_answers("example.com", BODY).discover(EMAIL, "pw").source.method
    scenario = Scenario.srv_answers("example.com", "mail.example.com", BODY, port=8443)
    settings = scenario.discover(EMAIL, "pw")
    assert "https://mail.example.com:8443/autodiscover/autodiscover.xml" == settings.source.url
    assert (("_autodiscover._tcp.example.com", "SRV"),) == scenario.resolver.queries


def test_fluent_builder_sets_each_candidate() -> None:
    """srv(), root(), autodiscover() and http_redirect() each set up their candidate URL."""
    scenario = (
        Scenario("Example.COM.")
        .srv("dead.example.com", 443, TLSError("certificate for another name"))
        .root(html_response())
        .autodiscover(xml_response(b"", status=404))
        .http_redirect("https://mail.example.com/autodiscover/autodiscover.xml")
        .url("https://mail.example.com/autodiscover/autodiscover.xml", BODY)
    )
    settings = scenario.discover(EMAIL, "pw")
    by_url = {a.url: a.outcome for a in settings.attempts}
    assert Outcome.TLS_ERROR == by_url["https://dead.example.com/autodiscover/autodiscover.xml"]
    assert Outcome.INVALID_RESPONSE == by_url[scenario.root_url]
    assert Outcome.HTTP_ERROR == by_url[scenario.autodiscover_url]
    assert Outcome.REDIRECT_URL == by_url[scenario.probe_url]
    assert Outcome.SETTINGS == settings.attempts[-1].outcome
    assert "Scenario('example.com')" == repr(scenario)
    assert ("GET", scenario.probe_url, False) in [
        (r.method, r.url, r.authenticated) for r in scenario.transport.requests
    ]


def test_answers_are_given_in_turn() -> None:
    """Several answers for one URL are given in order, the last repeating."""
    scenario = Scenario().root(html_response(status=503), BODY)
    urls = [scenario.root_url] * 2
    with pytest.raises(DiscoveryError):
        scenario.discover(EMAIL, "pw", methods=[Method.HTTPS_ROOT])
    assert EWS == scenario.discover(EMAIL, "pw", methods=[Method.HTTPS_ROOT]).ews_url
    assert urls == [r.url for r in scenario.transport.requests]


def test_url_needs_an_answer() -> None:
    """url() without any answer is a ValueError, not a silently dead candidate."""
    with pytest.raises(ValueError, match="at least one answer"):
        Scenario().url("https://example.com/")


def test_for_domain_shares_the_fakes_for_address_redirects() -> None:
    """A redirectAddr to another domain is followed on the same fakes, once approved."""
    home = Scenario("example.com").root(redirect_addr_body("ann@partner.example"))
    home.for_domain("partner.example").root(BODY)
    with pytest.raises(RedirectDeniedError):
        home.discover(EMAIL, "pw")
    assert ["partner.example"] == [p.host for p in home.approver.proposals]
    home.allow_redirects_to("partner.example")
    settings = home.discover(EMAIL, "pw")
    assert ("ann@partner.example", "https://partner.example/autodiscover/autodiscover.xml") == (
        settings.email,
        settings.source.url,
    )


def test_url_redirect_outside_the_domain_is_denied_and_recorded() -> None:
    """A redirectUrl to a foreign host reaches the recording approver, which denies it by default."""
    scenario = Scenario().root(redirect_url_body("https://evil.example/autodiscover/autodiscover.xml"))
    with pytest.raises(RedirectDeniedError):
        scenario.discover(EMAIL, "pw", methods=[Method.HTTPS_ROOT])
    assert ["evil.example"] == [p.host for p in scenario.approver.proposals]
    assert "https://evil.example/autodiscover/autodiscover.xml" not in scenario.transport.credentials_sent_to()


def test_fake_kit_wires_the_clock_into_the_transport() -> None:
    """A FakeKit's own transport moves the kit's clock; discover_kwargs hands over all four seams."""
    kit = FakeKit()
    kit.transport.add_route("https://example.com/x", xml_response(BODY))
    assert {"resolver", "transport", "clock", "approve_redirect"} == set(kit.discover_kwargs())
    assert kit.approver is kit.discover_kwargs()["approve_redirect"]
    clock = FakeClock()
    slow = FakeKit(transport=FakeTransport(latency={"*": 40.0}, clock=clock), clock=clock)
    with pytest.raises(DiscoveryError, match="deadline"):
        discover(EMAIL, "pw", timeout=30.0, **slow.discover_kwargs())
    assert clock.monotonic() >= 30.0


def test_fake_kit_accepts_fakes_of_its_own() -> None:
    """Fakes passed in are used as they are."""
    resolver, approver = FakeResolver(), RecordingApprover(allow=["x.example"])
    kit = FakeKit(resolver=resolver, approver=approver)
    assert (resolver, approver) == (kit.resolver, kit.approver)
    assert "FakeKit(" in repr(kit)


def test_scenario_works_with_a_discoverer_too() -> None:
    """discover_kwargs() also configures a Discoverer for repeated runs."""
    scenario = Scenario.root_answers("example.com", BODY)
    with Discoverer(**scenario.discover_kwargs()) as discoverer:
        assert EWS == discoverer.discover(EMAIL, "pw").ews_url
        assert EWS == discoverer.discover("bob@example.com", "pw").ews_url


def test_seams_are_just_the_resolver_and_transport() -> None:
    """seams() hands over exactly resolver and transport, for code that takes only those two."""
    scenario = Scenario.root_answers("example.com", BODY)
    seams = scenario.seams()
    assert {"resolver": scenario.resolver, "transport": scenario.transport} == dict(seams)
    assert EWS == discover(EMAIL, "pw", **seams).ews_url


def test_internationalised_domains_match_what_discover_asks_for() -> None:
    """A scenario for an IDN domain sets up the A-label URLs that discover() contacts."""
    scenario = Scenario.root_answers("Bücher.example", BODY)
    assert "https://xn--bcher-kva.example/autodiscover/autodiscover.xml" == scenario.root_url
    assert EWS == scenario.discover("ann@bücher.example", "pw").ews_url


def test_a_bad_domain_is_a_clear_error() -> None:
    """A domain discover() would refuse is refused when the scenario is made, with the package's error."""
    with pytest.raises(InvalidEmailError):
        Scenario("not a domain")
