"""Property tests that try to break the codec, the address parser and the core (issue 3, item 7).

No exception may escape other than this package's typed ones, and credentials may never reach a host the
rules forbid, whatever the servers answer.

The normal suite runs a short pass. The long run is opt-in: ``AUTODISCOVER_FUZZ_EXAMPLES=100000`` runs that
many examples in *each* test below (so at least 100,000 generated or mutated bodies per body test), e.g.
``AUTODISCOVER_FUZZ_EXAMPLES=100000 .venv/bin/python -m pytest -p no:cacheprovider tests/unit/test_fuzz.py``.
"""

from __future__ import annotations

import contextlib
import os
from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodiscover_client import (
    MICROSOFT365_HOSTS,
    AuthenticationError,
    ConnectError,
    DiscoveryError,
    HttpRequest,
    HttpResponse,
    InvalidEmailError,
    InvalidResponseError,
    Method,
    ResponseTooLargeError,
    Settings,
    TLSError,
    TransportTimeoutError,
    discover,
    parse_email,
    parse_response,
)
from autodiscover_client._policy import is_public_suffix, registrable_domain
from autodiscover_client._pox import BASE_NS, MOBILESYNC_NS, OUTLOOK_NS
from autodiscover_client.testing import (
    FakeResolver,
    FakeTransport,
    error_body,
    mobilesync_body,
    protocol_xml,
    redirect_addr_body,
    redirect_url_body,
    settings_body,
)

