"""discover_many() through the public fakes: streaming, sharing per domain, credentials, failures."""

from __future__ import annotations

import errno
import json
import pickle
import threading

import pytest

from autodiscover_client import (
    BasicCredentials,
    BatchProgress,
    ConnectError,
    HttpRequest,
    HttpResponse,
    Method,
    Outcome,
    TransportTimeoutError,
    discover_many,
)
from autodiscover_client.testing import (
    FakeResolver,
    FakeTransport,
    html_response,
    redirect_response,
    settings_body,
    unauthorized_response,
    xml_response,
)

EWS = "https://mail.example.com/EWS/Exchange.asmx"
DOMAINS = [f"d{n}.example" for n in range(5)]


def root(domain: str) -> str:
    return f"https://{domain}/autodiscover/autodiscover.xml"


def auto(domain: str) -> str:
    return f"https://autodiscover.{domain}/autodiscover/autodiscover.xml"


def probe(domain: str) -> str:
    return f"http://autodiscover.{domain}/autodiscover/autodiscover.xml"


def typical_transport() -> FakeTransport:
    """Root refuses, autodiscover.<domain> answers: the commonest real-world shape."""
    routes: dict[str | tuple[str, str], object] = {}
    for domain in DOMAINS:
        routes[root(domain)] = ConnectError("connection refused")
        routes[auto(domain)] = xml_response(settings_body(ews_url=EWS))
    return FakeTransport(routes)  # type: ignore[arg-type]


def addresses(per_domain: int) -> list[str]:
    return [f"user{n}@{domain}" for domain in DOMAINS for n in range(per_domain)]


def test_results_come_in_input_order_and_never_raise() -> None:
    """Ordered mode yields one result per input, in order; a bad address is a result, not an exception."""
    inputs = ["user@d0.example", "not an address", "user@d1.example", "nobody@unknown.example"]
    results = list(discover_many(inputs, resolver=FakeResolver(), transport=typical_transport(), workers=3))
    assert inputs == [r.address for r in results]
    assert [0, 1, 2, 3] == [r.index for r in results]
    assert ["found", "invalid_address", "found", "not_found"] == [r.status for r in results]
    assert EWS == results[0].settings.ews_url  # type: ignore[union-attr]


def test_unordered_mode_yields_every_address_once() -> None:
    """as-completed mode gives the same set of results."""
    inputs = addresses(6)
    results = list(discover_many(inputs, resolver=FakeResolver(), transport=typical_transport(), ordered=False))
    assert sorted(inputs) == sorted(r.address for r in results)
    assert {"found"} == {r.status for r in results}


def test_dns_queries_and_failed_probes_grow_with_domains_not_addresses() -> None:
    """With 20 addresses per domain, each domain costs one SRV query and one refused root connection."""
    resolver = FakeResolver()
    transport = typical_transport()
    batch = discover_many(addresses(20), resolver=resolver, transport=transport, workers=8)
    results = list(batch)
    assert 100 == len(results)
    srv = [name for name, kind in resolver.queries if kind == "SRV"]
    assert sorted(f"_autodiscover._tcp.{d}" for d in DOMAINS) == sorted(srv)
    for domain in DOMAINS:
        assert 1 == sum(1 for r in transport.requests if r.url == root(domain))
    assert len(DOMAINS) == batch.stats.dns_queries
    assert len(DOMAINS) == batch.stats.failed_requests


def test_later_addresses_use_the_cached_endpoint() -> None:
    """Once a domain's endpoint is known, its other addresses go straight there (trail says so)."""
    results = list(discover_many(addresses(4), resolver=FakeResolver(), transport=typical_transport(), workers=1))
    assert all(a.outcome is not Outcome.CACHED for a in results[0].settings.attempts)  # type: ignore[union-attr]
    later = results[1].settings
    assert later is not None
    assert Outcome.CACHED == later.attempts[0].outcome
    assert Method.HTTPS_AUTODISCOVER == later.source.method


