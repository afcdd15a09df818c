"""Autodiscover V2 (JSON): URLs, bounded decoding, the parser (corpus 25-30) and the flow (PROTOCOL.md §7)."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiscover_client import (
    DEFAULT_ORDER,
    DiscoveryError,
    HttpResponse,
    InvalidResponseError,
    Method,
    Outcome,
    ResponseTooLargeError,
    Schema,
    Settings,
    V2Endpoint,
    V2Error,
    V2Protocol,
    discover,
    parse_v2_response,
)
from autodiscover_client._v2 import decode_body, query_url, redirect_count, request_url
from autodiscover_client.testing import (
    FakeResolver,
    FakeTransport,
    redirect_response,
    settings_body,
    unauthorized_response,
    xml_response,
)

CORPUS = Path(os.environ.get("AUTODISCOVER_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
EMAIL = "user@example.com"
V1 = "AutodiscoverV1"
AUTO_V2 = f"https://autodiscover.example.com/autodiscover/autodiscover.json/v1.0/{EMAIL}?Protocol="
ROOT_V2 = f"https://example.com/autodiscover/autodiscover.json/v1.0/{EMAIL}?Protocol="
O365_V2 = f"https://outlook.office365.com/autodiscover/autodiscover.json/v1.0/{EMAIL}?Protocol="
POX = "https://mail.example.com/autodiscover/autodiscover.xml"
EWS = "https://mail.example.com/EWS/Exchange.asmx"
EAS = "https://mail.example.com/Microsoft-Server-ActiveSync"


def corpus(name: str) -> tuple[bytes, str]:
    """A corpus sample and its sidecar text, read at test time (never copied into the repository)."""
    matches = sorted(p for p in CORPUS.glob(f"{name}-*") if p.suffix != ".md") if CORPUS.is_dir() else []
    if not matches:
        pytest.skip(f"corpus sample {name} not found under {CORPUS} (set AUTODISCOVER_CORPUS)")
    return matches[0].read_bytes(), matches[0].with_suffix(".md").read_text(encoding="utf-8")


def json_response(data: object, status: int = 200) -> HttpResponse:
    return HttpResponse(status=status, headers=(("Content-Type", "application/json"),), body=json.dumps(data).encode())


def run_v2(transport: FakeTransport, **kwargs: object) -> Settings:
    return discover(
        EMAIL, kwargs.pop("password", None), resolver=FakeResolver(), transport=transport,  # type: ignore[arg-type]
        methods=kwargs.pop("methods", [Method.V2_JSON]), **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


# --- the parser, against the corpus -----------------------------------------------------------------------


def test_corpus_25_exchange_online_autodiscoverv1() -> None:
    """EXO echoes the request's casing ("Autodiscoverv1"); the URL is the POX endpoint."""
    body, _ = corpus("25")
    assert V2Endpoint(protocol="Autodiscoverv1", url="https://outlook.office365.com/autodiscover/autodiscover.xml") == (
        parse_v2_response(body)
    )


def test_corpus_26_redirect_carries_a_redirect_count() -> None:
    """EXO's 302 for an unknown user has a query-form Location with RedirectCount=1 and an HTML body."""
    raw, _ = corpus("26")
    head_bytes, body = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)
    head = head_bytes.decode()
    assert head.startswith("HTTP/1.1 302")
    location = next(line.split(":", 1)[1].strip() for line in head.splitlines() if line.lower().startswith("location:"))
    assert 1 == redirect_count(location)
    assert location.startswith("https://outlook.office365.com/autodiscover/autodiscover.json?Email=")
    with pytest.raises(InvalidResponseError):
        parse_v2_response(body)  # the HTML body is not a V2 answer


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("27", V2Endpoint(protocol="ActiveSync", url="https://mail.example.com/Microsoft-Server-ActiveSync")),
        ("29", V2Endpoint(protocol="Ews", url="https://mail.example.com/EWS/Exchange.asmx")),
        (
            "28",
            V2Error(
                code="InvalidProtocol",
                message="The given protocol value 'Ews' is invalid. Supported values are 'ActiveSync,AutodiscoverV1'",
            ),
        ),
    ],
)
def test_corpus_success_and_error_shapes(name: str, expected: object) -> None:
    """mailcow and gromox answers parse to the values their sidecars state (JSON escapes decoded)."""
    body, _ = corpus(name)
    assert expected == parse_v2_response(body)


