"""Field behaviour (issue 2's list) driven through the public fakes: bodies, errors, HTTP, DNS, redirects, addresses.

Each test is one kind of behaviour seen in the wild, with cases written for this file; the real-socket
versions of the HTTP and DNS kinds are in ``tests/integration/test_field_behaviour_real.py``.
"""

from __future__ import annotations

import pytest

from autodiscover_client import (
    AuthenticationError,
    Discoverer,
    DiscoveryError,
    HttpRequest,
    HttpResponse,
    Method,
    Outcome,
    RedirectDeniedError,
    Settings,
    discover,
)
from autodiscover_client.testing import (
    FakeClock,
    FakeResolver,
    FakeTransport,
    error_body,
    html_response,
    mobilesync_body,
    redirect_addr_body,
    redirect_response,
    settings_body,
    unauthorized_response,
    xml_response,
)

ROOT = "https://example.com/autodiscover/autodiscover.xml"
ROOT_OUTLOOK = "https://example.com/Autodiscover/Autodiscover.xml"
AUTO = "https://autodiscover.example.com/autodiscover/autodiscover.xml"
EWS = "https://mail.example.com/EWS/Exchange.asmx"
OK = xml_response(settings_body(ews_url=EWS))
BOTH = [Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER]


def run(transport: FakeTransport, resolver: FakeResolver | None = None, **kwargs: object) -> Settings:
    # A FakeClock makes the concurrent driver (the default) simulate its overlapping work in a fixed order.
    kwargs.setdefault("clock", FakeClock())
    return discover(
        kwargs.pop("email", "user@example.com"),  # type: ignore[arg-type]
        kwargs.pop("password", "secret"),  # type: ignore[arg-type]
        resolver=resolver or FakeResolver(),
        transport=transport,
        **kwargs,  # type: ignore[arg-type]
    )


def failed(transport: FakeTransport, **kwargs: object) -> DiscoveryError:
    resolver = kwargs.pop("resolver", None)
    with pytest.raises(DiscoveryError) as info:
        run(transport, resolver, **kwargs)  # type: ignore[arg-type]
    return info.value


def outcomes(attempts: object) -> list[Outcome]:
    return [a.outcome for a in attempts]  # type: ignore[attr-defined]


def urls(transport: FakeTransport) -> list[str]:
    return [r.url for r in transport.requests]


# --- bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "application/xml", "text/plain", "application/json", None]
)
def test_settings_are_recognised_whatever_the_content_type(content_type: str | None) -> None:
    """The body decides, never the Content-Type: Z-Push says text/html, mailcow application/xml."""
    headers = (("Content-Type", content_type),) if content_type else ()
    transport = FakeTransport({ROOT: HttpResponse(status=200, headers=headers, body=settings_body(ews_url=EWS))})
    assert EWS == run(transport, methods=[Method.HTTPS_ROOT]).ews_url


def test_an_xml_content_type_does_not_make_html_an_answer() -> None:
    """An HTML page labelled text/xml is still an invalid response, and discovery goes on."""
    page = html_response()
    transport = FakeTransport(
        {ROOT: HttpResponse(status=200, headers=(("Content-Type", "text/xml"),), body=page.body), AUTO: OK}
    )
    settings = run(transport, methods=BOTH)
    assert [Outcome.INVALID_RESPONSE, Outcome.SETTINGS] == outcomes(settings.attempts)
    assert "HTML" in (settings.attempts[0].error or "")


# --- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "text"),
    [(500, "Autodiscover error 500: The email address can't be found."), (603, "Autodiscover error 603: boom"),
     (999, "Autodiscover error 999: boom"), ("X-42", "Autodiscover error X-42: boom")],
)  # fmt: skip
def test_errors_inside_http_200_fail_only_their_candidate(code: object, text: str) -> None:
    """An Error in a 200 body, known code or not, is a server error of that URL, and the next URL answers."""
    message = "The email address can't be found." if code == 500 else "boom"
    transport = FakeTransport({ROOT: xml_response(error_body(code, message)), AUTO: OK})  # type: ignore[arg-type]
    settings = run(transport, methods=BOTH)
    assert [Outcome.SERVER_ERROR, Outcome.SETTINGS] == outcomes(settings.attempts)
    assert (200, text) == (settings.attempts[0].status, settings.attempts[0].error)


