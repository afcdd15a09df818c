"""The narrow seams the core talks through: a resolver, a transport, and a clock (DESIGN §2).

Users satisfy them by passing any object with the right methods; nothing here is meant to be subclassed.
"""

from __future__ import annotations

import base64
import dataclasses
import time
from collections.abc import Sequence
from typing import Protocol


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


@dataclasses.dataclass(frozen=True, slots=True)
class BasicCredentials:
    """A user name and password for HTTP Basic authentication (RFC 7617), sent only over verified TLS.

    The password never appears in ``repr()``.
    """

    username: str
    password: str = dataclasses.field(repr=False)

    scheme = "Basic"

    def authorization(self) -> str:
        """Return the ``Authorization`` header value."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


Credentials = BasicCredentials


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
    certificate.
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
