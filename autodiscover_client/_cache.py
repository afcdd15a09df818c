"""Endpoint caching (PROTOCOL.md §6): the ``Cache`` seam, an in-memory TTL cache and an on-disk one.

What is cached is the *endpoint* that answered (method and URL), per domain, or per address when a
redirect on the way made the answer specific to one user. Never settings, never credentials: every
use of a cached endpoint is a fresh POST, so the answer is always current.

Microsoft's refresh guidance (Learn "Refresh configuration", PROTOCOL.md §6): the cached endpoint is
tried first; if it fails it is dropped and full discovery runs once. An entry lives for the smallest
``Protocol/TTL`` of the response (hours; default 1; ``0`` means "no forced refresh"), capped by the
cache's ``max_age``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from ._address import EmailAddress
from ._flow import Flow, Found, Run, _post_flow, discovery
from ._models import Attempt, Method, Outcome, ProtocolSettings
from ._policy import RedirectPolicy, RedirectProposal, RedirectReason
from ._seams import Clock, SystemClock

DEFAULT_MAX_AGE = 24 * 3600.0  # Learn "Improving performance": "refresh ... every 24 hours"
DEFAULT_TTL_HOURS = 1  # Learn "TTL (POX)": the default when a response names none
DEFAULT_MAX_ENTRIES = 100_000  # bounds memory in very long batch runs
_FORMAT = 1


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class CachedEndpoint:
    """An endpoint that answered before: the method that found it and the URL to POST to.

    Attributes:
        method: The method that found the endpoint (it is reported again as the source).
        url: The https URL that answered with settings.
        age: Seconds since it was stored.
    """

    method: Method
    url: str
    age: float = 0.0


class Cache(Protocol):
    """Where discovery remembers winning endpoints (DESIGN §2). Implementations must be thread-safe.

    Keys are opaque strings built by the library (schema, and domain or address); values hold a method
    and a URL only, never credentials.
    """

    def get(self, key: str) -> CachedEndpoint | None:
        """Return the live entry for ``key``, or ``None`` if absent or expired."""
        ...

    def put(self, key: str, method: Method, url: str, *, ttl: float | None) -> None:
        """Store an endpoint for ``ttl`` seconds (``None``: no forced refresh), capped by the cache's max age."""
        ...

    def drop(self, key: str) -> None:
        """Forget ``key`` (its endpoint failed)."""
        ...


def domain_key(schema: str, domain: str) -> str:
    """The key of the endpoint shared by every address in ``domain``."""
    return f"{schema}|domain|{domain.lower()}"


def address_key(schema: str, address: str) -> str:
    """The key of an endpoint specific to one address (a URL redirect was followed on the way)."""
    return f"{schema}|address|{address.casefold()}"


def ttl_seconds(protocols: Sequence[ProtocolSettings]) -> float | None:
    """The entry's lifetime from the response's ``Protocol/TTL`` values (hours), or ``None`` for "no limit".

    The shortest positive TTL wins; if every TTL given is ``0`` there is no forced refresh; with no TTL at
    all the documented default of one hour applies (PROTOCOL.md §6).
    """
    given = [p.ttl for p in protocols if p.ttl is not None and p.ttl >= 0]
    if not given:
        return DEFAULT_TTL_HOURS * 3600.0
    positive = [ttl for ttl in given if ttl > 0]
    return min(positive) * 3600.0 if positive else None


def cacheable_url(url: str) -> bool:
    """Only plain https URLs are kept: never one with user info, which could carry a secret."""
    parts = urlsplit(url)
    return parts.scheme.lower() == "https" and bool(parts.hostname) and parts.username is None and not parts.password


def _expiry(now: float, ttl: float | None, max_age: float) -> float:
    return now + (max_age if ttl is None else min(ttl, max_age))


