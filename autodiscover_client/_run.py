"""``Run``: the bookkeeping one ``discover()`` call shares across candidates, and its forks.

The sequential driver hands one ``Run`` to every candidate in turn. The concurrent driver gives each
candidate a *fork*: a copy that logs every read and write of the shared state. When the candidate's turn
comes in priority order, the log is replayed against the state the sequential run would have had at that
point (:meth:`Run.replay`). If every read gives the same answer, the candidate's generator, being
deterministic in its inputs, did exactly what the sequential run would have done with the same replies;
if not, the driver runs it again from that state. Writes only ever add (a visited key, a spent hop, a
trusted host), so a fork never trusts a host that the merged state does not also trust (DESIGN §4).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ._address import EmailAddress
from ._models import Attempt, Method, Outcome
from ._policy import RedirectPolicy, RedirectProposal, registrable_domain
from ._pox import Schema
from ._seams import Credentials
from ._v2 import V2Protocol

logger = logging.getLogger(__name__)

MAX_HOPS = 10  # "The client application should stop redirecting after 10 redirects" (Learn, Action (POX))

Entry = tuple[str, object, object]
"""A logged access: ``(kind, argument, answer)``; writes log ``None`` as the answer."""


class SpeculationError(Exception):
    """A speculative fork reached a step only the candidate whose turn it is may take (asking the approver)."""


class Run:
    """Trail, hop budget, visited sets and trusted hosts of one ``discover()`` call (DESIGN §3, §4)."""

    def __init__(
        self,
        *,
        address: EmailAddress,
        credentials: Credentials | None,
        policy: RedirectPolicy,
        schema: Schema = Schema.OUTLOOK,
        user_agent: str = "autodiscover-client",
        v2_protocol: V2Protocol | None = None,
        v2_office365: bool = False,
        ad_site: str | None = None,
    ) -> None:
        self.credentials = credentials
        self.policy = policy
        self.schema = schema
        self.user_agent = user_agent
        # V2 asks for what the schema would have given: the POX endpoint, or the ActiveSync URL.
        self.v2_protocol = v2_protocol or (
            V2Protocol.ACTIVESYNC if schema is Schema.MOBILESYNC else V2Protocol.AUTODISCOVER_V1
        )
        self.v2_office365 = v2_office365
        self.ad_site = ad_site
        self.attempts: list[Attempt] = []
        self.hops_left = MAX_HOPS
        self.visited: set[tuple[str, str]] = set()  # (address, normalised URL) pairs already tried
        self.visited_addresses: set[str] = {str(address).casefold()}
        site = registrable_domain(address.domain)
        self.trusted_sites: set[str] = {site} if site else set()
        self.approved_hosts: set[str] = set()
        self.credentials_rejected = False
        self.scp_disabled = False
        self.is_fork = False  # a fork's attempts are logged when they join the trail (see add_attempts)
        self.live = True  # False for a speculative fork: accesses are logged
        self.asks_early = False  # whether a speculative fork may ask the approver (not with patience=None)
        self.log: list[Entry] = []

    # --- forks -------------------------------------------------------------------------------------

    def fork(self, *, live: bool, asks_early: bool = False) -> Run:
        """A copy of the shared state with an empty trail; a speculative one (``live=False``) logs."""
        child = object.__new__(Run)
        child.credentials, child.policy, child.schema = self.credentials, self.policy, self.schema
        child.user_agent = self.user_agent
        child.v2_protocol, child.v2_office365, child.ad_site = self.v2_protocol, self.v2_office365, self.ad_site
        child.attempts = []
        child.is_fork = True
        child.live = live
        child.asks_early = asks_early
        child.log = []
        child.take_state(self)
        return child

    def take_state(self, other: Run) -> None:
        """Copy ``other``'s shared state (not its trail)."""
        self.hops_left = other.hops_left
        self.visited = set(other.visited)
        self.visited_addresses = set(other.visited_addresses)
        self.trusted_sites = set(other.trusted_sites)
        self.approved_hosts = set(other.approved_hosts)
        self.credentials_rejected = other.credentials_rejected
        self.scp_disabled = other.scp_disabled

    def replay(self, fork: Run) -> Run | None:
        """Apply ``fork``'s log to a copy of this state; ``None`` if any read would have answered otherwise."""
        scratch = self.fork(live=True)
        for kind, argument, answer in fork.log:
            if kind in _READS:
                if _READS[kind](scratch, argument) != answer:
                    return None
            elif kind != "ask":  # the approver's answer is an input, like a reply: replay takes it as given
                _WRITES[kind](scratch, argument)
        return scratch

    def go_live(self, state: Run) -> None:
        """Adopt ``state`` (the replayed, sequential-equivalent state) and stop speculating."""
        self.take_state(state)
        self.live = True
        self.log = []

    def absorb(self, child: Run) -> None:
        """Take a finished live fork's state and append its trail to ours."""
        self.take_state(child)
        self.add_attempts(child.attempts)

    def add_attempts(self, attempts: list[Attempt]) -> None:
        """Append attempts to the trail (and to the debug log, numbered by their place in the trail)."""
        for attempt in attempts:
            self.attempts.append(attempt)
            self._log(attempt)

    def _log(self, attempt: Attempt) -> None:
        if not self.is_fork:
            # An Attempt never holds headers or credentials (DESIGN §4 rule 7), so its line is safe to log.
            logger.debug("attempt %d for %s: %s", len(self.attempts), attempt.email, attempt.describe())

    def _note(self, kind: str, argument: object, answer: object = None) -> None:
        if not self.live:
            self.log.append((kind, argument, answer))

    # --- reads -------------------------------------------------------------------------------------

    def seen(self, key: tuple[str, str]) -> bool:
        """Whether ``(address, normalised URL)`` was already tried in this run."""
        answer = key in self.visited
        self._note("seen", key, answer)
        return answer

    def out_of_hops(self) -> bool:
        """Whether the redirect budget is spent."""
        answer = self.hops_left <= 0
        self._note("out_of_hops", None, answer)
        return answer

    def trusts(self, host: str) -> bool:
        """Whether ``host`` may receive credentials (DESIGN §4 rule 3)."""
        host = host.lower().rstrip(".")
        answer = (
            host in self.approved_hosts or self.policy.listed(host) or registrable_domain(host) in self.trusted_sites
        )
        self._note("trusts", host, answer)
        return answer

    def knows_address(self, folded: str) -> bool:
        """Whether discovery already ran (or is running) for this case-folded address."""
        answer = folded in self.visited_addresses
        self._note("knows_address", folded, answer)
        return answer

    def trusts_site(self, site: str | None) -> bool:
        """Whether a registrable domain is trusted (the mail domain's, or one an approved redirect reached)."""
        answer = site in self.trusted_sites
        self._note("trusts_site", site, answer)
        return answer

    def scp_off(self) -> bool:
        """Whether an SCP endpoint looped earlier in this run (the EWS Managed API then stops using SCP)."""
        answer = self.scp_disabled
        self._note("scp_off", None, answer)
        return answer

    def ask(self, proposal: RedirectProposal) -> bool:
        """Ask the redirect policy.

        A speculative fork may ask only if ``asks_early``: with ``patience=None`` the approver sees exactly
        the proposals of the sequential run, so the fork stops and runs again on its turn.

        Raises:
            SpeculationError: This is a speculative fork that may not ask.
        """
        if not self.live and not self.asks_early:
            raise SpeculationError(proposal.target)
        answer = self.policy.allows(proposal)
        self._note("ask", proposal.target, answer)
        return answer

    # --- writes ------------------------------------------------------------------------------------

    def mark(self, key: tuple[str, str]) -> None:
        """Remember that ``(address, normalised URL)`` was tried."""
        self._note("mark", key)
        self.visited.add(key)

    def spend_hop(self) -> None:
        """Use one hop of the redirect budget."""
        self._note("spend_hop", None)
        self.hops_left -= 1

    def approve(self, host: str) -> None:
        """Let ``host`` receive credentials (the policy approved a redirect to it)."""
        self._note("approve", host)
        self.approved_hosts.add(host)

    def trust_site(self, site: str) -> None:
        """Trust a registrable domain an approved ``redirectAddr`` moved to."""
        self._note("trust_site", site)
        self.trusted_sites.add(site)

    def visit_address(self, folded: str) -> None:
        """Remember an address discovery restarts for."""
        self._note("visit_address", folded)
        self.visited_addresses.add(folded)

    def reject_credentials(self) -> None:
        """Note that an endpoint rejected the credentials (for ``AuthenticationError``)."""
        self._note("reject_credentials", None)
        self.credentials_rejected = True

    def disable_scp(self) -> None:
        """Stop using SCP for the rest of the run (PROTOCOL.md §1.3)."""
        self._note("disable_scp", None)
        self.scp_disabled = True

    def record(self, method: Method, url: str, outcome: Outcome, address: EmailAddress, **extra: object) -> None:
        """Append an attempt to the trail."""
        attempt = Attempt(method=method, url=url, outcome=outcome, email=str(address), **extra)  # type: ignore[arg-type]
        self.attempts.append(attempt)
        self._log(attempt)


