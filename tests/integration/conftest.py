"""Shared fixtures: a real DNS server and real HTTPS hosts on loopback, plus the default adapters."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from autodiscover_client import DnspythonResolver
from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer


@pytest.fixture
def dns_server() -> Iterator[LocalDnsServer]:
    with LocalDnsServer() as server:
        yield server


@pytest.fixture
def web() -> Iterator[LocalAutodiscoverServer]:
    with LocalAutodiscoverServer() as server:
        yield server


@pytest.fixture
def resolver(dns_server: LocalDnsServer) -> DnspythonResolver:
    return dns_server.resolver(timeout=2.0)