def test_only_error_answers_make_a_discovery_error_that_quotes_them() -> None:
    """When every endpoint answers an Error, the DiscoveryError's text names each code."""
    transport = FakeTransport({ROOT: xml_response(error_body(500, "nope")), AUTO: xml_response(error_body(777, "odd"))})
    error = failed(transport, methods=BOTH)
    assert not isinstance(error, AuthenticationError)
    assert "error 500: nope" in str(error)
    assert "error 777: odd" in str(error)


def test_an_empty_204_is_not_an_answer() -> None:
    """automx2 answers 204 with no body for unknown domains: an invalid response, then the next candidate."""
    transport = FakeTransport({ROOT: HttpResponse(status=204, headers=(), body=b""), AUTO: OK})
    settings = run(transport, methods=BOTH)
    assert (Outcome.INVALID_RESPONSE, 204) == (settings.attempts[0].outcome, settings.attempts[0].status)
    assert "empty" in (settings.attempts[0].error or "")


def test_a_mobilesync_answer_to_an_outlook_request_is_noted_in_the_trail() -> None:
    """mailcow's EAS answer to an Outlook request gives the ActiveSync URL, and the trail says what happened."""
    url = "https://mail.example.com/Microsoft-Server-ActiveSync"
    settings = run(FakeTransport({ROOT: xml_response(mobilesync_body(url))}), methods=[Method.HTTPS_ROOT])
    assert (url, "mobilesync", None) == (settings.activesync_url, settings.schema, settings.ews_url)
    assert "mobilesync schema; the request asked for outlook" in (settings.attempts[0].error or "")


def test_a_mobilesync_answer_without_a_usable_url_fails_its_candidate() -> None:
    """A mobilesync Settings whose MobileSync Url is empty or broken is no answer; the next candidate is asked."""
    for url in ("", "https:/broken.example.com/eas", "not a url"):
        transport = FakeTransport({ROOT: xml_response(mobilesync_body(url)), AUTO: OK})
        settings = run(transport, methods=BOTH)
        assert [Outcome.INVALID_RESPONSE, Outcome.SETTINGS] == outcomes(settings.attempts), url
        assert "no usable MobileSync URL" in (settings.attempts[0].error or "")


# --- HTTP ------------------------------------------------------------------------------------------


def test_401_before_success_sends_the_credentials_once() -> None:
    """The anonymous POST gets 401, the one authenticated retry gets settings."""
    transport = FakeTransport({ROOT: [unauthorized_response('Basic realm="x"'), OK]})
    settings = run(transport, methods=[Method.HTTPS_ROOT])
    assert [False, True] == [r.authenticated for r in transport.requests]
    assert [(Outcome.UNAUTHORIZED, 401), (Outcome.SETTINGS, 200)] == [(a.outcome, a.status) for a in settings.attempts]


def test_credentials_rejected_by_one_candidate_and_accepted_by_a_later_one() -> None:
    """Root rejects the credentials (401 after 401), autodiscover. accepts them: settings, no AuthenticationError."""
    transport = FakeTransport({ROOT: unauthorized_response(), AUTO: [unauthorized_response(), OK]})
    settings = run(transport, methods=BOTH)
    assert [Outcome.UNAUTHORIZED] * 3 + [Outcome.SETTINGS] == outcomes(settings.attempts)
    assert (ROOT, AUTO) == transport.credentials_sent_to()
    assert "rejected" in (settings.attempts[1].error or "")


@pytest.mark.parametrize("status", [301, 302, 308])
def test_root_domain_redirecting_to_its_web_site(status: int) -> None:
    """A root domain that 301s to its https web site: the site's HTML fails that branch, autodiscover. answers."""
    site = "https://www.example.com/"
    transport = FakeTransport({ROOT: redirect_response(site, status), site: html_response(), AUTO: OK})
    settings = run(transport, methods=BOTH, parallel=False)  # the request order is the sequential one
    assert [Outcome.REDIRECT_URL, Outcome.INVALID_RESPONSE, Outcome.SETTINGS] == outcomes(settings.attempts)
    assert [ROOT, site, AUTO] == urls(transport)
    assert () == transport.credentials_sent_to()