def _read_seen(run: Run, key: object) -> bool:
    return key in run.visited


def _read_hops(run: Run, _: object) -> bool:
    return run.hops_left <= 0


def _read_trusts(run: Run, host: object) -> bool:
    return isinstance(host, str) and (
        host in run.approved_hosts or run.policy.listed(host) or registrable_domain(host) in run.trusted_sites
    )


_READS: dict[str, Callable[[Run, Any], bool]] = {
    "seen": _read_seen,
    "out_of_hops": _read_hops,
    "trusts": _read_trusts,
    "knows_address": lambda run, folded: folded in run.visited_addresses,
    "trusts_site": lambda run, site: site in run.trusted_sites,
    "scp_off": lambda run, _: run.scp_disabled,
}
_WRITES: dict[str, Callable[[Run, Any], None]] = {
    "mark": lambda run, key: run.visited.add(key),
    "spend_hop": lambda run, _: setattr(run, "hops_left", run.hops_left - 1),
    "approve": lambda run, host: run.approved_hosts.add(host),
    "trust_site": lambda run, site: run.trusted_sites.add(site),
    "visit_address": lambda run, folded: run.visited_addresses.add(folded),
    "reject_credentials": lambda run, _: setattr(run, "credentials_rejected", True),
    "disable_scp": lambda run, _: setattr(run, "scp_disabled", True),
}
