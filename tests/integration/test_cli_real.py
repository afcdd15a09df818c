"""The command line over real sockets: the DESIGN §6 JSON contract and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer, ServerResponse, settings_body
from autodiscover_client.testing._https_server import html_page

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"someone@{DOMAIN}"
PASSWORD = "s3cret-cli-password"
EWS = f"https://mail.{DOMAIN}/EWS/Exchange.asmx"


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "AUTODISCOVER_PASSWORD"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "autodiscover_client", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def network_args(dns_server: LocalDnsServer, web: LocalAutodiscoverServer) -> list[str]:
    host, port = dns_server.address
    args = ["--nameserver", f"{host}:{port}", "--ca-bundle", web.ca_bundle]
    for (name, default_port), (address, real_port) in web.connect_overrides.items():
        args += ["--resolve", f"{name}:{default_port}:{address}:{real_port}"]
    return args


@pytest.fixture
def servers() -> Any:
    with LocalDnsServer() as dns_server, LocalAutodiscoverServer() as web:
        yield dns_server, web


def test_json_output_meets_the_contract(servers: tuple[LocalDnsServer, LocalAutodiscoverServer]) -> None:
    """--json prints email, source, protocols, ews_url and attempts; exit 0; no password anywhere."""
    dns_server, web = servers
    body = settings_body(ews_url=EWS, imap=(f"imap.{DOMAIN}", 993), smtp=(f"smtp.{DOMAIN}", 587))
    mail = web.add_host(f"mail.{DOMAIN}", ServerResponse(body=body), credentials=(EMAIL, PASSWORD))
    web.add_host(DOMAIN, html_page())
    dns_server.add_srv(f"_autodiscover._tcp.{DOMAIN}", f"mail.{DOMAIN}", mail.port)
    dns_server.add_a(f"mail.{DOMAIN}", "127.0.0.1")
    result = cli(EMAIL, "--json", "--password-stdin", *network_args(dns_server, web), stdin=PASSWORD + "\n")
    assert 0 == result.returncode, result.stderr
    data = json.loads(result.stdout)
    assert EMAIL == data["email"]
    assert {"method": "srv", "url": f"https://mail.{DOMAIN}:{mail.port}/autodiscover/autodiscover.xml"} == data[
        "source"
    ]
    assert EWS == data["ews_url"]
    protocols = {p["type"]: p for p in data["protocols"]}
    assert (f"imap.{DOMAIN}", 993, "tls") == (
        protocols["IMAP"]["server"],
        protocols["IMAP"]["port"],
        protocols["IMAP"]["security"],
    )
    assert "starttls" == protocols["SMTP"]["security"]
    assert EWS == protocols["EXPR"]["ews_url"]
    for attempt in data["attempts"]:
        assert {"method", "url", "outcome", "status", "error"} <= set(attempt)
    assert PASSWORD not in result.stdout + result.stderr


def test_failure_prints_error_and_attempts_and_exits_1(
    servers: tuple[LocalDnsServer, LocalAutodiscoverServer],
) -> None:
    """When nothing answers, --json prints error and attempts and the exit code is 1."""
    dns_server, web = servers
    web.add_host(DOMAIN, html_page())
    result = cli(EMAIL, "--json", "--anonymous", "--timeout", "10", *network_args(dns_server, web))
    assert 1 == result.returncode, result.stderr
    data = json.loads(result.stdout)
    assert "no Autodiscover settings" in data["error"]
    assert ["srv", "https_root", "https_autodiscover", "http_redirect"] == [a["method"] for a in data["attempts"]]


def test_rejected_credentials_exit_3(servers: tuple[LocalDnsServer, LocalAutodiscoverServer]) -> None:
    """Credentials the server rejects give exit code 3; the password comes from the environment."""
    dns_server, web = servers
    web.add_host(DOMAIN, ServerResponse(body=settings_body(ews_url=EWS)), credentials=(EMAIL, "other"))
    result = cli(
        EMAIL, "--methods", "https_root", *network_args(dns_server, web), env={"AUTODISCOVER_PASSWORD": PASSWORD}
    )
    assert 3 == result.returncode, result.stdout + result.stderr
    assert "rejected" in result.stderr  # human failure reports go to stderr, stdout stays empty
    assert "" == result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_summary_and_trace_are_readable(servers: tuple[LocalDnsServer, LocalAutodiscoverServer]) -> None:
    """Without --json the summary names the method, EWS URL and each protocol; --trace adds the trail."""
    dns_server, web = servers
    web.add_host(f"autodiscover.{DOMAIN}", ServerResponse(body=settings_body(ews_url=EWS, imap=("imap.x.test", 993))))
    result = cli(EMAIL, "--anonymous", "--order", "microsoft", "--trace", *network_args(dns_server, web))
    assert 0 == result.returncode, result.stderr
    assert "found by HTTPS_AUTODISCOVER" in result.stdout
    assert f"EWS: {EWS}" in result.stdout
    assert "IMAP     imap.x.test:993  tls" in result.stdout
    assert "Trail:" in result.stdout
    assert "HTTPS_ROOT https://example.test/autodiscover/autodiscover.xml -> connect_error" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["not-an-address"], "has no '@'"),
        (["a@b@example.test"], "exactly one is allowed"),
        (["user@example.test", "--methods", "bogus"], "choose from"),
        (["user@example.test", "--resolve", "nonsense"], "expected HOST:PORT:ADDR"),
        (["user@example.test", "--nameserver", "not-an-ip"], "bad nameserver"),
        (["user@example.test", "--timeout", "-1"], "must be positive"),
    ],
)
def test_bad_usage_and_bad_addresses_exit_2(args: list[str], message: str) -> None:
    """Bad addresses and bad options exit with 2 and a clear message, never a traceback."""
    result = cli(*args, "--anonymous")
    assert 2 == result.returncode
    assert message in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_json_bad_address_is_json_too() -> None:
    """With --json a bad address still prints a JSON object with error and attempts."""
    result = cli("x@@y.test", "--json", "--anonymous")
    assert 2 == result.returncode
    assert {"error", "kind", "attempts"} <= set(json.loads(result.stdout))


def test_demo_runs_and_shows_a_fallback() -> None:
    """`autodiscover demo` finds settings over real local sockets after earlier candidates fail."""
    result = cli("demo")
    assert 0 == result.returncode, result.stderr
    assert "found by HTTPS_AUTODISCOVER" in result.stdout
    assert "-> connect_error" in result.stdout
    assert "-> invalid_response HTTP 200: an HTML page" in result.stdout
    assert "Credentials arrived at: https autodiscover.example.test (and nowhere else)." in result.stdout


def test_demo_json() -> None:
    """`autodiscover demo --json` prints the settings as JSON."""
    result = cli("demo", "--json")
    assert 0 == result.returncode, result.stderr
    assert "https_autodiscover" == json.loads(result.stdout)["source"]["method"]
