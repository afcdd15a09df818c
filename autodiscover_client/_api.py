"""``discover()`` and ``Discoverer``: build the defaults, drive the core, enforce the deadline."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

from ._address import EmailAddress, parse_email
from ._cache import Cache, Replay, address_key, cached_discovery, domain_key, endpoint_key, ttl_seconds
from ._driver import ConcurrentDriver, Seams, drive_sequential
from ._errors import (
    AuthenticationError,
    DeadlineExceededError,
    DiscoveryError,
    RedirectDeniedError,
)
from ._flow import Found, discovery, ordered_methods
from ._models import DEFAULT_ORDER, Method, Outcome, Settings, Source
from ._options import check_discover_arguments, checked_options
from ._policy import RedirectApprover, RedirectPolicy, deny_all
from ._pox import Schema
from ._run import Run
from ._seams import BasicCredentials, Clock, Credentials, Resolver, ScpSource, SystemClock, Transport
from ._v2 import V2Protocol

DEFAULT_TIMEOUT = 30.0
DEFAULT_REQUEST_TIMEOUT = 10.0
DEFAULT_USER_AGENT = "autodiscover-client"
DEFAULT_PATIENCE = 0.5


class Discoverer:
    """Holds configuration and connections for repeated discovery (batch runs, long-lived clients).

    Args:
        methods: The methods to try, in order (``DEFAULT_ORDER``, ``MICROSOFT_ORDER`` or any subset).
        timeout: The overall deadline of one ``discover()`` call, in seconds.
        request_timeout: The most one DNS query or HTTP exchange may take, in seconds.
        resolver: DNS seam; by default :class:`DnspythonResolver` with the system's nameservers.
        transport: HTTP seam; by default :class:`RequestsTransport` (certifi, verified TLS). When a
            resolver is given and the transport is not, host names are resolved with that resolver too.
        approve_redirect: Called for each redirect that leaves the mail domain; return ``True`` to allow
            it (and to let that host receive credentials). By default every such redirect is denied.
        allowed_hosts: Hosts outside the mail domain that redirects may reach without asking.
        trust_microsoft365: Whether the Microsoft 365 Autodiscover hosts (``MICROSOFT365_HOSTS``:
            worldwide, GCC High, DoD, 21Vianet and the legacy German cloud) count as allowed hosts.
            Pass ``False`` to have them asked about like any other host.
        schema: The response schema to ask for (``Schema.OUTLOOK`` or ``Schema.MOBILESYNC``).
        user_agent: The ``User-Agent`` header.
        clock: A monotonic clock (tests pass a fake one). A ``FakeClock`` also makes a concurrent run
            deterministic: operations are simulated one after another in fake time, not on threads.
        parallel: Work on all candidates at once (DNS lookups, connections, requests) in a bounded
            thread pool; ``False`` tries them one at a time.
        patience: With ``parallel``: once a lower-priority candidate has settings, how many more seconds
            each higher-priority candidate still in flight gets before it is abandoned. ``None`` waits
            for every one until its own timeout (exactly the sequential answer); ``0`` takes the first
            answer. The result is the sequential result unless a higher-priority candidate was more than
            ``patience`` slower than a lower-priority one that answered.
        v2_protocol: What ``Method.V2_JSON`` asks for (default: ``AutodiscoverV1``, or ``ActiveSync``
            with the mobilesync schema). See docs/protocols.md.
        v2_office365: Let ``Method.V2_JSON`` ask ``outlook.office365.com`` first, as Microsoft 365 apps do.
            Off by default: it tells Microsoft the address (no credentials are ever sent to V2).
        scp_source: The Active Directory look-up ``Method.SCP`` uses (e.g. ``Ldap3ScpSource``).
        ad_site: This machine's AD site, which orders SCP URLs (own site first).
        cache: Where to remember winning endpoints (:class:`MemoryCache`, :class:`DiskCache` or your own
            :class:`Cache`). A cached endpoint is tried first; if it fails it is dropped and full
            discovery runs once (PROTOCOL.md §6). ``None`` (the default) caches nothing.
    """

    def __init__(
        self,
        *,
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
        v2_protocol: V2Protocol | None = None,
        v2_office365: bool = False,
        scp_source: ScpSource | None = None,
        ad_site: str | None = None,
        cache: Cache | None = None,
        parallel: bool = True,
        patience: float | None = DEFAULT_PATIENCE,
    ) -> None:
        methods, schema, allowed_hosts = checked_options(
            methods=methods, schema=schema, allowed_hosts=allowed_hosts, timeout=timeout,
            request_timeout=request_timeout, user_agent=user_agent, approve_redirect=approve_redirect,
            ad_site=ad_site, resolver=resolver, transport=transport, clock=clock, scp_source=scp_source, cache=cache,
        )  # fmt: skip
        if patience is not None and not (patience >= 0 and math.isfinite(patience)):
            raise ValueError("patience must be None or a finite number of seconds >= 0")
        self.parallel = parallel
        self.patience = patience
        self.v2_protocol = V2Protocol(v2_protocol) if v2_protocol is not None else None
        self.v2_office365 = v2_office365
        self.ad_site = ad_site
        self._scp_source = scp_source
        self.methods = tuple(Method(method) for method in methods)
        if not self.methods:
            raise ValueError("methods must name at least one Method")
        if timeout <= 0 or request_timeout <= 0:
            raise ValueError("timeout and request_timeout must be positive")
        self.timeout = timeout
        self.request_timeout = request_timeout
        self.schema = schema
        self.user_agent = user_agent
        self.policy = RedirectPolicy(
            approve=approve_redirect or deny_all,
            allowed_hosts=frozenset(host.lower().rstrip(".") for host in allowed_hosts),
            trust_microsoft365=trust_microsoft365,
        )
        self._clock: Clock = clock or SystemClock()
        self._resolver = resolver
        self._transport = transport
        self._owned_transport = transport is None
        self._lock = threading.Lock()  # the concurrent driver's workers may build the defaults at once
        self.cache = cache

    def _get_resolver(self) -> Resolver:
        with self._lock:
            if self._resolver is None:
                from ._dns import DnspythonResolver  # late: keeps `import autodiscover_client` light

                self._resolver = DnspythonResolver()
            return self._resolver

    def _get_transport(self) -> Transport:
        with self._lock:
            if self._transport is None:
                from ._http import RequestsTransport

                self._transport = RequestsTransport(resolver=self._resolver)
            return self._transport

    def close(self) -> None:
        """Close the connections of a transport this object created."""
        transport = self._transport
        if self._owned_transport and transport is not None:
            close = getattr(transport, "close", None)
            if callable(close):
                close()

    def __enter__(self) -> Discoverer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def discover(
        self,
        email: str,
        password: str | None = None,
        *,
        username: str | None = None,
        credentials: Credentials | None = None,
    ) -> Settings:
        """Find the settings for ``email``. See :func:`discover`."""
        check_discover_arguments(password, username, credentials)
        address = parse_email(email)
        if credentials is not None and password is not None:
            raise ValueError("pass either password or credentials, not both")
        if credentials is None and password is not None:
            credentials = BasicCredentials(username or email, password)
        run = Run(
            address=address, credentials=credentials, policy=self.policy, schema=self.schema,
            user_agent=self.user_agent, v2_protocol=self.v2_protocol, v2_office365=self.v2_office365,
            ad_site=self.ad_site,
        )  # fmt: skip
        replay = self._cached(address)
        seams = Seams(
            resolver=self._get_resolver, transport=self._get_transport, clock=self._clock,
            request_timeout=self.request_timeout, scp_source=self._scp_source,
        )  # fmt: skip
        deadline = self._clock.monotonic() + self.timeout
        methods = ordered_methods(self.methods)
        if replay is not None:
            # A cache hit is driven one step at a time: it is one endpoint, and the fallback is rare.
            flow = cached_discovery(run, address, self.methods, replay)
            found, deadline_hit = drive_sequential(seams, run, flow, address, deadline)
        elif self.parallel and len(methods) > 1:
            driver = ConcurrentDriver(seams, run, methods, patience=self.patience, deadline=deadline)
            found, deadline_hit = driver.drive(address)
        else:
            flow = discovery(run, address, methods)
            found, deadline_hit = drive_sequential(seams, run, flow, address, deadline)
        self._remember(address, found, run, replay)
        if found is not None:
            return _settings(found, run)
        raise _failure(run, str(address), deadline_hit, self.timeout)

    def _cached(self, address: EmailAddress) -> Replay | None:
        """The cached endpoint to try first: the address's own, else its domain's (if its method is in use)."""
        if self.cache is None:
            return None
        schema = self.schema.value
        for key in (address_key(schema, str(address)), domain_key(schema, address.domain)):
            endpoint = self.cache.get(key)
            if endpoint is not None and endpoint.method in self.methods:
                return Replay(endpoint=endpoint, key=key)
        return None

    def _remember(self, address: EmailAddress, found: Found | None, run: Run, replay: Replay | None) -> None:
        if self.cache is None:
            return
        if replay is not None and replay.failed:
            self.cache.drop(replay.key)
        if found is None or (replay is not None and not replay.failed and found.url == replay.endpoint.url):
            return  # a hit is not re-stored: full discovery still runs once per TTL
        key = endpoint_key(self.schema.value, address, found, run.attempts)
        if key is not None:
            self.cache.put(key, found.method, found.url, ttl=ttl_seconds(found.document.protocols))


def _settings(found: Found, run: Run) -> Settings:
    document = found.document
    return Settings(
        email=found.email,
        source=Source(method=found.method, url=found.url),
        user=document.user,
        protocols=document.protocols,
        mobilesync_servers=document.mobilesync_servers,
        microsoft_online=document.microsoft_online,
        alternative_mailboxes=document.alternative_mailboxes,
        public_folder_smtp_address=document.public_folder_smtp_address,
        schema="v2" if found.v2 is not None else document.schema.value,
        attempts=tuple(run.attempts),
        v2_protocol=found.v2.protocol if found.v2 is not None else None,
        v2_url=found.v2.url if found.v2 is not None else None,
    )


def _failure(run: Run, email: str, deadline_hit: bool, timeout: float) -> DiscoveryError:
    attempts = tuple(run.attempts)
    count = f"{len(attempts)} attempt{'s' if len(attempts) != 1 else ''}"
    if deadline_hit:
        return DeadlineExceededError(
            f"no Autodiscover settings for {email}: the {timeout:g}s deadline passed after {count}",
            email=email, attempts=attempts,
        )  # fmt: skip
    if run.credentials_rejected:
        return AuthenticationError(
            f"no Autodiscover settings for {email}: the credentials were rejected ({count})",
            email=email, attempts=attempts,
        )  # fmt: skip
    denied = sorted({a.url for a in attempts if a.outcome is Outcome.REDIRECT_DENIED})
    if denied:
        return RedirectDeniedError(
            f"no Autodiscover settings for {email}: the only ways forward were redirects the policy denied "
            f"({count}; see the trail for the hosts and how to allow them)",
            email=email, attempts=attempts,
        )  # fmt: skip
    return DiscoveryError(f"no Autodiscover settings for {email} ({count})", email=email, attempts=attempts)


def discover(
    email: str,
    password: str | None = None,
    *,
    username: str | None = None,
    credentials: Credentials | None = None,
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
    v2_protocol: V2Protocol | None = None,
    v2_office365: bool = False,
    scp_source: ScpSource | None = None,
    ad_site: str | None = None,
    cache: Cache | None = None,
    parallel: bool = True,
    patience: float | None = DEFAULT_PATIENCE,
) -> Settings:
    """Find a mail account's server settings the way Outlook does.

    Tries the ``methods`` in order (by default SRV, ``https://<domain>``, ``https://autodiscover.<domain>``,
    then the plain-http redirect probe) and returns the first settings found. Credentials are sent only
    over verified https, only after a 401 challenge, and only to hosts in the mail domain (or hosts the
    caller approved).

    Args:
        email: The mailbox address.
        password: The password, for HTTP Basic; ``None`` sends no credentials.
        username: The user name to authenticate as (default: ``email``).
        credentials: Credentials to use instead of ``username``/``password``.
        methods, timeout, request_timeout, resolver, transport, approve_redirect, allowed_hosts,
            trust_microsoft365, schema, user_agent, clock, v2_protocol, v2_office365, scp_source, ad_site,
            cache, parallel, patience: As for :class:`Discoverer`.

    Returns:
        The settings, with the method and URL that answered and the trail of every attempt.

    Raises:
        InvalidEmailError: The address cannot be used (raised before any I/O).
        AuthenticationError: An endpoint rejected the credentials and nothing produced settings.
        RedirectDeniedError: Nothing produced settings and the policy denied at least one redirect.
        DeadlineExceededError: The deadline passed first.
        DiscoveryError: Nothing produced settings (the base of the three above).
    """
    with Discoverer(
        methods=methods, timeout=timeout, request_timeout=request_timeout, resolver=resolver,
        transport=transport, approve_redirect=approve_redirect, allowed_hosts=allowed_hosts,
        trust_microsoft365=trust_microsoft365, schema=schema, user_agent=user_agent, clock=clock,
        v2_protocol=v2_protocol, v2_office365=v2_office365, scp_source=scp_source, ad_site=ad_site, cache=cache,
        parallel=parallel, patience=patience,
    ) as discoverer:  # fmt: skip
        return discoverer.discover(email, password, username=username, credentials=credentials)
