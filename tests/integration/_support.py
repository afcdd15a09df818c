"""Helpers shared by the integration tests."""

from __future__ import annotations

from autodiscover_client import DnspythonResolver, RequestsTransport
from autodiscover_client.testing import LocalAutodiscoverServer


def transport_for(web: LocalAutodiscoverServer, resolver: DnspythonResolver) -> RequestsTransport:
    """The default transport, trusting the test CA, reaching port-443/80 names through the overrides.

    Build it after adding hosts: the overrides are copied when the transport is made.
    """
    return RequestsTransport(ca_bundle=web.ca_bundle, connect_to=web.connect_overrides, resolver=resolver)
