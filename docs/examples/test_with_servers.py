"""Integration tests of account setup over real DNS, TCP and TLS, all on loopback."""

from __future__ import annotations

from account_setup import set_up_account

from autodiscover_client.testing import LocalAutodiscover, html_response, settings_body

BODY = settings_body(imap=("imap.example.test", 993), smtp=("smtp.example.test", 587))


def test_account_setup_over_real_sockets(autodiscover_server: LocalAutodiscover) -> None:
    autodiscover_server.add_host("example.test", html_response())
    autodiscover_server.add_host("autodiscover.example.test", BODY, credentials=("ann@example.test", "pw"))
    account = set_up_account("ann@example.test", "pw", **autodiscover_server.discover_kwargs())
    assert "imap.example.test" == account.imap_host
    assert {("https", "autodiscover.example.test")} == autodiscover_server.credential_hosts()


def test_srv_record_to_a_non_default_port() -> None:
    with LocalAutodiscover() as net:  # the same thing without the fixture
        net.add_host("mail.example.test", BODY)
        net.add_srv("example.test", "mail.example.test")  # points at the port mail.example.test listens on
        account = set_up_account("ann@example.test", "pw", **net.discover_kwargs())
    assert "smtp.example.test" == account.smtp_host
