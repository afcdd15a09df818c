"""The narrow seams the core talks through: a resolver, a transport, and a clock (DESIGN §2).

Users satisfy them by passing any object with the right methods; nothing here is meant to be subclassed.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import time
import unicodedata
from collections.abc import Sequence
from typing import Protocol

from ._errors import InvalidCredentialsError

# RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _check_text(value: object, field: str, *, secret: bool) -> str:
    """Refuse a non-str or a value with control characters (RFC 7230 §3.2.6 / RFC 7617 §2: no CTL).

    The message names the field only: a secret must never reach an error, a log or the trail.
    """
    if not isinstance(value, str):
        raise InvalidCredentialsError(f"the {field} must be a str, not {type(value).__name__}")
    # Cc is C0, DEL and C1; Zl/Zp are line breaks to some consumers; Cs cannot even be encoded.
    bad = next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs")), None)
    if bad is not None:
        shown = "" if secret else f" (U+{ord(bad):04X})"
        raise InvalidCredentialsError(f"the {field} contains a control character{shown}, which HTTP forbids")
    return value


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SrvRecord:
    """One SRV record (RFC 2782). A ``target`` of ``"."`` means "no service here"."""

    priority: int
    weight: int
    port: int
    target: str


class Resolver(Protocol):
    """DNS lookups. "No such name" and "no records" are empty answers, not errors.

    Implementations raise only :class:`ResolverError` (or its subclasses), chained from the cause.
    """

    def resolve_srv(self, name: str, *, timeout: float) -> Sequence[SrvRecord]:
        """Return the SRV records of ``name`` in the order to try them (RFC 2782)."""
        ...

    def resolve_addresses(self, host: str, *, timeout: float) -> Sequence[str]:
        """Return the IPv4 and IPv6 addresses of ``host``, in the order to try them."""
        ...


def check_basic(username: object, password: object, *, required: bool = False) -> None:
    """Refuse a user name or password that Basic authentication cannot carry (``None`` only if ``required``).

    Raises:
        InvalidCredentialsError: A non-str, a control character, or a ``:`` in the user name (RFC 7617
            §2: the first colon ends it). The message never shows the password.
    """
    if username is not None or required:
        name = _check_text(username, "user name", secret=False)
        if ":" in name:
            raise InvalidCredentialsError("the user name of BasicCredentials must not contain ':' (RFC 7617 §2)")
    if password is not None or required:
        _check_text(password, "password", secret=True)


@dataclasses.dataclass(frozen=True, slots=True)
class BasicCredentials:
    """A user name and password for HTTP Basic authentication (RFC 7617), sent only over verified TLS.

    The password never appears in ``repr()``.

    Raises:
        InvalidCredentialsError: A non-str field, a ``:`` in the user name (RFC 7617 §2: the first colon
            ends it), or a control character in either field. The message never shows the password.
    """

    username: str
    password: str = dataclasses.field(repr=False)

    scheme = "Basic"

    def __post_init__(self) -> None:
        check_basic(self.username, self.password, required=True)  # None is refused like any other non-str

    def authorization(self) -> str:
        """Return the ``Authorization`` header value."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


@dataclasses.dataclass(frozen=True, slots=True)
class BearerCredentials:
    """An OAuth 2.0 access token the caller obtained (RFC 6750), sent as ``Authorization: Bearer``.

    This package never fetches tokens: a 401 whose ``WWW-Authenticate: Bearer`` challenge names an
    ``authorization_uri`` is surfaced on the attempt (``Attempt.authorization_uri``) so the caller can.
    Exchange Online switched Basic off for Autodiscover in 2022 (PROTOCOL.md §5). The token never
    appears in ``repr()``.

    Raises:
        InvalidCredentialsError: The token is not a str, is empty, or has a character outside RFC 6750's
            ``b64token`` (which also keeps CR/LF out of the header). The message never shows the token.
    """

    token: str = dataclasses.field(repr=False)
    username: str | None = None

    scheme = "Bearer"

    def __post_init__(self) -> None:
        if not isinstance(self.token, str):
            raise InvalidCredentialsError(f"the bearer token must be a str, not {type(self.token).__name__}")
        if not self.token:
            raise InvalidCredentialsError("the bearer token is empty")
        if not _B64TOKEN.fullmatch(self.token):
            raise InvalidCredentialsError(
                "the bearer token has a character RFC 6750 §2.1 does not allow "
                "(only letters, digits, '-._~+/', then '=' padding)"
            )
        if self.username is not None:
            _check_text(self.username, "user name", secret=False)

    def authorization(self) -> str:
        """Return the ``Authorization`` header value."""
        return f"Bearer {self.token}"


