"""The CLI asks the way Outlook does before following a denied redirect, only when a person is at a terminal."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence

import pytest

from autodiscover_client import Method, Outcome, RedirectDeniedError, Settings, discover
from autodiscover_client._redirect_prompt import denied_redirects, run_asking
from autodiscover_client.testing import (
    FakeResolver,
    FakeTransport,
    LocalAutodiscoverServer,
    LocalDnsServer,
    redirect_addr_body,
    redirect_response,
    settings_body,
    unauthorized_response,
    xml_response,
)
from autodiscover_client.testing._https_server import ServerResponse, redirect

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"someone@{DOMAIN}"
PASSWORD = "prompted-cli-password"
HOSTER = "mail.hoster.test"
TARGET = f"https://{HOSTER}/autodiscover/autodiscover.xml"
QUESTION = f"Allow this website to configure {EMAIL} server settings?"


@pytest.fixture
def servers() -> Iterator[tuple[LocalDnsServer, LocalAutodiscoverServer]]:
    with LocalDnsServer() as dns_server, LocalAutodiscoverServer() as web:
        web.add_host(DOMAIN, redirect(TARGET))
        web.add_host(HOSTER, ServerResponse(body=settings_body(ews_url=f"https://{HOSTER}/EWS/Exchange.asmx")),
                     credentials=(EMAIL, PASSWORD))  # fmt: skip
        yield dns_server, web


def _command(dns_server: LocalDnsServer, web: LocalAutodiscoverServer, *extra: str) -> list[str]:
    host, port = dns_server.address
    args = [sys.executable, "-m", "autodiscover_client", EMAIL, "--methods", "https_root", "--timeout", "10"]
    args += ["--nameserver", f"{host}:{port}", "--ca-bundle", web.ca_bundle, *extra]
    for (name, default_port), (address, real_port) in web.connect_overrides.items():
        args += ["--resolve", f"{name}:{default_port}:{address}:{real_port}"]
    return args


def _environment() -> dict[str, str]:
    return {**os.environ, "AUTODISCOVER_PASSWORD": PASSWORD}


def _run_in_pty(command: list[str], answer: bytes) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as stdin and stdout; answer the first [y/N] question."""
    master, slave = os.openpty()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=_environment(), close_fds=True)
    os.close(slave)
    output = b""
    answered = False
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                if not answered and b"[y/N]" in output:
                    os.write(master, answer)
                    answered = True
            elif process.poll() is not None:
                break
        code = process.wait(timeout=10)
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait()
    return code, output.decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (os.openpty)")
def test_terminal_user_who_says_yes_gets_the_settings(servers: tuple[LocalDnsServer, LocalAutodiscoverServer]) -> None:
    """On a terminal, a denied redirect is put to the user in Outlook's words; "y" reruns allowing that host."""
    dns_server, web = servers
    code, output = _run_in_pty(_command(dns_server, web), b"y\n")
    assert 0 == code, output
    assert QUESTION in output
    assert TARGET in output
    assert f"Settings for {EMAIL}" in output
    assert {("https", HOSTER)} == {(scheme, host) for scheme, host, _ in web.credentials_seen()}
    assert PASSWORD not in output


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs pseudo-terminals (os.openpty)")
def test_terminal_user_who_says_no_keeps_the_denial(servers: tuple[LocalDnsServer, LocalAutodiscoverServer]) -> None:
    """Any answer but yes keeps the redirect denied: exit 1, the hint printed, nothing sent to the host."""
    dns_server, web = servers
    code, output = _run_in_pty(_command(dns_server, web), b"\n")
    assert 1 == code, output
    assert QUESTION in output
    assert f"--allow-redirect {HOSTER}" in output
    assert () == web.credentials_seen()
    assert HOSTER not in {request.host for request in web.requests}


def test_without_a_terminal_nothing_is_asked(servers: tuple[LocalDnsServer, LocalAutodiscoverServer]) -> None:
    """Piped output (and --json) never prompts: the denial is reported and the exit code is 1."""
    dns_server, web = servers
    for extra in ((), ("--json",)):
        result = subprocess.run(
            _command(dns_server, web, *extra), input="y\n", capture_output=True, text=True, timeout=60,
            env=_environment(), check=False,
        )  # fmt: skip
        assert 1 == result.returncode, result.stderr
        assert "Allow this website" not in result.stdout + result.stderr
    assert "redirect_denied" in {attempt["outcome"] for attempt in json.loads(result.stdout)["attempts"]}
    assert () == web.credentials_seen()


