"""A server cannot forge or hide lines of the human-readable output (escaped), while the JSON keeps the text.

An ``&#10;`` in ``DisplayName`` or ``Server`` used to print a fake "EWS: https://attacker.example/..." line;
U+202E and C1 controls could reorder or hide what the terminal shows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from autodiscover_client.testing import LocalAutodiscoverServer, ServerResponse, settings_body

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"someone@{DOMAIN}"
FORGED = "https://attacker.example/EWS/Exchange.asmx"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("AUTODISCOVER_PASSWORD", "AUTODISCOVER_TOKEN")}
    return subprocess.run(
        [sys.executable, "-m", "autodiscover_client", *args], capture_output=True, text=True, timeout=60,
        env=environment, check=False, encoding="utf-8",
    )  # fmt: skip


@pytest.fixture
def web() -> Any:
    with LocalAutodiscoverServer() as server:
        yield server


def hostile_body() -> bytes:
    body = settings_body(display_name="NAME-MARKER", imap=("SERVER-MARKER", 993))
    body = body.replace(b"NAME-MARKER", f"Ann&#10;  EWS: {FORGED}&#x202E;&#x85;&#x9b;2J".encode())
    return body.replace(b"SERVER-MARKER", f"imap.{DOMAIN}&#13;&#10;  EWS: {FORGED}".encode())


def test_server_text_cannot_forge_summary_lines(web: LocalAutodiscoverServer) -> None:
    """Every line of the summary and trail is one the client wrote; the controls are shown escaped."""
    web.add_host(DOMAIN, ServerResponse(body=hostile_body()))
    args = ["--anonymous", "--methods", "https_root", "--trace", "--ca-bundle", web.ca_bundle]
    for (name, default_port), (address, real_port) in web.connect_overrides.items():
        args += ["--resolve", f"{name}:{default_port}:{address}:{real_port}"]
    result = cli(EMAIL, *args)
    assert 0 == result.returncode, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.lstrip().startswith("EWS:")], result.stdout
    assert f"  user: Ann\\x0a  EWS: {FORGED}\\u202e\\x85\\x9b2J" in lines
    assert any(line.startswith("  IMAP") and "\\x0d\\x0a" in line for line in lines)
    assert not [ch for ch in result.stdout if ch in "\r\u202e\x85\x9b"]
    data = json.loads(cli(EMAIL, *args, "--json").stdout)  # JSON escapes by itself: the text is kept exactly
    assert f"Ann\n  EWS: {FORGED}\u202e\x85\x9b2J" == data["user"]["display_name"]


@pytest.mark.parametrize("auth", ["basic", "bearer"])
def test_closed_stdin_runs_anonymously(web: LocalAutodiscoverServer, auth: str) -> None:
    """`autodiscover EMAIL 0<&-` (sys.stdin is None) discovers without credentials instead of crashing."""
    web.add_host(DOMAIN, ServerResponse(body=settings_body(display_name="Ann")))
    args = ["--methods", "https_root", "--auth", auth, "--ca-bundle", web.ca_bundle]
    for (name, default_port), (address, real_port) in web.connect_overrides.items():
        args += ["--resolve", f"{name}:{default_port}:{address}:{real_port}"]
    environment = {k: v for k, v in os.environ.items() if k not in ("AUTODISCOVER_PASSWORD", "AUTODISCOVER_TOKEN")}
    command = [sys.executable, "-m", "autodiscover_client", EMAIL, *args]
    result = subprocess.run(
        ["/bin/sh", "-c", 'exec "$@" 0<&-', "sh", *command], capture_output=True, text=True, timeout=60,
        env=environment, check=False,
    )  # fmt: skip
    assert 0 == result.returncode, result.stdout + result.stderr
    assert "  user: Ann" in result.stdout
    assert () == web.credentials_seen()
