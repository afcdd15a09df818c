"""``LocalAutodiscover``: a DNS server and HTTPS hosts on loopback, wired together for ``discover()``.

It is a tiny Internet for one test: host names resolve through a real DNS server to loopback, and
every host has a certificate from a throwaway CA that the transport, and only the transport, trusts.
Nothing leaves the machine.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Sequence

from autodiscover_client._api import discover
from autodiscover_client._dns import DnspythonResolver
from autodiscover_client._http import RequestsTransport
from autodiscover_client._models import Settings
from autodiscover_client._seams import HttpResponse
from autodiscover_client.testing._dns_server import LocalDnsServer
from autodiscover_client.testing._https_server import (
    Endpoint,
    Handler,
    LocalAutodiscoverServer,
    RecordedRequest,
    ServerResponse,
    sequence,
)
from autodiscover_client.testing._scenario import SeamKwargs

HostAnswer = ServerResponse | HttpResponse | bytes | Handler | Sequence[ServerResponse | HttpResponse | bytes]
"""What a local host answers: a response (the kit's builders' :class:`HttpResponse` or a
:class:`ServerResponse`), a body (sent as 200 XML), a handler of the :class:`RecordedRequest`, or a
sequence of responses given in turn (the last repeating)."""


def refused_port(address: str = "127.0.0.1") -> int:
    """Return a loopback port where nothing listens, so connections to it are refused at once."""
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
    return port


def _server_response(answer: ServerResponse | HttpResponse | bytes) -> ServerResponse:
    if isinstance(answer, ServerResponse):
        return answer
    if isinstance(answer, bytes):
        return ServerResponse(headers=(("Content-Type", "text/xml; charset=utf-8"),), body=answer)
    return ServerResponse(status=answer.status, headers=answer.headers, body=answer.body)


def _handler(answer: HostAnswer) -> Handler | ServerResponse:
    if isinstance(answer, (ServerResponse, HttpResponse, bytes)):
        return _server_response(answer)
    if callable(answer):
        return answer
    return sequence(*(_server_response(item) for item in answer))


class LocalAutodiscover:
    """Context manager: a :class:`LocalDnsServer` and a :class:`LocalAutodiscoverServer`, wired together.

    Each host added gets an A (or AAAA) record for its loopback address, a listening socket on a
    free port and a certificate from the throwaway CA. :meth:`discover_kwargs` gives the default
    resolver and transport configured for them (nameserver, address overrides, CA bundle)::

        with LocalAutodiscover() as net:
            net.add_host("autodiscover.example.test", settings_body(...), credentials=(email, password))
            settings = discover(email, password, **net.discover_kwargs())

    Args:
        address: The loopback address to listen on (``"127.0.0.1"`` or ``"::1"``).
        dns_timeout: The resolver's per-query timeout, in seconds.
    """

    def __init__(self, *, address: str = "127.0.0.1", dns_timeout: float = 2.0) -> None:
        self.address = address
        self.dns = LocalDnsServer(host=address)
        """The DNS server: add records of your own with ``add_srv``, ``add_a``, ``drop``, ``fail`` …"""
        self.web = LocalAutodiscoverServer(address=address)
        """The HTTPS (and plain-HTTP) hosts."""
        self._dns_timeout = dns_timeout
        self._named: set[str] = set()
        self._transports: list[RequestsTransport] = []
        self._lock = threading.Lock()

    def __enter__(self) -> LocalAutodiscover:
        """Start both servers."""
        self.dns.start()
        try:
            self.web.__enter__()
        except BaseException:
            self.dns.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        """Close the transports made here, then stop both servers (bounded waits)."""
        with self._lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.close()
        try:
            self.web.close()
        finally:
            self.dns.stop()

    def add_host(
        self,
        hostname: str,
        answer: HostAnswer,
        *,
        scheme: str = "https",
        port: int = 0,
        address: str | None = None,
        credentials: tuple[str, str] | None = None,
        cert_hostnames: Sequence[str] | None = None,
    ) -> Endpoint:
        """Serve ``hostname`` and publish its address in DNS.

        Args:
            hostname: The name clients use.
            answer: What it answers (see :data:`HostAnswer`); the kit's builders work here as with the fakes.
            scheme, port, address, credentials, cert_hostnames: As for
                :meth:`LocalAutodiscoverServer.add_host`; ``credentials`` turns on Basic-auth checking.

        Returns:
            Where the host really listens.
        """
        endpoint = self.web.add_host(
            hostname, _handler(answer), scheme=scheme, port=port, address=address, credentials=credentials,
            cert_hostnames=cert_hostnames,
        )  # fmt: skip
        self.publish(hostname, endpoint.address)
        return endpoint

    def publish(self, hostname: str, address: str | None = None) -> None:
        """Give ``hostname`` an A or AAAA record (default: the loopback address), once."""
        target = address or self.address
        with self._lock:
            key = f"{hostname.rstrip('.').lower()} {target}"
            if key in self._named:
                return
            self._named.add(key)
        if ipaddress.ip_address(target).version == 6:
            self.dns.add_aaaa(hostname, target)
        else:
            self.dns.add_a(hostname, target)

    def add_srv(self, domain: str, target: str, port: int | None = None, *, priority: int = 0, weight: int = 0) -> None:
        """Publish ``_autodiscover._tcp.<domain>`` pointing at ``target``.

        Args:
            domain: The mail domain.
            target: The host; it gets an A record if it has none from this object.
            port: The port; by default the port ``target`` really listens on for https.
            priority, weight: As in RFC 2782.

        Raises:
            ValueError: ``port`` is omitted and ``target`` is not a host added here.
        """
        if port is None:
            try:
                port = self.web.endpoint(target).port
            except KeyError:
                raise ValueError(f"{target} is not served here: add it first or give its port") from None
        self.dns.add_srv(f"_autodiscover._tcp.{domain}", target, port, priority=priority, weight=weight)
        self.publish(target)

    # --- the seams ----------------------------------------------------------------------------------

    @property
    def ca_bundle(self) -> str:
        """The PEM file of the throwaway CA (for your own transport, or ``--ca-bundle``)."""
        return self.web.ca_bundle

    def resolver(self) -> DnspythonResolver:
        """Return the default resolver, asking only the local DNS server."""
        return self.dns.resolver(timeout=self._dns_timeout)

    def transport(self) -> RequestsTransport:
        """Return the default transport, configured for the local hosts.

        It trusts the throwaway CA, resolves names through the local DNS server and reaches port-443/80
        names through address overrides. Make it after adding hosts; it is closed on exit.
        """
        made = RequestsTransport(
            ca_bundle=self.ca_bundle, connect_to=self.web.connect_overrides, resolver=self.resolver()
        )
        with self._lock:
            self._transports.append(made)
        return made

    def discover_kwargs(self) -> SeamKwargs:
        """Return a fresh ``resolver`` and ``transport``: ``discover(email, password, **net.discover_kwargs())``."""
        return SeamKwargs(resolver=self.resolver(), transport=self.transport())

    def discover(self, email: str, password: str | None = None, **options: object) -> Settings:
        """Run :func:`~autodiscover_client.discover` over the local servers; ``options`` go to it as well."""
        return discover(email, password, **self.discover_kwargs(), **options)  # type: ignore[arg-type]

    # --- what happened ------------------------------------------------------------------------------

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every HTTP request any host received, in order, with credentials redacted."""
        return self.web.requests

    @property
    def queries(self) -> tuple[tuple[str, str], ...]:
        """Every DNS query received, as ``(name, type)``."""
        return self.dns.queries

    def credentials_seen(self) -> tuple[tuple[str, str, str], ...]:
        """``(scheme, host, auth scheme)`` of every request that carried an ``Authorization`` header."""
        return self.web.credentials_seen()

    def credential_hosts(self) -> set[tuple[str, str]]:
        """The ``(scheme, host)`` pairs credentials arrived at."""
        return {(scheme, host) for scheme, host, _ in self.credentials_seen()}
