"""Knowledge that is safe to share between the addresses of one batch: DNS answers and dead hosts.

A batch of 10,000 mailboxes over 200 domains should cost DNS queries and failed connections per
*domain*, not per address. Two seam wrappers do that, each with "single flight": while one address's
lookup or first connection to a host is in progress, the others wait for its outcome instead of
repeating it.

Only what cannot depend on the user or the credentials is shared (DESIGN §4):

- DNS answers (SRV, A/AAAA), which name no user;
- that a host refused the connection, failed TLS, or twice in a row did not answer within the full
  request timeout (one slow first contact is not enough);
- the answer to the unauthenticated plain-http GET probe, which names no user (MS-OXDISCO §3.1.5.4);
- a 404 or 405 to an unauthenticated POST (the resource does not exist, whoever asks).

Never shared: any response to a request carrying credentials, a 401, settings, redirects of a POST
(they may be per user), and local resource failures such as "too many open files", which say nothing
about the server and are reported as themselves.
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import urlsplit

from ._errors import (
    AutodiscoverError,
    ConnectError,
    ResolverError,
    ResolverTimeoutError,
    TLSError,
    TransportError,
    TransportTimeoutError,
    error_chain,
)
from ._seams import HttpRequest, HttpResponse, Resolver, SrvRecord, Transport

RESOURCE_MARKER = "local resource exhausted"
"""Starts the message of every error caused by a local resource limit (open files, buffers, memory)."""

_RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_SHARED_STATUSES = frozenset({404, 405})
T = TypeVar("T")


def resource_failure(exc: BaseException) -> OSError | None:
    """The local resource error (EMFILE, ENFILE, ENOBUFS, ENOMEM) behind ``exc``, if there is one."""
    return next(
        (item for item in error_chain(exc) if isinstance(item, OSError) and item.errno in _RESOURCE_ERRNOS), None
    )


def is_resource_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from a local resource limit rather than from the other side."""
    return RESOURCE_MARKER in str(exc) or _resource_text(exc) is not None


def _resource_text(exc: BaseException) -> str | None:
    if RESOURCE_MARKER in str(exc):
        return None  # already said
    found = resource_failure(exc)
    if found is not None:
        name = errno.errorcode.get(found.errno or 0, "?")
        return f"{RESOURCE_MARKER}: {found.strerror or found} ({name}); raise the limit or lower the concurrency"
    if "Too many open files" in str(exc):
        return f"{RESOURCE_MARKER}: {exc}"
    return None


