"""``DnspythonResolver``: the default resolver, and the only module that imports dnspython."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from logging import getLogger

import dns.exception
import dns.inet
import dns.name
import dns.rdatatype
import dns.rdtypes.IN.SRV
import dns.resolver

from ._errors import ResolverError, ResolverTimeoutError
from ._seams import SrvRecord

logger = getLogger(__name__)

DEFAULT_QUERY_TIMEOUT = 5.0
_FIRST_BACKOFF = 0.1  # dns.resolver.Resolution's first retry back-off, in seconds
_MIN_LOOKUP = 0.05  # with less time left than this, a lookup is not started (it would overrun)


def parse_nameserver(text: str) -> tuple[str, int]:
    """Parse ``ADDR``, ``ADDR:PORT``, ``[V6]`` or ``[V6]:PORT`` into ``(address, port)``.

    Raises:
        ValueError: The text is not an IP address with an optional port.
    """
    text = text.strip()
    port = 53
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"bad nameserver {text!r}")
            port = int(rest[1:])
    elif text.count(":") == 1:
        address, _, port_text = text.partition(":")
        port = int(port_text)
    else:
        address = text
    if not dns.inet.is_address(address) or not 0 < port < 65536:
        raise ValueError(f"bad nameserver {text!r}: expected an IP address with an optional port")
    return address, port


class DnspythonResolver:
    """Resolve SRV, A and AAAA records with dnspython.

    Args:
        nameservers: ``(address, port)`` pairs to ask; by default the system's (``/etc/resolv.conf``).
        timeout: The most one query may take, in seconds; each call is further bounded by its caller.

    "No such name" and "no records" give empty answers; other failures raise :class:`ResolverError`
    (:class:`ResolverTimeoutError` on timeouts), chained from dnspython's exception.
    """

    def __init__(
        self, *, nameservers: Iterable[tuple[str, int]] | None = None, timeout: float = DEFAULT_QUERY_TIMEOUT
    ) -> None:
        servers = list(nameservers or ())
        self._timeout = timeout
        if servers:
            self._resolver = dns.resolver.Resolver(configure=False)
            self._resolver.nameservers = [address for address, _ in servers]
            self._resolver.nameserver_ports = {address: port for address, port in servers}
        else:
            try:
                self._resolver = dns.resolver.Resolver()
            except (dns.exception.DNSException, OSError) as exc:
                raise ResolverError(f"cannot read the system's DNS configuration: {exc}") from exc
        self._resolver.cache = None  # every run sees fresh answers; caching is the caller's choice
        self.nameservers: tuple[tuple[str, int], ...] = tuple(servers)

    def __repr__(self) -> str:
        return f"DnspythonResolver(nameservers={list(self.nameservers) or 'system'}, timeout={self._timeout})"

    def resolve_srv(self, name: str, *, timeout: float) -> Sequence[SrvRecord]:
        """Return ``name``'s SRV records in RFC 2782 order (dnspython's ``processing_order()``)."""
        answer = self._query(name, "SRV", timeout)
        if answer is None or answer.rrset is None:
            logger.debug("SRV %s: no records", name)
            return ()
        # processing_order(): lowest priority first, weighted random within a priority (RFC 2782).
        records: list[SrvRecord] = []
        for rdata in answer.rrset.processing_order():
            if isinstance(rdata, dns.rdtypes.IN.SRV.SRV):
                root = rdata.target == dns.name.root  # "." means "no service here" (RFC 2782)
                target = "." if root else rdata.target.to_text(omit_final_dot=True)
                records.append(SrvRecord(priority=rdata.priority, weight=rdata.weight, port=rdata.port, target=target))
        logger.debug("SRV %s: %s", name, ", ".join(f"{r.priority} {r.weight} {r.port} {r.target}" for r in records))
        return tuple(records)

    def resolve_addresses(self, host: str, *, timeout: float) -> Sequence[str]:
        """Return the IPv4 addresses, then the IPv6 ones, of ``host``.

        ``timeout`` bounds both queries together, not each; an AAAA failure after A answered still
        gives the IPv4 addresses.
        """
        deadline = time.monotonic() + timeout
        addresses: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = self._query(host, rdtype, deadline - time.monotonic())
            except ResolverError:
                if addresses:
                    break
                raise
            if answer is not None and answer.rrset is not None:
                addresses.extend(rdata.address for rdata in answer.rrset)
        return tuple(addresses)

    def _query(self, name: str, rdtype: str, timeout: float) -> dns.resolver.Answer | None:
        bound = min(timeout, self._timeout)
        if bound < _MIN_LOOKUP:
            raise ResolverTimeoutError(f"{rdtype} lookup of {name} skipped: only {max(bound, 0):.3f}s left")
        # dnspython sleeps its first back-off (0.1 s) after every nameserver failed and only then sees
        # that the lifetime is spent; leave room for that sleep so the lookup ends by its bound. Below
        # 0.2 s there is no room, and a silent nameserver may cost up to 0.075 s more than the bound.
        lifetime = bound - _FIRST_BACKOFF if bound > 2 * _FIRST_BACKOFF else bound / 2
        try:
            qname = dns.name.from_text(name)
            return self._resolver.resolve(qname, rdtype, lifetime=lifetime, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        except dns.resolver.LifetimeTimeout as exc:
            raise ResolverTimeoutError(f"{rdtype} lookup of {name} timed out after {bound:.1f}s") from exc
        except dns.resolver.NoNameservers as exc:
            raise ResolverError(f"{rdtype} lookup of {name} failed: no nameserver answered usefully") from exc
        except dns.exception.DNSException as exc:
            raise ResolverError(f"{rdtype} lookup of {name} failed: {exc}") from exc
