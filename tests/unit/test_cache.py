"""Endpoint caching (PROTOCOL.md §6) through the public fakes: TTLs on a fake clock, refresh on failure."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from autodiscover_client import (
    ConnectError,
    DiscoveryError,
    DiskCache,
    HttpRequest,
    HttpResponse,
    MemoryCache,
    Method,
    Outcome,
    RedirectReason,
    default_cache_dir,
    discover,
)
from autodiscover_client._cache import domain_key, ttl_seconds
from autodiscover_client._models import ProtocolSettings
from autodiscover_client.testing import (
    FakeClock,
    FakeResolver,
    FakeTransport,
    RecordingApprover,
    protocol_xml,
    redirect_addr_body,
    redirect_response,
    settings_body,
    unauthorized_response,
    xml_response,
)

ROOT = "https://example.com/autodiscover/autodiscover.xml"
AUTO = "https://autodiscover.example.com/autodiscover/autodiscover.xml"
EWS = "https://mail.example.com/EWS/Exchange.asmx"
SRV_NAME = "_autodiscover._tcp.example.com"
PASSWORD = "cache-test-password-5f1e"


def settings_with_ttl(ttl: int | None = None) -> bytes:
    extra = {"TTL": ttl} if ttl is not None else {}
    return settings_body(protocols=[protocol_xml("EXPR", Server="mail", EwsUrl=EWS, SSL="On", **extra)])


def run(transport: FakeTransport, cache: object, resolver: FakeResolver | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    return discover(
        kwargs.pop("email", "user@example.com"),  # type: ignore[arg-type]
        PASSWORD,
        resolver=resolver or FakeResolver(),
        transport=transport,
        cache=cache,  # type: ignore[arg-type]
        **kwargs,  # type: ignore[arg-type]
    )


def test_second_run_goes_straight_to_the_cached_endpoint() -> None:
    """After one discovery, the next address in the domain POSTs to the winner first and skips the dead ones."""
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    resolver = FakeResolver()
    transport = FakeTransport({AUTO: xml_response(settings_with_ttl())})
    first = run(transport, cache, resolver)
    assert Method.HTTPS_AUTODISCOVER == first.source.method
    before_requests, before_queries = len(transport.requests), len(resolver.queries)

    second = run(transport, cache, resolver, email="other@example.com")

    assert AUTO == second.source.url
    assert Method.HTTPS_AUTODISCOVER == second.source.method
    assert [AUTO] == [r.url for r in transport.requests[before_requests:]]
    assert before_queries == len(resolver.queries)  # no SRV lookup
    assert Outcome.CACHED == second.attempts[0].outcome
    assert "from the cache" in (second.attempts[0].error or "")
    assert Outcome.SETTINGS == second.attempts[-1].outcome
    assert EWS == second.ews_url


def test_no_cache_hit_for_the_first_address() -> None:
    """Without an entry, the trail has no cache note."""
    transport = FakeTransport({AUTO: xml_response(settings_with_ttl())})
    settings = run(transport, MemoryCache(clock=FakeClock()))
    assert all(a.outcome is not Outcome.CACHED for a in settings.attempts)


def test_failed_cached_endpoint_is_dropped_and_full_discovery_runs_once() -> None:
    """Learn "Refresh configuration": a cached endpoint that fails is dropped; full discovery runs once."""
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    cache.put(domain_key("outlook", "example.com"), Method.HTTPS_ROOT, ROOT, ttl=3600)
    transport = FakeTransport({ROOT: ConnectError("refused"), AUTO: xml_response(settings_with_ttl())})

    settings = run(transport, cache)

    assert AUTO == settings.source.url
    outcomes = [a.outcome for a in settings.attempts]
    assert [Outcome.CACHED, Outcome.CONNECT_ERROR, Outcome.CACHED] == outcomes[:3]
    assert "dropped" in (settings.attempts[2].error or "")
    assert 1 == sum(1 for r in transport.requests if r.url == ROOT)  # not retried by the full run
    entry = cache.get(domain_key("outlook", "example.com"))
    assert entry is not None
    assert AUTO == entry.url


def test_cached_endpoint_failure_with_nothing_else_drops_the_entry() -> None:
    """When full discovery also fails, the error's trail says the cache was tried, and the entry is gone."""
    cache = MemoryCache(clock=FakeClock())
    cache.put(domain_key("outlook", "example.com"), Method.HTTPS_AUTODISCOVER, AUTO, ttl=3600)
    with pytest.raises(DiscoveryError) as caught:
        run(FakeTransport(), cache)
    assert Outcome.CACHED == caught.value.attempts[0].outcome
    assert cache.get(domain_key("outlook", "example.com")) is None