def test_root_domain_redirecting_to_a_plain_http_web_site() -> None:
    """A 301 to http:// is refused (never over plain http) and discovery goes on."""
    transport = FakeTransport({ROOT: redirect_response("http://www.example.com/", 301), AUTO: OK})
    settings = run(transport, methods=BOTH)
    assert [Outcome.REDIRECT_DENIED, Outcome.SETTINGS] == outcomes(settings.attempts)
    assert [ROOT, AUTO] == urls(transport)


@pytest.mark.parametrize("status", [404, 405])
def test_a_path_casing_404_or_405_is_retried_with_outlooks_spelling(status: int) -> None:
    """A server whose route matches only /Autodiscover/Autodiscover.xml answers on the second spelling."""
    transport = FakeTransport({ROOT: xml_response(b"", status=status), ROOT_OUTLOOK: OK})
    settings = run(transport, methods=[Method.HTTPS_ROOT])
    assert [ROOT, ROOT_OUTLOOK] == urls(transport)
    assert [(Outcome.HTTP_ERROR, status), (Outcome.SETTINGS, 200)] == [(a.outcome, a.status) for a in settings.attempts]
    assert "Outlook's spelling" in (settings.attempts[0].error or "")
    assert ROOT_OUTLOOK == settings.source.url


def test_a_path_casing_retry_happens_once_and_discovery_goes_on() -> None:
    """When both spellings are 404 the candidate fails after two requests; other statuses are not retried."""
    missing = xml_response(b"", status=404)
    transport = FakeTransport({ROOT: missing, ROOT_OUTLOOK: missing, AUTO: xml_response(b"", status=403)})
    error = failed(transport, methods=BOTH, parallel=False)  # the request order is the sequential one
    assert [ROOT, ROOT_OUTLOOK, AUTO] == urls(transport)
    assert [Outcome.HTTP_ERROR] * 3 == outcomes(error.attempts)
    assert "HTTP 404 Not Found" == error.attempts[1].error


def test_a_path_casing_retry_keeps_the_credential_rules() -> None:
    """The retried spelling is challenged on its own and gets the credentials once, like any URL."""
    transport = FakeTransport(
        {ROOT: [unauthorized_response(), xml_response(b"", status=404)], ROOT_OUTLOOK: [unauthorized_response(), OK]}
    )
    settings = run(transport, methods=[Method.HTTPS_ROOT])
    assert (ROOT, ROOT_OUTLOOK) == transport.credentials_sent_to()
    assert 4 == len(transport.requests)
    assert ROOT_OUTLOOK == settings.source.url


def test_an_autodiscover_error_inside_an_error_status_is_quoted_in_the_trail() -> None:
    """A 500 whose body is an Autodiscover Error is still an HTTP error, and the trail says what the server said."""
    transport = FakeTransport({ROOT: xml_response(error_body(603, "Internal error"), status=500), AUTO: OK})
    settings = run(transport, methods=BOTH)
    assert (Outcome.HTTP_ERROR, 500) == (settings.attempts[0].outcome, settings.attempts[0].status)
    assert "HTTP 500 Internal Server Error: Autodiscover error 603: Internal error" == settings.attempts[0].error


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_5xx_fails_only_its_candidate(status: int) -> None:
    """A server error status is an HTTP error of that URL (never retried there), then the next URL answers."""
    transport = FakeTransport({ROOT: xml_response(b"<html>busy</html>", status=status), AUTO: OK})
    settings = run(transport, methods=BOTH)
    assert [(Outcome.HTTP_ERROR, status), (Outcome.SETTINGS, 200)] == [(a.outcome, a.status) for a in settings.attempts]
    assert [ROOT, AUTO] == urls(transport)


@pytest.mark.parametrize(
    ("location", "target"),
    [
        ("/ews/autodiscover.xml", "https://example.com/ews/autodiscover.xml"),
        ("other/autodiscover.xml", "https://example.com/autodiscover/other/autodiscover.xml"),
        ("//mail.example.com/autodiscover/autodiscover.xml", "https://mail.example.com/autodiscover/autodiscover.xml"),
        ("  https://mail.example.com/autodiscover/autodiscover.xml  ", "https://mail.example.com/autodiscover/autodiscover.xml"),
    ],
)  # fmt: skip
def test_relative_locations_are_resolved_against_the_request_url(location: str, target: str) -> None:
    """Absolute-path, relative-path, scheme-relative and padded Locations all resolve to one https URL."""
    transport = FakeTransport({ROOT: redirect_response(location), target: OK})
    settings = run(transport, methods=[Method.HTTPS_ROOT])
    assert target == settings.source.url


