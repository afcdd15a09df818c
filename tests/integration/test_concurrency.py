"""1,000 concurrent discover() calls from threads against local servers (issue 3, item 8).

No call may see another call's answer, trail or credentials, and no thread or file descriptor may be
left behind once the calls and the servers are done.
"""

from __future__ import annotations

import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from autodiscover_client import (
    Discoverer,
    DiscoveryError,
    DnspythonResolver,
    Method,
    Outcome,
    RequestsTransport,
    discover,
)
from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer, redirect_addr_body, settings_body
from autodiscover_client.testing._https_server import RecordedRequest, ServerResponse

pytestmark = pytest.mark.integration

THREADS = 50
CALLS_PER_THREAD = 20
DOMAIN = "example.test"
_EMAIL_IN_REQUEST = re.compile(rb"<EMailAddress>([^<]+)</EMailAddress>")


def _echo(request: RecordedRequest) -> ServerResponse:
    """Settings naming the address that was asked about; every 7th user is redirected to a sibling address."""
    found = _EMAIL_IN_REQUEST.search(request.body)
    email = found.group(1).decode() if found else "missing@example.test"
    local = email.split("@", 1)[0]
    if local.endswith("-7"):
        return ServerResponse(body=redirect_addr_body(f"{local}-moved@{DOMAIN}"))
    return ServerResponse(body=settings_body(display_name=email, ews_url=f"https://mail.{DOMAIN}/EWS/{local}"))


def _fds() -> int:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0


def test_a_thousand_concurrent_calls_do_not_mix_and_leave_nothing_behind() -> None:
    """50 threads x 20 calls: each result names its own address, credentials go only where allowed, and
    afterwards the thread and descriptor counts are back where they started."""
    threads_before, fds_before = set(threading.enumerate()), _fds()
    failures: list[str] = []
    with LocalDnsServer() as dns_server, LocalAutodiscoverServer() as web:
        web.add_host(f"autodiscover.{DOMAIN}", _echo, credentials=None)
        web.add_host(DOMAIN, ServerResponse(status=404))
        resolver = DnspythonResolver(nameservers=[dns_server.address], timeout=5.0)
        overrides = web.connect_overrides

        shared_transport = RequestsTransport(ca_bundle=web.ca_bundle, connect_to=overrides, resolver=resolver)
        shared = Discoverer(
            methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER], resolver=resolver, transport=shared_transport
        )

        def worker(thread: int) -> None:
            # Even threads share one Discoverer (and its transport), as a batch tool would; odd threads call
            # discover() with a transport of their own. Either way each call owns its run.
            with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=overrides, resolver=resolver) as transport:
                for call in range(CALLS_PER_THREAD):
                    email = f"u{thread}-{call}@{DOMAIN}"
                    try:
                        if thread % 2 == 0:
                            settings = shared.discover(email, f"pw-{thread}-{call}")
                        else:
                            settings = discover(
                                email, f"pw-{thread}-{call}", methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER],
                                resolver=resolver, transport=transport, timeout=30,
                            )  # fmt: skip
                    except DiscoveryError as exc:
                        failures.append(f"{email}: {exc}")
                        continue
                    expected = f"u{thread}-{call}-moved@{DOMAIN}" if call == 7 else email
                    if settings.email != expected or settings.user is None or settings.user.display_name != expected:
                        failures.append(f"{email} got {settings.email} / {settings.user}")
                    if {attempt.email for attempt in settings.attempts} - {email, expected}:
                        failures.append(f"{email}: foreign trail {[a.email for a in settings.attempts]}")
                    if Outcome.SETTINGS is not settings.attempts[-1].outcome:
                        failures.append(f"{email}: trail ends with {settings.attempts[-1].outcome}")

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            list(pool.map(worker, range(THREADS)))
        shared_transport.close()
        elapsed = time.monotonic() - started
        requests = web.requests
        assert () == web.errors
    assert [] == failures[:5]
    answered = [r for r in requests if r.host == f"autodiscover.{DOMAIN}"]
    assert THREADS * CALLS_PER_THREAD + THREADS == len(answered)  # the 7th call of each thread asks twice
    assert () == tuple(r for r in requests if r.auth_scheme is not None)  # nobody challenged, nobody sent
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and (set(threading.enumerate()) - threads_before or _fds() > fds_before):
        time.sleep(0.05)
    assert set() == {t.name for t in set(threading.enumerate()) - threads_before}
    assert fds_before >= _fds()
    assert elapsed < 120
