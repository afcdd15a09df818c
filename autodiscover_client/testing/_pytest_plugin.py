"""pytest plugin (entry point ``pytest11``): fixtures built from ``autodiscover_client.testing``.

``autodiscover_fake`` gives wired-together fakes; ``autodiscover_dns`` and ``autodiscover_server`` give
real local servers and need the ``testing`` extra (trustme).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from autodiscover_client.testing._fakes import FakeClock, FakeResolver, FakeTransport

if TYPE_CHECKING:
    from autodiscover_client.testing._dns_server import LocalDnsServer
    from autodiscover_client.testing._https_server import LocalAutodiscoverServer


@dataclasses.dataclass(frozen=True, slots=True)
class FakeKit:
    """A fake resolver, transport and clock sharing one fake time line."""

    resolver: FakeResolver
    transport: FakeTransport
    clock: FakeClock


@pytest.fixture
def autodiscover_fake() -> FakeKit:
    """Empty fakes: add SRV data to ``resolver.srv`` and routes by building your own ``FakeTransport``."""
    clock = FakeClock()
    return FakeKit(resolver=FakeResolver(), transport=FakeTransport(clock=clock), clock=clock)


@pytest.fixture
def autodiscover_dns() -> Iterator[LocalDnsServer]:
    """A running :class:`LocalDnsServer` on a free loopback port."""
    from autodiscover_client.testing._dns_server import LocalDnsServer

    with LocalDnsServer() as server:
        yield server


@pytest.fixture
def autodiscover_server() -> Iterator[LocalAutodiscoverServer]:
    """A running :class:`LocalAutodiscoverServer` (HTTPS on loopback with a throwaway CA)."""
    pytest.importorskip("trustme", reason="autodiscover_server needs the testing extra (trustme)")
    from autodiscover_client.testing._https_server import LocalAutodiscoverServer

    with LocalAutodiscoverServer() as server:
        yield server