def test_progress_is_reported_after_each_result() -> None:
    """The callback sees done/total/found/failed grow, in the iterating thread."""
    seen: list[BatchProgress] = []
    caller = threading.current_thread()
    threads: set[threading.Thread] = set()

    def progress(state: BatchProgress) -> None:
        threads.add(threading.current_thread())
        seen.append(state)

    inputs = [*addresses(2), "bad"]
    list(discover_many(inputs, resolver=FakeResolver(), transport=typical_transport(), progress=progress))
    assert list(range(1, 12)) == [s.done for s in seen]
    assert {11} == {s.total for s in seen}
    assert (10, 1) == (seen[-1].found, seen[-1].failed)
    assert {caller} == threads


def test_total_is_unknown_for_a_generator() -> None:
    """A lazily read input has no total."""
    seen: list[BatchProgress] = []
    list(
        discover_many(iter(addresses(1)), resolver=FakeResolver(), transport=typical_transport(), progress=seen.append)
    )
    assert {None} == {s.total for s in seen}


def test_per_address_credentials() -> None:
    """Each address authenticates with what the credential source returns for it; None sends nothing."""
    passwords: dict[str, str | BasicCredentials] = {
        "a@d0.example": "pw-a",
        "b@d0.example": BasicCredentials("admin", "pw-b"),
    }
    sent: list[tuple[str, str | None]] = []

    def answer(request: HttpRequest) -> HttpResponse:
        if not isinstance(request.credentials, BasicCredentials):
            return unauthorized_response()
        sent.append((request.credentials.username, request.credentials.password))
        return xml_response(settings_body(ews_url=EWS))

    transport = FakeTransport({root("d0.example"): answer})
    inputs = ["a@d0.example", "b@d0.example", "c@d0.example"]
    results = list(
        discover_many(inputs, resolver=FakeResolver(), transport=transport, credentials=lambda a: passwords.get(a))
    )
    assert ["found", "found", "not_found"] == [r.status for r in results]
    assert [("a@d0.example", "pw-a"), ("admin", "pw-b")] == sorted(sent)  # workers run in any order


def test_a_failing_credential_source_fails_only_its_address_and_leaks_nothing() -> None:
    """An exception from the source becomes that address's error, without the exception's message."""

    def source(address: str) -> str:
        if address.startswith("boom"):
            raise KeyError("vault said: the password is hunter2")
        return "pw"

    results = list(
        discover_many(
            ["boom@d0.example", "fine@d0.example"],
            resolver=FakeResolver(),
            transport=typical_transport(),
            credentials=source,
        )
    )
    assert ["not_found", "found"] == [r.status for r in results]
    assert "KeyError" in str(results[0].error)
    assert "hunter2" not in json.dumps(results[0].to_dict())


def test_too_many_open_files_is_reported_as_itself_and_not_shared() -> None:
    """EMFILE is a local failure: it reads as such in trail and status, and the host is not marked dead."""
    calls = {"n": 0}

    def flaky(request: HttpRequest) -> HttpResponse:
        calls["n"] += 1
        if calls["n"] == 1:
            try:
                raise OSError(errno.EMFILE, "Too many open files")
            except OSError as exc:
                raise ConnectError(f"Failed to establish a new connection: {exc}") from exc
        return xml_response(settings_body(ews_url=EWS))

    transport = FakeTransport({auto("d0.example"): flaky})
    results = list(
        discover_many(
            ["a@d0.example", "b@d0.example"],
            resolver=FakeResolver(),
            transport=transport,
            workers=1,
            methods=[Method.HTTPS_AUTODISCOVER],
        )
    )
    assert ["resource_error", "found"] == [r.status for r in results]
    error = results[0].error
    assert error is not None
    trail = " ".join(a.error or "" for a in error.attempts)  # type: ignore[union-attr]
    assert "Too many open files" in trail
    assert "EMFILE" in trail
    assert "resource_error" == results[0].to_dict()["status"]


def test_a_seam_raising_oserror_is_a_connect_failure_with_its_text() -> None:
    """An OSError out of a caller's transport still ends as one failed attempt, named for what it is."""

    def broken(request: HttpRequest) -> HttpResponse:
        raise OSError(errno.ENFILE, "Too many open files in system")

    results = list(
        discover_many(
            ["a@d0.example"],
            resolver=FakeResolver(),
            transport=FakeTransport(handler=broken),
            methods=[Method.HTTPS_ROOT],
        )
    )
    assert "resource_error" == results[0].status
    assert "ENFILE" in (results[0].error.attempts[0].error or "")  # type: ignore[union-attr]


