"""Fakes for the seams: no network, no sleeping, and a record of what was asked."""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from autodiscover_client._errors import (
    AutodiscoverError,
    ConnectError,
    ResolverError,
    ResolverTimeoutError,
    TransportError,
    TransportTimeoutError,
)
from autodiscover_client._policy import RedirectProposal
from autodiscover_client._seams import HttpRequest, HttpResponse, SrvRecord


class FakeClock:
    """A monotonic clock that moves only when told to (or when a fake seam simulates latency).

    Inside :meth:`branch`, the calling thread has a time of its own that starts at the shared time and
    moves apart from it. The concurrent driver uses this to run overlapping operations one after another
    in simulated time, deterministically: each operation runs in a branch, and its end time is when its
    reply is delivered.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self._local = threading.local()

    def monotonic(self) -> float:
        """Return the current fake time (the branch's time inside :meth:`branch`)."""
        branch: list[float] | None = getattr(self._local, "branch", None)
        if branch is not None:
            return branch[0]
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward (only the branch's time inside :meth:`branch`)."""
        if seconds < 0:
            raise ValueError("a monotonic clock does not go back")
        branch: list[float] | None = getattr(self._local, "branch", None)
        if branch is not None:
            branch[0] += seconds
            return
        with self._lock:
            self._now += seconds

    def advance_to(self, when: float) -> None:
        """Move the shared time forward to ``when`` (no-op if it is already later)."""
        with self._lock:
            self._now = max(self._now, when)

    @contextlib.contextmanager
    def branch(self) -> Iterator[None]:
        """Give this thread a private time, starting at the shared time, until the block ends."""
        previous: list[float] | None = getattr(self._local, "branch", None)
        self._local.branch = [self.monotonic()]
        try:
            yield
        finally:
            self._local.branch = previous


class FakeResolver:
    """DNS data per name, failures on demand, and a log of queries.

    Args:
        srv: ``{name: [SrvRecord or (priority, weight, port, target), ...]}``, in the order to return.
        addresses: ``{host: [address, ...]}``.
        nxdomain: Names that do not exist (answered as empty, like a real resolver adapter).
        timeouts: Names whose lookups raise :class:`ResolverTimeoutError`.
        failures: Names whose lookups raise :class:`ResolverError` (SERVFAIL and the like).
        latency: Seconds each lookup takes, by name (or ``"*"`` for all); needs ``clock``.
        clock: The :class:`FakeClock` to advance by the latency.
        enforce_timeout: If true, a lookup whose latency exceeds its ``timeout`` raises
            :class:`ResolverTimeoutError` after the timeout, as a real resolver would.
    """

    def __init__(
        self,
        srv: Mapping[str, Iterable[SrvRecord | tuple[int, int, int, str]]] | None = None,
        addresses: Mapping[str, Iterable[str]] | None = None,
        *,
        nxdomain: Iterable[str] = (),
        timeouts: Iterable[str] = (),
        failures: Iterable[str] = (),
        latency: Mapping[str, float] | None = None,
        clock: FakeClock | None = None,
        enforce_timeout: bool = False,
    ) -> None:
        self.enforce_timeout = enforce_timeout
        self.latency = {name if name == "*" else _key(name): delay for name, delay in (latency or {}).items()}
        self.clock = clock
        self.srv = {_key(name): tuple(_record(r) for r in records) for name, records in (srv or {}).items()}
        self.addresses = {_key(host): tuple(found) for host, found in (addresses or {}).items()}
        self.nxdomain = {_key(name) for name in nxdomain}
        self.timeouts = {_key(name) for name in timeouts}
        self.failures = {_key(name) for name in failures}
        self._queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    @property
    def queries(self) -> tuple[tuple[str, str], ...]:
        """``(name, type)`` of every query, in order."""
        with self._lock:
            return tuple(self._queries)

    def resolve_srv(self, name: str, *, timeout: float) -> Sequence[SrvRecord]:
        """Return the configured SRV records of ``name`` (none if it is marked NXDOMAIN)."""
        self._check(name, "SRV", timeout)
        return () if _key(name) in self.nxdomain else self.srv.get(_key(name), ())

    def resolve_addresses(self, host: str, *, timeout: float) -> Sequence[str]:
        """Return the configured addresses of ``host`` (none if it is marked NXDOMAIN)."""
        self._check(host, "A/AAAA", timeout)
        return () if _key(host) in self.nxdomain else self.addresses.get(_key(host), ())

    def _check(self, name: str, kind: str, timeout: float) -> None:
        key = _key(name)
        with self._lock:
            self._queries.append((key, kind))
        delay = self.latency.get(key, self.latency.get("*", 0.0))
        if delay and self.clock is not None:
            timed_out = self.enforce_timeout and delay > timeout
            self.clock.advance(timeout if timed_out else delay)
            if timed_out:
                raise ResolverTimeoutError(f"{kind} lookup of {key} timed out")
        if key in self.timeouts:
            raise ResolverTimeoutError(f"{kind} lookup of {key} timed out")
        if key in self.failures:
            raise ResolverError(f"{kind} lookup of {key} failed: SERVFAIL")

    # The add_*/drop/fail methods mirror LocalDnsServer's, so a test can move from fake to real DNS.

    def add_srv(self, name: str, target: str, port: int, *, priority: int = 0, weight: int = 0) -> None:
        """Append an SRV record to ``name`` (e.g. ``"_autodiscover._tcp.example.com"``).

        Args:
            name: The owner name.
            target: The host offering the service; ``"."`` means "not offered" (RFC 2782).
            port: The service's port on ``target``.
            priority: Lower is tried first.
            weight: Relative share among records of equal priority.
        """
        record = SrvRecord(priority=priority, weight=weight, port=port, target=target.rstrip(".") or ".")
        with self._lock:
            key = _key(name)
            self.srv[key] = (*self.srv.get(key, ()), record)

    def add_a(self, host: str, address: str) -> None:
        """Append an IPv4 address to ``host``.

        Raises:
            ValueError: ``address`` is not an IPv4 address.
        """
        self._add_address(host, address, 4)

    def add_aaaa(self, host: str, address: str) -> None:
        """Append an IPv6 address to ``host``.

        Raises:
            ValueError: ``address`` is not an IPv6 address.
        """
        self._add_address(host, address, 6)

    def drop(self, name: str) -> None:
        """Make every lookup of ``name`` time out (:class:`ResolverTimeoutError`)."""
        with self._lock:
            self.timeouts.add(_key(name))

    def fail(self, name: str) -> None:
        """Make every lookup of ``name`` fail as SERVFAIL does (:class:`ResolverError`)."""
        with self._lock:
            self.failures.add(_key(name))

    def _add_address(self, host: str, address: str, version: int) -> None:
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            parsed = None
        if parsed is None or parsed.version != version:
            kind = "A" if version == 4 else "AAAA"
            raise ValueError(f"{address!r} is not an IPv{version} address, so it cannot be an {kind} record")
        with self._lock:
            key = _key(host)
            self.addresses[key] = (*self.addresses.get(key, ()), str(parsed))


def _key(name: str) -> str:
    return name.rstrip(".").lower()


def _record(record: SrvRecord | tuple[int, int, int, str]) -> SrvRecord:
    if isinstance(record, SrvRecord):
        return record
    priority, weight, port, target = record
    return SrvRecord(priority=priority, weight=weight, port=port, target=target)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SentRequest:
    """What a :class:`FakeTransport` received. Holds whether credentials were attached, never the secret.

    ``headers`` has any ``Authorization`` value replaced by ``<redacted>``; ``timeout`` is the
    per-exchange timeout the caller passed.
    """

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    authenticated: bool
    username: str | None
    timeout: float | None = None

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or None."""
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


Handler = Callable[[HttpRequest], HttpResponse]
Route = HttpResponse | AutodiscoverError | Handler | Sequence[HttpResponse | AutodiscoverError | Handler]


class FakeTransport:
    """Routes requests by ``(method, url)`` to responses, errors or handlers, and records them all.

    Args:
        routes: ``{(method, url): route}`` or ``{url: route}`` (any method). A route is an
            :class:`HttpResponse`, an exception to raise (e.g. :class:`TLSError`), a handler callable, or
            a sequence of those to give in turn (the last one repeats).
        handler: Called for requests no route matches. Without it, they get :class:`ConnectError`,
            which is what most dead candidates do in real life.
        latency: Seconds each request takes, by URL (or ``"*"`` for all); needs ``clock``.
        clock: The :class:`FakeClock` to advance by the latency.
        enforce_timeout: If true, a request whose latency exceeds its ``timeout`` raises
            :class:`TransportTimeoutError` after the timeout, as a real transport would; by default the
            full latency passes and the response arrives late.
    """

    def __init__(
        self,
        routes: Mapping[str | tuple[str, str], Route] | None = None,
        *,
        handler: Handler | None = None,
        latency: Mapping[str, float] | None = None,
        clock: FakeClock | None = None,
        enforce_timeout: bool = False,
    ) -> None:
        self._enforce_timeout = enforce_timeout
        self._routes: dict[tuple[str, str], Route] = {}
        for key, route in (routes or {}).items():
            method, url = key if isinstance(key, tuple) else ("*", key)
            self._routes[(method.upper(), url)] = route
        self._handler = handler
        self._latency = dict(latency or {})
        self._clock = clock
        self._served: dict[tuple[str, str], int] = {}
        self._requests: list[SentRequest] = []
        self._lock = threading.Lock()

    @property
    def requests(self) -> tuple[SentRequest, ...]:
        """Every request received, in order."""
        with self._lock:
            return tuple(self._requests)

    def add_route(self, url: str, route: Route, *, method: str = "*") -> None:
        """Answer ``method`` requests to ``url`` with ``route`` (see the class docstring), replacing any before.

        Args:
            url: The exact URL.
            route: A response, an exception to raise, a handler, or a sequence of those to give in turn.
            method: ``"GET"``, ``"POST"`` … or ``"*"`` for any method.
        """
        key = (method.upper(), url)
        with self._lock:
            self._routes[key] = route
            self._served.pop(key, None)

    def route_for(self, url: str, *, method: str = "*") -> Route | None:
        """Return the route set for ``method`` and ``url`` (``"*"``: for any method), or None."""
        with self._lock:
            return self._routes.get((method.upper(), url))

    def credentials_sent_to(self) -> tuple[str, ...]:
        """The URLs that received credentials, in order."""
        return tuple(r.url for r in self.requests if r.authenticated)

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Answer from the routes (see the class docstring)."""
        if request.credentials is not None and not request.url.lower().startswith("https://"):
            raise TransportError("refusing to send credentials over plain http")
        sent = SentRequest(
            method=request.method,
            url=request.url,
            # A caller may put a secret in a header of its own: keep the name, never the value.
            headers=tuple((k, "<redacted>" if k.lower() in _SECRET_HEADERS else v) for k, v in request.headers),
            body=request.body,
            authenticated=request.credentials is not None,
            username=request.credentials.username if request.credentials is not None else None,
            timeout=timeout,
        )
        with self._lock:
            self._requests.append(sent)
        delay = self._latency.get(request.url, self._latency.get("*", 0.0))
        if delay and self._clock is not None:
            timed_out = self._enforce_timeout and delay > timeout
            self._clock.advance(timeout if timed_out else delay)
            if timed_out:
                raise TransportTimeoutError(f"{request.url}: no answer within {timeout:g}s")
        route = self._route(request)
        if isinstance(route, AutodiscoverError):
            raise route
        if isinstance(route, HttpResponse):
            return route
        return route(request)

    def _route(self, request: HttpRequest) -> HttpResponse | AutodiscoverError | Handler:
        key = next((k for k in ((request.method.upper(), request.url), ("*", request.url)) if k in self._routes), None)
        if key is None:
            if self._handler is not None:
                return self._handler
            return ConnectError(f"{request.url}: connection refused (no route in FakeTransport)")
        route = self._routes[key]
        if isinstance(route, Sequence) and not isinstance(route, (HttpResponse, AutodiscoverError)):
            with self._lock:
                index = self._served.get(key, 0)
                self._served[key] = index + 1
            return route[min(index, len(route) - 1)]
        return route


class RecordingApprover:
    """A redirect approver that records every proposal and answers from a fixed set of hosts.

    Args:
        allow: Hosts (or domains, for address redirects) to approve; everything else is denied.
    """

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.allow = {host.lower() for host in allow}
        self.proposals: list[RedirectProposal] = []

    def __call__(self, proposal: RedirectProposal, /) -> bool:
        """Record ``proposal`` and approve it if its host is allowed."""
        self.proposals.append(proposal)
        return proposal.host.lower() in self.allow
