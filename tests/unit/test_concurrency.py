"""The concurrent driver in simulated time (FakeClock): patience, the trail, the deadline, the options."""

from __future__ import annotations

import pytest

from autodiscover_client import (
    DeadlineExceededError,
    Discoverer,
    DiscoveryError,
    HttpRequest,
    HttpResponse,
    Method,
    Outcome,
    Settings,
    discover,
)
from autodiscover_client._cli import main
from autodiscover_client._driver import STAGGER
from autodiscover_client.testing import (
    FakeClock,
    FakeResolver,
    FakeTransport,
    settings_body,
    unauthorized_response,
    xml_response,
)

ROOT = "https://example.com/autodiscover/autodiscover.xml"
AUTO = "https://autodiscover.example.com/autodiscover/autodiscover.xml"
PROBE = "http://autodiscover.example.com/autodiscover/autodiscover.xml"
ROOT_OK = xml_response(settings_body(ews_url="https://root.example.com/EWS/Exchange.asmx"))
AUTO_OK = xml_response(settings_body(ews_url="https://auto.example.com/EWS/Exchange.asmx"))


def run(
    latency: dict[str, float], routes: dict[str, object] | None = None, **options: object
) -> tuple[Settings, float]:
    clock = FakeClock()
    transport = FakeTransport(
        routes or {ROOT: ROOT_OK, AUTO: AUTO_OK},  # type: ignore[arg-type]
        latency=latency,
        clock=clock,
        enforce_timeout=True,
    )
    settings = discover(
        "user@example.com",
        "secret",
        resolver=FakeResolver(),
        transport=transport,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )
    return settings, clock.monotonic()


def test_a_slow_root_is_abandoned_after_patience() -> None:
    """Root 8 s, autodiscover. 0.1 s: the answer comes at 0.1 + patience, and the trail says root was abandoned."""
    settings, took = run({ROOT: 8.0, AUTO: 0.1}, request_timeout=10.0)
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    assert STAGGER + 0.6 == pytest.approx(took)  # autodiscover. starts one stagger after root
    assert [
        (Method.SRV, Outcome.NO_RECORDS),
        (Method.HTTPS_ROOT, Outcome.ABANDONED),
        (Method.HTTPS_AUTODISCOVER, Outcome.SETTINGS),
    ] == [(attempt.method, attempt.outcome) for attempt in settings.attempts]
    assert STAGGER + 0.6 == pytest.approx(settings.attempts[1].elapsed)
    assert "HTTPS_AUTODISCOVER had settings more than 0.5s earlier" in (settings.attempts[1].error or "")


def test_a_root_within_patience_still_wins() -> None:
    """Root 0.5 s, autodiscover. 0.1 s: root answers within the 0.5 s patience, so the order decides."""
    settings, took = run({ROOT: 0.5, AUTO: 0.1})
    assert Method.HTTPS_ROOT == settings.source.method
    assert 0.5 == pytest.approx(took)
    assert [Method.SRV, Method.HTTPS_ROOT] == [attempt.method for attempt in settings.attempts]


def test_patience_zero_takes_the_first_answer() -> None:
    """patience=0: the first settings win at once."""
    settings, took = run({ROOT: 0.2, AUTO: 0.1}, patience=0)
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    assert STAGGER + 0.1 == pytest.approx(took)


def test_a_lower_candidate_starts_early_when_the_higher_ones_have_failed() -> None:
    """Root refused at once: autodiscover. does not wait for its stagger slot."""
    settings, took = run({AUTO: 0.1}, {AUTO: AUTO_OK})
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    assert 0.1 == pytest.approx(took)


