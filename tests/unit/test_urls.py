"""The strict URL reading shared by the core and the transport."""

from __future__ import annotations

import pytest
import urllib3.util

from autodiscover_client._urls import url_refusal

SAFE = [
    "https://autodiscover.example.com/autodiscover/autodiscover.xml",
    "https://mail.example.com:8443/Autodiscover/Autodiscover.xml",
    "https://[::1]:443/autodiscover/autodiscover.xml",
    "https://127.0.0.1/autodiscover/autodiscover.xml",
    "http://autodiscover.example.com/autodiscover/autodiscover.xml",
    "https://xn--bcher-kva.example/autodiscover/autodiscover.xml?x=%20y",
    "https://mail.example.com./autodiscover/autodiscover.xml",
]


@pytest.mark.parametrize("url", SAFE)
def test_plain_urls_are_accepted_and_every_parser_agrees_on_their_host(url: str) -> None:
    """A URL that passes names the same host for urllib.parse and for urllib3, which connects."""
    from urllib.parse import urlsplit

    assert None is url_refusal(url)
    assert (urlsplit(url).hostname or "").lower() == (urllib3.util.parse_url(url).host or "").strip("[]").lower()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://evil.test\\@autodiscover.example.com/autodiscover/autodiscover.xml", "characters"),
        ("https://evil.test\\.example.com/x", "characters"),
        ("https://user:pw@mail.example.com/autodiscover/autodiscover.xml", "user information"),
        ("https://evil.test@mail.example.com/", "user information"),
        ("https://mail.example.com /x", "characters"),
        ("https://mail.example.com/\r\nX: y", "characters"),
        ("https://b\u00fccher.example/", "characters"),
        ("https://[::1/x", "malformed"),
        ("https://mail.example.com:99999/", "malformed"),
        ("https://mail.example.com:0/", "port"),
        ("ftp://mail.example.com/", "only http"),
        ("https:///autodiscover/autodiscover.xml", "no host"),
        ("https://-bad-.example.com/", "not a host"),
        ("https://a..b/", "not a host"),
        ("https://[fe80::zz]/", "malformed"),
    ],
)
def test_urls_parsers_could_read_differently_are_refused(url: str, why: str) -> None:
    """Backslashes, user information, white space, non-ASCII and malformed hosts or ports are refused."""
    refusal = url_refusal(url)
    assert refusal is not None
    assert why in refusal


def test_a_backslash_location_from_the_http_probe_gets_no_credentials() -> None:
    """The probe's ``Location: https://evil.test\\@autodiscover.example.com/…`` is refused, and no credentials leave."""
    from autodiscover_client import DiscoveryError, Method, discover
    from autodiscover_client.testing import Scenario

    world = Scenario("example.com").http_redirect(
        "https://evil.test\\@autodiscover.example.com/autodiscover/autodiscover.xml"
    )
    with pytest.raises(DiscoveryError) as caught:
        discover("jane@example.com", "pw", methods=[Method.HTTP_REDIRECT], **world.discover_kwargs())
    assert () == world.transport.credentials_sent_to()
    assert [] == [r.url for r in world.transport.requests if "evil" in r.url and r.method == "POST"]
    assert "redirect_denied" == caught.value.attempts[-1].outcome.value


def test_an_srv_target_with_a_backslash_is_not_contacted() -> None:
    """An SRV target whose text form holds ``\\@`` is never POSTed to, although its suffix is the mail domain."""
    from autodiscover_client import DiscoveryError, Method, discover
    from autodiscover_client.testing import Scenario

    world = Scenario("example.com")
    world.resolver.add_srv("_autodiscover._tcp.example.com", "evil.test\\@mail.example.com", 443)
    with pytest.raises(DiscoveryError) as caught:
        discover("jane@example.com", "pw", methods=[Method.SRV], **world.discover_kwargs())
    assert () == world.transport.requests
    assert "not contacted" in (caught.value.attempts[-1].error or "")
