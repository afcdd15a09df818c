"""The command line's protocol options over real sockets: --methods v2, --schema, --auth, --scp."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from autodiscover_client.testing import LocalAutodiscoverServer, mobilesync_body, settings_body
from autodiscover_client.testing._https_server import RecordedRequest, ServerResponse

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"someone@{DOMAIN}"
EWS = f"https://mail.{DOMAIN}/EWS/Exchange.asmx"
TOKEN = "eyJ0eXAi.cli-token-secret"
AUTHORIZE = "https://login.example.net/common/oauth2/authorize"


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("AUTODISCOVER_PASSWORD", "AUTODISCOVER_TOKEN")}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "autodiscover_client", *args], input=stdin, capture_output=True, text=True,
        timeout=60, env=environment, check=False,
    )  # fmt: skip


def resolve_args(web: LocalAutodiscoverServer, extra: dict[str, int] | None = None) -> list[str]:
    args = ["--ca-bundle", web.ca_bundle]
    for (name, default_port), (address, real_port) in web.connect_overrides.items():
        args += ["--resolve", f"{name}:{default_port}:{address}:{real_port}"]
    for name, port in (extra or {}).items():
        args += ["--resolve", f"{name}:443:127.0.0.1:{port}"]
    return args


@pytest.fixture
def web() -> Iterator[LocalAutodiscoverServer]:
    with LocalAutodiscoverServer() as server:
        yield server


def test_methods_v2_alias_and_v2_protocol(web: LocalAutodiscoverServer) -> None:
    """--methods v2 --v2-protocol ews prints the V2 answer in the JSON contract, with no credentials sent."""
    body = json.dumps({"Protocol": "Ews", "Url": EWS}).encode()
    web.add_host(f"autodiscover.{DOMAIN}", ServerResponse(headers=(("Content-Type", "application/json"),), body=body))
    result = cli(EMAIL, "--json", "--anonymous", "--methods", "v2", "--v2-protocol", "ews", *resolve_args(web))
    assert 0 == result.returncode, result.stderr + result.stdout
    data = json.loads(result.stdout)
    assert (EWS, "Ews", EWS, "v2") == (data["ews_url"], data["v2_protocol"], data["v2_url"], data["schema"])
    assert "v2_json" == data["source"]["method"]
    assert () == web.credentials_seen()


def test_schema_mobilesync_prints_the_activesync_url(web: LocalAutodiscoverServer) -> None:
    """--schema mobilesync sends the mobilesync request; the summary shows the ActiveSync URL."""
    eas = f"https://mail.{DOMAIN}/Microsoft-Server-ActiveSync"
    web.add_host(DOMAIN, ServerResponse(body=mobilesync_body(eas, email=EMAIL)))
    result = cli(EMAIL, "--anonymous", "--methods", "https_root", "--schema", "mobilesync", *resolve_args(web))
    assert 0 == result.returncode, result.stderr + result.stdout
    assert f"ActiveSync: {eas}" in result.stdout


def _bearer(request: RecordedRequest) -> ServerResponse:
    if request.auth_scheme == "Bearer":
        return ServerResponse(body=settings_body(ews_url=EWS))
    challenge = f'Bearer authorization_uri="{AUTHORIZE}"'
    return ServerResponse(status=401, headers=(("WWW-Authenticate", challenge),))


@pytest.mark.parametrize("via", ["env", "stdin"])
def test_auth_bearer_reads_the_token_from_env_or_stdin(web: LocalAutodiscoverServer, via: str) -> None:
    """--auth bearer takes the token from $AUTODISCOVER_TOKEN or stdin and never prints it."""
    web.add_host(DOMAIN, _bearer)
    extra = ["--password-stdin"] if via == "stdin" else []
    env = {"AUTODISCOVER_TOKEN": TOKEN} if via == "env" else {}
    result = cli(EMAIL, "--json", "--trace", "--auth", "bearer", "--methods", "https_root", *extra, *resolve_args(web),
                 stdin=TOKEN + "\n" if via == "stdin" else "", env=env)  # fmt: skip
    assert 0 == result.returncode, result.stderr + result.stdout
    assert TOKEN not in result.stdout + result.stderr
    assert [None, "Bearer"] == [r.auth_scheme for r in web.requests]
    assert AUTHORIZE == json.loads(result.stdout)["attempts"][0]["authorization_uri"]


def test_basic_against_a_bearer_endpoint_points_at_the_token_issuer(web: LocalAutodiscoverServer) -> None:
    """The default Basic is not sent to a Bearer-only endpoint; the output says where a token comes from."""
    web.add_host(DOMAIN, _bearer)
    result = cli(EMAIL, "--methods", "https_root", "--password-stdin", *resolve_args(web), stdin="pw\n")
    assert 1 == result.returncode
    assert f"a token is available from {AUTHORIZE}" in result.stderr  # human failure reports go to stderr
    assert "" == result.stdout
    assert () == web.credentials_seen()


def test_the_token_is_never_an_argument() -> None:
    """There is no --token option: secrets never travel on the command line."""
    result = cli(EMAIL, "--token", TOKEN)
    assert 2 == result.returncode


def test_unknown_methods_list_the_aliases() -> None:
    """A bad --methods names every choice, v2 included, and exits 2."""
    result = cli(EMAIL, "--methods", "v3")
    assert 2 == result.returncode
    assert "v2_json" in result.stderr
    assert "scp" in result.stderr


def test_scp_against_an_unreachable_directory_is_one_failed_attempt(web: LocalAutodiscoverServer) -> None:
    """--scp enables SCP first; a dead directory is DIRECTORY_ERROR and discovery goes on."""
    pytest.importorskip("ldap3", reason="the ad extra (ldap3) is not installed")
    web.add_host(DOMAIN, ServerResponse(body=settings_body(ews_url=EWS)))
    result = cli(EMAIL, "--json", "--anonymous", "--scp", "127.0.0.1:1", "--methods", "https_root",
                 "--request-timeout", "3", *resolve_args(web))  # fmt: skip
    assert 0 == result.returncode, result.stderr + result.stdout
    attempts = json.loads(result.stdout)["attempts"]
    assert ("scp", "directory_error") == (attempts[0]["method"], attempts[0]["outcome"])


def test_auth_ntlm_over_the_cli(web: LocalAutodiscoverServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--auth ntlm completes the handshake with a real NTLM acceptor; the password is never printed."""
    pytest.importorskip("spnego", reason="the ntlm extra (pyspnego) is not installed")
    from _ntlm_server import ntlm_server

    accounts = tmp_path / "ntlm-users"
    accounts.write_text("EXAMPLE:alice:cli-ntlm-Passw0rd\n", encoding="utf-8")
    monkeypatch.setenv("NTLM_USER_FILE", str(accounts))  # for the acceptor thread in this process
    with ntlm_server(DOMAIN, web.ca, body=settings_body(ews_url=EWS)) as (port, log):
        args = ["--auth", "ntlm", "--username", "EXAMPLE\\alice", "--password-stdin", "--methods", "https_root"]
        result = cli(EMAIL, "--json", *args, *resolve_args(web, {DOMAIN: port}), stdin="cli-ntlm-Passw0rd\n")
    assert 0 == result.returncode, result.stderr + result.stdout
    assert EWS == json.loads(result.stdout)["ews_url"]
    assert ["EXAMPLE\\alice"] == log.principals
    assert "cli-ntlm-Passw0rd" not in result.stdout + result.stderr
