"""The Active Directory SCP method flow (MS-OXDISCO §3.1.5.1, PROTOCOL.md §1.3): search, chase pointers, POST.

Like every method flow it does no I/O: it yields :class:`~autodiscover_client._flow.ScpLookup` and
:class:`~autodiscover_client._flow.HttpCall` operations. Ordering and pointer rules are ``_scp``'s.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ._address import EmailAddress
from ._errors import ResolverTimeoutError
from ._flow import Flow, MethodResult, Run, ScpLookup, _admit, _post_flow
from ._models import Method, Outcome
from ._policy import RedirectReason
from ._scp import MAX_SCP_LOOKUPS
from ._scp import plan as plan_scp


def scp_flow(run: Run, address: EmailAddress) -> Flow[MethodResult]:
    """Try the SCP URLs for ``address``, unless an SCP endpoint already looped this run."""
    if run.scp_off():
        run.record(Method.SCP, "ldap", Outcome.REDIRECT_LOOP, address, error="SCP is off for this run after a loop")
        return None
    urls = yield from _scp_candidates(run, address)
    for url in urls:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        if urlsplit(url).scheme.lower() != "https":
            run.record(Method.SCP, url, Outcome.REDIRECT_DENIED, address, error="an SCP URL that is not https")
            continue
        if not run.trusts(host):
            # The directory is the machine's, but the host is still outside the mail domain (DESIGN §4 rule 3).
            refusal = _admit(run, address, source="scp", target=url, reason=RedirectReason.SCP_URL)
            if refusal is not None:
                run.record(Method.SCP, url, refusal[0], address, error=refusal[1])
                continue
        # Errors from SCP endpoints are inconclusive: remember them, try the next URL (PROTOCOL.md §1.3).
        result = yield from _post_flow(run, address, Method.SCP, url)
        if result is not None:
            return result
    return None


def _scp_candidates(run: Run, address: EmailAddress) -> Flow[tuple[str, ...]]:
    """Search, chase pointers (bounded, each server once), and return the ordered SCP URLs."""
    server: str | None = None
    searched: set[str | None] = set()
    fallback: list[str] = []
    for _ in range(MAX_SCP_LOOKUPS):
        searched.add(server)
        lookup = ScpLookup(server)
        reply = yield lookup
        if reply.error is not None:
            outcome = Outcome.TIMEOUT if isinstance(reply.error, ResolverTimeoutError) else Outcome.DIRECTORY_ERROR
            run.record(Method.SCP, lookup.name, outcome, address, error=str(reply.error), elapsed=reply.elapsed)
            found = None
        else:
            found = plan_scp(reply.scp_records, domain=address.domain, site=run.ad_site)
            for note in found.skipped:
                run.record(Method.SCP, lookup.name, Outcome.INVALID_RESPONSE, address, error=note)
            pointer = next((p for p in found.domain_pointers if p not in searched), None)
            if pointer is not None:
                # "discard the set of SCP objects and start over" against that server (Learn, SCP).
                run.record(
                    Method.SCP, lookup.name, Outcome.REDIRECT_URL, address, elapsed=reply.elapsed,
                    error=f"a pointer for {address.domain} leads to ldap://{pointer}",
                )  # fmt: skip
                server = pointer
                continue
            if found.urls:
                return found.urls
            fallback.extend(found.fallback_pointers)
            run.record(
                Method.SCP, lookup.name, Outcome.NO_RECORDS, address, elapsed=reply.elapsed,
                error="no Autodiscover SCP URL" + (" here; trying a pointer" if fallback else ""),
            )  # fmt: skip
        server = next((p for p in fallback if p not in searched), None)
        if server is None:
            return ()
    run.record(Method.SCP, "ldap", Outcome.REDIRECT_LIMIT, address, error=f"more than {MAX_SCP_LOOKUPS} SCP pointers")
    return ()
