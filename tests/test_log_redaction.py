"""Logging: one logger per module, a debug line per attempt, and the password in no log record, ever."""

from __future__ import annotations

import ast
import base64
import logging
from pathlib import Path

import pytest

from autodiscover_client import (
    AuthenticationError,
    DiscoveryError,
    DnspythonResolver,
    RequestsTransport,
    discover,
)
from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer, settings_body
from autodiscover_client.testing._https_server import ServerResponse, html_page, redirect

PACKAGE = Path(__file__).resolve().parent.parent / "autodiscover_client"
DOMAIN = "example.test"
EMAIL = f"jane@{DOMAIN}"
PASSWORD = "s3cret-Pa55word-for-logs"
SETTINGS = ServerResponse(
    headers=(("Content-Type", "text/xml"),),
    body=settings_body(ews_url=f"https://mail.{DOMAIN}/EWS/Exchange.asmx"),
)


def forbidden_strings(password: str) -> list[str]:
    """The password and every form of it that an Authorization header would carry."""
    token = base64.b64encode(f"{EMAIL}:{password}".encode()).decode()
    return [password, token, f"Basic {token}"]


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could print from the record: the message, its raw arguments, the exception."""
    parts = [record.getMessage(), repr(record.args), str(record.msg)]
    if record.exc_info and record.exc_info[1] is not None:
        parts.append(repr(record.exc_info[1]))
    return "\n".join(parts)


@pytest.mark.integration
def test_the_password_never_appears_in_any_log_record_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """A run with a 401 challenge, a wrong-password host and a redirect logs at DEBUG without the secret.

    Every logger is captured, third-party ones (urllib3, requests) included, because the transport hands
    them the request.
    """
    caplog.set_level(logging.DEBUG)  # the root logger: ours and everybody else's
    with LocalDnsServer() as dns_server, LocalAutodiscoverServer() as web:
        web.add_host(DOMAIN, redirect(f"https://mail.{DOMAIN}/autodiscover/autodiscover.xml"))
        web.add_host(f"mail.{DOMAIN}", html_page(), credentials=(EMAIL, "another-password"))
        web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, credentials=(EMAIL, PASSWORD))
        for name in (DOMAIN, f"mail.{DOMAIN}", f"autodiscover.{DOMAIN}"):
            dns_server.add_a(name, "127.0.0.1")
        resolver = DnspythonResolver(nameservers=[dns_server.address], timeout=2.0)
        with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides, resolver=resolver) as t:
            settings = discover(EMAIL, PASSWORD, resolver=resolver, transport=t, timeout=20.0)
        credentialed = {host for _, host, _ in web.credentials_seen()}
    assert {f"mail.{DOMAIN}", f"autodiscover.{DOMAIN}"} == credentialed  # the secret really was on the wire
    assert f"https://mail.{DOMAIN}/EWS/Exchange.asmx" == settings.ews_url
    assert caplog.records, "nothing was logged at DEBUG"
    for record in caplog.records:
        text = record_text(record)
        for secret in forbidden_strings(PASSWORD):
            assert secret not in text, f"{record.name}: {text}"
        assert "authorization" not in text.lower(), f"{record.name} logged a header: {text}"


def test_a_rejected_password_is_not_logged_either(caplog: pytest.LogCaptureFixture) -> None:
    """The failure path (credentials rejected, error raised) keeps the secret out of the log as well."""
    from autodiscover_client.testing import FakeResolver, FakeTransport, unauthorized_response

    caplog.set_level(logging.DEBUG)
    transport = FakeTransport({"https://example.test/autodiscover/autodiscover.xml": unauthorized_response()})
    with pytest.raises(AuthenticationError) as caught:
        discover(EMAIL, PASSWORD, resolver=FakeResolver(), transport=transport)
    assert PASSWORD not in str(caught.value)
    assert caplog.records
    assert all(PASSWORD not in record_text(record) for record in caplog.records)


@pytest.mark.integration
def test_each_attempt_gets_a_debug_line_from_its_module(caplog: pytest.LogCaptureFixture) -> None:
    """The core logs each attempt of the trail; the adapters log each DNS query and HTTP exchange."""
    caplog.set_level(logging.DEBUG, logger="autodiscover_client")
    with LocalDnsServer() as dns_server, LocalAutodiscoverServer() as web:
        web.add_host(f"autodiscover.{DOMAIN}", SETTINGS)
        dns_server.add_a(f"autodiscover.{DOMAIN}", "127.0.0.1")
        resolver = DnspythonResolver(nameservers=[dns_server.address], timeout=2.0)
        with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides, resolver=resolver) as t:
            try:
                # Sequential: concurrently, lower-priority candidates would log exchanges of their own.
                settings = discover(EMAIL, resolver=resolver, transport=t, timeout=20.0, parallel=False)
            except DiscoveryError as error:  # pragma: no cover - shows the trail if the setup is wrong
                pytest.fail(str(error))
    ours = [record for record in caplog.records if record.name.startswith("autodiscover_client.")]
    assert {"autodiscover_client._http", "autodiscover_client._dns"} <= {record.name for record in ours}
    # One line per attempt, from the core (whichever module records the trail), in trail order.
    attempt_lines = [record.getMessage() for record in ours if record.getMessage().startswith("attempt ")]
    assert len(settings.attempts) == len(attempt_lines)
    for line, attempt in zip(attempt_lines, settings.attempts, strict=True):
        assert line.endswith(attempt.describe())
    http_lines = [record.getMessage() for record in ours if record.name == "autodiscover_client._http"]
    assert [f"POST {settings.source.url} -> HTTP 200, {len(SETTINGS.body)} bytes"] == http_lines
    assert all(record.levelno == logging.DEBUG for record in ours)


def test_each_module_has_its_own_logger() -> None:
    """Modules that log call ``logging.getLogger(__name__)``: no shared or hand-named loggers."""
    loggers = 0
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and ast.unparse(node.func) in ("logging.getLogger", "getLogger"):
                loggers += 1
                assert ["__name__"] == [ast.unparse(arg) for arg in node.args], f"{path.name}: {ast.unparse(node)}"
    assert loggers >= 3
