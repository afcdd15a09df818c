"""Active Directory SCP results to Autodiscover candidates (MS-OXDISCO §3.1.5.1, PROTOCOL.md §1.3). No I/O.

A domain-joined Outlook searches ``configurationNamingContext`` for ``serviceConnectionPoint`` objects
carrying one of two keyword GUIDs. This module turns one search's objects into a plan: the URLs to try,
ordered by AD site and de-duplicated, and the pointers to other directories to search instead. The
look-up itself goes through the :class:`~autodiscover_client.ScpSource` seam.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from urllib.parse import urlsplit

from ._models import is_web_url
from ._seams import ScpRecord

POINTER_KEYWORD = "67661D7F-8FC4-4fa7-BFAC-E1D7794C1F68"
"""``serviceBindingInformation`` is an ``LDAP://host[:port]`` of another directory to search."""
URL_KEYWORD = "77378F46-2C66-4aa9-A6A6-3E7A48B19596"
"""``serviceBindingInformation`` is an Autodiscover URL."""
SCP_FILTER = f"(&(objectClass=serviceConnectionPoint)(|(keywords={POINTER_KEYWORD})(keywords={URL_KEYWORD})))"
"""The search filter. MS-OXDISCO §2.2.1.2 writes ``objectcategory``; Learn's sample uses ``objectClass``,
which every directory (and ldap3's offline mock) matches without AD's objectCategory short-name magic."""
SCP_ATTRIBUTES = ("serviceBindingInformation", "keywords")
MAX_SCP_LOOKUPS = 10  # pointers may chain; like redirects, the chase is bounded (PROTOCOL.md §4)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ScpPlan:
    """What one search found.

    Attributes:
        urls: Autodiscover URLs in the order to try: own site, then no site, then other sites.
        domain_pointers: LDAP servers named by pointers for the user's domain: search there at once,
            discarding ``urls`` (Learn: "discard the set of SCP objects and start over").
        fallback_pointers: LDAP servers named by pointers without a domain: searched only if nothing
            else yields URLs ("after all other entries have been evaluated").
        skipped: Objects that were ignored, with the reason, for the trail.
    """

    urls: tuple[str, ...] = ()
    domain_pointers: tuple[str, ...] = ()
    fallback_pointers: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


def _keyword_values(keywords: Iterable[str], name: str) -> list[str]:
    """Values of ``name=value`` keywords; names compare case-insensitively (PROTOCOL.md §1.3)."""
    values = []
    for keyword in keywords:
        key, sep, value = keyword.partition("=")
        if sep and key.strip().casefold() == name:
            values.append(value.strip())
    return values


def _has(keywords: Iterable[str], guid: str) -> bool:
    wanted = guid.casefold()
    return any(keyword.strip().casefold() == wanted for keyword in keywords)


def ldap_server(binding: str) -> str | None:
    """``LDAP://host[:port][/…]`` to ``host[:port]``, or ``None`` if it is not an LDAP URL."""
    try:
        parts = urlsplit(binding.strip())
        port = parts.port
    except ValueError:  # "ldap://[x" or a port out of range: not a server
        return None
    if parts.scheme.lower() != "ldap" or not parts.hostname:
        return None
    return parts.hostname.lower() + (f":{port}" if port else "")


def plan(records: Iterable[ScpRecord], *, domain: str, site: str | None) -> ScpPlan:
    """Classify and order one search's SCP objects for ``domain``, on a client in AD ``site``.

    Args:
        records: The objects the search returned.
        domain: The mail domain (for ``Domain=`` keywords on pointers).
        site: The client's AD site, if known; without it no URL has priority 1.
    """
    ranked: list[tuple[int, int, str]] = []
    domain_pointers: list[str] = []
    fallback: list[str] = []
    skipped: list[str] = []
    own_site = (site or "").casefold()
    for index, record in enumerate(records):
        keywords = record.keywords
        if _has(keywords, URL_KEYWORD):
            url = record.binding.strip()
            if not is_web_url(url):
                skipped.append(f"{record.dn or url!r}: not an Autodiscover URL")
                continue
            sites = [value.casefold() for value in _keyword_values(keywords, "site")]
            # Learn "Generate a list of Autodiscover endpoints": own site, then no Site=, then other sites.
            priority = 1 if own_site and own_site in sites else 2 if not sites else 3
            ranked.append((priority, index, url))
        elif _has(keywords, POINTER_KEYWORD):
            server = ldap_server(record.binding)
            if server is None:
                skipped.append(f"{record.dn or record.binding!r}: a pointer that is not an LDAP:// URL")
                continue
            domains = [value.casefold() for value in _keyword_values(keywords, "domain")]
            if domain.casefold() in domains:
                domain_pointers.append(server)
            elif not domains:
                fallback.append(server)
            else:
                skipped.append(f"{record.dn or record.binding}: a pointer for another domain")
    ranked.sort()
    seen: set[str] = set()
    urls: list[str] = []
    for _, _, url in ranked:
        folded = url.casefold()  # de-duplicate case-insensitively (PROTOCOL.md §1.3)
        if folded not in seen:
            seen.add(folded)
            urls.append(url)
    return ScpPlan(
        urls=tuple(urls),
        domain_pointers=tuple(dict.fromkeys(domain_pointers)),
        fallback_pointers=tuple(dict.fromkeys(fallback)),
        skipped=tuple(skipped),
    )