def test_a_location_with_an_explicit_default_port_is_the_same_url() -> None:
    """:443 in a Location is the URL without it: already tried later on, it is not asked twice."""
    with_port = "https://autodiscover.example.com:443/autodiscover/autodiscover.xml"
    transport = FakeTransport({ROOT: redirect_response(with_port), with_port: xml_response(b"", status=503)})
    error = failed(transport, methods=BOTH, parallel=False)  # concurrently, autodiscover. is asked speculatively
    assert [ROOT, with_port] == urls(transport)
    assert Outcome.REDIRECT_LOOP == error.attempts[-1].outcome
    assert AUTO == error.attempts[-1].url


def test_a_self_redirect_with_an_explicit_default_port_is_a_loop() -> None:
    """A 302 from a URL to itself spelled with :443 and another host case is caught at once."""
    transport = FakeTransport({ROOT: redirect_response("https://Example.COM:443/autodiscover/autodiscover.xml")})
    error = failed(transport, methods=[Method.HTTPS_ROOT])
    assert [ROOT] == urls(transport)
    assert Outcome.REDIRECT_LOOP == error.attempts[-1].outcome


def test_a_location_differing_only_in_path_case_is_followed() -> None:
    """A case-sensitive server that redirects to its own spelling of the path is followed, not taken for a loop."""
    transport = FakeTransport({ROOT: redirect_response("/Autodiscover/Autodiscover.xml", 301), ROOT_OUTLOOK: OK})
    settings = run(transport, methods=[Method.HTTPS_ROOT])
    assert [Outcome.REDIRECT_URL, Outcome.SETTINGS] == outcomes(settings.attempts)
    assert ROOT_OUTLOOK == settings.source.url


def test_a_server_bouncing_between_path_spellings_stops() -> None:
    """Two spellings redirecting to each other end as a loop after one round, not an endless chase."""
    transport = FakeTransport({ROOT: redirect_response(ROOT_OUTLOOK), ROOT_OUTLOOK: redirect_response(ROOT)})
    error = failed(transport, methods=[Method.HTTPS_ROOT])
    assert [ROOT, ROOT_OUTLOOK] == urls(transport)
    assert Outcome.REDIRECT_LOOP == error.attempts[-1].outcome


# --- DNS -------------------------------------------------------------------------------------------

SRV_NAME = "_autodiscover._tcp.example.com"


def test_every_srv_target_is_tried_in_the_resolvers_order() -> None:
    """Four targets over two priorities: each is tried once, in order, until the last answers."""
    records = [(10, 60, 443, "a.example.com."), (10, 40, 443, "b.example.com."), (20, 0, 8443, "c.example.com."),
               (30, 0, 443, "d.example.com")]  # fmt: skip
    last = "https://d.example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport({last: OK})
    settings = run(transport, FakeResolver({SRV_NAME: records}), methods=[Method.SRV])
    assert [
        "https://a.example.com/autodiscover/autodiscover.xml",
        "https://b.example.com/autodiscover/autodiscover.xml",
        "https://c.example.com:8443/autodiscover/autodiscover.xml",
        last,
    ] == urls(transport)
    assert [Outcome.CONNECT_ERROR] * 3 + [Outcome.SETTINGS] == outcomes(settings.attempts)


def test_srv_targets_with_trailing_dots_and_case_are_one_host() -> None:
    """``Mail.Example.com.`` and ``mail.example.com`` are the same URL: it is asked once."""
    records = [(0, 0, 443, "Mail.Example.com."), (1, 0, 443, "mail.example.com")]
    transport = FakeTransport({"https://mail.example.com/autodiscover/autodiscover.xml": xml_response(b"", status=503)})
    error = failed(transport, resolver=FakeResolver({SRV_NAME: records}), methods=[Method.SRV])
    assert ["https://mail.example.com/autodiscover/autodiscover.xml"] == urls(transport)
    assert Outcome.REDIRECT_LOOP == error.attempts[-1].outcome


def test_a_dot_target_among_others_is_skipped() -> None:
    """A '.' record next to real ones is ignored; the real targets are tried."""
    records = [(0, 0, 443, "."), (5, 0, 443, "mail.example.com.")]
    transport = FakeTransport({"https://mail.example.com/autodiscover/autodiscover.xml": OK})
    settings = run(transport, FakeResolver({SRV_NAME: records}), methods=[Method.SRV])
    assert ["https://mail.example.com/autodiscover/autodiscover.xml"] == urls(transport)
    assert Method.SRV == settings.source.method