class _Flight:
    """One lookup or first contact in progress, which other threads may wait for."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: object = None
        self.error: AutodiscoverError | None = None
        self.shared = False


class SharedResolver:
    """A :class:`Resolver` that asks each name once per batch and shares the answer (single flight).

    Answers and DNS failures are kept for the batch's lifetime; a timeout is kept only if the lookup had
    the full ``query_timeout`` (a short one says more about the caller's deadline than about DNS).
    """

    def __init__(self, inner: Resolver, *, query_timeout: float) -> None:
        self._inner = inner
        self._query_timeout = query_timeout
        self._flights: dict[tuple[str, str], _Flight] = {}
        self._lock = threading.Lock()
        self.queries = 0
        """Lookups passed to the wrapped resolver."""

    def __repr__(self) -> str:
        return f"SharedResolver({self._inner!r})"

    def resolve_srv(self, name: str, *, timeout: float) -> Sequence[SrvRecord]:
        """Return the shared SRV answer for ``name``."""
        return self._once("SRV", name, timeout, lambda: tuple(self._inner.resolve_srv(name, timeout=timeout)))

    def resolve_addresses(self, host: str, *, timeout: float) -> Sequence[str]:
        """Return the shared addresses of ``host``."""
        return self._once("ADDR", host, timeout, lambda: tuple(self._inner.resolve_addresses(host, timeout=timeout)))

    def _once(self, kind: str, name: str, timeout: float, lookup: Callable[[], tuple[T, ...]]) -> tuple[T, ...]:
        key = (kind, name.rstrip(".").lower())
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                flight = self._flights.get(key)
                mine = flight is None
                if flight is None:
                    flight = self._flights[key] = _Flight()
                    self.queries += 1
            if mine:
                return self._lead(key, flight, timeout, lookup)
            if not flight.done.wait(max(0.0, deadline - time.monotonic())):
                raise ResolverTimeoutError(f"{kind} lookup of {name}: another address's lookup did not finish in time")
            if flight.shared:
                if flight.error is not None:
                    raise type(flight.error)(f"{flight.error} (shared from an earlier lookup in this batch)")
                return flight.value  # type: ignore[return-value]
            # The leader's failure was not shareable (e.g. its own deadline): try again ourselves.

    def _lead(
        self, key: tuple[str, str], flight: _Flight, timeout: float, lookup: Callable[[], tuple[T, ...]]
    ) -> tuple[T, ...]:
        try:
            value = lookup()
        except ResolverError as exc:
            shareable = not isinstance(exc, ResolverTimeoutError) or timeout >= self._query_timeout * 0.9
            self._settle(key, flight, error=exc, shared=shareable and not is_resource_error(exc))
            text = _resource_text(exc)
            if text is not None:
                raise ResolverError(text) from exc
            raise
        except OSError as exc:  # a resolver that let a socket error out (EMFILE on socket())
            self._settle(key, flight, error=None, shared=False)
            raise ResolverError(_resource_text(exc) or f"lookup failed: {exc}") from exc
        except BaseException:
            self._settle(key, flight, error=None, shared=False)
            raise
        flight.value = value
        self._settle(key, flight, error=None, shared=True)
        return value

    def _settle(self, key: tuple[str, str], flight: _Flight, *, error: AutodiscoverError | None, shared: bool) -> None:
        flight.error, flight.shared = error, shared
        if not shared:
            with self._lock:
                self._flights.pop(key, None)
        flight.done.set()


class _Origin:
    def __init__(self) -> None:
        self.flight: _Flight | None = None  # the first contact, while in progress
        self.alive = False
        self.dead: TransportError | None = None
        self.timeouts = 0  # full-length timeouts of first contacts so far


class SharedTransport:
    """A :class:`Transport` that remembers dead hosts and user-independent answers for one batch.

    The first request to a host goes through while the others to that host wait for it (bounded by
    their timeouts). If it could not connect (refused, TLS failure, or -- twice in a row -- no answer
    within the full ``request_timeout``), later requests to the host fail at once with the same kind of
    error, saying so in the trail; if it connected, the host is alive and requests flow freely.
    """

    def __init__(self, inner: Transport, *, request_timeout: float) -> None:
        self._inner = inner
        self._request_timeout = request_timeout
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._answers: dict[tuple[str, str], HttpResponse] = {}
        self._lock = threading.Lock()
        self.requests = 0
        """Requests passed to the wrapped transport."""
        self.failed = 0
        """Of those, the ones that raised or were answered 404/405 (failed probes)."""
        self.shared = 0
        """Requests answered from what an earlier address learnt, without any I/O."""

    def __repr__(self) -> str:
        return f"SharedTransport({self._inner!r})"

    def close(self) -> None:
        """Close the wrapped transport, if it can be closed."""
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Make the request, or answer it from shared knowledge. See :class:`Transport`."""
        parts = urlsplit(request.url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            return self._send(request, timeout)
        origin_key = (scheme, (parts.hostname or "").lower().rstrip("."), port)
        answer_key = (request.method.upper(), request.url)
        anonymous = request.credentials is None
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if anonymous and answer_key in self._answers:
                    self.shared += 1
                    return self._answers[answer_key]
                origin = self._origins.setdefault(origin_key, _Origin())
                if origin.dead is not None:
                    self.shared += 1
                    error = origin.dead
                    raise type(error)(f"{error} (this host failed for an earlier address in this batch)")
                flight = origin.flight
                lead = not origin.alive and flight is None
                if lead:
                    flight = origin.flight = _Flight()
            if lead or flight is None:
                break
            if not flight.done.wait(max(0.0, deadline - time.monotonic())):
                raise TransportTimeoutError("the first connection to this host, for another address, took too long")
            if flight.shared and flight.error is not None:
                # We waited alongside it: its fate is ours (a fresh try would only pay the same wait again).
                with self._lock:
                    self.shared += 1
                first = flight.error
                raise type(first)(f"{first} (the first connection to this host, for another address, failed so)")
        left = max(0.001, deadline - time.monotonic())
        try:
            response = self._send(request, left)
        except TransportError as exc:
            if lead:
                timed_out = isinstance(exc, TransportTimeoutError) and left >= self._request_timeout * 0.9
                shareable = isinstance(exc, (ConnectError, TLSError)) and not is_resource_error(exc)
                self._settle(origin_key, dead=exc if shareable else None, timed_out=timed_out, error=exc)
            raise
        except BaseException:
            if lead:
                self._settle(origin_key, dead=None)
            raise
        with self._lock:
            if anonymous and (request.method.upper() == "GET" or response.status in _SHARED_STATUSES):
                self._answers[answer_key] = response
        if lead:
            self._settle(origin_key, dead=None, alive=True)
        return response

    def _send(self, request: HttpRequest, timeout: float) -> HttpResponse:
        with self._lock:
            self.requests += 1
        try:
            response = self._inner.send(request, timeout=timeout)
        except TransportError as exc:
            with self._lock:
                self.failed += 1
            text = _resource_text(exc)
            if text is not None:
                raise ConnectError(text) from exc
            raise
        except OSError as exc:
            with self._lock:
                self.failed += 1
            raise ConnectError(_resource_text(exc) or f"connection failed: {exc}") from exc
        if response.status in _SHARED_STATUSES:
            with self._lock:
                self.failed += 1
        return response

    def _settle(
        self,
        key: tuple[str, str, int],
        *,
        dead: TransportError | None,
        alive: bool = False,
        timed_out: bool = False,
        error: TransportError | None = None,
    ) -> None:
        with self._lock:
            origin = self._origins[key]
            flight, origin.flight = origin.flight, None
            if timed_out:
                # Two strikes: one slow first contact (a busy host, a loaded client) must not condemn a host
                # for the whole batch; a second one, for a later address, does. The addresses that waited
                # alongside the first share its timeout either way.
                origin.timeouts += 1
                dead = error if origin.timeouts >= 2 else None
            origin.dead = dead
            origin.alive = alive
        if flight is not None:
            flight.error = dead or (error if timed_out else None)
            flight.shared = flight.error is not None
            flight.done.set()