@dataclasses.dataclass(frozen=True, slots=True)
class NtlmCredentials:
    """A Windows account for NTLM, or for Negotiate (SPNEGO, which falls back to NTLM without Kerberos).

    Needs the ``ntlm`` extra (pyspnego). The handshake takes three legs over one kept-alive
    connection, so the transport performs it inside one ``send()``; the password never leaves this
    process (NTLM proves knowledge of it) and never appears in ``repr()``.

    Args:
        username: ``DOMAIN\\user`` or ``user@domain`` (the UPN, which Outlook prefers: PROTOCOL.md §5).
        password: The password.
        protocol: ``"ntlm"`` (answers only ``WWW-Authenticate: NTLM``) or ``"negotiate"`` (answers only
            ``Negotiate``). The scheme never changes because a server asked (DESIGN §4 rule 5).

    Raises:
        InvalidCredentialsError: A non-str field or a control character in either (never showing the password).
    """

    username: str
    password: str = dataclasses.field(repr=False)
    protocol: str = "ntlm"

    def __post_init__(self) -> None:
        _check_text(self.username, "user name", secret=False)
        _check_text(self.password, "password", secret=True)
        if self.protocol not in ("ntlm", "negotiate"):
            raise ValueError(f"protocol must be 'ntlm' or 'negotiate', not {self.protocol!r}")

    @property
    def scheme(self) -> str:
        """``NTLM`` or ``Negotiate``: the one ``WWW-Authenticate`` scheme these credentials answer."""
        return "NTLM" if self.protocol == "ntlm" else "Negotiate"


Credentials = BasicCredentials | BearerCredentials | NtlmCredentials
"""The credential types; the type fixes the one authentication scheme used (DESIGN §4 rule 5)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ScpRecord:
    """One Active Directory ``serviceConnectionPoint`` object (MS-OXDISCO §3.1.5.1, PROTOCOL.md §1.3).

    Attributes:
        binding: ``serviceBindingInformation``: an Autodiscover URL, or ``LDAP://host[:port]`` for a pointer.
        keywords: The ``keywords`` values (the keyword GUIDs, ``Site=…``, ``Domain=…``).
        dn: The object's distinguished name, for the trail.
    """

    binding: str
    keywords: tuple[str, ...] = ()
    dn: str = ""


class ScpSource(Protocol):
    """An Active Directory look-up of Autodiscover service connection points.

    :class:`~autodiscover_client.Ldap3ScpSource` (the ``ad`` extra) is one; plug in your own to use
    another directory client. Implementations raise only :class:`ResolverError`, chained from the cause.
    """

    def search(self, server: str | None, *, timeout: float) -> Sequence[ScpRecord]:
        """Return the SCP objects (both keyword GUIDs) under ``configurationNamingContext``.

        Args:
            server: ``None`` for the source's own domain controller, or ``host[:port]`` from a pointer.
            timeout: The most the look-up may take, in seconds.
        """
        ...


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest:
    """One HTTP request the core wants made.

    ``credentials`` are attached by the transport, which must refuse them on anything but ``https``.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    credentials: Credentials | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse:
    """One HTTP response, whatever its status. Header names compare case-insensitively."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """Return the header's values joined by ``", "``, or ``None`` if absent."""
        wanted = name.lower()
        values = [value for key, value in self.headers if key.lower() == wanted]
        return ", ".join(values) if values else None


class Transport(Protocol):
    """One HTTP exchange. Never follows redirects; returns every status as a response.

    Implementations raise only :class:`TransportError` subclasses (connect, TLS, timeout, too large),
    chained from the cause, and must never send credentials except over ``https`` with a verified
    certificate. :class:`BasicCredentials` and :class:`BearerCredentials` are one ``Authorization``
    header (``authorization()``); :class:`NtlmCredentials` need the NTLM/Negotiate handshake inside the
    one ``send()`` (``RequestsTransport`` does it; a transport that cannot should raise ``TransportError``).
    """

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Make the request; ``timeout`` bounds the whole exchange, in seconds."""
        ...


class Clock(Protocol):
    """A monotonic clock, so deadlines can be tested without sleeping."""

    def monotonic(self) -> float:
        """Return seconds from an arbitrary fixed point."""
        ...


class SystemClock:
    """The real monotonic clock."""

    def monotonic(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()
