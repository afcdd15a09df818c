"""Response reading within an exchange's limits, for ``RequestsTransport`` (DESIGN §3 "Deadline", §4 rule 6).

requests and urllib3 apply one socket timeout per ``recv``, so a server that sends a byte just before each
timeout can hold an exchange open for ever, and http.client accepts up to 100 header lines of 64 KiB each.
The connection classes here read responses through :class:`_DeadlineReader`, which re-arms the socket
timeout to the time left before every ``recv`` and counts the bytes of the status line and headers.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import http.client
import io
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import urllib3
import urllib3.connection
import urllib3.util.connection

_FALLBACK_MAX_HEADER_BYTES = 64 * 1024  # used only if a response is read outside ``limited()``


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """The limits of one exchange: when it must be over, and how large its header block may be."""

    deadline: float
    max_header_bytes: int


# The limits of the exchange running in this thread (or task). requests builds the response object deep
# inside urllib3, in the caller's thread, so a context variable reaches it without any shared state.
_LIMITS: contextvars.ContextVar[Limits | None] = contextvars.ContextVar("autodiscover_http_limits", default=None)


@contextlib.contextmanager
def limited(limits: Limits) -> Iterator[None]:
    """Apply ``limits`` to every response read in this context."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


class HeadersTooLargeError(http.client.HTTPException):
    """The response's status line and headers exceeded the cap (raised inside urllib3, then translated)."""


class _DeadlineReader(io.RawIOBase):
    """A socket reader that never waits past the deadline and counts the bytes of the header block."""

    def __init__(self, sock: socket.socket, limits: Limits | None) -> None:
        super().__init__()
        self._sock = sock
        self._io = sock.makefile("rb", buffering=0)  # keeps the socket's reference counting intact
        self._timeout = sock.gettimeout()  # the per-read timeout urllib3 set
        self._limits = limits
        self.header_budget: int | None = None
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        if self._limits is not None:
            left = self._limits.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the response did not arrive within the timeout")
            self._sock.settimeout(left if self._timeout is None else min(left, self._timeout))
        if self.header_budget is not None and self.count > self.header_budget:
            raise HeadersTooLargeError(f"response headers too large: more than {self.header_budget} bytes")
        count: int | None = self._io.readinto(buffer)
        self.count += count or 0
        return count

    def close(self) -> None:
        try:
            self._io.close()
        finally:
            super().close()


class _BoundedResponse(http.client.HTTPResponse):
    """http.client's response, reading through :class:`_DeadlineReader` with a cap on the header block."""

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        limits = _LIMITS.get()
        self.fp.close()  # the plain makefile() http.client made; ours replaces it
        self._reader = _DeadlineReader(sock, limits)
        self._max_header_bytes = limits.max_header_bytes if limits is not None else _FALLBACK_MAX_HEADER_BYTES
        self.fp = io.BufferedReader(self._reader)

    def begin(self) -> None:
        self._reader.header_budget = self._max_header_bytes
        try:
            super().begin()
        finally:
            self._reader.header_budget = None


class _HTTPConnection(urllib3.connection.HTTPConnection):
    response_class = _BoundedResponse


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    response_class = _BoundedResponse


# Idle keep-alive connections the whole process may hold, across every pool of every transport. Pools
# keep what each host's busiest moment needed: a batch whose input is sorted by domain sends all its
# workers to one host after another, and 64 hosts x 16 idle connections would be past `ulimit -n 1024`.
IDLE_LIMIT = 64
_idle: weakref.WeakSet[urllib3.connection.HTTPConnection] = weakref.WeakSet()
_idle_lock = threading.Lock()
# Set while an exchange's connection must survive its return to the pool whatever the limit: the legs
# of an NTLM handshake are bound to one connection (MS-NLMP §3.1).
_keep: contextvars.ContextVar[bool] = contextvars.ContextVar("autodiscover_keep_connection", default=False)


@contextlib.contextmanager
def keeping_connections() -> Iterator[None]:
    """Within this block, connections returned to a pool are kept even past ``IDLE_LIMIT``."""
    token = _keep.set(True)
    try:
        yield
    finally:
        _keep.reset(token)


def _sweep_dropped() -> None:
    """Close the idle connections whose server has hung up (their slot would be held for nothing)."""
    for conn in list(_idle):
        if urllib3.util.connection.is_connection_dropped(conn):
            _idle.discard(conn)
            conn.close()


def idle_connections() -> int:
    """How many idle keep-alive connections (with an open socket) the process's pools hold now."""
    with _idle_lock:
        return len(_idle)


class _IdleBudget(urllib3.HTTPConnectionPool):
    """A pool that keeps a returned connection open only while the process is under ``IDLE_LIMIT``."""

    def _put_conn(self, conn: Any) -> None:
        if conn is not None and getattr(conn, "sock", None) is not None:
            with _idle_lock:
                if len(_idle) >= IDLE_LIMIT:
                    _sweep_dropped()
                keep = len(_idle) < IDLE_LIMIT or _keep.get()
                if keep:
                    _idle.add(conn)
            if not keep:
                conn.close()  # the pool keeps the closed connection object; it reconnects if taken
        super()._put_conn(conn)
        if conn is not None and getattr(conn, "sock", None) is None:  # closed, or the pool was full or closed
            with _idle_lock:
                _idle.discard(conn)

    def _get_conn(self, timeout: float | None = None) -> Any:
        conn: Any = super()._get_conn(timeout)
        with _idle_lock:
            _idle.discard(conn)
        return conn

    def close(self) -> None:
        queued = list(getattr(self.pool, "queue", ()) or ())
        with _idle_lock:
            for conn in queued:
                if conn is not None:
                    _idle.discard(conn)
        super().close()


class _HTTPPool(_IdleBudget):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(_IdleBudget, urllib3.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


HTTP_POOLS: dict[str, type[urllib3.HTTPConnectionPool]] = {"http": _HTTPPool, "https": _HTTPSPool}
"""urllib3 pool classes by scheme whose connections read responses within the limits."""