def test_protocol_ttl_expires_the_entry() -> None:
    """A TTL of 2 hours keeps the entry 2 hours, then full discovery runs again."""
    clock = FakeClock()
    cache = MemoryCache(clock=clock)
    run(FakeTransport({AUTO: xml_response(settings_with_ttl(2))}), cache)
    key = domain_key("outlook", "example.com")
    clock.advance(2 * 3600 - 1)
    assert cache.get(key) is not None
    clock.advance(2)
    assert cache.get(key) is None


def test_ttl_zero_means_no_forced_refresh_but_max_age_caps_it() -> None:
    """TTL 0 is "no forced refresh", so only the caller's max age ends the entry."""
    clock = FakeClock()
    cache = MemoryCache(clock=clock, max_age=10 * 3600)
    run(FakeTransport({AUTO: xml_response(settings_with_ttl(0))}), cache)
    key = domain_key("outlook", "example.com")
    clock.advance(10 * 3600 - 1)
    assert cache.get(key) is not None
    clock.advance(1)
    assert cache.get(key) is None


def test_max_age_caps_a_long_ttl() -> None:
    """A TTL longer than max_age lasts only max_age."""
    clock = FakeClock()
    cache = MemoryCache(clock=clock, max_age=60)
    run(FakeTransport({AUTO: xml_response(settings_with_ttl(48))}), cache)
    clock.advance(60)
    assert cache.get(domain_key("outlook", "example.com")) is None


@pytest.mark.parametrize(
    ("ttls", "expected"),
    [((), 3600.0), ((None,), 3600.0), ((0,), None), ((0, 3), 3 * 3600.0), ((5, 2), 2 * 3600.0)],
)
def test_ttl_seconds(ttls: tuple[int | None, ...], expected: float | None) -> None:
    """The shortest positive TTL wins; all-zero is no limit; none given is the one-hour default."""
    protocols = [ProtocolSettings(type="EXPR", ttl=ttl) for ttl in ttls]
    assert expected == ttl_seconds(protocols)


def test_url_redirect_makes_the_entry_per_address() -> None:
    """An endpoint reached by a POST redirect may be per user: it is cached for that address only."""
    target = "https://mail.example.com/autodiscover/autodiscover.xml"
    transport = FakeTransport({AUTO: redirect_response(target), target: xml_response(settings_with_ttl())})
    cache = MemoryCache(clock=FakeClock())
    run(transport, cache)
    assert cache.get(domain_key("outlook", "example.com")) is None
    before = len(transport.requests)

    again = run(transport, cache)

    assert target == again.source.url
    assert [target] == [r.url for r in transport.requests[before:]]
    other = run(transport, cache, email="other@example.com")
    assert all(a.outcome is not Outcome.CACHED for a in other.attempts)


def test_address_redirect_is_not_cached() -> None:
    """After redirectAddr nothing is stored: the redirect's approval must be asked afresh next time."""
    transport = FakeTransport(
        {
            ("POST", AUTO): [
                xml_response(redirect_addr_body("user@sub.example.com")),
            ],
            "https://autodiscover.sub.example.com/autodiscover/autodiscover.xml": xml_response(settings_with_ttl()),
        }
    )
    cache = MemoryCache(clock=FakeClock())
    settings = run(transport, cache)
    assert "user@sub.example.com" == settings.email
    assert 0 == len(cache)


