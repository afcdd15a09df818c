"""V2, mobilesync, NTLM/Negotiate and bearer auth with the default transport over real sockets on loopback."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from autodiscover_client import (
    AuthenticationError,
    BearerCredentials,
    DiscoveryError,
    Method,
    NtlmCredentials,
    Outcome,
    RequestsTransport,
    Schema,
    V2Protocol,
    _response_limits,
    discover,
)
from autodiscover_client.testing import LocalAutodiscoverServer, mobilesync_body, settings_body
from autodiscover_client.testing._https_server import RecordedRequest, ServerResponse

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"user@{DOMAIN}"
EWS = f"https://mail.{DOMAIN}/EWS/Exchange.asmx"
POX = f"https://mail.{DOMAIN}/autodiscover/autodiscover.xml"
SETTINGS = settings_body(ews_url=EWS)


def json_answer(data: object, *, status: int = 200, gzipped: bool = False) -> ServerResponse:
    body = json.dumps(data).encode()
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json; charset=utf-8"),)
    if gzipped:
        body, headers = gzip.compress(body), (*headers, ("Content-Encoding", "gzip"))
    return ServerResponse(status=status, headers=headers, body=body)


def transport(
    web: LocalAutodiscoverServer, extra: dict[tuple[str, int], tuple[str, int]] | None = None
) -> RequestsTransport:
    return RequestsTransport(ca_bundle=web.ca_bundle, connect_to={**web.connect_overrides, **(extra or {})})


# --- Autodiscover V2 ---------------------------------------------------------------------------------------


def test_v2_then_pox_over_real_sockets(web: LocalAutodiscoverServer) -> None:
    """GET autodiscover.json (no Authorization) -> POX URL -> POST with Basic after the 401."""
    web.add_host(f"autodiscover.{DOMAIN}", json_answer({"Protocol": "AutodiscoverV1", "Url": POX}))
    web.add_host(f"mail.{DOMAIN}", ServerResponse(body=SETTINGS), credentials=(EMAIL, "pw"))
    with transport(web) as http:
        settings = discover(EMAIL, "pw", methods=[Method.V2_JSON], transport=http)
    assert EWS == settings.ews_url
    first = web.requests[0]
    assert ("GET", None) == (first.method, first.auth_scheme)
    assert first.path == f"/autodiscover/autodiscover.json/v1.0/{EMAIL}?Protocol=AutodiscoverV1"
    assert {("https", f"mail.{DOMAIN}", "Basic")} == set(web.credentials_seen())


def test_v2_ews_answer_and_redirect_to_the_query_form(web: LocalAutodiscoverServer) -> None:
    """A 302 to the query form (as Exchange Online sends) is followed; the Ews URL is the answer."""
    hop = f"https://mail.{DOMAIN}/autodiscover/autodiscover.json?Email=user%40{DOMAIN}&Protocol=Ews&RedirectCount=1"
    web.add_host(f"autodiscover.{DOMAIN}", ServerResponse(status=302, headers=(("Location", hop),), body=b"<html/>"))
    web.add_host(f"mail.{DOMAIN}", json_answer({"Protocol": "Ews", "Url": EWS}, gzipped=True))
    with transport(web) as http:
        settings = discover(EMAIL, methods=[Method.V2_JSON], transport=http, v2_protocol=V2Protocol.EWS)
    assert (EWS, "v2") == (settings.ews_url, settings.schema)
    assert [Outcome.REDIRECT_URL, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]


def test_v2_gzip_bomb_over_real_sockets_hits_the_cap(web: LocalAutodiscoverServer) -> None:
    """A small gzip body inflating to 16 MiB is TOO_LARGE; discovery goes on to the next host."""
    bomb = gzip.compress(b"{" + b" " * (16 * 1024 * 1024), compresslevel=9)
    headers = (("Content-Type", "application/json"), ("Content-Encoding", "gzip"))
    web.add_host(f"autodiscover.{DOMAIN}", ServerResponse(headers=headers, body=bomb))
    web.add_host(DOMAIN, json_answer({"ErrorCode": "ProtocolNotSupported", "ErrorMessage": "no"}, status=400))
    with transport(web) as http, pytest.raises(DiscoveryError) as info:
        discover(EMAIL, methods=[Method.V2_JSON], transport=http)
    assert [Outcome.TOO_LARGE, Outcome.SERVER_ERROR] == [a.outcome for a in info.value.attempts]


# --- mobilesync ----------------------------------------------------------------------------------------


def test_mobilesync_over_real_sockets(web: LocalAutodiscoverServer) -> None:
    """The mobilesync request reaches the server and the ActiveSync URL comes back."""
    eas = f"https://mail.{DOMAIN}/Microsoft-Server-ActiveSync"
    web.add_host(DOMAIN, ServerResponse(body=mobilesync_body(eas, email=EMAIL)))
    with transport(web) as http:
        settings = discover(EMAIL, methods=[Method.HTTPS_ROOT], transport=http, schema=Schema.MOBILESYNC)
    assert eas == settings.activesync_url
    assert b"mobilesync/requestschema/2006" in web.requests[0].body


# --- bearer ------------------------------------------------------------------------------------------------


AUTHORIZE = "https://login.example.net/common/oauth2/authorize"


def _bearer_host(request: RecordedRequest) -> ServerResponse:
    if request.auth_scheme == "Bearer":
        return ServerResponse(body=SETTINGS)
    challenge = f'Bearer client_id="00000002", authorization_uri="{AUTHORIZE}", error="invalid_token"'
    return ServerResponse(status=401, headers=(("WWW-Authenticate", challenge),))


def test_bearer_token_answers_a_bearer_challenge(web: LocalAutodiscoverServer) -> None:
    """A Bearer challenge is answered with the caller's token; the authorization_uri is in the trail."""
    web.add_host(DOMAIN, _bearer_host)
    with transport(web) as http:
        settings = discover(
            EMAIL, credentials=BearerCredentials("tok-123"), methods=[Method.HTTPS_ROOT], transport=http
        )
    assert EWS == settings.ews_url
    assert AUTHORIZE == settings.attempts[0].authorization_uri
    assert [None, "Bearer"] == [r.auth_scheme for r in web.requests]
    assert "tok-123" not in repr(settings) + json.dumps(settings.to_dict())