def test_a_401_is_never_shared_between_addresses() -> None:
    """Each address gets its own challenge and sends its own credentials."""
    counts: dict[str, int] = {}

    def answer(request: HttpRequest) -> HttpResponse:
        if not isinstance(request.credentials, BasicCredentials):
            return unauthorized_response()
        counts[request.credentials.username] = counts.get(request.credentials.username, 0) + 1
        return xml_response(settings_body(ews_url=EWS))

    transport = FakeTransport({root("d0.example"): answer})
    inputs = ["a@d0.example", "b@d0.example"]
    results = list(discover_many(inputs, "pw", resolver=FakeResolver(), transport=transport, workers=1))
    assert {"found"} == {r.status for r in results}
    assert {"a@d0.example": 1, "b@d0.example": 1} == counts


def test_unauthenticated_http_probe_answer_is_shared() -> None:
    """The plain-http GET names no user, so its answer is fetched once per domain."""
    target = "https://autodiscover.d0.example/autodiscover/autodiscover.xml"
    transport = FakeTransport(
        {("GET", probe("d0.example")): redirect_response(target), ("POST", target): html_response(404)}
    )
    list(
        discover_many(
            [f"u{n}@d0.example" for n in range(6)],
            resolver=FakeResolver(),
            transport=transport,
            workers=2,
            methods=[Method.HTTP_REDIRECT],
        )
    )
    assert 1 == sum(1 for r in transport.requests if r.method == "GET")


def test_a_short_timeout_is_not_taken_as_a_dead_host() -> None:
    """A timeout under the full request timeout says nothing about the host, so it is not shared."""
    calls = {"n": 0}

    def slow_then_fine(request: HttpRequest) -> HttpResponse:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransportTimeoutError("read timed out")
        return xml_response(settings_body(ews_url=EWS))

    transport = FakeTransport({root("d0.example"): slow_then_fine})
    results = list(
        discover_many(
            ["a@d0.example", "b@d0.example"],
            resolver=FakeResolver(),
            transport=transport,
            workers=1,
            methods=[Method.HTTPS_ROOT],
            timeout=5.0,
            request_timeout=10.0,
        )
    )
    assert ["timeout", "found"] == [r.status for r in results]  # a timed-out candidate proves nothing absent


def test_two_full_timeouts_mark_the_host_dead_for_the_batch() -> None:
    """A host that twice took the whole request timeout is not asked again in this batch; once is not enough."""
    transport = FakeTransport({root("d0.example"): TransportTimeoutError("connect timed out")})
    results = list(
        discover_many(
            ["a@d0.example", "b@d0.example", "c@d0.example", "d@d0.example"],
            resolver=FakeResolver(),
            transport=transport,
            workers=1,
            methods=[Method.HTTPS_ROOT],
        )
    )
    assert 2 == len(transport.requests)
    assert "earlier address" not in (results[1].error.attempts[0].error or "")  # type: ignore[union-attr]
    for later in results[2:]:
        assert "earlier address" in (later.error.attempts[0].error or "")  # type: ignore[union-attr]
        assert Outcome.TIMEOUT == later.error.attempts[0].outcome  # type: ignore[union-attr]


def test_results_pickle_and_serialise() -> None:
    """Results travel through queues and process pools, and serialise to plain JSON."""
    results = list(
        discover_many(
            ["a@d0.example", "bad", "x@nowhere.example"], resolver=FakeResolver(), transport=typical_transport()
        )
    )
    for result in results:
        clone = pickle.loads(pickle.dumps(result))
        assert result.status == clone.status
        assert result.to_dict() == json.loads(json.dumps(clone.to_dict()))