def test_corpus_30_error_object_with_http_200() -> None:
    """gromox mirrors EXO: ProtocolNotSupported comes with HTTP 200, so the status is not the signal."""
    body, _ = corpus("30")
    document = parse_v2_response(body)
    assert isinstance(document, V2Error)
    assert "ProtocolNotSupported" == document.code
    assert "SubstrateSearchService" in (document.message or "")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"   ", "empty"),
        (b"<html>hi</html>", "JSONDecodeError"),
        (b"[1, 2]", "a JSON list"),
        (b'"Url"', "a JSON str"),
        (b'{"Protocol": "Ews"}', "neither Url nor ErrorCode"),
        (b'{"Url": 42}', "neither Url nor ErrorCode"),
        (b'{"Url": "   "}', "neither Url nor ErrorCode"),
        (b'{"ErrorCode": ""}', "neither Url nor ErrorCode"),
        (b"\xff\xfe\x00garbage", "not a V2 JSON answer"),
        (b"[" * 100_000 + b"]" * 100_000, "not a V2 JSON answer"),
        (b'{"Url": "x", "n": ' + b"9" * 5000 + b"}", "not a V2 JSON answer"),
    ],
)
def test_bad_json_is_a_typed_error(body: bytes, fragment: str) -> None:
    """Anything but a V2 object raises InvalidResponseError, never a json or recursion error."""
    with pytest.raises(InvalidResponseError, match=fragment):
        parse_v2_response(body)


def test_a_bom_and_extra_keys_are_accepted() -> None:
    """A UTF-8 BOM and unknown keys (ServerLocation …) do not matter."""
    body = b'\xef\xbb\xbf{"Protocol": "Ews", "Url": " https://a.example.com/ews ", "ServerLocation": "x"}'
    assert V2Endpoint(protocol="Ews", url="https://a.example.com/ews") == parse_v2_response(body)


# --- URLs and bodies ----------------------------------------------------------------------------------


def test_request_urls_use_both_documented_forms() -> None:
    """The path form for the first request; the query form with RedirectCount as Outlook mobile sends it."""
    assert AUTO_V2 + "Ews" == request_url("autodiscover.example.com", EMAIL, V2Protocol.EWS)
    assert (
        "https://mail.example.com/autodiscover/autodiscover.json?Email=user%40example.com&Protocol=ActiveSync"
        "&RedirectCount=3" == query_url("mail.example.com", EMAIL, V2Protocol.ACTIVESYNC, 3)
    )


def test_an_odd_local_part_stays_inside_the_path_segment() -> None:
    """/, ?, # and spaces in a local part are percent-encoded."""
    url = request_url("example.com", '"a/b?c#d e"@example.com', V2Protocol.EWS)
    assert url.endswith("/v1.0/%22a%2Fb%3Fc%23d%20e%22@example.com?Protocol=Ews")


@pytest.mark.parametrize(
    ("url", "count"),
    [("https://h/x?Email=a&RedirectCount=2", 2), ("https://h/x?redirectcount=7", 7), ("https://h/x", None),
     ("https://h/x?RedirectCount=-1", None), ("https://h/x?RedirectCount=" + "9" * 50, None)],
)  # fmt: skip
def test_redirect_count_parsing(url: str, count: int | None) -> None:
    """RedirectCount is read case-insensitively; junk is ignored."""
    assert count == redirect_count(url)


