"""``discover_many()``: batch discovery for migrations, with bounded concurrency and shared knowledge.

Each address runs the same discovery as :func:`discover`, in a bounded pool of worker threads. What
the addresses of a domain can safely share is shared (see ``_share``): DNS answers, dead hosts, and
the winning endpoint through a cache, so DNS queries and failed probes grow with the number of domains,
not of addresses. One bad address never stops the batch: each yields a :class:`BatchResult`.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ._address import parse_email
from ._api import DEFAULT_PATIENCE, DEFAULT_REQUEST_TIMEOUT, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, Discoverer
from ._cache import Cache, MemoryCache
from ._errors import AuthenticationError, DeadlineExceededError, DiscoveryError, InvalidEmailError
from ._models import DEFAULT_ORDER, Method, Outcome, Settings
from ._options import check_discover_arguments
from ._policy import RedirectApprover
from ._pool import DaemonPool
from ._pox import Schema
from ._seams import BasicCredentials, Clock, Credentials, Resolver, Transport, check_basic
from ._share import RESOURCE_MARKER, SharedResolver, SharedTransport, is_resource_error

DEFAULT_WORKERS = 8
CredentialSource = Callable[[str], "str | Credentials | None"]
"""Called with each input address; returns its password, its credentials, or ``None`` for none."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BatchResult:
    """What discovery came to for one input address. Exactly one of ``settings`` and ``error`` is set.

    Attributes:
        index: The address's position in the input (0-based).
        address: The address as given.
        settings: The settings, if found.
        error: Why not: :class:`InvalidEmailError` for an unusable address, else a :class:`DiscoveryError`.
    """

    index: int
    address: str
    settings: Settings | None = None
    error: DiscoveryError | InvalidEmailError | None = None

    @property
    def status(self) -> str:
        """``found``, ``not_found``, ``credentials_rejected``, ``timeout``, ``invalid_address`` or ``resource_error``.

        ``resource_error`` means a local limit (such as "too many open files") got in the way, so "not
        found" would be a lie: run that address again with more resources or less concurrency. Likewise
        ``timeout``: the per-address deadline passed, or a candidate timed out, so the address was not
        proven to have no settings (a server that is down today may answer tomorrow).
        """
        if self.settings is not None:
            return "found"
        if isinstance(self.error, InvalidEmailError):
            return "invalid_address"
        if self.error is not None and (
            RESOURCE_MARKER in self.error.message
            or any(RESOURCE_MARKER in (a.error or "") for a in self.error.attempts)
        ):
            return "resource_error"
        if isinstance(self.error, AuthenticationError):
            return "credentials_rejected"
        attempts = self.error.attempts if self.error is not None else ()
        if isinstance(self.error, DeadlineExceededError) or any(a.outcome is Outcome.TIMEOUT for a in attempts):
            return "timeout"  # not proven absent: worth another try, perhaps with a longer timeout
        return "not_found"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: ``address``, ``status``, then the settings' fields or the error's."""
        data: dict[str, Any] = {"address": self.address, "status": self.status}
        if self.settings is not None:
            data.update(self.settings.to_dict())
        elif isinstance(self.error, DiscoveryError):
            data.update(self.error.to_dict())
        elif self.error is not None:
            data.update({"error": str(self.error), "kind": type(self.error).__name__, "attempts": []})
        return data


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BatchProgress:
    """How far a batch has come, given to the ``progress`` callback after each result.

    Attributes:
        done: Results so far.
        total: The number of addresses, if the input has a length; else ``None``.
        found: Results with settings.
        failed: Results without (including invalid addresses).
    """

    done: int
    total: int | None
    found: int
    failed: int


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class BatchStats:
    """What a batch cost, so far.

    Attributes:
        dns_queries: Lookups that reached the resolver (the rest were shared).
        requests: HTTP requests that reached the transport.
        failed_requests: Of those, the ones that failed or were answered 404/405.
        shared_answers: Requests answered from what an earlier address learnt, with no I/O.
    """

    dns_queries: int
    requests: int
    failed_requests: int
    shared_answers: int


class BatchResults(Iterator[BatchResult]):
    """The results of :func:`discover_many`, as they come; also a context manager.

    Leaving the ``with`` block (or calling :meth:`close`) before the end cancels the addresses not
    started yet and waits for the running ones, each bounded by its own deadline. A ``KeyboardInterrupt``
    (Ctrl-C) or ``SystemExit`` while waiting for a result does not wait: the program can exit at once,
    and the running discoveries end by their own deadlines if it does not.
    """

    def __init__(
        self, results: Iterator[BatchResult], resolver: SharedResolver, transport: SharedTransport, window: _Window
    ) -> None:
        self._results = results
        self._resolver = resolver
        self._transport = transport
        self._window = window

    def __iter__(self) -> BatchResults:
        return self

    def __next__(self) -> BatchResult:
        return next(self._results)

    def __enter__(self) -> BatchResults:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def unreported(self) -> list[BatchResult]:
        """The results that had finished but were not yielded yet when iteration stopped, in input order.

        In input order a fast address waits behind a slow earlier one; after a ``KeyboardInterrupt``
        (or any early stop) this is what was done anyway, so that a caller can still record it.
        """
        return self._window.finished()

    def close(self) -> None:
        """Stop the batch and release its threads and connections."""
        close = getattr(self._results, "close", None)
        if callable(close):
            close()

    @property
    def stats(self) -> BatchStats:
        """What the batch has cost so far."""
        return BatchStats(
            dns_queries=self._resolver.queries,
            requests=self._transport.requests,
            failed_requests=self._transport.failed,
            shared_answers=self._transport.shared,
        )


MAX_WORKERS = 256  # threads; past this a batch only adds contention and open sockets


def discover_many(
    addresses: Iterable[str | tuple[str, str | Credentials | None]],
    password: str | None = None,
    *,
    username: str | None = None,
    credentials: CredentialSource | None = None,
    workers: int = DEFAULT_WORKERS,
    ordered: bool = True,
    progress: Callable[[BatchProgress], None] | None = None,
    cache: Cache | None = None,
    methods: Iterable[Method] = DEFAULT_ORDER,
    timeout: float = DEFAULT_TIMEOUT,
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
    resolver: Resolver | None = None,
    transport: Transport | None = None,
    approve_redirect: RedirectApprover | None = None,
    allowed_hosts: Iterable[str] = (),
    trust_microsoft365: bool = True,
    schema: Schema = Schema.OUTLOOK,
    user_agent: str = DEFAULT_USER_AGENT,
    clock: Clock | None = None,
    parallel: bool = True,
    patience: float | None = DEFAULT_PATIENCE,
) -> BatchResults:
    """Discover the settings of many addresses, for migrations; results stream as they are ready.

    Args:
        addresses: The addresses; read lazily, so a large file can be streamed. An item may also be a
            pair ``(address, password or credentials)``: that row's own secret, which beats
            ``password`` and ``credentials`` (``None`` in the pair falls back to them). A mailbox listed
            twice with two passwords is then tried with each, on its own row.
        password: One password for every address (with ``username``, e.g. a service account).
        username: The user name to authenticate as (default: each address).
        credentials: Per-address credentials instead: called with each address, returns a password,
            :class:`BasicCredentials`, or ``None`` to send none. An exception it raises fails only that
            address (the message is not kept: it could hold a secret).
        workers: How many addresses are worked on at once (threads).
        ordered: ``True`` yields results in input order; ``False`` as they complete.
        progress: Called in the iterating thread after each result, with a :class:`BatchProgress`.
        cache: Where winning endpoints are remembered; by default a :class:`MemoryCache` for this batch,
            so that later addresses of a domain go straight to its endpoint.
        methods, timeout, request_timeout, resolver, transport, approve_redirect, allowed_hosts,
            trust_microsoft365, schema, user_agent, clock, parallel, patience: As for :class:`Discoverer`;
            ``timeout`` is per address.

    Returns:
        An iterator of :class:`BatchResult` (one per address) with running :class:`BatchStats`.

    Raises:
        ValueError: Bad arguments (raised at once, before any address is read).
    """
    check_discover_arguments(password, username, None)  # a non-str password fails at once, not per address
    check_basic(username, password)  # so does one that Basic cannot carry: every address would fail alike
    if credentials is not None and not callable(credentials):
        raise TypeError("credentials must be a callable: address -> password, credentials or None")
    if isinstance(addresses, (str, bytes)):
        # A str is an iterable of characters: ['a', 'n', '@', ...] is never what was meant.
        raise TypeError("addresses must be an iterable of addresses, not one str; wrap it: [address]")
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be a whole number from 1 to {MAX_WORKERS}")
    if password is not None and credentials is not None:
        raise ValueError("pass either password or credentials, not both")
    total = len(addresses) if isinstance(addresses, collections.abc.Sized) else None
    # As in discover(): host names go through the caller's resolver if one is given, else the system's.
    given_resolver = resolver is not None
    if resolver is None:
        from ._dns import DnspythonResolver

        resolver = DnspythonResolver()
    shared_resolver = SharedResolver(resolver, query_timeout=request_timeout)
    owned = transport is None
    if transport is None:
        from ._http import RequestsTransport

        transport = RequestsTransport(resolver=shared_resolver if given_resolver else None)
    shared_transport = SharedTransport(transport, request_timeout=request_timeout)
    discoverer = Discoverer(
        methods=methods, timeout=timeout, request_timeout=request_timeout, resolver=shared_resolver,
        transport=shared_transport, approve_redirect=approve_redirect, allowed_hosts=allowed_hosts,
        trust_microsoft365=trust_microsoft365, schema=schema, user_agent=user_agent, clock=clock,
        cache=cache if cache is not None else MemoryCache(clock=clock), parallel=parallel, patience=patience,
    )  # fmt: skip

    def one(index: int, item: object) -> BatchResult:
        address, own = item, None
        if isinstance(item, tuple):
            if len(item) != 2:
                shape = InvalidEmailError("an input pair must be (address, password or credentials)")
                return BatchResult(index=index, address=repr(item)[:80], error=shape)  # the row fails alone
            address, own = item
        if not isinstance(address, str):  # the row fails alone, named by its repr
            wrong = InvalidEmailError(f"an e-mail address must be a str, not {type(address).__name__}")
            return BatchResult(index=index, address=repr(address)[:80], error=wrong)
        try:
            if own is not None or credentials is not None:
                parse_email(address)  # a bad address is invalid_address, before its credentials are built
                try:
                    given = own if own is not None else credentials(address)  # type: ignore[misc]
                except Exception as exc:
                    # The source's message could quote a secret (a vault error, say): keep only its type.
                    return BatchResult(
                        index=index, address=address,
                        error=DiscoveryError(f"the credential source raised {type(exc).__name__} for {address}",
                                             email=address),
                    )  # fmt: skip
                creds = BasicCredentials(username or address, given) if isinstance(given, str) else given
                settings = discoverer.discover(address, credentials=creds)
            else:
                settings = discoverer.discover(address, password, username=username)
        except (InvalidEmailError, DiscoveryError) as exc:
            return BatchResult(index=index, address=address, error=exc)
        except Exception as exc:  # a seam or a bug: this address fails, the batch goes on
            kind = "local resource failure" if is_resource_error(exc) else "unexpected error"
            prefix = f"{RESOURCE_MARKER}: " if is_resource_error(exc) else ""
            return BatchResult(
                index=index, address=address,
                error=DiscoveryError(f"{prefix}{kind} for {address}: {type(exc).__name__}: {exc}", email=address),
            )  # fmt: skip
        return BatchResult(index=index, address=address, settings=settings)

    window = _Window()
    results = _run(
        enumerate(addresses), one, workers=workers, ordered=ordered, total=total, progress=progress, window=window
    )

    def stream() -> Iterator[BatchResult]:
        try:
            yield from results
        finally:
            results.close()
            if owned:
                shared_transport.close()

    return BatchResults(stream(), shared_resolver, shared_transport, window)


@dataclasses.dataclass(slots=True)
class _Window:
    """The addresses in flight: submitted in order (ordered mode) or running (as completed)."""

    pending: collections.deque[concurrent.futures.Future[BatchResult]] = dataclasses.field(
        default_factory=collections.deque
    )
    running: set[concurrent.futures.Future[BatchResult]] = dataclasses.field(default_factory=set)

    def finished(self) -> list[BatchResult]:
        """The results of the work that is done but was not handed out, in input order."""
        done = [f for f in (*self.pending, *self.running) if f.done() and not f.cancelled() and f.exception() is None]
        return sorted((f.result() for f in done), key=lambda result: result.index)


def _run(
    items: Iterator[tuple[int, object]],
    work: Callable[[int, object], BatchResult],
    *,
    workers: int,
    ordered: bool,
    total: int | None,
    progress: Callable[[BatchProgress], None] | None,
    window: _Window,
) -> collections.abc.Generator[BatchResult, None, None]:
    """Keep at most ``2 * workers`` addresses in flight, so memory stays flat however long the input."""
    size = 2 * workers
    counts = {"done": 0, "found": 0}
    lock = threading.Lock()

    def report(result: BatchResult) -> BatchResult:
        with lock:
            counts["done"] += 1
            counts["found"] += result.settings is not None
            done, found = counts["done"], counts["found"]
        if progress is not None:
            progress(BatchProgress(done=done, total=total, found=found, failed=done - found))
        return result

    pool = DaemonPool(workers, "autodiscover-batch")
    pending, running = window.pending, window.running
    exhausted = False
    interrupted = False
    try:
        while True:
            while not exhausted and len(pending) + len(running) < size:
                item = next(items, None)
                if item is None:
                    exhausted = True
                    break
                future = pool.submit(work, *item)
                (pending.append if ordered else running.add)(future)
            if ordered:
                if not pending:
                    return
                head = pending[0].result()  # left in the window until it is handed out (see unreported())
                pending.popleft()
                yield report(head)
            else:
                if not running:
                    return
                done, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                for future in done:
                    running.discard(future)
                    yield report(future.result())
    except (KeyboardInterrupt, SystemExit):
        # Ctrl-C (or an exit) while waiting for a result: the caller is leaving, so the running discoveries
        # are not waited for; each still ends by its own deadline. A normal close() still waits for them.
        interrupted = True
        raise
    finally:
        for future in (*pending, *running):
            future.cancel()
        pool.shutdown(wait=not interrupted)