def test_a_lone_dot_target_then_the_next_method() -> None:
    """A lone '.' means no service by SRV: nothing is contacted for it and the https methods still run."""
    transport = FakeTransport({ROOT: OK})
    settings = run(transport, FakeResolver({SRV_NAME: [(0, 0, 443, ".")]}), methods=[Method.SRV, Method.HTTPS_ROOT])
    assert [Outcome.NO_RECORDS, Outcome.SETTINGS] == outcomes(settings.attempts)
    assert [ROOT] == urls(transport)


@pytest.mark.parametrize(
    ("port", "netloc"),
    [
        (443, "mail.example.com"),
        (444, "mail.example.com:444"),
        (8443, "mail.example.com:8443"),
        (80, "mail.example.com:80"),
    ],
)
def test_srv_ports_are_kept_and_always_https(port: int, netloc: str) -> None:
    """The SRV port is honoured (only 443 is left out of the URL), and the scheme is https even on port 80."""
    url = f"https://{netloc}/autodiscover/autodiscover.xml"
    transport = FakeTransport({url: OK})
    settings = run(transport, FakeResolver({SRV_NAME: [(0, 0, port, "mail.example.com")]}), methods=[Method.SRV])
    assert url == settings.source.url


# --- redirects -------------------------------------------------------------------------------------


def _address_redirects(chain: dict[str, str]) -> FakeTransport:
    """A root URL per domain answering redirectAddr along ``chain`` (domain -> next address), settings at the end."""

    def handler(request: HttpRequest) -> HttpResponse:
        domain = request.url.split("/")[2]
        if domain in chain:
            return xml_response(redirect_addr_body(chain[domain]))
        return OK

    return FakeTransport(handler=handler)


def test_a_chain_of_address_redirects_is_followed_to_its_end() -> None:
    """a@ → b@ → c@ (all inside example.com) restarts discovery twice and answers for c@."""
    transport = _address_redirects({"example.com": "b@one.example.com", "one.example.com": "c@two.example.com"})
    settings = run(transport, methods=[Method.HTTPS_ROOT])
    assert "c@two.example.com" == settings.email
    assert [Outcome.REDIRECT_ADDRESS, Outcome.REDIRECT_ADDRESS, Outcome.SETTINGS] == outcomes(settings.attempts)
    assert ["user@example.com", "b@one.example.com", "c@two.example.com"] == [a.email for a in settings.attempts]


def test_a_chain_longer_than_the_budget_ends_with_the_limit() -> None:
    """Eleven address redirects in a row exhaust the 10-hop budget and say so."""
    chain = {"example.com": "u@d1.example.com"} | {f"d{i}.example.com": f"u@d{i + 1}.example.com" for i in range(1, 20)}
    error = failed(_address_redirects(chain), methods=[Method.HTTPS_ROOT])
    assert [Outcome.REDIRECT_ADDRESS] * 10 + [Outcome.REDIRECT_LIMIT] == outcomes(error.attempts)


def test_redirect_addr_to_the_same_address_in_another_case() -> None:
    """redirectAddr to the address just sent (in any case) is not a restart: that URL is invalid, the next answers."""
    transport = FakeTransport({ROOT: xml_response(redirect_addr_body("User@EXAMPLE.com")), AUTO: OK})
    settings = run(transport, methods=BOTH)
    assert [Outcome.REDIRECT_LOOP, Outcome.SETTINGS] == outcomes(settings.attempts)
    assert "same address" in (settings.attempts[0].error or "")


def test_an_a_b_a_address_loop_through_mobilesync_redirects() -> None:
    """A → B → A is caught whether the hops are Outlook redirectAddr or mobilesync Redirect answers."""
    mobilesync_redirect = (
        b'<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">'
        b'<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006">'
        b"<Action><Redirect>user@example.com</Redirect></Action></Response></Autodiscover>"
    )
    transport = FakeTransport(
        {ROOT: xml_response(redirect_addr_body("b@sub.example.com")),
         "https://sub.example.com/autodiscover/autodiscover.xml": xml_response(mobilesync_redirect)}
    )  # fmt: skip
    error = failed(transport, methods=[Method.HTTPS_ROOT])
    assert [Outcome.REDIRECT_ADDRESS, Outcome.REDIRECT_LOOP] == outcomes(error.attempts)
    assert 2 == len(transport.requests)


