"""Property tests of the concurrent driver against the sequential one, in simulated time (FakeClock).

Random scenarios give every candidate URL an outcome and a latency, with URL and address redirects
(inside and outside the mail domain), SRV sets and DNS failures. Then:
- with ``patience=None`` the concurrent run returns exactly the sequential result (settings or error,
  trail included), credentials reach the same set of URLs, and the approver sees the same proposals;
- with the default patience, the result is the sequential result unless a higher-priority candidate
  was abandoned, and a candidate is abandoned only when it was more than ``patience`` slower than a
  lower-priority one that answered.
"""

from __future__ import annotations

import dataclasses
import re
from urllib.parse import urlsplit

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from autodiscover_client import (
    DEFAULT_ORDER,
    MICROSOFT_ORDER,
    ConnectError,
    DiscoveryError,
    HttpRequest,
    HttpResponse,
    Method,
    Outcome,
    Settings,
    discover,
)
from autodiscover_client._policy import registrable_domain
from autodiscover_client.testing import (
    FakeClock,
    FakeResolver,
    FakeTransport,
    RecordingApprover,
    error_body,
    html_response,
    redirect_addr_body,
    redirect_response,
    redirect_url_body,
    settings_body,
    unauthorized_response,
    xml_response,
)

EMAIL = "user@example.com"
PATH = "/autodiscover/autodiscover.xml"
SRV_NAME = "_autodiscover._tcp.example.com"
REQUEST_TIMEOUT = 5.0
DEADLINE = 10_000.0  # far beyond any scenario: deadlines are tested elsewhere
PATIENCE = 0.5

HOSTS = ("example.com", "autodiscover.example.com", "mail.example.com", "mx.example.com:8443", "ad.other.net")
URLS = tuple(f"https://{host}{PATH}" for host in HOSTS)
PROBE = f"http://autodiscover.example.com{PATH}"
ADDRESSES = (EMAIL, "alias@example.com", "user@other.net")
LATENCIES = (0.0, 0.0, 0.05, 0.2, 0.4, 0.7, 1.0, 2.5, 6.0, 6.0)  # 6.0 > REQUEST_TIMEOUT: a timeout

_PLAIN = ("settings", "refused", "html", "error", "challenge", "rejected")
_REDIRECTS = ("redirect", "redirect_url", "redirect_addr")
# Redirects weigh double (they make candidates interact through the shared bookkeeping), answers triple
# (an answer below a slow candidate is what patience is about).
behaviours = st.sampled_from((*_PLAIN, *_REDIRECTS, *_REDIRECTS, "redirect_addr", "settings", "settings", "challenge"))


@dataclasses.dataclass(frozen=True)
class Scenario:
    methods: tuple[Method, ...]
    srv: tuple[tuple[int, int, int, str], ...] | None  # None: the lookup fails
    srv_latency: float
    answers: dict[tuple[str, str], tuple[str, str]]  # (url, address) -> (behaviour, argument)
    latency: dict[str, float]
    probe: str | None  # where the http probe redirects, if anywhere
    approve: frozenset[str]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    order = draw(st.sampled_from([DEFAULT_ORDER, MICROSOFT_ORDER, None]))
    if order is None:
        order = tuple(draw(st.permutations(list(Method)))[: draw(st.integers(2, 4))])
    targets = draw(
        st.lists(st.sampled_from(["mail.example.com", "mx.example.com", "ad.other.net", "."]), max_size=3, unique=True)
    )
    srv = tuple((10 * index, 0, 8443 if name == "mx.example.com" else 443, name) for index, name in enumerate(targets))
    answers: dict[tuple[str, str], tuple[str, str]] = {}
    for url in URLS:
        for address in ADDRESSES:
            behaviour = draw(behaviours)
            argument = ""
            if behaviour in ("redirect", "redirect_url"):
                argument = draw(st.sampled_from(URLS))
            elif behaviour == "redirect_addr":
                argument = draw(st.sampled_from(ADDRESSES))
            answers[(url, address)] = (behaviour, argument)
    return Scenario(
        methods=tuple(order),
        srv=None if draw(st.booleans()) and draw(st.booleans()) else srv,
        srv_latency=draw(st.sampled_from(LATENCIES)),
        answers=answers,
        latency={url: draw(st.sampled_from(LATENCIES)) for url in (*URLS, PROBE)},
        probe=draw(st.sampled_from([None, URLS[1], URLS[2], URLS[4], "http://plain.example.com" + PATH])),
        approve=frozenset(draw(st.lists(st.sampled_from(["ad.other.net", "other.net"]), unique=True))),
    )


_ADDRESS = re.compile(rb"<EMailAddress>([^<]*)</EMailAddress>")


def _handler(scenario: Scenario) -> object:
    def answer(request: HttpRequest) -> HttpResponse:
        if request.method == "GET":
            if request.url == PROBE and scenario.probe is not None:
                return redirect_response(scenario.probe)
            return HttpResponse(status=404)
        found = _ADDRESS.search(request.body)
        address = found.group(1).decode() if found else ""
        behaviour, argument = scenario.answers.get((request.url, address), ("refused", ""))
        host = urlsplit(request.url).netloc
        if behaviour == "settings":
            return xml_response(settings_body(ews_url=f"https://{host}/EWS/{address}"))
        if behaviour == "refused":
            raise ConnectError(f"{request.url}: connection refused")
        if behaviour == "html":
            return html_response()
        if behaviour == "error":
            return xml_response(error_body(600, "Invalid request"))
        if behaviour in ("challenge", "rejected"):
            if request.credentials is None or behaviour == "rejected":
                return unauthorized_response()
            return xml_response(settings_body(ews_url=f"https://{host}/EWS/auth/{address}"))
        if behaviour == "redirect":
            return redirect_response(argument)
        if behaviour == "redirect_url":
            return xml_response(redirect_url_body(argument))
        return xml_response(redirect_addr_body(argument))

    return answer


