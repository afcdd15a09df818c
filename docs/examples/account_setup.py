"""Your application's code: set up a mail account from an address and a password."""

from __future__ import annotations

from dataclasses import dataclass

from autodiscover_client import AuthenticationError, DiscoveryError, Resolver, Transport, discover


class SetupError(Exception):
    """Account setup failed; the message is meant for the user."""


@dataclass(frozen=True)
class MailAccount:
    email: str
    ews_url: str | None
    imap_host: str | None
    smtp_host: str | None


def set_up_account(
    email: str, password: str, *, resolver: Resolver | None = None, transport: Transport | None = None
) -> MailAccount:
    """Find the servers for ``email``. Tests pass fakes (or local servers) as ``resolver`` and ``transport``."""
    try:
        settings = discover(email, password, resolver=resolver, transport=transport)
    except AuthenticationError:
        raise SetupError("The password was not accepted.") from None
    except DiscoveryError as exc:
        raise SetupError(f"No settings found for {email}.") from exc
    imap, smtp = settings.imap, settings.smtp
    return MailAccount(
        email=settings.email,
        ews_url=settings.ews_url,
        imap_host=imap.server if imap else None,
        smtp_host=smtp.server if smtp else None,
    )