def test_candidates_start_one_stagger_apart() -> None:
    """SRV and root start at once, autodiscover. one stagger later, the probe two (RFC 8305 §5's idea)."""
    clock = FakeClock()
    starts: list[tuple[str, float]] = []

    def note(request: HttpRequest) -> HttpResponse:
        starts.append((request.url, clock.monotonic() - 1.0))
        return HttpResponse(status=404)

    transport = FakeTransport(handler=note, latency={"*": 1.0}, clock=clock)
    with pytest.raises(DiscoveryError):
        discover("user@example.com", resolver=FakeResolver(), transport=transport, clock=clock)
    assert [(ROOT, 0.0), (AUTO, STAGGER), (PROBE, 2 * STAGGER)] == [
        (url, round(at, 6)) for url, at in starts if url in (ROOT, AUTO, PROBE)
    ]


def test_patience_none_waits_for_the_higher_candidate_timeout() -> None:
    """patience=None: a root that times out after 3 s is waited for, then autodiscover.'s answer is used."""
    settings, took = run({ROOT: 8.0, AUTO: 0.1}, patience=None, request_timeout=3.0)
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    assert 3.0 == pytest.approx(took)
    assert Outcome.TIMEOUT == settings.attempts[1].outcome


def test_sequential_pays_every_timeout_in_turn() -> None:
    """parallel=False: root's 3 s timeout, then autodiscover.'s 0.1 s."""
    settings, took = run({ROOT: 8.0, AUTO: 0.1}, parallel=False, request_timeout=3.0)
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    assert 3.1 == pytest.approx(took)


def test_the_trail_follows_the_order_not_the_completion_times() -> None:
    """Autodiscover. (auth, fast) finishes before root (slow 403); the trail lists root first, with elapsed times."""
    routes = {ROOT: xml_response(b"", status=403), AUTO: [unauthorized_response(), AUTO_OK]}
    settings, took = run({ROOT: 0.4, AUTO: 0.1}, routes)
    assert [
        (Method.SRV, Outcome.NO_RECORDS, 0.0),
        (Method.HTTPS_ROOT, Outcome.HTTP_ERROR, 0.4),
        (Method.HTTPS_AUTODISCOVER, Outcome.UNAUTHORIZED, 0.1),
        (Method.HTTPS_AUTODISCOVER, Outcome.SETTINGS, 0.1),
    ] == [(a.method, a.outcome, a.elapsed) for a in settings.attempts]
    assert 0.4 == pytest.approx(took)


def test_lower_candidates_still_running_are_left_out_of_the_trail() -> None:
    """When root answers, the slower autodiscover. and probe are neither waited for nor listed."""
    settings, took = run({ROOT: 0.1, AUTO: 5.0, PROBE: 5.0})
    assert [Method.SRV, Method.HTTPS_ROOT] == [attempt.method for attempt in settings.attempts]
    assert 0.1 == pytest.approx(took)


def test_the_deadline_stops_concurrent_work_and_lists_what_was_in_flight() -> None:
    """All candidates slower than the deadline: DeadlineExceededError at the deadline, in-flight work in order."""
    clock = FakeClock()
    transport = FakeTransport(latency={"*": 60.0}, clock=clock)
    with pytest.raises(DeadlineExceededError) as info:
        discover("user@example.com", resolver=FakeResolver(), transport=transport, clock=clock, timeout=4.0)
    assert 4.0 == clock.monotonic()
    assert [Method.SRV, Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER, Method.HTTP_REDIRECT] == [
        attempt.method for attempt in info.value.attempts
    ]
    assert all(a.outcome is Outcome.TIMEOUT for a in info.value.attempts[1:])


def test_a_lower_answer_is_returned_when_the_deadline_ends_patience() -> None:
    """The deadline coming before patience runs out still returns the lower-priority answer it has."""
    settings, took = run({ROOT: 60.0, AUTO: 0.9}, timeout=1.0, patience=5.0)
    assert Method.HTTPS_AUTODISCOVER == settings.source.method
    assert 1.0 == pytest.approx(took)


