"""Unit tests of account setup with the fakes: no network, no sleeping, no servers."""

from __future__ import annotations

import pytest
from account_setup import SetupError, set_up_account

from autodiscover_client import DeadlineExceededError, discover
from autodiscover_client.testing import (
    FakeClock,
    FakeKit,
    FakeTransport,
    Scenario,
    html_response,
    mail_xml,
    settings_body,
)

BODY = settings_body(
    ews_url="https://mail.example.com/EWS/Exchange.asmx",
    protocols=[mail_xml("IMAP", "imap.example.com", 993), mail_xml("SMTP", "smtp.example.com", 587)],
)


def test_account_setup_finds_the_servers(autodiscover_fake: Scenario) -> None:
    autodiscover_fake.autodiscover(BODY).challenge()
    account = set_up_account("ann@example.com", "pw", **autodiscover_fake.seams())
    assert "imap.example.com" == account.imap_host
    assert ("https://autodiscover.example.com/autodiscover/autodiscover.xml",) == (
        autodiscover_fake.transport.credentials_sent_to()
    )


def test_one_line_scenario() -> None:
    scenario = Scenario.root_dead_autodiscover_answers("example.com", BODY)
    account = set_up_account("ann@example.com", "pw", **scenario.seams())
    assert "smtp.example.com" == account.smtp_host


def test_wrong_password_is_explained() -> None:
    scenario = Scenario.root_dead_autodiscover_answers("example.com", BODY, password="right")
    with pytest.raises(SetupError, match="password"):
        set_up_account("ann@example.com", "wrong", **scenario.seams())


def test_nothing_answers() -> None:
    scenario = Scenario("example.com").root(html_response())  # and every other candidate is dead
    with pytest.raises(SetupError, match="No settings"):
        set_up_account("ann@example.com", "pw", **scenario.seams())
    assert [] == [r.url for r in scenario.transport.requests if r.authenticated]


def test_slow_servers_meet_the_deadline() -> None:
    clock = FakeClock()  # every request takes 40 fake seconds, past the deadline; nobody waits
    kit = FakeKit(transport=FakeTransport(latency={"*": 40.0}, clock=clock), clock=clock)
    scenario = Scenario("example.com", kit=kit)
    with pytest.raises(DeadlineExceededError):
        discover("ann@example.com", "pw", timeout=30.0, **scenario.discover_kwargs())
    assert clock.monotonic() >= 30.0  # the deadline passed in fake time only