def test_gzip_and_deflate_bodies_are_decoded() -> None:
    """gzip (declared or sniffed by its magic) and both deflate framings decode."""
    data = b'{"Protocol":"Ews","Url":"https://a.example.com/ews"}'
    assert data == decode_body(gzip.compress(data), "gzip")
    assert data == decode_body(gzip.compress(data), None)
    assert data == decode_body(zlib.compress(data), "deflate")
    raw = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    assert data == decode_body(raw.compress(data) + raw.flush(), "deflate")
    assert data == decode_body(data, "identity")


def test_a_gzip_bomb_hits_the_cap_without_inflating() -> None:
    """32 MiB of zeros in a ~32 KiB gzip stops at the cap (1 MiB by default)."""
    bomb = gzip.compress(b"\0" * (32 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 128 * 1024
    with pytest.raises(ResponseTooLargeError, match="cap"):
        decode_body(bomb, "gzip")
    with pytest.raises(ResponseTooLargeError):
        decode_body(gzip.compress(b"x" * 101), "gzip", max_size=100)
    assert b"x" * 100 == decode_body(gzip.compress(b"x" * 100), "gzip", max_size=100)


@pytest.mark.parametrize(
    ("body", "coding", "fragment"),
    [(b"\x1f\x8bnot gzip", "gzip", "corrupt"), (gzip.compress(b"abc")[:-10], "gzip", "truncated"),
     (b"x", "br", "unsupported Content-Encoding")],
)  # fmt: skip
def test_bad_compression_is_a_typed_error(body: bytes, coding: str, fragment: str) -> None:
    """Corrupt, truncated or unknown encodings raise InvalidResponseError."""
    with pytest.raises(InvalidResponseError, match=fragment):
        decode_body(body, coding)


# --- the flow -------------------------------------------------------------------------------------------


def test_v2_is_off_by_default() -> None:
    """Neither default order contains V2 (or SCP)."""
    assert Method.V2_JSON not in DEFAULT_ORDER
    assert Method.SCP not in DEFAULT_ORDER


def test_v2_goes_first_when_enabled() -> None:
    """Wherever the caller lists V2, it is tried before the other methods."""
    transport = FakeTransport(
        {AUTO_V2 + V1: json_response({"Protocol": V1, "Url": POX}), POX: xml_response(settings_body(ews_url=EWS))}
    )
    settings = run_v2(transport, methods=[Method.HTTPS_ROOT, Method.V2_JSON])
    assert Method.V2_JSON == settings.source.method
    assert AUTO_V2 + V1 == transport.requests[0].url


def test_autodiscoverv1_continues_with_a_pox_post_without_sending_credentials_to_v2() -> None:
    """V2 GET (no credentials) -> POX URL in the domain -> POST, answering its 401 with the credentials."""
    transport = FakeTransport({
        AUTO_V2 + V1: json_response({"Protocol": "Autodiscoverv1", "Url": POX}),
        POX: [unauthorized_response(), xml_response(settings_body(ews_url=EWS))],
    })  # fmt: skip
    settings = run_v2(transport, password="secret")
    assert EWS == settings.ews_url
    assert POX == settings.source.url
    assert "outlook" == settings.schema
    first = transport.requests[0]
    assert ("GET", False) == (first.method, first.authenticated)
    assert [POX] == list(transport.credentials_sent_to())
    assert [Outcome.REDIRECT_URL, Outcome.UNAUTHORIZED, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]


def test_a_pox_url_outside_the_domain_needs_approval() -> None:
    """The POX URL V2 names is a redirect target: with the Microsoft 365 list switched off,
    outlook.office365.com is denied unless allowed; with it on (the default), it is followed."""
    exo = "https://outlook.office365.com/autodiscover/autodiscover.xml"
    routes: dict[str | tuple[str, str], HttpResponse] = {
        AUTO_V2 + V1: json_response({"Protocol": V1, "Url": exo}),
        exo: xml_response(settings_body(ews_url=EWS)),
    }
    with pytest.raises(DiscoveryError) as info:
        run_v2(FakeTransport(routes), password="secret", trust_microsoft365=False)
    assert Outcome.REDIRECT_DENIED == info.value.attempts[0].outcome
    assert "outlook.office365.com" in (info.value.attempts[0].error or "")
    settings = run_v2(
        FakeTransport(routes), password="secret", allowed_hosts=["outlook.office365.com"], trust_microsoft365=False
    )
    assert exo == settings.source.url
    assert exo == run_v2(FakeTransport(routes), password="secret").source.url


@pytest.mark.parametrize(
    ("protocol", "url", "accessor"),
    [(V2Protocol.EWS, EWS, "ews_url"), (V2Protocol.ACTIVESYNC, EAS, "activesync_url")],
)
def test_ews_and_activesync_return_their_url_directly(protocol: V2Protocol, url: str, accessor: str) -> None:
    """Protocol=Ews / ActiveSync: the URL is the answer; no POST follows."""
    transport = FakeTransport({AUTO_V2 + protocol.value: json_response({"Protocol": protocol.value, "Url": url})})
    settings = run_v2(transport, v2_protocol=protocol)
    assert url == getattr(settings, accessor)
    assert ("v2", protocol.value, url) == (settings.schema, settings.v2_protocol, settings.v2_url)
    assert 1 == len(transport.requests)
    assert url == settings.to_dict()[accessor]


def test_the_mobilesync_schema_asks_v2_for_activesync() -> None:
    """With Schema.MOBILESYNC, V2 asks Protocol=ActiveSync by default."""
    transport = FakeTransport({AUTO_V2 + "ActiveSync": json_response({"Protocol": "ActiveSync", "Url": EAS})})
    settings = run_v2(transport, schema=Schema.MOBILESYNC)
    assert EAS == settings.activesync_url


@pytest.mark.parametrize("status", [200, 400])
def test_error_objects_fail_the_host_whatever_the_status(status: int) -> None:
    """An ErrorCode object (HTTP 200 or 400) is a server error; the next host is asked."""
    transport = FakeTransport({
        AUTO_V2 + "Ews": json_response({"ErrorCode": "InvalidProtocol", "ErrorMessage": "nope"}, status),
        ROOT_V2 + "Ews": json_response({"Protocol": "Ews", "Url": EWS}),
    })  # fmt: skip
    settings = run_v2(transport, v2_protocol=V2Protocol.EWS)
    first = settings.attempts[0]
    assert (Outcome.SERVER_ERROR, status) == (first.outcome, first.status)
    assert "InvalidProtocol: nope" in (first.error or "")
    assert EWS == settings.ews_url


def test_redirects_are_followed_within_the_budget_and_policy() -> None:
    """A 302 to the query form on another host is followed once approved; RedirectCount is obeyed."""
    hop = (
        "https://mail.example.com/autodiscover/autodiscover.json?Email=user%40example.com&Protocol=Ews&RedirectCount=1"
    )
    transport = FakeTransport(
        {AUTO_V2 + "Ews": redirect_response(hop), hop: json_response({"Protocol": "Ews", "Url": EWS})}
    )
    settings = run_v2(transport, v2_protocol=V2Protocol.EWS)
    assert [Outcome.REDIRECT_URL, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]
    assert all(not r.authenticated for r in transport.requests)


def test_a_redirect_count_over_ten_is_refused() -> None:
    """A Location whose RedirectCount exceeds 10 ends that host."""
    hop = "https://mail.example.com/autodiscover/autodiscover.json?Email=u&Protocol=Ews&RedirectCount=11"
    with pytest.raises(DiscoveryError) as info:
        run_v2(FakeTransport({AUTO_V2 + "Ews": redirect_response(hop)}), v2_protocol=V2Protocol.EWS)
    assert Outcome.REDIRECT_LIMIT == info.value.attempts[0].outcome


def test_http_redirects_and_http_answers_are_refused() -> None:
    """An http Location is not followed, and an http Url in the answer is never used."""
    transport = FakeTransport({
        AUTO_V2 + "Ews": redirect_response("http://mail.example.com/autodiscover/autodiscover.json"),
        ROOT_V2 + "Ews": json_response({"Protocol": "Ews", "Url": "http://mail.example.com/EWS/Exchange.asmx"}),
    })  # fmt: skip
    with pytest.raises(DiscoveryError) as info:
        run_v2(transport, v2_protocol=V2Protocol.EWS)
    outcomes = [a.outcome for a in info.value.attempts]
    assert [Outcome.REDIRECT_DENIED, Outcome.INVALID_RESPONSE] == outcomes
    assert "not an https URL" in (info.value.attempts[1].error or "")


def test_a_redirect_loop_ends_the_host() -> None:
    """Two V2 URLs redirecting to each other end in REDIRECT_LOOP, not a hang."""
    other = "https://autodiscover.example.com/autodiscover/autodiscover.json?Email=user%40example.com&Protocol=Ews"
    transport = FakeTransport({AUTO_V2 + "Ews": redirect_response(other), other: redirect_response(AUTO_V2 + "Ews")})
    with pytest.raises(DiscoveryError) as info:
        run_v2(transport, v2_protocol=V2Protocol.EWS, methods=[Method.V2_JSON])
    assert Outcome.REDIRECT_LOOP in [a.outcome for a in info.value.attempts]
    assert len(transport.requests) <= 4


def test_a_wrong_protocol_in_the_answer_is_not_used() -> None:
    """Asking for Ews and getting an ActiveSync URL is an invalid answer."""
    transport = FakeTransport({AUTO_V2 + "Ews": json_response({"Protocol": "ActiveSync", "Url": EAS})})
    with pytest.raises(DiscoveryError) as info:
        run_v2(transport, v2_protocol=V2Protocol.EWS)
    assert "ActiveSync" in (info.value.attempts[0].error or "")


def test_v2_never_answers_a_challenge() -> None:
    """A 401 on a V2 GET is a dead end even with credentials; its Bearer authorization_uri is surfaced."""
    challenge = 'Bearer client_id="x", authorization_uri="https://login.example.net/common/oauth2/authorize"'
    transport = FakeTransport({AUTO_V2 + V1: unauthorized_response(challenge)})
    with pytest.raises(DiscoveryError) as info:
        run_v2(transport, password="secret")
    assert () == transport.credentials_sent_to()
    assert "https://login.example.net/common/oauth2/authorize" == info.value.attempts[0].authorization_uri


def test_office365_is_asked_only_when_opted_in() -> None:
    """outlook.office365.com is never contacted unless v2_office365=True; then it goes first."""
    transport = FakeTransport()
    with pytest.raises(DiscoveryError):
        run_v2(transport)
    assert [AUTO_V2 + V1, ROOT_V2 + V1] == [r.url for r in transport.requests]
    transport = FakeTransport({O365_V2 + "Ews": json_response({"Protocol": "Ews", "Url": EWS})})
    settings = run_v2(transport, v2_protocol=V2Protocol.EWS, v2_office365=True)
    assert O365_V2 + "Ews" == settings.source.url


def test_gzip_answers_and_bombs_through_the_flow() -> None:
    """A gzip body is decoded; a gzip bomb is TOO_LARGE and the next host is asked."""
    good = gzip.compress(json.dumps({"Protocol": "Ews", "Url": EWS}).encode())
    bomb = gzip.compress(b" " * (8 * 1024 * 1024))
    transport = FakeTransport({
        AUTO_V2 + "Ews": HttpResponse(status=200, headers=(("Content-Encoding", "gzip"),), body=bomb),
        ROOT_V2 + "Ews": HttpResponse(status=200, headers=(("Content-Encoding", "gzip"),), body=good),
    })  # fmt: skip
    settings = run_v2(transport, v2_protocol=V2Protocol.EWS)
    assert Outcome.TOO_LARGE == settings.attempts[0].outcome
    assert EWS == settings.ews_url


def test_non_json_error_statuses_are_http_errors() -> None:
    """A 404 HTML page is an HTTP error, not an invalid response."""
    transport = FakeTransport({AUTO_V2 + V1: HttpResponse(status=404, body=b"<html>no</html>")})
    with pytest.raises(DiscoveryError) as info:
        run_v2(transport)
    assert (Outcome.HTTP_ERROR, 404) == (info.value.attempts[0].outcome, info.value.attempts[0].status)


@pytest.mark.parametrize(
    ("email", "hosts"),
    [
        ("user@example.com", ["autodiscover.example.com", "example.com"]),
        ("user@mail.example.co.uk", ["autodiscover.mail.example.co.uk", "mail.example.co.uk"]),
        ("user@xn--bcher-kva.example", ["autodiscover.xn--bcher-kva.example", "xn--bcher-kva.example"]),
    ],
)
def test_v2_asks_only_the_exact_mail_domain(email: str, hosts: list[str]) -> None:
    """V2 never walks up the domain (DESIGN §4 rule 4) and sends no credentials anywhere."""
    transport = FakeTransport()
    with pytest.raises(DiscoveryError):
        discover(email, "secret", methods=[Method.V2_JSON], resolver=FakeResolver(), transport=transport)
    assert hosts == [urlsplit(r.url).hostname for r in transport.requests]
    assert () == transport.credentials_sent_to()


KEYS = st.sampled_from(["Url", "Protocol", "ErrorCode", "ErrorMessage", "x"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=300), JSON_VALUES.map(lambda value: json.dumps(value).encode())))
def test_any_body_parses_or_raises_the_typed_error(body: bytes) -> None:
    """Whatever the bytes, parse_v2_response returns a V2 result or raises InvalidResponseError."""
    try:
        result = parse_v2_response(body)
    except InvalidResponseError:
        return
    assert isinstance(result, (V2Endpoint, V2Error))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.sampled_from([None, "gzip", "deflate", "identity", "gzip, identity", "br"]))
