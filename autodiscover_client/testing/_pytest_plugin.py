"""pytest plugin (entry point ``pytest11``): fixtures built from ``autodiscover_client.testing``.

- ``autodiscover_fake``: a :class:`Scenario` for ``example.com`` on fresh fakes (no I/O at all).
- ``autodiscover_server``: a running :class:`LocalAutodiscover` (DNS and HTTPS on loopback).
- ``autodiscover_dns``: a running :class:`LocalDnsServer` on its own.

pytest loads this module for everyone who installs the package, so it imports nothing beyond the
package and pytest: the fixtures that need the ``testing`` extra (trustme) skip, with a reason
naming the extra, when it is missing, and the rest of the user's suite is unaffected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from autodiscover_client.testing._scenario import FakeKit, Scenario

if TYPE_CHECKING:
    from autodiscover_client.testing._dns_server import LocalDnsServer
    from autodiscover_client.testing._local import LocalAutodiscover

__all__ = ["FakeKit", "autodiscover_dns", "autodiscover_fake", "autodiscover_server"]

_EXTRA_MISSING = (
    "needs the autodiscover-client[testing] extra (trustme is not installed): "
    "pip install 'autodiscover-client[testing]'"
)


@pytest.fixture
def autodiscover_fake() -> Scenario:
    """Fresh fakes for ``example.com``: a :class:`Scenario` with ``resolver``, ``transport``, ``clock``, ``approver``.

    Every URL refuses connections until you say otherwise; pass ``**autodiscover_fake.discover_kwargs()``
    to ``discover()``, or ``**autodiscover_fake.seams()`` (resolver and transport) to your own code.
    """
    return Scenario("example.com")


@pytest.fixture
def autodiscover_dns() -> Iterator[LocalDnsServer]:
    """A running :class:`LocalDnsServer` on a free loopback port; ``.resolver()`` asks it."""
    from autodiscover_client.testing._dns_server import LocalDnsServer

    with LocalDnsServer() as server:
        yield server


@pytest.fixture
def autodiscover_server() -> Iterator[LocalAutodiscover]:
    """A running :class:`LocalAutodiscover`: DNS and HTTPS hosts on loopback with a throwaway CA.

    Add hosts with ``add_host()``, then pass ``**autodiscover_server.discover_kwargs()`` to ``discover()``.
    """
    try:
        from autodiscover_client.testing._local import LocalAutodiscover
    except ImportError as exc:
        if exc.name != "trustme":
            raise  # anything else missing is a broken install, not a missing extra: say so loudly
        pytest.skip(f"autodiscover_server {_EXTRA_MISSING}")

    with LocalAutodiscover() as network:
        yield network
