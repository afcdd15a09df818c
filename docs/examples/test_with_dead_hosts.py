"""What account setup does when servers misbehave: real dead hosts and hanging servers, on loopback."""

from __future__ import annotations

import time

from account_setup import set_up_account

from autodiscover_client.testing import BlackHole, LocalAutodiscover, settings_body, stall

BODY = settings_body(imap=("imap.example.test", 993))


def test_dead_candidates_cost_the_patience_not_their_timeouts(autodiscover_server: LocalAutodiscover) -> None:
    with BlackHole() as hole:  # a firewalled host: SYNs are dropped, a connect hangs until its timeout
        autodiscover_server.add_srv("example.test", "dead.example.test", hole.port)
        autodiscover_server.add_host("example.test", stall())  # reads the request, never answers
        autodiscover_server.add_host("autodiscover.example.test", BODY)
        started = time.monotonic()
        account = set_up_account("ann@example.test", "pw", **autodiscover_server.discover_kwargs())
        took = time.monotonic() - started
    assert "imap.example.test" == account.imap_host
    assert took < 5  # the default patience (0.5 s), not the 10 s request timeouts of the two dead ones
