"""Who may receive credentials, and which redirects may be followed (DESIGN §4 rules 3 and 4).

The boundary is the mail domain's *registrable* domain, computed with the Public Suffix List, so that
``mail.example.co.uk`` is trusted for ``user@example.co.uk`` but ``other.co.uk`` never is.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList


class RedirectReason(enum.Enum):
    """Why discovery wants to go to a host outside the mail domain."""

    HTTP_PROBE = "http_probe"
    """The plain-http GET probe redirected there (MS-OXDISCO §3.1.5.4)."""
    URL_REDIRECT = "url_redirect"
    """An HTTP 30x on a POST, or ``Action=redirectUrl`` (MS-OXDSCLI §3.1.5.3)."""
    ADDRESS_REDIRECT = "address_redirect"
    """``Action=redirectAddr`` named an address in another domain."""
    SRV_TARGET = "srv_target"
    """An SRV record points at a host outside the mail domain (a redirect in disguise, PROTOCOL.md §1.6)."""
    SCP_URL = "scp_url"
    """An Active Directory SCP object names an Autodiscover host outside the mail domain (PROTOCOL.md §1.3)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RedirectProposal:
    """A redirect that needs the caller's approval.

    Attributes:
        email: The address being discovered.
        source: Where the redirect came from (a URL, or the DNS name for SRV).
        target: Where it leads (a URL, or an address for ``ADDRESS_REDIRECT``).
        host: The host (or, for an address, the domain) that would receive credentials.
        reason: Why the redirect happened.
    """

    email: str
    source: str
    target: str
    host: str
    reason: RedirectReason


class RedirectApprover(Protocol):
    """Decides whether discovery may follow a redirect outside the mail domain (and send credentials)."""

    def __call__(self, proposal: RedirectProposal, /) -> bool: ...


def deny_all(proposal: RedirectProposal, /) -> bool:
    """The default approver: deny every redirect that leaves the mail domain."""
    return False


@functools.cache
def _suffix_list() -> PublicSuffixList:
    # The list ships inside publicsuffixlist (no download at run time); loading and parsing it takes a few
    # ms, so it happens on first use rather than at import (benchmarks/bench_import.py).
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def registrable_domain(host: str) -> str | None:
    """Return the registrable domain of ``host`` (e.g. ``example.co.uk``), or ``None`` for a public suffix."""
    name = host.rstrip(".").lower()
    result: str | None = _suffix_list().privatesuffix(name)
    return result


def is_public_suffix(domain: str) -> bool:
    """Whether ``domain`` is itself a public suffix (``com``, ``co.uk``, ``github.io`` …)."""
    return registrable_domain(domain) is None


def within(host: str, domains: Iterable[str]) -> bool:
    """Whether ``host`` lies in one of the given registrable ``domains``."""
    site = registrable_domain(host)
    return site is not None and site in set(domains)


# DESIGN §4 rule 3: the built-in allow-list of Microsoft 365 Autodiscover hosts. Exchange Online
# tenants publish ``autodiscover.<domain>`` as a CNAME to the first host of each cloud, and their
# Autodiscover answers redirect to the others (PROTOCOL.md §1.7 and §7: outlook.office365.com;
# Microsoft's DNS set-up pages for each cloud; the Exchange Online PowerShell cloud tables).
# Exact host names only: a sibling such as ``evil.outlook.com`` is not on the list.
MICROSOFT365_HOSTS: frozenset[str] = frozenset(
    {
        # Worldwide (commercial, GCC)
        "autodiscover.outlook.com",
        "autodiscover-s.outlook.com",
        "outlook.office365.com",
        # US Government GCC High
        "autodiscover.office365.us",
        "autodiscover-s.office365.us",
        "outlook.office365.us",
        # US Government DoD
        "autodiscover-s-dod.office365.us",
        "outlook-dod.office365.us",
        # Microsoft 365 operated by 21Vianet (China)
        "autodiscover.partner.outlook.cn",
        "autodiscover-s.partner.outlook.cn",
        "partner.outlook.cn",
        # Microsoft Cloud Deutschland (legacy; tenants migrated to worldwide, names still answer)
        "autodiscover-outlook.office.de",
        "outlook.office.de",
    }
)
"""Microsoft 365 Autodiscover hosts trusted by default (switch off with ``trust_microsoft365=False``)."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RedirectPolicy:
    """The caller's redirect settings: an approver callback and hosts allowed outright.

    Attributes:
        approve: Asked about every redirect to a host that is not listed.
        allowed_hosts: Exact host names (lower-case) that redirects may reach without asking.
        trust_microsoft365: Whether the hosts in :data:`MICROSOFT365_HOSTS` count as listed.
    """

    approve: RedirectApprover = deny_all
    allowed_hosts: frozenset[str] = frozenset()
    trust_microsoft365: bool = True

    def listed(self, host: str) -> bool:
        """Whether ``host`` is allowed without asking: in ``allowed_hosts`` or the Microsoft 365 list."""
        name = host.lower().rstrip(".")
        return name in self.allowed_hosts or (self.trust_microsoft365 and name in MICROSOFT365_HOSTS)

    def allows(self, proposal: RedirectProposal) -> bool:
        """Whether to follow the proposal: listed hosts are allowed, others go to the approver."""
        if self.listed(proposal.host):
            return True
        return bool(self.approve(proposal))

    @staticmethod
    def how_to_allow(host: str) -> str:
        """The hint the trail gives for a denied host."""
        return f"pass allowed_hosts=[{host!r}] or an approve_redirect callback (CLI: --allow-redirect {host})"
