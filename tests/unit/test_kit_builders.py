"""The response builders produce bodies that parse_response reads back to the values put in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodiscover_client import (
    BasicCredentials,
    ErrorDocument,
    HttpRequest,
    InvalidResponseError,
    NetworkRequirements,
    OwaUrl,
    RedirectAddressDocument,
    RedirectUrlDocument,
    Schema,
    Security,
    SettingsDocument,
    parse_response,
)
from autodiscover_client.testing import (
    error_body,
    exchange_xml,
    html_response,
    mail_xml,
    mobilesync_body,
    protocol_xml,
    redirect_addr_body,
    redirect_response,
    redirect_url_body,
    require_basic_auth,
    settings_body,
    unauthorized_response,
    web_xml,
    xml_response,
)

# Text that survives XML: no control characters, no surrounding white space (the parser strips it),
# and plenty of the characters that must be escaped.
TEXT = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs", "Zl", "Zp"]) | st.sampled_from("&<>\"'"),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)
PORT = st.integers(min_value=1, max_value=65535)
SECURITY = st.sampled_from(list(Security))


def settings_of(body: bytes) -> SettingsDocument:
    document = parse_response(body)
    assert isinstance(document, SettingsDocument)
    return document


@given(server=TEXT, ews=TEXT, as_url=TEXT, oab=TEXT, version=TEXT)
def test_exchange_protocols_round_trip(server: str, ews: str, as_url: str, oab: str, version: str) -> None:
    """EXCH and EXPR built with exchange_xml parse back to the same server and URLs."""
    body = settings_body(
        protocols=[
            exchange_xml("EXCH", server=server, ews_url=ews, server_version=version, auth_package="Negotiate"),
            exchange_xml("EXPR", server=server, ews_url=ews, as_url=as_url, oab_url=oab, ssl=True),
        ]
    )
    exch, expr = settings_of(body).protocols
    assert ("EXCH", server, ews, version, "negotiate") == (
        exch.type, exch.server, exch.ews_url, exch.server_version, exch.auth_package,
    )  # fmt: skip
    assert ("EXPR", server, ews, as_url, oab, "On") == (
        expr.type, expr.server, expr.ews_url, expr.as_url, expr.oab_url, expr.ssl,
    )  # fmt: skip


@given(type_=st.sampled_from(["IMAP", "POP3", "SMTP"]), server=TEXT, port=PORT, security=SECURITY, login=TEXT)
def test_mail_protocols_round_trip_with_their_security(
    type_: str, server: str, port: int, security: Security, login: str
) -> None:
    """IMAP, POP3 and SMTP built with mail_xml parse back to the same server, port, login and security."""
    body = settings_body(protocols=[mail_xml(type_, server, port, security=security, login_name=login, spa=False)])
    (protocol,) = settings_of(body).protocols
    assert (type_, server, port, login, False, security) == (
        protocol.type, protocol.server, protocol.port, protocol.login_name, protocol.spa, protocol.security,
    )  # fmt: skip


@pytest.mark.parametrize(("port", "expected"), [(993, Security.TLS), (995, Security.TLS), (465, Security.TLS),
                                                (143, Security.STARTTLS), (587, Security.STARTTLS)])  # fmt: skip
def test_mail_security_defaults_follow_the_port(port: int, expected: Security) -> None:
    """Without security=, the implicit-TLS ports get tls and the others starttls, with no conflict flagged."""
    (protocol,) = settings_of(settings_body(protocols=[mail_xml("IMAP", "imap.example.com", port)])).protocols
    assert (expected, False) == (protocol.security, protocol.security_conflict)


def test_mail_xml_rejects_unknown_security() -> None:
    """A security value that is none of tls, starttls and none is a ValueError."""
    with pytest.raises(ValueError, match="ssl3"):
        mail_xml("IMAP", "imap.example.com", 993, security="ssl3")


@given(external=TEXT, internal=TEXT, method=TEXT, as_url=TEXT)
def test_web_protocol_round_trips(external: str, internal: str, method: str, as_url: str) -> None:
    """WEB built with web_xml parses back to its OWA URLs, authentication method and nested ASUrl."""
    body = settings_body(
        protocols=[web_xml(external_owa=external, internal_owa=internal, authentication_method=method,
                           internal_as_url=as_url)]
    )  # fmt: skip
    (web,) = settings_of(body).protocols
    assert "WEB" == web.type
    assert web.external is not None
    assert web.internal is not None
    assert (OwaUrl(url=external, authentication_method=method),) == web.external.owa_urls
    assert (OwaUrl(url=internal, authentication_method=method),) == web.internal.owa_urls
    assert ("EXCH", as_url) == (web.internal.protocol_type, web.internal.as_url)


def test_any_mix_of_protocols_keeps_document_order() -> None:
    """EXCH, EXPR, WEB, IMAP, POP3 and SMTP together come back in the order given, with the user block."""
    body = settings_body(
        display_name="Ann <Admin> & Co",
        email="ann@example.com",
        protocols=[
            mail_xml("SMTP", "smtp.example.com", 587),
            web_xml(external_owa="https://mail.example.com/owa/"),
            exchange_xml("EXCH", server="ex01.example.local"),
            mail_xml("POP3", "pop.example.com", 995),
            exchange_xml("EXPR", server="mail.example.com", ews_url="https://mail.example.com/EWS/Exchange.asmx"),
            mail_xml("IMAP", "imap.example.com", 993),
        ],
    )
    document = settings_of(body)
    assert ["SMTP", "WEB", "EXCH", "POP3", "EXPR", "IMAP"] == [p.type for p in document.protocols]
    assert document.user is not None
    assert ("Ann <Admin> & Co", "ann@example.com") == (
        document.user.display_name,
        document.user.autodiscover_smtp_address,
    )


def test_settings_body_shortcuts_build_expr_imap_pop3_and_smtp() -> None:
    """ews_url=, imap=, pop3= and smtp= add those protocols with the usual security."""
    body = settings_body(
        ews_url="https://mail.example.com/EWS/Exchange.asmx",
        imap=("imap.example.com", 993),
        pop3=("pop.example.com", 110),
        smtp=("smtp.example.com", 587),
    )
    found = {p.type: (p.server, p.port, p.security) for p in settings_of(body).protocols}
    assert {
        "EXPR": ("mail", None, Security.TLS),
        "IMAP": ("imap.example.com", 993, Security.TLS),
        "POP3": ("pop.example.com", 110, Security.STARTTLS),
        "SMTP": ("smtp.example.com", 587, Security.STARTTLS),
    } == found


def test_protocol_xml_writes_booleans_nested_and_repeated_elements() -> None:
    """True/False become On/Off, a mapping nests, a list repeats, None is left out, unknowns are kept."""
    xml = protocol_xml(
        "EXCH", DomainRequired=True, SPA=False, Port=None, EcpUrl_um="?p=um",
        NetworkRequirements={"IPv4Start": "192.0.2.0", "IPv4End": "192.0.2.255"}, Custom=["a", "b"],
    )  # fmt: skip
    (protocol,) = settings_of(settings_body(protocols=[xml])).protocols
    assert (True, False, None, "?p=um") == (protocol.domain_required, protocol.spa, protocol.port, protocol.ecp_url_um)
    assert NetworkRequirements(ipv4_start="192.0.2.0", ipv4_end="192.0.2.255") == protocol.network_requirements
    assert [("Custom", "a"), ("Custom", "b")] == [e for e in protocol.elements if e[0] == "Custom"]


@given(address=TEXT)
def test_redirect_addr_round_trips(address: str) -> None:
    """redirect_addr_body parses to a RedirectAddressDocument with the same address."""
    assert RedirectAddressDocument(address=address) == parse_response(redirect_addr_body(address))


@given(url=TEXT)
def test_redirect_url_round_trips(url: str) -> None:
    """redirect_url_body parses to a RedirectUrlDocument with the same URL."""
    assert RedirectUrlDocument(url=url) == parse_response(redirect_url_body(url))


@given(code=st.sampled_from(["500", "501", "600", "601", "602", "603", "999"]), message=TEXT)
def test_error_codes_round_trip(code: str, message: str) -> None:
    """error_body parses to an ErrorDocument with the same code and message."""
    document = parse_response(error_body(code, message))
    assert isinstance(document, ErrorDocument)
    assert (code, message) == (document.code, document.message)


@given(url=TEXT, email=TEXT, name=TEXT)
def test_mobilesync_round_trips(url: str, email: str, name: str) -> None:
    """mobilesync_body parses to mobilesync settings with the same ActiveSync URL and user."""
    document = settings_of(mobilesync_body(url, email=email, display_name=name))
    assert Schema.MOBILESYNC == document.schema
    assert [("MobileSync", url)] == [(s.type, s.url) for s in document.mobilesync_servers]
    assert document.user is not None
    assert (email, name) == (document.user.email_address, document.user.display_name)


def test_http_response_builders() -> None:
    """xml_response, redirect_response, unauthorized_response and html_response carry what they say."""
    body = settings_body(ews_url="https://mail.example.com/EWS/Exchange.asmx")
    xml = xml_response(body, status=200, headers={"X-Test": "1"})
    assert (200, body, "1") == (xml.status, xml.body, xml.header("x-test"))
    assert "text/xml" in (xml.header("content-type") or "")
    moved = redirect_response("https://mail.example.com/autodiscover/autodiscover.xml", status=301)
    assert (301, "https://mail.example.com/autodiscover/autodiscover.xml") == (moved.status, moved.header("Location"))
    challenge = unauthorized_response()
    assert (401, 'Basic realm="autodiscover"') == (challenge.status, challenge.header("WWW-Authenticate"))
    page = html_response(status=404)
    assert 404 == page.status
    with pytest.raises(InvalidResponseError, match="HTML"):
        parse_response(page.body)


def test_require_basic_auth_challenges_until_the_right_credentials_arrive() -> None:
    """The handler answers 401 without credentials or with wrong ones, and the response with the right ones."""
    ok = xml_response(settings_body())
    handler = require_basic_auth(ok, username="ann@example.com", password="right")
    request = HttpRequest(method="POST", url="https://example.com/")

    def with_credentials(user: str, password: str) -> HttpRequest:
        return HttpRequest(method="POST", url="https://example.com/", credentials=BasicCredentials(user, password))

    assert 401 == handler(request).status
    assert 401 == handler(with_credentials("ann@example.com", "wrong")).status
    assert 401 == handler(with_credentials("bob@example.com", "right")).status
    assert ok is handler(with_credentials("ann@example.com", "right"))
    assert ok is require_basic_auth(ok)(with_credentials("anyone", "anything"))