def test_no_microsoft365_flag_switches_the_built_in_list_off(
    servers: tuple[LocalDnsServer, LocalAutodiscoverServer],
) -> None:
    """--no-microsoft365 makes a redirect to outlook.office365.com a denied redirect like any other."""
    dns_server, web = servers
    office = "https://outlook.office365.com/autodiscover/autodiscover.xml"
    web.add_host("autodiscover." + DOMAIN, redirect(office))
    web.add_host("outlook.office365.com", ServerResponse(body=settings_body()), credentials=(EMAIL, PASSWORD))
    base = _command(dns_server, web, "--json")
    base[base.index("https_root")] = "https_autodiscover"
    trusted = subprocess.run(base, capture_output=True, text=True, timeout=60, env=_environment(), check=False)
    assert 0 == trusted.returncode, trusted.stdout + trusted.stderr
    refused = subprocess.run(
        [*base, "--no-microsoft365"], capture_output=True, text=True, timeout=60, env=_environment(), check=False
    )
    assert 1 == refused.returncode
    assert "redirect_denied" == json.loads(refused.stdout)["attempts"][-1]["outcome"]


# --- run_asking on its own, with the fakes ---------------------------------------------------------

ROOT = f"https://{DOMAIN}/autodiscover/autodiscover.xml"


def _attempt_factory(transport: FakeTransport) -> tuple[list[tuple[str, ...]], Callable[[Sequence[str]], Settings]]:
    calls: list[tuple[str, ...]] = []

    def attempt(approved: Sequence[str]) -> Settings:
        calls.append(tuple(approved))
        return discover(
            EMAIL, PASSWORD, methods=[Method.HTTPS_ROOT], resolver=FakeResolver(), transport=transport,
            allowed_hosts=approved,
        )  # fmt: skip

    return calls, attempt


def _hoster() -> FakeTransport:
    return FakeTransport(
        {ROOT: redirect_response(TARGET), TARGET: [unauthorized_response(), xml_response(settings_body())]}
    )


def test_run_asking_asks_once_per_denied_host_and_reruns_with_it() -> None:
    """A "yes" adds the host to the allowed hosts of a fresh run; the question names the address and URL."""
    questions: list[str] = []
    calls, attempt = _attempt_factory(_hoster())

    def ask(question: str) -> str:
        questions.append(question)
        return "Yes"

    settings = run_asking(attempt, EMAIL, interactive=True, ask=ask)
    assert TARGET == settings.source.url
    assert [(), (HOSTER,)] == calls
    assert 1 == len(questions)
    assert QUESTION in questions[0]
    assert TARGET in questions[0]


@pytest.mark.parametrize("answer", ["", "n", "no", "yess", "maybe"])
def test_run_asking_denies_on_anything_but_yes(answer: str) -> None:
    """Only y or yes allows; everything else re-raises the denial without a second run."""
    calls, attempt = _attempt_factory(_hoster())
    with pytest.raises(RedirectDeniedError):
        run_asking(attempt, EMAIL, interactive=True, ask=lambda _q: answer)
    assert [()] == calls


def test_run_asking_never_asks_when_not_interactive() -> None:
    """Not interactive: the denial is raised as is and the question is never put."""
    _calls, attempt = _attempt_factory(_hoster())

    def ask(_question: str) -> str:
        raise AssertionError("asked without a terminal")

    with pytest.raises(RedirectDeniedError) as info:
        run_asking(attempt, EMAIL, interactive=False, ask=ask)
    assert [(HOSTER, TARGET)] == denied_redirects(info.value.attempts)
    assert Outcome.REDIRECT_DENIED == info.value.attempts[-1].outcome


def test_the_question_escapes_what_the_server_chose() -> None:
    """A redirectAddr with U+202E (right-to-left override) must not read as another host on the terminal."""
    hostile = "ann\u202etset.ko@tset.live"
    transport = FakeTransport({ROOT: xml_response(redirect_addr_body(hostile))})
    questions: list[str] = []
    _calls, attempt = _attempt_factory(transport)

    def ask(question: str) -> str:
        questions.append(question)
        return "no"

    with pytest.raises(RedirectDeniedError):
        run_asking(attempt, EMAIL, interactive=True, ask=ask)
    assert 1 == len(questions)
    assert "\u202e" not in questions[0]
    assert "ann\\u202etset.ko@tset.live" in questions[0]