@dataclasses.dataclass(frozen=True)
class Outcome_:
    result: Settings | tuple[str, str, tuple[object, ...]]
    credentials_to: frozenset[str]
    proposals: tuple[object, ...]
    duration: float


def _run(scenario: Scenario, *, methods: tuple[Method, ...] | None = None, **options: object) -> Outcome_:
    clock = FakeClock()
    srv = {SRV_NAME: scenario.srv} if scenario.srv is not None else {}
    resolver = FakeResolver(
        srv,
        failures=[SRV_NAME] if scenario.srv is None else [],
        latency={"*": scenario.srv_latency},
        clock=clock,
        enforce_timeout=True,
    )
    transport = FakeTransport(handler=_handler(scenario), latency=scenario.latency, clock=clock, enforce_timeout=True)  # type: ignore[arg-type]
    approver = RecordingApprover(allow=scenario.approve)
    result: Settings | tuple[str, str, tuple[object, ...]]
    try:
        result = discover(
            EMAIL, "secret", methods=methods or scenario.methods, resolver=resolver, transport=transport,
            approve_redirect=approver, clock=clock, timeout=DEADLINE, request_timeout=REQUEST_TIMEOUT,
            **options,  # type: ignore[arg-type]
        )  # fmt: skip
    except DiscoveryError as exc:
        result = (type(exc).__name__, str(exc), exc.attempts)
    return Outcome_(
        result=result,
        credentials_to=frozenset(transport.credentials_sent_to()),
        proposals=tuple(approver.proposals),
        duration=clock.monotonic(),
    )


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(scenarios())
def test_concurrent_without_patience_is_the_sequential_run(scenario: Scenario) -> None:
    """patience=None: the same settings or error (trail included), credential recipients and approver calls."""
    sequential = _run(scenario, parallel=False)
    concurrent = _run(scenario, patience=None)
    event("settings" if isinstance(sequential.result, Settings) else sequential.result[0])
    event(f"restarts: {sum(a.outcome is Outcome.REDIRECT_ADDRESS for a in _attempts(sequential.result))}")  # type: ignore[attr-defined]
    event(f"credentials sent: {bool(sequential.credentials_to)}")
    event(f"approver asked: {bool(sequential.proposals)}")
    event(f"faster: {concurrent.duration < sequential.duration}")
    assert sequential.result == concurrent.result
    assert sequential.credentials_to == concurrent.credentials_to
    assert sequential.proposals == concurrent.proposals
    assert concurrent.duration <= sequential.duration + 1e-9


def _attempts(result: Settings | tuple[str, str, tuple[object, ...]]) -> tuple[object, ...]:
    return result.attempts if isinstance(result, Settings) else result[2]


@PROPERTY
@given(scenarios())
def test_default_patience_differs_only_where_the_rule_allows(scenario: Scenario) -> None:
    """The result is the sequential one unless a higher-priority candidate was more than patience slower."""
    sequential = _run(scenario, parallel=False)
    concurrent = _run(scenario)
    attempts = _attempts(concurrent.result)
    abandoned = [a for a in attempts if a.outcome is Outcome.ABANDONED]  # type: ignore[attr-defined]
    event(f"abandoned: {len(abandoned)}")
    event(f"differs from sequential: {_answer(sequential.result) != _answer(concurrent.result)}")
    if not abandoned:
        assert _answer(sequential.result) == _answer(concurrent.result)
    order = scenario.methods
    for attempt in abandoned:
        # Each abandoned candidate ranks above a candidate that had settings more than patience earlier.
        trigger = Method[(attempt.error or "").split(": ")[-1].split()[0]]  # type: ignore[attr-defined]
        assert order.index(attempt.method) < order.index(trigger)  # type: ignore[attr-defined]
        if attempt.email == EMAIL and "starting again" not in (attempt.error or ""):  # type: ignore[attr-defined]
            # In the first round every candidate starts at time 0 from the same state, so a candidate
            # run alone shows how long it would have taken.
            alone = _run(scenario, methods=(attempt.method,), parallel=False)  # type: ignore[attr-defined]
            answer = _run(scenario, methods=(trigger,), parallel=False)
            assert isinstance(answer.result, Settings)
            assert alone.duration > answer.duration + PATIENCE - 1e-9
    # Credentials only ever go where DESIGN §4 allows: the mail domain, or a host the approver allowed.
    for url in concurrent.credentials_to:
        host = urlsplit(url).hostname or ""
        assert url.startswith("https://")
        assert registrable_domain(host) == "example.com" or host in scenario.approve or "other.net" in scenario.approve
    if not abandoned:
        # Without abandonment it is never slower. With it, it can be: abandoning a slow SRV for a lower answer
        # may let a higher-priority redirectAddr restart discovery, which the sequential run never reached.
        assert concurrent.duration <= sequential.duration + 1e-9


def _answer(result: Settings | tuple[str, str, tuple[object, ...]]) -> object:
    if isinstance(result, Settings):
        return (result.email, result.source, result.ews_url)
    return result[0]