def test_stopping_early_leaves_no_thread_behind() -> None:
    """Closing the results cancels the rest and joins the workers."""
    before = {t.ident for t in threading.enumerate()}
    with discover_many(addresses(20), resolver=FakeResolver(), transport=typical_transport(), workers=4) as batch:
        first = next(batch)
    assert "found" == first.status
    assert set() == {t.ident for t in threading.enumerate() if t.name.startswith("autodiscover-batch")} - before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"workers": 0}, "workers"), ({"password": "x", "credentials": lambda a: None}, "either")],
)
def test_bad_arguments_fail_at_once(kwargs: dict[str, object], message: str) -> None:
    """Argument errors are raised by the call itself, before any address is read."""
    with pytest.raises(ValueError, match=message):
        discover_many([], resolver=FakeResolver(), transport=FakeTransport(), **kwargs)  # type: ignore[arg-type]


def test_batch_options_reach_each_discovery() -> None:
    """``parallel``, ``patience`` and ``trust_microsoft365`` are passed to the discoverer of every address."""
    from autodiscover_client import MICROSOFT365_HOSTS, Method

    office = sorted(MICROSOFT365_HOSTS)[0]
    target = f"https://{office}/autodiscover/autodiscover.xml"
    transport = FakeTransport(
        {root("d0.example"): redirect_response(target), target: xml_response(settings_body(ews_url=EWS))}
    )
    kwargs = {"resolver": FakeResolver(), "transport": transport, "methods": [Method.HTTPS_ROOT]}
    assert ["found"] == [r.status for r in discover_many(["a@d0.example"], parallel=False, patience=None, **kwargs)]  # type: ignore[arg-type]
    denied = list(discover_many(["a@d0.example"], trust_microsoft365=False, **kwargs))  # type: ignore[arg-type]
    assert ["not_found"] == [r.status for r in denied]


def test_a_bad_address_with_a_credential_source_is_an_invalid_address() -> None:
    """The address is checked before its credentials are built from it: ``mailto:…`` is invalid_address."""
    results = list(discover_many(["mailto:ann@d0.example"], resolver=FakeResolver(), transport=FakeTransport({}),
                                 credentials=lambda _address: "pw"))  # fmt: skip
    assert ["invalid_address"] == [r.status for r in results]


def test_a_deadline_is_a_timeout_not_a_proven_absence() -> None:
    """An address whose discovery ran out of time has status ``timeout``, so a rerun can pick it up."""
    from autodiscover_client import DeadlineExceededError
    from autodiscover_client._batch import BatchResult

    result = BatchResult(index=0, address="a@d0.example", error=DeadlineExceededError("late", email="a@d0.example"))
    assert "timeout" == result.status


def test_one_str_is_not_a_list_of_addresses() -> None:
    """``discover_many("ann@example.com")`` is a TypeError, not fifteen one-character addresses."""
    with pytest.raises(TypeError, match="not one str"):
        discover_many("ann@d0.example", resolver=FakeResolver(), transport=FakeTransport({}))


@pytest.mark.parametrize("workers", [0, 1.5, True, 10**6])
def test_workers_must_be_a_sensible_whole_number(workers: object) -> None:
    """Fractional, boolean or absurd worker counts are refused up front."""
    with pytest.raises(ValueError, match="workers"):
        discover_many(["a@d0.example"], resolver=FakeResolver(), transport=FakeTransport({}), workers=workers)  # type: ignore[arg-type]


def test_a_password_that_is_not_a_str_fails_at_once() -> None:
    """``password=123`` raises before any address is read, instead of failing every address."""
    from autodiscover_client import InvalidCredentialsError

    with pytest.raises(InvalidCredentialsError):
        discover_many(["a@d0.example"], 123, resolver=FakeResolver(), transport=FakeTransport({}))  # type: ignore[arg-type]


def test_a_candidate_that_timed_out_means_timeout_not_not_found() -> None:
    """A refused root and a timed-out autodiscover host: the address may well have settings, so not not_found."""
    transport = FakeTransport(
        {"https://autodiscover.d0.example/autodiscover/autodiscover.xml": TransportTimeoutError("x")}
    )
    results = list(
        discover_many(
            ["a@d0.example", "b@d1.example"], resolver=FakeResolver(), transport=transport, workers=1,
            methods=[Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER],
        )
    )  # fmt: skip
    assert ["timeout", "not_found"] == [r.status for r in results]  # d1: everything refused, nothing timed out
