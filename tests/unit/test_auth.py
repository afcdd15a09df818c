"""Credential types and the challenge rules: the caller's type fixes the scheme (DESIGN §4 rule 5, PROTOCOL.md §5)."""

from __future__ import annotations

import pickle

import pytest

from autodiscover_client import (
    Attempt,
    AuthenticationError,
    BasicCredentials,
    BearerCredentials,
    DiscoveryError,
    Method,
    NtlmCredentials,
    Outcome,
    discover,
)
from autodiscover_client._flow import bearer_authorization_uri
from autodiscover_client._ntlm import server_token
from autodiscover_client.testing import (
    FakeResolver,
    FakeTransport,
    settings_body,
    unauthorized_response,
    xml_response,
)

ROOT = "https://example.com/autodiscover/autodiscover.xml"
EWS = "https://mail.example.com/EWS/Exchange.asmx"
OK = xml_response(settings_body(ews_url=EWS))
EXO_CHALLENGE = (
    'Bearer client_id="00000002-0000-0ff1-ce00-000000000000", trusted_issuers="00000001@*,00000004@*", '
    'token_types="app_asserted_user_v1 service_asserted_app_v1", '
    'authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token"'
)


def run(challenge: str, credentials: object, then: object = OK) -> tuple[FakeTransport, object]:
    transport = FakeTransport({ROOT: [unauthorized_response(challenge), then]})  # type: ignore[list-item]
    try:
        result: object = discover(
            "user@example.com", credentials=credentials, resolver=FakeResolver(), transport=transport,  # type: ignore[arg-type]
            methods=[Method.HTTPS_ROOT],
        )  # fmt: skip
    except DiscoveryError as exc:
        result = exc
    return transport, result


@pytest.mark.parametrize(
    ("credentials", "challenge"),
    [
        (BasicCredentials("u", "p"), 'Basic realm="x"'),
        (BearerCredentials("tok"), EXO_CHALLENGE),
        (NtlmCredentials("D\\u", "p"), "Negotiate, NTLM"),
        (NtlmCredentials("D\\u", "p", protocol="negotiate"), "NTLM, Negotiate"),
    ],
)
def test_each_type_answers_its_own_scheme(credentials: object, challenge: str) -> None:
    """Basic, Bearer, NTLM and Negotiate credentials each answer a challenge naming their scheme."""
    transport, result = run(challenge, credentials)
    assert EWS == getattr(result, "ews_url", None)
    assert [ROOT] == list(transport.credentials_sent_to())


@pytest.mark.parametrize(
    ("credentials", "challenge"),
    [
        (BearerCredentials("tok"), 'Basic realm="x"'),
        (NtlmCredentials("D\\u", "p"), 'Basic realm="x"'),
        (NtlmCredentials("D\\u", "p"), "Negotiate"),
        (NtlmCredentials("D\\u", "p", protocol="negotiate"), "NTLM"),
        (BasicCredentials("u", "p"), "Negotiate, NTLM"),
        (BasicCredentials("u", "p"), EXO_CHALLENGE),
    ],
)
def test_no_type_is_ever_switched_to_another_scheme(credentials: object, challenge: str) -> None:
    """A challenge for another scheme gets nothing: no downgrade, no sidegrade (Guardicore's switcheroo)."""
    transport, result = run(challenge, credentials)
    assert isinstance(result, DiscoveryError)
    assert () == transport.credentials_sent_to()
    assert "never downgraded" in (result.attempts[0].error or "")


def test_a_rejected_token_is_an_authentication_error_with_the_authorization_uri() -> None:
    """A second 401 after the token was sent is a rejection; both attempts name where to get a token."""
    _, result = run(EXO_CHALLENGE, BearerCredentials("tok"), then=unauthorized_response(EXO_CHALLENGE))
    assert isinstance(result, AuthenticationError)
    uri = "https://login.microsoftonline.com/common/oauth2/authorize"
    assert [uri, uri] == [a.authorization_uri for a in result.attempts]
    assert "a token is available from " + uri in result.attempts[0].describe()
    assert uri == result.to_dict()["attempts"][0]["authorization_uri"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("challenge", "uri"),
    [
        (EXO_CHALLENGE, "https://login.microsoftonline.com/common/oauth2/authorize"),
        ('Negotiate, NTLM, Bearer authorization_uri="https://a.example/x"', "https://a.example/x"),
        ('bearer AUTHORIZATION_URI = "https://a.example/x"', "https://a.example/x"),
        ('Bearer authorization_uri="http://a.example/x"', None),
        ('Bearer authorization_uri="javascript:alert(1)"', None),
        ('Basic authorization_uri="https://a.example/x"', None),
        ('Bearer realm="x"', None),
        ('Bearer authorization_uri="https://a.example/\x01"', None),
        (None, None),
        ("", None),
    ],
)
def test_authorization_uri_parsing(challenge: str | None, uri: str | None) -> None:
    """Only an https authorization_uri of a Bearer challenge is surfaced."""
    assert uri == bearer_authorization_uri(challenge)


def test_secrets_stay_out_of_reprs_and_pickles_keep_them() -> None:
    """Tokens and passwords never appear in repr(); the objects still pickle for process pools."""
    bearer = BearerCredentials("tok-secret-1")
    ntlm = NtlmCredentials("D\\u", "pw-secret-2", protocol="negotiate")
    assert "tok-secret-1" not in repr(bearer)
    assert "pw-secret-2" not in repr(ntlm)
    assert ("Bearer", "Negotiate", "NTLM") == (bearer.scheme, ntlm.scheme, NtlmCredentials("u", "p").scheme)
    assert ntlm == pickle.loads(pickle.dumps(ntlm))


def test_an_unknown_ntlm_protocol_is_refused() -> None:
    """NtlmCredentials takes 'ntlm' or 'negotiate' only."""
    with pytest.raises(ValueError, match="'ntlm' or 'negotiate'"):
        NtlmCredentials("u", "p", protocol="kerberos")


@pytest.mark.parametrize(
    ("header", "scheme", "token"),
    [("NTLM TlRMTVNTUA==", "NTLM", b"NTLMSSP"), ("Negotiate, NTLM YWJj", "NTLM", b"abc"),
     ("NTLM", "NTLM", None), ("NTLM !!!", "NTLM", None), ("Negotiate YWJj", "NTLM", None), (None, "NTLM", None)],
)  # fmt: skip
def test_server_token_extraction(header: str | None, scheme: str, token: bytes | None) -> None:
    """The CHALLENGE token is the base64 after our scheme; junk or another scheme gives None."""
    assert token == server_token(header, scheme)


def test_attempts_default_to_no_authorization_uri() -> None:
    """Attempt.authorization_uri is None unless a Bearer challenge named one."""
    assert Attempt(method=Method.SRV, url="x", outcome=Outcome.NO_RECORDS).authorization_uri is None
