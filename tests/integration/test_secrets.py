"""Secrets never leak (DESIGN §4 rule 7), and Basic credentials travel only over verified TLS (rules 1, 2).

The password (and its Base64 forms, as they would appear in an Authorization header) must not appear in any
repr, error text, trail, JSON, pickle, log record at any level, cache, or CLI output, on success or failure.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import pathlib
import pickle
import subprocess
import sys

import pytest

from autodiscover_client import (
    BasicCredentials,
    BearerCredentials,
    DiscoveryError,
    DiskCache,
    DnspythonResolver,
    HttpRequest,
    MemoryCache,
    Method,
    NtlmCredentials,
    RequestsTransport,
    Settings,
    TLSError,
    TransportError,
    discover,
)
from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer, settings_body
from autodiscover_client.testing._https_server import ServerResponse, html_page, redirect

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"user@{DOMAIN}"
PASSWORD = "Zq9-very-secret-pässword"
PATH = "/autodiscover/autodiscover.xml"
SETTINGS = ServerResponse(body=settings_body(ews_url=f"https://mail.{DOMAIN}/EWS/Exchange.asmx"))


def secret_forms(username: str = EMAIL, password: str = PASSWORD) -> list[str]:
    """The password as typed, and as it would look inside a Basic Authorization header."""
    pair = f"{username}:{password}".encode()
    return [password, base64.b64encode(pair).decode(), base64.b64encode(password.encode()).decode()]


def assert_clean(text: str) -> None:
    for form in secret_forms():
        assert form not in text


@pytest.fixture
def scenario(web: LocalAutodiscoverServer) -> LocalAutodiscoverServer:
    """A domain whose root rejects the password, autodiscover.<domain> accepts it, and a foreign redirect."""
    web.add_host(DOMAIN, ServerResponse(body=b"x"), credentials=(EMAIL, "another password"))
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, credentials=(EMAIL, PASSWORD))
    web.add_host(f"autodiscover.{DOMAIN}", redirect(f"https://collector.evil.test{PATH}"), scheme="http")
    web.add_host("collector.evil.test", html_page())
    return web


def _everything(result: Settings | DiscoveryError) -> str:
    """Every text form of a result that a user could print, log, store or send elsewhere."""
    parts = [repr(result), str(result), json.dumps(result.to_dict()), repr(pickle.dumps(result))]
    parts += [repr(attempt) + attempt.describe() for attempt in result.attempts]
    return "\n".join(parts)


@pytest.mark.parametrize(
    "methods",
    [
        [Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER],
        [Method.HTTPS_ROOT],
        [Method.HTTP_REDIRECT],
    ],
    ids=["success-after-a-rejection", "rejected", "denied-redirect"],
)
def test_password_appears_in_no_result_error_trail_or_log(
    scenario: LocalAutodiscoverServer,
    resolver: DnspythonResolver,
    caplog: pytest.LogCaptureFixture,
    methods: list[Method],
) -> None:
    """Success or failure, the password is in no repr, str, JSON, pickle, trail line or log record (DEBUG up)."""
    caplog.set_level(logging.DEBUG)
    with RequestsTransport(
        ca_bundle=scenario.ca_bundle, connect_to=scenario.connect_overrides, resolver=resolver
    ) as transport:
        result: Settings | DiscoveryError
        try:
            result = discover(EMAIL, PASSWORD, methods=methods, resolver=resolver, transport=transport, timeout=5)
        except DiscoveryError as exc:
            result = exc
        assert_clean(repr(transport))
    assert caplog.records, "the run should have logged something at DEBUG (urllib3 does)"
    assert_clean(_everything(result))
    for record in caplog.records:
        assert_clean(record.getMessage() + repr(record.args) + repr(record.__dict__))
    if methods == [Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER]:
        assert isinstance(result, Settings)
        assert {("https", DOMAIN), ("https", f"autodiscover.{DOMAIN}")} == {
            (scheme, host) for scheme, host, _ in scenario.credentials_seen()
        }


def test_the_password_is_not_in_the_reprs_of_what_carries_it() -> None:
    """Credentials of every type, and the HttpRequest carrying them, hold the secret but never show it."""
    credentials = BasicCredentials(EMAIL, PASSWORD)
    request = HttpRequest(method="POST", url=f"https://{DOMAIN}{PATH}", credentials=credentials)
    assert_clean(repr(credentials) + str(credentials) + repr(request) + str(request))
    # A bearer token is RFC 6750 b64token only (BearerCredentials refuses the password's "ä").
    token = PASSWORD.replace("ä", "a")
    bearer = BearerCredentials(token, username=EMAIL)
    assert token not in repr(bearer) + str(bearer) + repr(
        HttpRequest(method="POST", url="https://x.test/", credentials=bearer)
    )
    for other in (NtlmCredentials(EMAIL, PASSWORD),):
        assert_clean(
            repr(other) + str(other) + repr(HttpRequest(method="POST", url="https://x.test/", credentials=other))
        )


def test_cli_output_never_contains_the_password(dns_server: LocalDnsServer, scenario: LocalAutodiscoverServer) -> None:
    """Neither the summary with --trace, nor --json, nor a failure prints the password, on stdout or stderr."""
    host, port = dns_server.address
    base = [sys.executable, "-m", "autodiscover_client", EMAIL, "--nameserver", f"{host}:{port}"]
    base += ["--ca-bundle", scenario.ca_bundle, "--timeout", "10"]
    for (name, default_port), (address, real_port) in scenario.connect_overrides.items():
        base += ["--resolve", f"{name}:{default_port}:{address}:{real_port}"]
    environment = {**os.environ, "AUTODISCOVER_PASSWORD": PASSWORD}
    runs = [
        ["--trace", "--methods", "https_root,https_autodiscover"],
        ["--json", "--methods", "https_root,https_autodiscover"],
        ["--trace", "--methods", "https_root"],
        ["--json", "--methods", "https_root"],
        ["--trace", "--methods", "http_redirect"],
    ]
    codes = []
    for extra in runs:
        result = subprocess.run(
            [*base, *extra], capture_output=True, text=True, timeout=60, env=environment, check=False
        )  # fmt: skip
        codes.append(result.returncode)
        assert_clean(result.stdout + result.stderr)
    assert [0, 0, 3, 3, 1] == codes


def test_cache_never_holds_the_password(
    scenario: LocalAutodiscoverServer, resolver: DnspythonResolver, tmp_path: pathlib.Path
) -> None:
    """After an authenticated discovery, neither the in-memory nor the on-disk cache holds the secret."""
    memory, disk = MemoryCache(), DiskCache(tmp_path / "endpoints.json")
    with RequestsTransport(
        ca_bundle=scenario.ca_bundle, connect_to=scenario.connect_overrides, resolver=resolver
    ) as transport:
        for cache in (memory, disk):
            settings = discover(
                EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER], resolver=resolver,
                transport=transport, cache=cache, timeout=5,
            )  # fmt: skip
            assert_clean(_everything(settings))
            again = discover(
                EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER], resolver=resolver,
                transport=transport, cache=cache, timeout=5,
            )  # fmt: skip
            assert_clean(_everything(again))
    stored = (tmp_path / "endpoints.json").read_text(encoding="utf-8")
    assert f"autodiscover.{DOMAIN}" in stored  # the cache did store the endpoint
    assert_clean(stored)
    assert_clean(repr(memory) + repr(vars(memory)) + repr(disk) + repr(vars(disk)))


# --- Basic only over verified TLS (DESIGN §4 rules 1 and 2) -------------------------------------


def test_transport_refuses_credentials_over_plain_http(web: LocalAutodiscoverServer) -> None:
    """Credentials attached to an http:// request are refused before any byte is sent."""
    endpoint = web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, scheme="http")
    request = HttpRequest(
        method="POST", url=f"http://autodiscover.{DOMAIN}:{endpoint.port}{PATH}",
        credentials=BasicCredentials(EMAIL, PASSWORD),
    )  # fmt: skip
    overrides = {(f"autodiscover.{DOMAIN}", endpoint.port): ("127.0.0.1", endpoint.port)}
    with RequestsTransport(connect_to=overrides) as transport, pytest.raises(TransportError) as info:
        transport.send(request, timeout=2)
    assert "plain http" in str(info.value)
    assert () == web.requests


@pytest.mark.parametrize("trusted_ca", [False, True], ids=["certifi-default", "self-signed-host"])
def test_credentials_never_cross_an_unverified_tls_connection(web: LocalAutodiscoverServer, trusted_ca: bool) -> None:
    """Against a certificate that does not verify, the request fails in the handshake: no Authorization is sent.

    certifi-default: the transport trusts only certifi's bundle, so the test CA's host fails.
    self-signed-host: the transport trusts the test CA, but this host's certificate comes from another CA.
    """
    endpoint = web.add_host(DOMAIN, SETTINGS, credentials=(EMAIL, PASSWORD), self_signed=trusted_ca)
    request = HttpRequest(method="POST", url=f"https://{DOMAIN}{PATH}", credentials=BasicCredentials(EMAIL, PASSWORD))
    overrides = {(DOMAIN, 443): ("127.0.0.1", endpoint.port)}
    bundle = web.ca_bundle if trusted_ca else None
    with RequestsTransport(ca_bundle=bundle, connect_to=overrides) as transport, pytest.raises(TLSError) as info:
        transport.send(request, timeout=2)
    assert_clean(str(info.value) + repr(info.value))
    assert () == web.requests
    assert () == web.credentials_seen()
