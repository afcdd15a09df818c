"""The built-in Microsoft 365 allow-list (DESIGN §4 rule 3): exact hosts, on by default, can be switched off."""

from __future__ import annotations

import pytest

from autodiscover_client import MICROSOFT365_HOSTS, Method, RedirectDeniedError, RedirectReason, discover
from autodiscover_client._policy import RedirectPolicy, RedirectProposal, is_public_suffix, registrable_domain
from autodiscover_client.testing import (
    FakeResolver,
    FakeTransport,
    RecordingApprover,
    redirect_response,
    settings_body,
    unauthorized_response,
    xml_response,
)

EMAIL = "user@example.com"
ROOT = "https://example.com/autodiscover/autodiscover.xml"
OK = xml_response(settings_body())


def _proposal(host: str) -> RedirectProposal:
    return RedirectProposal(
        email=EMAIL, source=ROOT, target=f"https://{host}/autodiscover/autodiscover.xml", host=host,
        reason=RedirectReason.URL_REDIRECT,
    )  # fmt: skip


@pytest.mark.parametrize(
    "host",
    [
        "autodiscover-s.outlook.com",  # worldwide
        "outlook.office365.com",
        "autodiscover-s.office365.us",  # GCC High
        "autodiscover-s-dod.office365.us",  # DoD
        "autodiscover.partner.outlook.cn",  # 21Vianet
        "outlook.office.de",  # Microsoft Cloud Deutschland
    ],
)
def test_each_cloud_is_on_the_list(host: str) -> None:
    """The worldwide and the sovereign clouds' Autodiscover hosts are all listed."""
    assert host in MICROSOFT365_HOSTS
    assert RedirectPolicy().listed(host)
    assert RedirectPolicy().allows(_proposal(host))


def test_the_list_holds_exact_lower_case_host_names_under_registrable_domains() -> None:
    """Every entry is a lower-case host name below a registrable domain, never a public suffix or a wildcard."""
    for host in MICROSOFT365_HOSTS:
        assert host == host.lower().strip(".")
        assert "*" not in host
        assert not is_public_suffix(host)
        assert registrable_domain(host) in {"outlook.com", "office365.com", "office365.us", "outlook.cn", "office.de"}


@pytest.mark.parametrize("host", ["evil.outlook.com", "office365.com", "outlook.office365.com.evil.test", "outlook.cn"])
def test_siblings_and_parents_are_not_listed(host: str) -> None:
    """Only the exact names are trusted: a sibling, a parent or a look-alike suffix is asked about."""
    approver = RecordingApprover()
    policy = RedirectPolicy(approve=approver)
    assert not policy.listed(host)
    assert not policy.allows(_proposal(host))
    assert [host] == [proposal.host for proposal in approver.proposals]


def test_switching_it_off_sends_microsoft365_hosts_to_the_approver() -> None:
    """trust_microsoft365=False makes the list count for nothing; the approver decides."""
    approver = RecordingApprover()
    policy = RedirectPolicy(approve=approver, trust_microsoft365=False)
    assert not policy.listed("outlook.office365.com")
    assert not policy.allows(_proposal("outlook.office365.com"))
    assert 1 == len(approver.proposals)
    assert RedirectPolicy(allowed_hosts=frozenset({"outlook.office365.com"}), trust_microsoft365=False).listed(
        "Outlook.Office365.com."
    )


@pytest.mark.parametrize("trusted", [True, False])
def test_discover_follows_a_redirect_to_exchange_online_only_while_trusted(trusted: bool) -> None:
    """By default a redirect to outlook.office365.com is followed and answers the 401 with credentials;
    switched off, it is denied and nothing is sent there."""
    target = "https://outlook.office365.com/autodiscover/autodiscover.xml"
    transport = FakeTransport({ROOT: redirect_response(target), target: [unauthorized_response(), OK]})
    approver = RecordingApprover()
    call = dict(methods=[Method.HTTPS_ROOT], resolver=FakeResolver(), transport=transport, approve_redirect=approver)
    if trusted:
        settings = discover(EMAIL, "pw", **call)  # type: ignore[arg-type]
        assert target == settings.source.url
        assert (target,) == transport.credentials_sent_to()
        assert [] == approver.proposals
    else:
        with pytest.raises(RedirectDeniedError):
            discover(EMAIL, "pw", trust_microsoft365=False, **call)  # type: ignore[arg-type]
        assert () == transport.credentials_sent_to()
        assert ["outlook.office365.com"] == [proposal.host for proposal in approver.proposals]


def test_an_srv_target_at_exchange_online_is_trusted_by_default() -> None:
    """An SRV record pointing at autodiscover-s.outlook.com is no foreign redirect while the list is on."""
    target = "https://autodiscover-s.outlook.com/autodiscover/autodiscover.xml"
    resolver = FakeResolver({"_autodiscover._tcp.example.com": [(0, 0, 443, "autodiscover-s.outlook.com")]})
    transport = FakeTransport({target: [unauthorized_response(), OK]})
    settings = discover(EMAIL, "pw", methods=[Method.SRV], resolver=resolver, transport=transport)
    assert target == settings.source.url
    assert (target,) == transport.credentials_sent_to()