def test_redirect_addr_from_the_cached_endpoint_is_followed_not_dropped() -> None:
    """A redirectAddr answer from the cached endpoint is an answer: the domain entry stays."""
    cache = MemoryCache(clock=FakeClock())
    key = domain_key("outlook", "example.com")
    cache.put(key, Method.HTTPS_AUTODISCOVER, AUTO, ttl=3600)

    def answer(request: HttpRequest) -> HttpResponse:
        if b"moved@example.com" in request.body:
            return xml_response(redirect_addr_body("moved@sub.example.com"))
        return xml_response(settings_with_ttl())

    transport = FakeTransport(
        {
            AUTO: answer,
            "https://autodiscover.sub.example.com/autodiscover/autodiscover.xml": xml_response(settings_with_ttl()),
        }
    )
    settings = run(transport, cache, email="moved@example.com")
    assert "moved@sub.example.com" == settings.email
    assert cache.get(key) is not None


def test_cached_host_outside_the_domain_asks_the_approver_again() -> None:
    """A cached endpoint outside the mail domain is used only if the approver agrees this time too."""
    outside = "https://autodiscover.partner.net/autodiscover/autodiscover.xml"
    cache = MemoryCache(clock=FakeClock())
    cache.put(domain_key("outlook", "example.com"), Method.HTTPS_AUTODISCOVER, outside, ttl=3600)
    transport = FakeTransport({outside: unauthorized_response(), AUTO: xml_response(settings_with_ttl())})
    approver = RecordingApprover()

    settings = run(transport, cache, approve_redirect=approver)

    assert [RedirectReason.URL_REDIRECT] == [p.reason for p in approver.proposals]
    assert "autodiscover.partner.net" == approver.proposals[0].host
    assert outside not in [r.url for r in transport.requests]
    assert AUTO == settings.source.url
    assert () == transport.credentials_sent_to()


def test_cached_entry_for_a_method_not_in_use_is_ignored() -> None:
    """An SRV-only run does not jump to an endpoint found by another method."""
    cache = MemoryCache(clock=FakeClock())
    cache.put(domain_key("outlook", "example.com"), Method.HTTPS_AUTODISCOVER, AUTO, ttl=3600)
    transport = FakeTransport({AUTO: xml_response(settings_with_ttl())})
    with pytest.raises(DiscoveryError):
        run(transport, cache, methods=[Method.SRV])
    assert [] == [r.url for r in transport.requests]


def test_memory_cache_is_bounded() -> None:
    """The oldest entries go first once max_entries is reached."""
    cache = MemoryCache(clock=FakeClock(), max_entries=2)
    for n in range(3):
        cache.put(f"k{n}", Method.SRV, f"https://h{n}.example.com/x", ttl=60)
    assert cache.get("k0") is None
    assert cache.get("k2") is not None


def test_urls_with_user_info_are_never_cached(tmp_path: Path) -> None:
    """A URL that could carry a secret in its user info is not stored, in memory or on disk."""
    memory = MemoryCache(clock=FakeClock())
    disk = DiskCache(tmp_path / "c" / "e.json", clock=FakeClock(1000.0))
    for cache in (memory, disk):
        cache.put("k", Method.SRV, "https://user:pw@host.example.com/autodiscover/autodiscover.xml", ttl=60)
        cache.put("h", Method.SRV, "http://host.example.com/autodiscover/autodiscover.xml", ttl=60)
        assert cache.get("k") is None
        assert cache.get("h") is None


def test_disk_cache_round_trip_mode_and_ttl(tmp_path: Path) -> None:
    """The disk cache survives a new instance, has mode 0600 in a 0700 directory, and honours the TTL."""
    clock = FakeClock(1_700_000_000.0)
    path = tmp_path / "cache" / "endpoints.json"
    DiskCache(path, clock=clock).put("k", Method.HTTPS_ROOT, ROOT, ttl=100)
    entry = DiskCache(path, clock=clock).get("k")
    assert entry is not None
    assert (Method.HTTPS_ROOT, ROOT) == (entry.method, entry.url)
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    assert 0o700 == stat.S_IMODE(path.parent.stat().st_mode)
    assert [path.name] == os.listdir(path.parent)  # no temporary file left behind
    clock.advance(100)
    assert DiskCache(path, clock=clock).get("k") is None


