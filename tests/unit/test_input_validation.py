"""Bad library input gets a typed error before any I/O, and credentials never carry unsendable secrets.

A bearer token with CR/LF used to reach requests, whose ``InvalidHeader`` message quoted the whole header
(token included) into the trail and ``str(DiscoveryError)``; the credential classes now refuse it.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from autodiscover_client import (
    AutodiscoverError,
    BasicCredentials,
    BearerCredentials,
    Discoverer,
    DiscoveryError,
    InvalidArgumentError,
    InvalidCredentialsError,
    Method,
    NtlmCredentials,
    Schema,
    discover,
)
from autodiscover_client.testing import FakeResolver, FakeTransport

SECRET = "tok-SECRET"
EMAIL = "a@b.example"


class _NoIo:
    """A transport and resolver that fail the test if anything is sent: validation comes first."""

    def send(self, request: object, *, timeout: float) -> Any:
        raise AssertionError("a request was sent")

    def resolve_srv(self, name: str, *, timeout: float) -> Any:
        raise AssertionError("a DNS query was made")

    def resolve_addresses(self, host: str, *, timeout: float) -> Any:
        raise AssertionError("a DNS query was made")


NO_IO = _NoIo()


@pytest.mark.parametrize(
    "token",
    [f"{SECRET}\r\nX-Injected: yes", f"{SECRET}\n", f" {SECRET}", f"{SECRET} x", f"{SECRET}\x00", "tok\u202eSECRET",
     "", "=SECRET", "tok-SECRET=x", "tök-SECRET"],
)  # fmt: skip
def test_bearer_refuses_tokens_outside_b64token(token: str) -> None:
    """RFC 6750 §2.1 b64token only, non-empty; the message never contains the token."""
    with pytest.raises(InvalidCredentialsError) as caught:
        BearerCredentials(token)
    assert "SECRET" not in str(caught.value)
    assert isinstance(caught.value, (AutodiscoverError, ValueError))


@pytest.mark.parametrize("token", ["tok-123", "eyJ0eXAi.abc_DEF~+/xyz", "YWJj==", "a"])
def test_bearer_accepts_b64tokens(token: str) -> None:
    """Real token shapes (JWTs, base64 with padding) pass."""
    assert f"Bearer {token}" == BearerCredentials(token).authorization()


def test_bearer_refuses_a_non_str_token() -> None:
    """bytes would be formatted as b'...': refused with a TypeError-compatible typed error."""
    with pytest.raises(TypeError):
        BearerCredentials(b"tok-SECRET")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("username", "password"),
    [("a:b", "pw-SECRET"), ("a\r\nb", "pw-SECRET"), ("a", "pw-SECRET\r\nX: y"), ("a", "pw-SECRET\x7f"),
     ("a", "pw-SECRET\x85"), ("a\u2028", "pw-SECRET")],
)  # fmt: skip
def test_basic_refuses_colon_in_user_and_control_characters(username: str, password: str) -> None:
    """RFC 7617 §2: the user-id has no ':' and neither field has control characters; the password is never shown."""
    with pytest.raises(InvalidCredentialsError) as caught:
        BasicCredentials(username, password)
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize("password", [b"pw-SECRET", 1234, None])
def test_basic_refuses_a_non_str_password(password: object) -> None:
    """A non-str password is a TypeError-compatible InvalidCredentialsError, its value not shown."""
    with pytest.raises(InvalidCredentialsError) as caught:
        BasicCredentials("a", password)  # type: ignore[arg-type]
    assert isinstance(caught.value, TypeError)
    assert "SECRET" not in str(caught.value)
    assert "1234" not in str(caught.value)


@pytest.mark.parametrize(("username", "password"), [("dom\\u\r\n", "pw-SECRET"), ("u", "pw-SECRET\n"), ("u", b"x")])
def test_ntlm_refuses_control_characters_and_non_str(username: str, password: Any) -> None:
    """NtlmCredentials follow the same rules (a ':' is fine: NTLM does not join the fields)."""
    with pytest.raises(InvalidCredentialsError) as caught:
        NtlmCredentials(username, password)
    assert "SECRET" not in str(caught.value)


def test_no_credentials_repr_shows_the_secret() -> None:
    """repr() and str() of every credential class leave the secret out."""
    for credentials in (
        BasicCredentials("user", "pw-SECRET"),
        BearerCredentials(SECRET, username="user"),
        NtlmCredentials("DOM\\user", "pw-SECRET", protocol="negotiate"),
    ):
        assert "SECRET" not in repr(credentials)
        assert "SECRET" not in str(credentials)
        assert "user" in repr(credentials)


def test_discover_refuses_a_bad_token_before_any_io() -> None:
    """The CR/LF token fails where it is made, so no request (and no echoing error message) ever happens."""
    with pytest.raises(InvalidCredentialsError) as caught:
        discover(EMAIL, credentials=BearerCredentials(f"{SECRET}\r\nX-Injected: yes"), transport=NO_IO, resolver=NO_IO)
    assert "SECRET" not in str(caught.value)


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: discover(EMAIL, b"pw-SECRET", transport=NO_IO, resolver=NO_IO), "password"),  # type: ignore[arg-type]
        (lambda: discover(EMAIL, credentials="x", transport=NO_IO, resolver=NO_IO), "credentials"),  # type: ignore[arg-type]
        (lambda: discover(EMAIL, "pw", username=7, transport=NO_IO, resolver=NO_IO), "username"),  # type: ignore[arg-type]
        (lambda: Discoverer(timeout="5"), "timeout"),  # type: ignore[arg-type]
        (lambda: Discoverer(timeout=math.nan), "timeout"),
        (lambda: Discoverer(timeout=math.inf), "timeout"),
        (lambda: Discoverer(timeout=0), "timeout"),
        (lambda: Discoverer(request_timeout=-1.0), "request_timeout"),
        (lambda: Discoverer(timeout=True), "timeout"),
        (lambda: Discoverer(schema="nonsense"), "schema"),  # type: ignore[arg-type]
        (lambda: Discoverer(schema=3), "schema"),  # type: ignore[arg-type]
        (lambda: Discoverer(methods="bogus"), "methods"),  # type: ignore[arg-type]
        (lambda: Discoverer(methods=()), "methods"),
        (lambda: Discoverer(methods=5), "methods"),  # type: ignore[arg-type]
        (lambda: Discoverer(allowed_hosts=[3]), "allowed_hosts"),  # type: ignore[list-item]
        (lambda: Discoverer(allowed_hosts=["a b"]), "allowed_hosts"),
        (lambda: Discoverer(allowed_hosts=["https://mail.example.net"]), "give the host alone"),
        (lambda: Discoverer(allowed_hosts=["ann@example.net"]), "give the host alone"),
        (lambda: Discoverer(user_agent="x\r\nX-Injected: 1"), "user_agent"),
        (lambda: Discoverer(transport="x"), "transport"),  # type: ignore[arg-type]
        (lambda: Discoverer(resolver=object()), "resolver"),  # type: ignore[arg-type]
        (lambda: Discoverer(approve_redirect="yes"), "approve_redirect"),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_get_a_typed_error_naming_them(call: Any, names: str) -> None:
    """Each bad argument is an InvalidArgumentError (a ValueError and a TypeError) that names it."""
    with pytest.raises(InvalidArgumentError) as caught:
        call()
    assert names in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, TypeError)
    assert "SECRET" not in str(caught.value)


def test_forgiving_spellings_are_normalised() -> None:
    """One Method or its value, a Schema's value, and a bare host name mean what they obviously mean."""
    assert (Method.SRV,) == Discoverer(methods="srv").methods  # type: ignore[arg-type]
    assert (Method.SRV,) == Discoverer(methods=Method.SRV).methods  # type: ignore[arg-type]
    assert (Method.SRV, Method.HTTPS_ROOT) == Discoverer(methods=["srv", Method.HTTPS_ROOT]).methods  # type: ignore[list-item]
    assert Schema.MOBILESYNC is Discoverer(schema="mobilesync").schema  # type: ignore[arg-type]
    policy = Discoverer(allowed_hosts="Evil.Example.").policy
    assert frozenset({"evil.example"}) == policy.allowed_hosts


def test_valid_arguments_still_discover() -> None:
    """The checks do not get in the way of a normal run (public fakes: no I/O)."""
    transport = FakeTransport()
    with pytest.raises(DiscoveryError) as caught:  # the fakes know no records: discovery runs, finds nothing
        discover(EMAIL, "pw", methods=["srv"], resolver=FakeResolver(), transport=transport)  # type: ignore[list-item]
    assert [Method.SRV] == [attempt.method for attempt in caught.value.attempts]
