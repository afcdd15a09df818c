"""Concurrent discovery over real sockets: dead candidates cost patience, not their timeouts."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autodiscover_client import (
    DeadlineExceededError,
    Discoverer,
    DnspythonResolver,
    Method,
    Outcome,
    RequestsTransport,
    discover,
)
from autodiscover_client.testing import LocalAutodiscoverServer, settings_body
from autodiscover_client.testing._dead_hosts import BlackHole, SilentHost
from autodiscover_client.testing._https_server import ServerResponse

pytestmark = pytest.mark.integration

DOMAIN = "example.test"
EMAIL = f"user@{DOMAIN}"
PASSWORD = "correct horse battery staple"
SETTINGS = ServerResponse(body=settings_body(ews_url=f"https://mail.{DOMAIN}/EWS/Exchange.asmx"))
REQUEST_TIMEOUT = 2.0


@pytest.fixture(params=["black-holed", "silent"])
def dead_root(request: pytest.FixtureRequest) -> Iterator[BlackHole | SilentHost]:
    with BlackHole() if request.param == "black-holed" else SilentHost() as dead:
        yield dead


def _transport(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver, dead: BlackHole | SilentHost
) -> RequestsTransport:
    overrides = {**web.connect_overrides, (DOMAIN, 443): (dead.address, dead.port)}
    return RequestsTransport(ca_bundle=web.ca_bundle, connect_to=overrides, resolver=resolver)


def _worker_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("autodiscover_")]


def test_a_dead_root_costs_patience_not_its_timeout(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver, dead_root: BlackHole | SilentHost
) -> None:
    """Root dead (SYNs dropped or silent after connect), autodiscover.<d> answers with auth: ~patience, not 2 s."""
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS, credentials=(EMAIL, PASSWORD))
    with _transport(web, resolver, dead_root) as transport:
        start = time.monotonic()
        settings = discover(
            EMAIL, PASSWORD, resolver=resolver, transport=transport, request_timeout=REQUEST_TIMEOUT, patience=0.3
        )
        took = time.monotonic() - start
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    assert took < 0.3 + 0.6, took
    assert [Method.SRV, Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER, Method.HTTPS_AUTODISCOVER] == [
        attempt.method for attempt in settings.attempts
    ]
    root = settings.attempts[1]
    assert Outcome.ABANDONED == root.outcome
    assert 0.3 <= root.elapsed < REQUEST_TIMEOUT
    assert {("https", f"autodiscover.{DOMAIN}")} == {(s, h) for s, h, _ in web.credentials_seen()}


def test_without_patience_the_dead_root_is_waited_for(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """patience=None waits for the black-holed root's own timeout, like the sequential run, same answer."""
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS)
    with BlackHole() as dead, _transport(web, resolver, dead) as transport:
        start = time.monotonic()
        settings = discover(EMAIL, resolver=resolver, transport=transport, request_timeout=1.0, patience=None)
        took = time.monotonic() - start
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    assert Outcome.TIMEOUT == settings.attempts[1].outcome
    assert 1.0 <= took < 1.0 + 0.5, took


def test_every_candidate_alive_answers_from_the_first(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """When root and autodiscover.<d> both answer, the root's answer wins: the order, not the race."""
    web.add_host(DOMAIN, ServerResponse(body=settings_body(ews_url="https://root/EWS/Exchange.asmx")))
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS)
    with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides, resolver=resolver) as transport:
        for _ in range(5):
            settings = discover(EMAIL, resolver=resolver, transport=transport, patience=0.5)
            assert Method.HTTPS_ROOT == settings.source.method


def test_the_deadline_holds_to_ten_percent_and_leaves_no_worker_behind(
    web: LocalAutodiscoverServer, resolver: DnspythonResolver
) -> None:
    """Every candidate black-holed: DeadlineExceededError at the deadline (±10 %), and no thread of ours outlives it."""
    timeout = 1.5
    with BlackHole() as dead:
        overrides = {(host, 443): (dead.address, dead.port) for host in (DOMAIN, f"autodiscover.{DOMAIN}")}
        overrides[(f"autodiscover.{DOMAIN}", 80)] = (dead.address, dead.port)
        with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=overrides, resolver=resolver) as transport:
            start = time.monotonic()
            with pytest.raises(DeadlineExceededError) as info:
                Discoverer(resolver=resolver, transport=transport, timeout=timeout, request_timeout=30.0).discover(
                    EMAIL, PASSWORD
                )
            took = time.monotonic() - start
            assert timeout * 0.9 <= took <= timeout * 1.1, took
            while _worker_threads() and time.monotonic() - start < timeout * 1.1:
                time.sleep(0.01)
            assert [] == _worker_threads()
    outcomes = [attempt.outcome for attempt in info.value.attempts]
    assert outcomes.count(Outcome.TIMEOUT) == 3
    assert "deadline" in str(info.value)


def test_a_program_exits_as_soon_as_it_has_its_answer(web: LocalAutodiscoverServer, tmp_path: Path) -> None:
    """The abandoned connect to a black-holed root does not keep the interpreter alive until its timeout."""
    web.add_host(f"autodiscover.{DOMAIN}", SETTINGS)
    autodiscover = web.endpoint(f"autodiscover.{DOMAIN}")
    script = tmp_path / "one_shot.py"
    script.write_text(
        "import sys\n"
        "from autodiscover_client import Method, RequestsTransport, discover\n"
        "from autodiscover_client.testing import FakeResolver\n"
        "from autodiscover_client.testing._dead_hosts import BlackHole\n"
        "dead = BlackHole()  # left open: it must still swallow the SYNs when the interpreter exits\n"
        "transport = RequestsTransport(ca_bundle=sys.argv[1], connect_to={\n"
        f"    ({DOMAIN!r}, 443): (dead.address, dead.port),\n"
        f"    ('autodiscover.{DOMAIN}', 443): ('127.0.0.1', {autodiscover.port}),\n"
        "})\n"
        f"settings = discover({EMAIL!r}, resolver=FakeResolver(), transport=transport, request_timeout=8.0,\n"
        "                    methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER], patience=0.1)\n"
        "print(settings.source.method.name, flush=True)\n"
    )
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(script), web.ca_bundle], capture_output=True, text=True, timeout=30, check=False
    )
    took = time.monotonic() - start
    assert "HTTPS_AUTODISCOVER" in done.stdout, done.stderr
    assert took < 4.0, took  # interpreter start-up and import included; the root's timeout is 8 s