LONG_RUN = int(os.environ.get("AUTODISCOVER_FUZZ_EXAMPLES", "0") or 0)
FUZZ = settings(
    max_examples=LONG_RUN or 150,
    deadline=None,
    database=None,  # no .hypothesis directory left behind by the suite
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- bodies --------------------------------------------------------------------------------------

SEEDS = [
    settings_body(ews_url="https://mail.example.com/EWS/Exchange.asmx", imap=("imap.example.com", 993)),
    settings_body(protocols=[protocol_xml("WEB", Internal="x"), protocol_xml("EXCH", Server="s", Port="x")]),
    redirect_addr_body("other@example.com"),
    redirect_url_body("https://mail.example.com/autodiscover/autodiscover.xml"),
    error_body(600, "Invalid Request"),
    mobilesync_body("https://eas.example.com/Microsoft-Server-ActiveSync"),
]
TOKENS = [
    b"<", b">", b"</", b"/>", b"&", b"&amp;", b"&#0;", b"&#x10FFFF;", b"&lol;", b"<!DOCTYPE x>", b"<![CDATA[",
    b"]]>", b"<?xml version='1.0' encoding='utf-16'?>", b"<!ENTITY a 'b'>", b"<!--", b"-->", b"\x00", b"\xff\xfe",
    b"\xef\xbb\xbf", b"xmlns=\"", OUTLOOK_NS.encode(), BASE_NS.encode(), MOBILESYNC_NS.encode(), b"<Action>",
    b"redirectAddr", b"redirectUrl", b"settings", b"<Port>", b"99999999999999999999", b"\r\n", b"\"", b"'",
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid body with a few random edits: flips, insertions of XML tokens, cuts and repeats."""
    body = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        if not body:
            break
        at = draw(st.integers(0, len(body) - 1))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "repeat"]))
        if edit == "flip":
            body[at] = draw(st.integers(0, 255))
        elif edit == "insert":
            body[at:at] = draw(st.sampled_from(TOKENS) | st.binary(max_size=8))
        elif edit == "delete":
            del body[at : at + draw(st.integers(1, 16))]
        elif edit == "truncate":
            del body[at:]
        else:
            end = min(len(body), at + draw(st.integers(1, 64)))
            body[at:at] = body[at:end] * draw(st.integers(1, 4))
    return bytes(body)


NAMES = ["Autodiscover", "Response", "Account", "Action", "Protocol", "Type", "Server", "Port", "SSL", "Encryption",
         "RedirectAddr", "RedirectUrl", "Error", "ErrorCode", "Message", "User", "DisplayName", "EwsUrl", "Internal",
         "External", "OWAUrl", "MobileSync", "Url", "Culture", "Status", "x"]  # fmt: skip
NAMESPACES = ["", BASE_NS, OUTLOOK_NS, MOBILESYNC_NS, BASE_NS.replace("http://", "https://"), "urn:other"]
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20).map(
    lambda t: t.replace("&", "&amp;").replace("<", "&lt;")
)


def _element(depth: int) -> st.SearchStrategy[str]:
    children = st.lists(_element(depth - 1), max_size=4).map("".join) if depth > 0 else st.just("")

    def build(name: str, ns: str, text: str, inner: str) -> str:
        attribute = f' xmlns="{ns}"' if ns else ""
        return f"<{name}{attribute}>{text}{inner}</{name}>"

    return st.builds(build, st.sampled_from(NAMES), st.sampled_from(NAMESPACES), TEXT, children)


GENERATED = _element(4).map(str.encode)
BODIES = st.one_of(st.binary(max_size=512), mutated(), GENERATED)


def _parses_or_refuses(body: bytes) -> None:
    with contextlib.suppress(InvalidResponseError):
        parse_response(body)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_parse_or_raise_invalid_response(body: bytes) -> None:
    """Random bytes give a document or InvalidResponseError, nothing else."""
    _parses_or_refuses(body)


@FUZZ
@given(mutated())
def test_mutated_bodies_parse_or_raise_invalid_response(body: bytes) -> None:
    """Valid bodies with random edits give a document or InvalidResponseError, nothing else."""
    _parses_or_refuses(body)


@FUZZ
@given(GENERATED)
def test_generated_documents_parse_or_raise_invalid_response(body: bytes) -> None:
    """Random documents built from Autodiscover's vocabulary and namespaces never crash the parser."""
    _parses_or_refuses(body)


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_is_refused_or_parsed_without_recursion_errors(depth: int) -> None:
    """Deeply nested elements (a stack-exhaustion attempt) never raise RecursionError or MemoryError."""
    body = f'<Autodiscover xmlns="{BASE_NS}">'.encode() + b"<a>" * depth + b"</a>" * depth + b"</Autodiscover>"
    _parses_or_refuses(body)


# --- addresses -----------------------------------------------------------------------------------

LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)
SUFFIXES = ["com", "co.uk", "com.au", "github.io", "ck", "test", "example", "de", "xn--p1ai", "s3.amazonaws.com"]


@FUZZ
@given(st.text(max_size=80))
def test_any_text_parses_or_raises_invalid_email(text: str) -> None:
    """Any string is an address or an InvalidEmailError."""
    with contextlib.suppress(InvalidEmailError):
        parse_email(text)


@FUZZ
@given(st.lists(LABEL, min_size=0, max_size=4), st.sampled_from(SUFFIXES), st.sampled_from(["user", '"a b"', "x.y"]))
def test_candidates_come_only_from_the_exact_domain(labels: list[str], suffix: str, local: str) -> None:
    """Whatever the domain's shape, every candidate is the domain itself or autodiscover.<domain>, never a
    parent and never autodiscover.<public suffix> (DESIGN §4 rule 4)."""
    email = f"{local}@{'.'.join([*labels, suffix])}"
    try:
        domain = parse_email(email).domain
    except InvalidEmailError:
        return  # a public suffix, or a label IDNA 2008 refuses (e.g. "ab--c"): typed, before any I/O
    transport, resolver = FakeTransport(), FakeResolver()
    with pytest.raises(DiscoveryError):
        discover(email, "pw", resolver=resolver, transport=transport, timeout=5)
    for request in transport.requests:
        host = urlsplit(request.url).hostname or ""
        assert host in (domain, f"autodiscover.{domain}")
        assert not is_public_suffix(host.removeprefix("autodiscover."))
    assert all(name == f"_autodiscover._tcp.{domain}" for name, _ in resolver.queries)


# --- the core, against servers that answer anything -----------------------------------------------

EMAIL = "user@example.com"
URLS = st.sampled_from([
    "https://example.com/autodiscover/autodiscover.xml", "https://mail.example.com/autodiscover/autodiscover.xml",
    "https://autodiscover.example.com/autodiscover/autodiscover.xml", "http://example.com/autodiscover/autodiscover.xml",
    "https://evil.test/autodiscover/autodiscover.xml", "https://autodiscover.com/autodiscover/autodiscover.xml",
    "https://outlook.office365.com/autodiscover/autodiscover.xml", "https://example.com.evil.test/x",
    "https://user:pw@evil.test/", "//evil.test/autodiscover/autodiscover.xml", "/other", "", "https://[::1]:99999/",
    "javascript:alert(1)", "https://example.com:0/", "https://ex ample.com/", "https://\u00e9xample.com/",
]) | st.text(max_size=40)  # fmt: skip
CHALLENGES = st.sampled_from(['Basic realm="x"', "NTLM", "Negotiate, NTLM", 'Bearer error="x"', "", "basic", ",,,"])
ERRORS = st.sampled_from([ConnectError("refused"), TLSError("bad cert"), TransportTimeoutError("slow"),
                          ResponseTooLargeError("big"), ValueError("a broken seam")])  # fmt: skip


@st.composite
def responses(draw: st.DrawFn) -> HttpResponse | Exception:
    if draw(st.integers(0, 9)) == 0:
        return draw(ERRORS)
    status = draw(st.sampled_from([200, 200, 301, 302, 303, 307, 308, 401, 403, 404, 500]) | st.integers(100, 599))
    headers: list[tuple[str, str]] = []
    if draw(st.booleans()):
        headers.append(("Location", draw(URLS)))
    if status == 401 or draw(st.booleans()):
        headers.append(("WWW-Authenticate", draw(CHALLENGES)))
    body = draw(BODIES | st.sampled_from([redirect_url_body(u) for u in ("https://evil.test/a", "http://x.test/")]))
    return HttpResponse(status=status, headers=tuple(headers), body=body)


def _may_receive_credentials(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and (registrable_domain(host) == "example.com" or host in MICROSOFT365_HOSTS)


@FUZZ
@given(st.lists(responses(), min_size=1, max_size=12), st.permutations(list(Method)))
def test_discover_survives_any_answers_and_keeps_credentials_in_bounds(
    answers: list[HttpResponse | Exception], methods: list[Method]
) -> None:
    """Whatever the servers answer, discover() returns Settings or raises a DiscoveryError, and credentials
    go only over https to the mail domain or the Microsoft 365 hosts."""
    queue = list(answers)

    def handler(_request: HttpRequest) -> HttpResponse:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = FakeTransport(handler=handler)
    resolver = FakeResolver(
        {"_autodiscover._tcp.example.com": [(0, 0, 443, "mail.example.com"), (1, 0, 8443, "x.test")]}
    )
    outcome: Settings | DiscoveryError
    try:
        outcome = discover(EMAIL, "pw", methods=methods, resolver=resolver, transport=transport, timeout=5)
    except DiscoveryError as exc:
        outcome = exc
    if isinstance(outcome, AuthenticationError):
        assert any(attempt.authenticated for attempt in outcome.attempts)
    assert len(transport.requests) <= 4 * (10 + 2) + 4  # bounded: 10 hops plus one 401 retry per URL
    for url in transport.credentials_sent_to():
        assert _may_receive_credentials(url), url
    for request in transport.requests:
        if request.method == "GET":
            assert not request.authenticated


@pytest.mark.parametrize("location", ["https://[::1]:99999/", "https://[::1/x", "https://example.com:-1/", "http://[x"])
def test_malformed_redirect_urls_are_refused_not_raised(location: str) -> None:
    """A Location the URL parser cannot handle (bad port, broken IPv6 literal) is a denied redirect, not a crash."""
    transport = FakeTransport(handler=lambda _request: HttpResponse(status=302, headers=(("Location", location),)))
    with pytest.raises(DiscoveryError) as info:
        discover(EMAIL, "pw", methods=[Method.HTTPS_ROOT], resolver=FakeResolver(), transport=transport)
    assert "redirect_denied" == info.value.attempts[-1].outcome.value