def test_disk_cache_drop(tmp_path: Path) -> None:
    """drop() removes the entry from the file."""
    cache = DiskCache(tmp_path / "e.json", clock=FakeClock(5.0))
    cache.put("k", Method.SRV, ROOT, ttl=None)
    cache.drop("k")
    assert cache.get("k") is None
    assert {} == json.loads((tmp_path / "e.json").read_text())["entries"]


@pytest.mark.parametrize(
    "content",
    ["", "not json", "[]", '{"format": 99, "entries": {}}', '{"format": 1, "entries": {"k": {"method": "bogus"}}}'],
)
def test_disk_cache_ignores_a_damaged_file(tmp_path: Path, content: str) -> None:
    """A malformed file is an empty cache, and the next write replaces it."""
    path = tmp_path / "e.json"
    path.write_text(content)
    cache = DiskCache(path, clock=FakeClock(5.0))
    assert cache.get("k") is None
    cache.put("k", Method.SRV, ROOT, ttl=60)
    assert cache.get("k") is not None


def test_disk_cache_refuses_a_directory_others_can_write(tmp_path: Path) -> None:
    """A group- or world-writable cache directory is refused: the file would not be private."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with pytest.raises(OSError, match="writable by others"):
        DiskCache(shared / "e.json")


def test_disk_cache_never_holds_the_password(tmp_path: Path) -> None:
    """After an authenticated discovery, the cache file holds no password and no Authorization value."""
    cache = DiskCache(tmp_path / "e.json", clock=FakeClock(1000.0))
    challenge = [unauthorized_response(), xml_response(settings_with_ttl())]
    transport = FakeTransport({AUTO: challenge})
    settings = run(transport, cache)
    assert ("https://autodiscover.example.com/autodiscover/autodiscover.xml",) == transport.credentials_sent_to()
    text = (tmp_path / "e.json").read_text()
    assert AUTO in text
    assert PASSWORD not in text
    assert "Basic " not in text
    assert settings.ews_url == EWS


def test_default_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """$XDG_CACHE_HOME is used when absolute, else ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert tmp_path / "autodiscover-client" == default_cache_dir()
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")
    assert Path.home() / ".cache" / "autodiscover-client" == default_cache_dir()


def test_a_v2_answer_is_not_cached() -> None:
    """A V2 JSON answer names a URL, not a POX endpoint to replay: nothing is stored."""
    from autodiscover_client import V2Endpoint, parse_email
    from autodiscover_client._cache import endpoint_key
    from autodiscover_client._flow import Found
    from autodiscover_client._pox import Schema, SettingsDocument

    v2 = V2Endpoint(protocol="Ews", url=EWS)
    found = Found(
        document=SettingsDocument(schema=Schema.OUTLOOK),
        method=Method.V2_JSON,
        url=AUTO,
        email="user@example.com",
        v2=v2,
    )
    plain = Found(
        document=SettingsDocument(schema=Schema.OUTLOOK),
        method=Method.HTTPS_AUTODISCOVER,
        url=AUTO,
        email="user@example.com",
    )
    address = parse_email("user@example.com")
    assert endpoint_key("outlook", address, found, ()) is None
    assert domain_key("outlook", "example.com") == endpoint_key("outlook", address, plain, ())


def test_disk_cache_sees_another_processes_write(tmp_path: Path) -> None:
    """Two instances on one file (two processes, say) see each other's entries."""
    path = tmp_path / "e.json"
    first, second = DiskCache(path, clock=FakeClock(5.0)), DiskCache(path, clock=FakeClock(5.0))
    assert first.get("k") is None
    second.put("k", Method.SRV, ROOT, ttl=60)
    entry = first.get("k")
    assert entry is not None
    assert ROOT == entry.url
    first.drop("k")
    assert second.get("k") is None


def test_cache_arguments_are_checked(tmp_path: Path) -> None:
    """A max_age that is not a number, or a DiskCache path that is a directory, is a clear ValueError."""
    from autodiscover_client import DiskCache, MemoryCache

    with pytest.raises(ValueError, match="max_age"):
        MemoryCache(max_age="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="is a directory"):
        DiskCache(tmp_path)