def test_any_encoded_body_decodes_or_raises_a_typed_error(body: bytes, coding: str | None) -> None:
    """decode_body never lets a zlib error out."""
    with contextlib.suppress(InvalidResponseError, ResponseTooLargeError):
        decode_body(body, coding, max_size=1000)


def test_a_404_on_the_path_form_is_retried_in_the_query_form() -> None:
    """Servers that route only autodiscover.json?Email=… are reached on the same host, without credentials."""
    query = "https://autodiscover.example.com/autodiscover/autodiscover.json?Email=user%40example.com&Protocol=Ews&RedirectCount=0"
    transport = FakeTransport({
        AUTO_V2 + "Ews": HttpResponse(status=404),
        query: json_response({"Protocol": "Ews", "Url": EWS}),
    })  # fmt: skip
    settings = run_v2(transport, v2_protocol=V2Protocol.EWS)
    assert (query, EWS) == (settings.source.url, settings.ews_url)
    assert [(Outcome.HTTP_ERROR, 404), (Outcome.SETTINGS, 200)] == [(a.outcome, a.status) for a in settings.attempts]


def test_other_failures_are_not_retried_in_the_query_form() -> None:
    """Only a 404 triggers the query form: a 500 moves on to the next host."""
    transport = FakeTransport({AUTO_V2 + "Ews": HttpResponse(status=500)})
    with pytest.raises(DiscoveryError):
        run_v2(transport, v2_protocol=V2Protocol.EWS)
    assert [AUTO_V2 + "Ews", ROOT_V2 + "Ews"] == [r.url for r in transport.requests]