def test_counters_and_visited_sets_are_per_run() -> None:
    """The same Discoverer runs the same 9-hop chain twice: the second run has a fresh budget and fresh visits."""
    chain = {"example.com": "u@d1.example.com"} | {f"d{i}.example.com": f"u@d{i + 1}.example.com" for i in range(1, 9)}
    discoverer = Discoverer(methods=[Method.HTTPS_ROOT], resolver=FakeResolver(), transport=_address_redirects(chain))
    first = discoverer.discover("user@example.com")
    second = discoverer.discover("user@example.com")
    assert "u@d9.example.com" == first.email == second.email
    assert outcomes(first.attempts) == outcomes(second.attempts)
    assert 10 == len(second.attempts)


# --- addresses -------------------------------------------------------------------------------------


def test_an_address_needing_xml_escaping_is_escaped_in_every_request() -> None:
    """Quoted local parts with < > & ' are escaped in the first request and after a redirectAddr too."""
    target = '"o\'b<r>&i"@sub.example.com'
    transport = FakeTransport(
        {ROOT: xml_response(redirect_addr_body(target)), "https://sub.example.com/autodiscover/autodiscover.xml": OK}
    )
    settings = run(transport, email='"a&b<c>"@example.com', methods=[Method.HTTPS_ROOT])
    first, second = (r.body for r in transport.requests)
    assert b"<EMailAddress>&quot;a&amp;b&lt;c&gt;&quot;@example.com</EMailAddress>" in first
    assert b"<EMailAddress>&quot;o&apos;b&lt;r&gt;&amp;i&quot;@sub.example.com</EMailAddress>" in second
    assert target == settings.email


def test_idn_and_upper_case_domains_become_lower_case_a_labels_everywhere() -> None:
    """``User@Bücher.EXAMPLE`` is asked about as ``xn--bcher-kva.example`` in DNS, URLs and bodies; ``User`` stays."""
    resolver = FakeResolver({"_autodiscover._tcp.xn--bcher-kva.example": [(0, 0, 443, "MAIL.xn--BCHER-kva.example.")]})
    transport = FakeTransport()
    error = failed(
        transport,
        resolver=resolver,
        email="User@Bücher.EXAMPLE",
        methods=[Method.SRV, Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER],
        parallel=False,  # the request order is the sequential one
    )
    assert [("_autodiscover._tcp.xn--bcher-kva.example", "SRV")] == list(resolver.queries)
    assert [
        "https://mail.xn--bcher-kva.example/autodiscover/autodiscover.xml",
        "https://xn--bcher-kva.example/autodiscover/autodiscover.xml",
        "https://autodiscover.xn--bcher-kva.example/autodiscover/autodiscover.xml",
    ] == urls(transport)
    assert {b"<EMailAddress>User@xn--bcher-kva.example</EMailAddress>"} == {
        r.body[r.body.index(b"<EMailAddress>") : r.body.index(b"</EMailAddress>") + 15] for r in transport.requests
    }
    assert "User@xn--bcher-kva.example" == error.email


def test_an_idn_redirect_addr_is_normalised_and_stays_inside_the_registrable_domain() -> None:
    """A redirectAddr with a U-label, upper-case domain is converted before it is compared and used."""
    transport = FakeTransport(
        {"https://xn--bcher-kva.example/autodiscover/autodiscover.xml":
            xml_response(redirect_addr_body("x@MAIL.Bücher.example")),
         "https://mail.xn--bcher-kva.example/autodiscover/autodiscover.xml": OK}
    )  # fmt: skip
    settings = run(transport, email="user@bücher.example", methods=[Method.HTTPS_ROOT])
    assert "x@mail.xn--bcher-kva.example" == settings.email


def test_a_foreign_redirect_addr_is_denied_with_its_domain_named() -> None:
    """redirectAddr to another registrable domain is denied by default; the trail names it and how to allow it."""
    transport = FakeTransport({ROOT: xml_response(redirect_addr_body("user@Example.NET"))})
    with pytest.raises(RedirectDeniedError) as info:
        run(transport, methods=[Method.HTTPS_ROOT])
    assert "example.net" in (info.value.attempts[0].error or "")
