"""The exception tree.

Everything this package raises derives from :class:`AutodiscoverError`::

    AutodiscoverError
    ├── InvalidEmailError            the caller's address cannot be used (local fault, before any I/O)
    ├── InvalidArgumentError         another argument has the wrong type or value (before any I/O)
    │   └── InvalidCredentialsError  credentials that cannot be sent (the message never shows the secret)
    ├── DiscoveryError               discovery ran and found no settings (carries the trail)
    │   ├── AuthenticationError      endpoints rejected the credentials and nothing succeeded
    │   ├── RedirectDeniedError      the only ways forward were redirects the policy denied
    │   └── DeadlineExceededError    the overall deadline passed before anything answered
    ├── InvalidResponseError         a body is not a usable Autodiscover document (remote fault)
    ├── TransportError               one HTTP exchange failed (raised by transports, remote fault)
    │   ├── ConnectError             the TCP connection could not be made
    │   ├── TLSError                 the TLS handshake or certificate verification failed
    │   ├── TransportTimeoutError    a connect or read timed out
    │   └── ResponseTooLargeError    the body or headers exceeded their cap
    └── ResolverError                a DNS lookup failed (not: "no such name", which is an empty answer)
        └── ResolverTimeoutError     the DNS lookup timed out

:func:`discover` raises only :class:`InvalidEmailError`, :class:`InvalidArgumentError` and :class:`DiscoveryError`
subclasses; the others
are what the seams raise, and each ends up as one failed attempt in the trail.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._models import Attempt


class AutodiscoverError(Exception):
    """Base class of every exception raised by ``autodiscover_client``."""


class InvalidEmailError(AutodiscoverError, ValueError):
    """The e-mail address cannot be used for discovery.

    Raised before any I/O: the address has no or several unquoted ``@``, an invalid local part,
    an invalid domain (IDNA 2008), or a domain that is a public suffix.
    """


class InvalidArgumentError(AutodiscoverError, ValueError, TypeError):
    """An argument other than the address has the wrong type or value.

    Raised before any I/O by :func:`discover`, :class:`Discoverer` and the credential classes. It is both
    a ``ValueError`` and a ``TypeError``, so code catching either of the built-in errors keeps working.
    """


class InvalidCredentialsError(InvalidArgumentError):
    """Credentials that cannot be sent: the wrong type, an empty token, or characters HTTP forbids.

    The message names the field and the rule, never the secret itself (DESIGN §4 rule 7).
    """


class DiscoveryError(AutodiscoverError):
    """Discovery ran and produced no settings.

    Args:
        message: One line saying what happened.
        email: The address discovery was for.
        attempts: The trail: every attempt made, in order.
    """

    def __init__(self, message: str, *, email: str = "", attempts: Sequence[Attempt] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.email = email
        self.attempts: tuple[Attempt, ...] = tuple(attempts)

    def __str__(self) -> str:
        lines = [self.message]
        lines.extend(f"  - {attempt.describe()}" for attempt in self.attempts)
        return "\n".join(lines)

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments do not survive the default pickling of exceptions.
        return (_rebuild_discovery_error, (type(self), self.message, self.email, self.attempts))

    def to_dict(self) -> dict[str, object]:
        """Return the error as plain JSON-ready data: ``error``, ``kind`` and ``attempts``."""
        return {
            "error": self.message,
            "kind": type(self).__name__,
            "email": self.email,
            "attempts": [attempt.to_dict() for attempt in self.attempts],
        }


def _rebuild_discovery_error(
    cls: type[DiscoveryError], message: str, email: str, attempts: tuple[Attempt, ...]
) -> DiscoveryError:
    return cls(message, email=email, attempts=attempts)


class AuthenticationError(DiscoveryError):
    """At least one endpoint rejected the credentials, and no endpoint produced settings."""


class RedirectDeniedError(DiscoveryError):
    """Nothing produced settings, and at least one redirect was denied by the redirect policy.

    The trail names each denied host; pass ``allowed_hosts`` or ``approve_redirect`` to allow it.
    """


class DeadlineExceededError(DiscoveryError):
    """The overall deadline passed before any endpoint produced settings."""


class InvalidResponseError(AutodiscoverError):
    """A response body is not a usable Autodiscover document (not XML, forbidden XML, wrong root)."""


class TransportError(AutodiscoverError):
    """One HTTP exchange failed. Transports raise this (or a subclass), chained from the cause."""


class ConnectError(TransportError):
    """The connection could not be made (refused, unreachable, reset, name not resolved)."""


class TLSError(TransportError):
    """The TLS handshake failed or the server's certificate did not verify."""


class TransportTimeoutError(TransportError):
    """The connect or a read did not finish within its timeout."""


class ResponseTooLargeError(TransportError):
    """The response body or its headers exceeded the configured cap."""


class ResolverError(AutodiscoverError):
    """A DNS lookup failed. "No such name" and "no records" are empty answers, not errors."""


class ResolverTimeoutError(ResolverError):
    """A DNS lookup did not finish within its timeout."""


def error_chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and every error wrapped in it, each once: requests wraps urllib3, which wraps ours or the OS's.

    Wrapped errors hide in ``__cause__``, ``__context__``, urllib3's ``reason`` and the ``args``.
    """
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        pending.extend((item.__cause__, item.__context__, getattr(item, "reason", None), *item.args))