class MemoryCache:
    """An in-memory, thread-safe TTL cache of endpoints, bounded in size (oldest entries go first).

    Args:
        max_age: The longest any entry lives, in seconds, whatever the response's TTL says.
        clock: A monotonic clock (tests pass :class:`~autodiscover_client.testing.FakeClock`).
        max_entries: The most entries kept.
    """

    def __init__(
        self, *, max_age: float = DEFAULT_MAX_AGE, clock: Clock | None = None, max_entries: int = DEFAULT_MAX_ENTRIES
    ) -> None:
        if isinstance(max_age, bool) or not isinstance(max_age, (int, float)) or not max_age > 0:
            raise ValueError("max_age must be a positive number of seconds")
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries <= 0:
            raise ValueError("max_entries must be a positive whole number")
        self.max_age = max_age
        self._clock: Clock = clock or SystemClock()
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[Method, str, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"MemoryCache(max_age={self.max_age}, entries={len(self._entries)})"

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def get(self, key: str) -> CachedEndpoint | None:
        """Return the live entry for ``key``, or ``None``."""
        now = self._clock.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            method, url, stored, expires = entry
            if now >= expires:
                del self._entries[key]
                return None
            return CachedEndpoint(method=method, url=url, age=max(0.0, now - stored))

    def put(self, key: str, method: Method, url: str, *, ttl: float | None) -> None:
        """Store an endpoint (see :class:`Cache`)."""
        if not cacheable_url(url):
            return
        now = self._clock.monotonic()
        with self._lock:
            self._entries.pop(key, None)
            self._entries[key] = (Method(method), url, now, _expiry(now, ttl, self.max_age))
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def drop(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._entries.pop(key, None)


class _WallClock:
    def monotonic(self) -> float:
        return time.time()


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/autodiscover-client``, else ``~/.cache/autodiscover-client`` (never a shared temp dir)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG Base Directory spec: a relative path in the variable is invalid and must be ignored.
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".cache"
    return root / "autodiscover-client"


class DiskCache:
    """A JSON file of endpoints that survives the process, for command-line runs and long-lived tools.

    The file lives in the user's cache directory (``default_cache_dir()``), created with mode 0700; the
    file has mode 0600 and is replaced atomically (a temporary file in the same directory, then
    :func:`os.replace`), so a reader never sees half a file. It holds methods, URLs and times only.
    A missing, unreadable or malformed file is an empty cache: the cache is an optimisation, never a
    reason for discovery to fail.

    Args:
        path: The file; by default ``endpoints.json`` in :func:`default_cache_dir`.
        max_age: The longest any entry lives, in seconds.
        clock: A clock counting seconds since the Unix epoch (entries outlive the process, so a
            monotonic clock would not do); tests pass a fake one.

    Raises:
        OSError: The cache directory cannot be created, or belongs to another user or is writable by
            others (the file would then not be private).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Clock | None = None,
    ) -> None:
        if isinstance(max_age, bool) or not isinstance(max_age, (int, float)) or not max_age > 0:
            raise ValueError("max_age must be a positive number of seconds")
        self.path = Path(path) if path is not None else default_cache_dir() / "endpoints.json"
        if self.path.is_dir():
            raise ValueError(f"the cache path {self.path} is a directory; name the file to write")
        self.max_age = max_age
        self._clock: Clock = clock or _WallClock()
        self._lock = threading.Lock()
        self._signature: tuple[int, int, int] | None = None
        self._loaded: dict[str, dict[str, object]] = {}
        self._prepare_dir(self.path.parent)

    def __repr__(self) -> str:
        return f"DiskCache(path={str(self.path)!r}, max_age={self.max_age})"

    @staticmethod
    def _prepare_dir(directory: Path) -> None:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.stat()
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise OSError(f"the cache directory {directory} belongs to another user")
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise OSError(f"the cache directory {directory} is writable by others; refusing to cache there")

    def _load(self) -> dict[str, dict[str, object]]:
        # Re-read only when the file changed (every write replaces it, so its inode changes): a batch
        # asks for thousands of entries, and the file must still see other processes' writes.
        try:
            info = self.path.stat()
        except OSError:
            return {}
        signature = (info.st_ino, info.st_mtime_ns, info.st_size)
        if signature == self._signature:
            return self._loaded
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        entries = data.get("entries") if isinstance(data, dict) and data.get("format") == _FORMAT else None
        if not isinstance(entries, dict):
            return {}
        self._loaded = {str(k): v for k, v in entries.items() if isinstance(v, dict)}
        self._signature = signature
        return self._loaded

    def _save(self, entries: dict[str, dict[str, object]]) -> None:
        import tempfile  # late: only disk-cache users pay for it at import time

        handle, temporary = tempfile.mkstemp(prefix=".endpoints-", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                os.fchmod(out.fileno(), 0o600)  # mkstemp's mode already, stated for readers of this code
                json.dump({"format": _FORMAT, "entries": entries}, out, indent=1, sort_keys=True)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def get(self, key: str) -> CachedEndpoint | None:
        """Return the live entry for ``key``, or ``None``."""
        with self._lock:
            raw = self._load().get(key)
        if raw is None:
            return None
        try:
            method = Method(raw["method"])
            url, stored, expires = raw["url"], float(raw["stored"]), float(raw["expires"])  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError):
            return None
        now = self._clock.monotonic()
        if not isinstance(url, str) or not cacheable_url(url) or now >= expires:
            return None
        return CachedEndpoint(method=method, url=url, age=max(0.0, now - stored))

    def put(self, key: str, method: Method, url: str, *, ttl: float | None) -> None:
        """Store an endpoint (see :class:`Cache`); errors writing the file are swallowed."""
        if not cacheable_url(url):
            return
        now = self._clock.monotonic()
        entry: dict[str, object] = {
            "method": Method(method).value, "url": url, "stored": now, "expires": _expiry(now, ttl, self.max_age),
        }  # fmt: skip
        self._update(key, entry)

    def drop(self, key: str) -> None:
        """Forget ``key``."""
        self._update(key, None)

    def _update(self, key: str, entry: dict[str, object] | None) -> None:
        with self._lock:
            entries = self._load()  # re-read if another process has written since
            now = self._clock.monotonic()
            entries = {k: v for k, v in entries.items() if _live(v, now)}
            if entry is None:
                entries.pop(key, None)
            else:
                entries[key] = entry
            with contextlib.suppress(OSError):
                self._save(entries)


def _live(raw: dict[str, object], now: float) -> bool:
    expires = raw.get("expires")
    return isinstance(expires, (int, float)) and now < expires


@dataclasses.dataclass(slots=True)
class Replay:
    """How trying a cached endpoint went, filled in by :func:`cached_discovery` as it runs."""

    endpoint: CachedEndpoint
    key: str
    failed: bool = False


def cached_discovery(run: Run, address: EmailAddress, methods: Sequence[Method], replay: Replay) -> Flow[Found | None]:
    """Try the cached endpoint first; if it fails, full discovery runs once (Learn "Refresh configuration").

    A ``redirectAddr`` from the cached endpoint is an answer, not a failure: discovery restarts for the
    new address, exactly as it would have after reaching that endpoint the long way.
    """
    endpoint = replay.endpoint
    host = (urlsplit(endpoint.url).hostname or "").lower()
    run.record(
        endpoint.method, endpoint.url, Outcome.CACHED, address,
        error=f"endpoint from the cache (stored {endpoint.age:.0f}s ago); trying it first",
    )  # fmt: skip
    refusal = _cached_host_refusal(run, address, endpoint, host)
    if refusal is None:
        result = yield from _post_flow(run, address, endpoint.method, endpoint.url)
        if isinstance(result, Found):
            return result
        if isinstance(result, EmailAddress):
            return (yield from discovery(run, result, methods))
    replay.failed = True
    why = refusal or "the cached endpoint failed"
    run.record(
        endpoint.method, endpoint.url, Outcome.CACHED, address, error=f"{why}: dropped it; running full discovery"
    )
    return (yield from discovery(run, address, methods))


def _cached_host_refusal(run: Run, address: EmailAddress, endpoint: CachedEndpoint, host: str) -> str | None:
    """A cached host outside the mail domain is asked about again, as the redirect that led there was."""
    if run.trusts(host):
        return None
    proposal = RedirectProposal(
        email=str(address), source="cache", target=endpoint.url, host=host, reason=RedirectReason.URL_REDIRECT
    )
    if run.policy.allows(proposal):
        run.approved_hosts.add(host)
        return None
    return f"cached endpoint on {host} not used: outside the mail domain; " + RedirectPolicy.how_to_allow(host)


def endpoint_key(schema: str, address: EmailAddress, found: Found, attempts: Sequence[Attempt]) -> str | None:
    """Where to store what answered: per domain, per address after a POST redirect, or not at all.

    After a ``redirectAddr`` nothing is stored, because the redirect's approval must be asked afresh; nor
    is an Autodiscover V2 answer, which names a URL but is not an endpoint to POST to.
    """
    if found.email.casefold() != str(address).casefold():
        return None
    if found.v2 is not None:
        return None  # a V2 JSON answer is not a POX endpoint: replaying it would be a POST to the wrong thing
    # A redirect on a POST may depend on the user (the request names them); the http probe's may not.
    redirected = any(a.outcome is Outcome.REDIRECT_URL and a.url.lower().startswith("https:") for a in attempts)
    return address_key(schema, str(address)) if redirected else domain_key(schema, address.domain)
