"""Helpers shared by the integration tests.

Kept for tests written before the kit grew ``LocalAutodiscoverServer.transport()``: new tests call
``web.transport(resolver=resolver)`` (or use ``LocalAutodiscover``) directly.
"""

from __future__ import annotations

from autodiscover_client import DnspythonResolver, RequestsTransport
from autodiscover_client.testing import LocalAutodiscoverServer


def transport_for(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> RequestsTransport:
    """The kit's transport for ``web``, resolving other names with ``resolver``; closed with the server."""
    return web.transport(resolver=resolver)