def test_basic_credentials_never_answer_a_bearer_only_challenge(web: LocalAutodiscoverServer) -> None:
    """Basic is not sent to a Bearer-only endpoint; the caller learns where to get a token."""
    web.add_host(DOMAIN, _bearer_host)
    with transport(web) as http, pytest.raises(DiscoveryError) as info:
        discover(EMAIL, "pw", methods=[Method.HTTPS_ROOT], transport=http)
    assert () == web.credentials_seen()
    assert AUTHORIZE == info.value.attempts[0].authorization_uri
    assert AUTHORIZE in str(info.value)


# --- NTLM and Negotiate --------------------------------------------------------------------------------


@pytest.fixture
def ntlm_accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("spnego", reason="the ntlm extra (pyspnego) is not installed")
    accounts = tmp_path / "ntlm-users"
    accounts.write_text("EXAMPLE:alice:s3cret-Passw0rd\n", encoding="utf-8")
    monkeypatch.setenv("NTLM_USER_FILE", str(accounts))  # read by spnego's acceptor (the test server)


@pytest.mark.usefixtures("ntlm_accounts")
@pytest.mark.parametrize("idle_budget", ["room", "full"])
@pytest.mark.parametrize("protocol", ["ntlm", "negotiate"])
def test_ntlm_handshake_over_one_connection(
    web: LocalAutodiscoverServer, protocol: str, idle_budget: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 3-leg handshake runs on one kept-alive connection and the server accepts the account.

    Also when the process already holds its limit of idle connections (a busy batch): the handshake's
    connection is kept between its legs all the same.
    """
    from _ntlm_server import ntlm_server

    if idle_budget == "full":
        monkeypatch.setattr(_response_limits, "IDLE_LIMIT", _response_limits.idle_connections())

    with ntlm_server(DOMAIN, web.ca, body=SETTINGS) as (port, log):
        with transport(web, {(DOMAIN, 443): ("127.0.0.1", port)}) as http:
            settings = discover(
                EMAIL, credentials=NtlmCredentials("EXAMPLE\\alice", "s3cret-Passw0rd", protocol=protocol),
                methods=[Method.HTTPS_ROOT], transport=http,
            )  # fmt: skip
        assert EWS == settings.ews_url
        scheme = "NTLM" if protocol == "ntlm" else "Negotiate"
        (_, none, s1), (c2, a2, s2), (c3, a3, s3) = log.entries
        assert (None, 401) == (none, s1)
        assert (scheme, 401, scheme, 200) == (a2, s2, a3, s3)
        assert c2 == c3  # NTLM authenticates the connection
        assert ["EXAMPLE\\alice"] == log.principals
        assert "s3cret" not in repr(settings) + json.dumps(settings.to_dict())


@pytest.mark.usefixtures("ntlm_accounts")
def test_a_wrong_ntlm_password_is_an_authentication_error(web: LocalAutodiscoverServer) -> None:
    """The server's refusal of the AUTHENTICATE message is a rejection of the credentials."""
    from _ntlm_server import ntlm_server

    with ntlm_server(DOMAIN, web.ca, body=SETTINGS) as (port, log):
        with transport(web, {(DOMAIN, 443): ("127.0.0.1", port)}) as http, pytest.raises(AuthenticationError):
            discover(
                EMAIL, credentials=NtlmCredentials("EXAMPLE\\alice", "wrong"), methods=[Method.HTTPS_ROOT],
                transport=http,
            )  # fmt: skip
        assert [] == log.principals


@pytest.mark.usefixtures("ntlm_accounts")
def test_ntlm_credentials_are_never_downgraded_to_basic(web: LocalAutodiscoverServer) -> None:
    """A Basic-only 401 (the "ol' switcheroo") gets nothing from NTLM credentials."""
    from _ntlm_server import ntlm_server

    with ntlm_server(DOMAIN, web.ca, offer=('Basic realm="x"',), body=SETTINGS) as (port, log):
        with transport(web, {(DOMAIN, 443): ("127.0.0.1", port)}) as http, pytest.raises(DiscoveryError) as info:
            discover(
                EMAIL, credentials=NtlmCredentials("EXAMPLE\\alice", "s3cret-Passw0rd"), methods=[Method.HTTPS_ROOT],
                transport=http,
            )  # fmt: skip
        assert [(1, None, 401)] == log.entries
    assert "never downgraded" in (info.value.attempts[-1].error or "")


# --- SCP ---------------------------------------------------------------------------------------------------


def test_scp_urls_over_real_sockets_before_the_domain_candidates(web: LocalAutodiscoverServer) -> None:
    """SCP (a fake directory) names an internal host; it is POSTed to over real TLS before HTTPS_ROOT."""
    from autodiscover_client.testing import FakeScpSource, scp_url

    internal = f"https://exch01.{DOMAIN}/Autodiscover/Autodiscover.xml"
    web.add_host(f"exch01.{DOMAIN}", ServerResponse(body=SETTINGS), credentials=(EMAIL, "pw"))
    web.add_host(DOMAIN, ServerResponse(status=500))
    source = FakeScpSource({None: [scp_url(internal, "Site=Default-First-Site-Name")]})
    with transport(web) as http:
        settings = discover(
            EMAIL, "pw", methods=[Method.HTTPS_ROOT, Method.SCP], transport=http, scp_source=source,
            ad_site="Default-First-Site-Name", parallel=False,  # only SCP's host may see a request
        )  # fmt: skip
    assert (Method.SCP, internal) == (settings.source.method, settings.source.url)
    assert all(r.host == f"exch01.{DOMAIN}" for r in web.requests)
