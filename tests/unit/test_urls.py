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
