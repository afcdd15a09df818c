"""The mobilesync (ActiveSync) schema end to end: request, parser shapes, Redirect restarts (MS-ASCMD §2.2.3)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autodiscover_client import (
    ErrorDocument,
    Method,
    Outcome,
    RedirectAddressDocument,
    Schema,
    SettingsDocument,
    discover,
    parse_response,
)
from autodiscover_client.testing import FakeResolver, FakeTransport, mobilesync_body, xml_response

CORPUS = Path(os.environ.get("AUTODISCOVER_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
BASE = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
MOBILESYNC = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
ROOT = "https://example.com/autodiscover/autodiscover.xml"
NET_ROOT = "https://example.net/autodiscover/autodiscover.xml"
EAS = "https://eas.example.com/Microsoft-Server-ActiveSync"


def corpus(name: str) -> bytes:
    """Read a shared corpus sample at test time (never copied into the repository)."""
    matches = sorted(CORPUS.glob(f"{name}-*.xml")) if CORPUS.is_dir() else []
    if not matches:
        pytest.skip(f"corpus sample {name} not found under {CORPUS} (set AUTODISCOVER_CORPUS)")
    return matches[0].read_bytes()


def mobilesync(inner: str) -> bytes:
    return f'<Autodiscover xmlns="{BASE}"><Response xmlns="{MOBILESYNC}">{inner}</Response></Autodiscover>'.encode()


def test_corpus_07_mobilesync_and_certenroll_servers() -> None:
    """MS-ASCMD's example yields the trimmed MobileSync URL and the CertEnroll server with its template."""
    document = parse_response(corpus("07"))
    assert isinstance(document, SettingsDocument)
    assert Schema.MOBILESYNC == document.schema
    assert "en:us" == document.culture
    assert document.user is not None
    assert "user@example.com" == document.user.email_address
    sync, cert = document.mobilesync_servers
    assert ("MobileSync", EAS, EAS) == (sync.type, sync.url, sync.name)
    assert ("CertEnroll", "https://cert.example.com/CertEnroll", "", "CertEnrollTemplate") == (
        cert.type, cert.url, cert.name, cert.server_data,
    )  # fmt: skip


def test_corpus_08_action_level_error_status() -> None:
    """An Action-level Error carries Status, Message and DebugData."""
    document = parse_response(corpus("08"))
    assert isinstance(document, ErrorDocument)
    assert ("2", "The directory service could not be reached", "MailUser") == (
        document.status, document.message, document.debug_data,
    )  # fmt: skip
    assert "status 2" in document.describe()


def test_corpus_21_redirect_is_an_address() -> None:
    """A mobilesync Redirect is an SMTP address to restart discovery with (MS-ASCMD §2.2.3.147)."""
    document = parse_response(corpus("21"))
    assert isinstance(document, RedirectAddressDocument)
    assert ("user@example.net", Schema.MOBILESYNC) == (document.address, document.schema)


def test_mobilesync_schema_sends_the_mobilesync_request() -> None:
    """Schema.MOBILESYNC asks for the mobilesync response and returns Settings.activesync_url."""
    transport = FakeTransport({ROOT: xml_response(mobilesync_body(EAS))})
    settings = discover(
        "user@example.com", resolver=FakeResolver(), transport=transport, methods=[Method.HTTPS_ROOT],
        schema=Schema.MOBILESYNC,
    )  # fmt: skip
    assert EAS == settings.activesync_url
    assert "mobilesync" == settings.schema
    assert b"mobilesync/requestschema/2006" in transport.requests[0].body
    assert MOBILESYNC.encode() in transport.requests[0].body


def test_mobilesync_redirect_restarts_discovery_for_the_new_address() -> None:
    """A Redirect restarts the whole candidate list for the new address, like redirectAddr."""
    redirect = mobilesync("<Action><Redirect>user@example.net</Redirect></Action>")
    transport = FakeTransport({ROOT: xml_response(redirect), NET_ROOT: xml_response(mobilesync_body(EAS))})
    settings = discover(
        "user@example.com", resolver=FakeResolver(), transport=transport, methods=[Method.HTTPS_ROOT],
        schema=Schema.MOBILESYNC, allowed_hosts=["example.net"],
    )  # fmt: skip
    assert "user@example.net" == settings.email
    assert [Outcome.REDIRECT_ADDRESS, Outcome.SETTINGS] == [a.outcome for a in settings.attempts]
    assert b"user@example.net" in transport.requests[1].body


def test_mobilesync_action_error_is_a_failed_candidate() -> None:
    """An Action-level Error ends that candidate with SERVER_ERROR and discovery moves on."""
    error = mobilesync("<Action><Error><Status>2</Status><Message>no directory</Message></Error></Action>")
    auto = "https://autodiscover.example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport({ROOT: xml_response(error), auto: xml_response(mobilesync_body(EAS))})
    settings = discover(
        "user@example.com", resolver=FakeResolver(), transport=transport,
        methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER], schema=Schema.MOBILESYNC,
    )  # fmt: skip
    assert Outcome.SERVER_ERROR == settings.attempts[0].outcome
    assert "status 2: no directory" in (settings.attempts[0].error or "")
    assert EAS == settings.activesync_url