def test_every_attempt_timeout_is_bounded_by_the_time_left() -> None:
    """Operations started late get only the time left before the deadline."""
    seen: list[float] = []

    class Recorder(FakeTransport):
        def send(self, request, *, timeout):  # type: ignore[no-untyped-def]
            seen.append(timeout)
            return super().send(request, timeout=timeout)

    clock = FakeClock()
    transport = Recorder(
        {ROOT: [unauthorized_response(), ROOT_OK]}, latency={ROOT: 3.0}, clock=clock, enforce_timeout=True
    )
    with pytest.raises(DiscoveryError):
        discover(
            "user@example.com", "pw", methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER],
            resolver=FakeResolver(), transport=transport, clock=clock, timeout=5.0, request_timeout=4.0,
        )  # fmt: skip
    assert [4.0, 4.0, 2.0] == seen


@pytest.mark.parametrize("patience", [-1.0, float("inf"), float("nan")])
def test_patience_must_be_none_or_finite_seconds(patience: float) -> None:
    """A negative, infinite or NaN patience is a ValueError."""
    with pytest.raises(ValueError, match="patience"):
        Discoverer(patience=patience)


def test_a_single_method_needs_no_pool() -> None:
    """One method runs the sequential driver: same answer, nothing abandoned."""
    settings, _ = run({ROOT: 0.1}, methods=[Method.HTTPS_ROOT])
    assert Method.HTTPS_ROOT == settings.source.method


def test_nothing_found_concurrently_is_a_discovery_error_with_the_full_trail() -> None:
    """With every candidate failing, the error lists every attempt in order, as the sequential run does."""
    clock = FakeClock()
    with pytest.raises(DiscoveryError) as concurrent:
        discover("user@example.com", resolver=FakeResolver(), transport=FakeTransport(), clock=clock)
    with pytest.raises(DiscoveryError) as sequential:
        discover(
            "user@example.com", resolver=FakeResolver(), transport=FakeTransport(), parallel=False, clock=FakeClock()
        )
    assert sequential.value.attempts == concurrent.value.attempts


@pytest.mark.parametrize("value", ["-1", "soon", "inf"])
def test_cli_rejects_a_bad_patience(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--patience takes seconds >= 0 or 'none'; anything else is a usage error (exit 2)."""
    with pytest.raises(SystemExit) as info:
        main(["user@example.com", "--patience", value])
    assert 2 == info.value.code
    assert "--patience" in capsys.readouterr().err


def test_the_debug_log_has_one_line_per_attempt_in_trail_order(caplog: pytest.LogCaptureFixture) -> None:
    """Concurrent attempts are logged as they join the trail: numbered, in priority order, none speculative."""
    import logging

    caplog.set_level(logging.DEBUG, logger="autodiscover_client")
    settings, _ = run({ROOT: 0.4, AUTO: 0.1, PROBE: 0.1})
    lines = [record.getMessage() for record in caplog.records if record.getMessage().startswith("attempt ")]
    assert [f"attempt {n} for user@example.com: {a.describe()}" for n, a in enumerate(settings.attempts, 1)] == lines


def test_a_pool_of_one_thread_queues_the_work_and_gives_the_same_answer() -> None:
    """With a single worker the operations queue up (no fake clock: real threads) and the answer is unchanged."""
    from autodiscover_client._address import parse_email
    from autodiscover_client._driver import ConcurrentDriver, Seams
    from autodiscover_client._policy import RedirectPolicy
    from autodiscover_client._run import Run
    from autodiscover_client._seams import SystemClock

    transport = FakeTransport({ROOT: xml_response(b"", status=403), AUTO: AUTO_OK})
    address = parse_email("user@example.com")
    seams = Seams(resolver=FakeResolver, transport=lambda: transport, clock=SystemClock(), request_timeout=5.0)
    run = Run(address=address, credentials=None, policy=RedirectPolicy())
    driver = ConcurrentDriver(
        seams, run, [Method.SRV, Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER], patience=None,
        deadline=SystemClock().monotonic() + 10.0, max_workers=1,
    )  # fmt: skip
    found, deadline_hit = driver.drive(address)
    assert found is not None
    assert (Method.HTTPS_AUTODISCOVER, False) == (found.method, deadline_hit)
    assert [Outcome.NO_RECORDS, Outcome.HTTP_ERROR, Outcome.SETTINGS] == [a.outcome for a in run.attempts]
