"""Test doubles and local servers for code that uses ``autodiscover_client``.

The fakes need nothing beyond the package itself. The local servers (:class:`LocalDnsServer`,
:class:`LocalAutodiscoverServer`) need the ``testing`` extra: ``pip install 'autodiscover-client[testing]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._builders import (
    error_body,
    html_response,
    mobilesync_body,
    protocol_xml,
    redirect_addr_body,
    redirect_response,
    redirect_url_body,
    settings_body,
    unauthorized_response,
    xml_response,
)
from ._directory import FakeScpSource, scp_pointer, scp_url
from ._fakes import FakeClock, FakeResolver, FakeTransport, RecordingApprover, SentRequest

if TYPE_CHECKING:
    from ._dns_server import LocalDnsServer
    from ._https_server import LocalAutodiscoverServer

__all__ = [
    "FakeClock",
    "FakeResolver",
    "FakeScpSource",
    "FakeTransport",
    "LocalAutodiscoverServer",
    "LocalDnsServer",
    "RecordingApprover",
    "SentRequest",
    "error_body",
    "html_response",
    "mobilesync_body",
    "protocol_xml",
    "redirect_addr_body",
    "redirect_response",
    "redirect_url_body",
    "scp_pointer",
    "scp_url",
    "settings_body",
    "unauthorized_response",
    "xml_response",
]


def __getattr__(name: str) -> Any:
    # The servers import dnspython's wire API and trustme: load them only when asked for.
    if name == "LocalDnsServer":
        from ._dns_server import LocalDnsServer

        return LocalDnsServer
    if name == "LocalAutodiscoverServer":
        from ._https_server import LocalAutodiscoverServer

        return LocalAutodiscoverServer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
