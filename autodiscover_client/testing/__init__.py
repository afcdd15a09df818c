"""Test doubles and local servers for code that uses ``autodiscover_client``.

The fakes and builders need nothing beyond the package itself, never touch the network and never
sleep: :class:`FakeResolver`, :class:`FakeTransport`, :class:`FakeClock`, :class:`RecordingApprover`,
wired together as a :class:`FakeKit` and set up fluently with :class:`Scenario`.

The local servers (:class:`LocalDnsServer`, :class:`LocalAutodiscoverServer`, and both wired together
as :class:`LocalAutodiscover`) listen on loopback only. The HTTPS ones need the ``testing`` extra
(trustme): ``pip install 'autodiscover-client[testing]'``. They are imported only when first used, so
this module imports without trustme and without pytest.

The pytest plugin (loaded automatically) offers them as the fixtures ``autodiscover_fake`` and
``autodiscover_server``. See ``docs/testing.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._builders import (
    error_body,
    exchange_xml,
    html_response,
    mail_xml,
    mobilesync_body,
    protocol_xml,
    redirect_addr_body,
    redirect_response,
    redirect_url_body,
    require_basic_auth,
    settings_body,
    unauthorized_response,
    web_xml,
    xml_response,
)
from ._directory import FakeScpSource, scp_pointer, scp_url
from ._fakes import FakeClock, FakeResolver, FakeTransport, RecordingApprover, SentRequest
from ._scenario import DiscoverKwargs, FakeKit, Scenario, SeamKwargs

if TYPE_CHECKING:
    from ._dead_hosts import BlackHole, SilentHost
    from ._dns_server import LocalDnsServer
    from ._https_server import (
        Endpoint,
        LocalAutodiscoverServer,
        RecordedRequest,
        ServerResponse,
        endless_body,
        reset_connection,
        sequence,
        stall,
        trickle,
    )
    from ._local import LocalAutodiscover, refused_port

__all__ = [
    "BlackHole",
    "DiscoverKwargs",
    "Endpoint",
    "FakeClock",
    "FakeKit",
    "FakeResolver",
    "FakeScpSource",
    "FakeTransport",
    "LocalAutodiscover",
    "LocalAutodiscoverServer",
    "LocalDnsServer",
    "RecordedRequest",
    "RecordingApprover",
    "Scenario",
    "SeamKwargs",
    "SentRequest",
    "ServerResponse",
    "SilentHost",
    "endless_body",
    "error_body",
    "exchange_xml",
    "html_response",
    "mail_xml",
    "mobilesync_body",
    "protocol_xml",
    "redirect_addr_body",
    "redirect_response",
    "redirect_url_body",
    "refused_port",
    "require_basic_auth",
    "reset_connection",
    "scp_pointer",
    "scp_url",
    "sequence",
    "settings_body",
    "stall",
    "trickle",
    "unauthorized_response",
    "web_xml",
    "xml_response",
]

# The servers import dnspython's wire API and trustme: load them only when asked for.
_LAZY = {
    "BlackHole": "._dead_hosts",
    "SilentHost": "._dead_hosts",
    "LocalDnsServer": "._dns_server",
    "Endpoint": "._https_server",
    "LocalAutodiscoverServer": "._https_server",
    "RecordedRequest": "._https_server",
    "ServerResponse": "._https_server",
    "endless_body": "._https_server",
    "reset_connection": "._https_server",
    "sequence": "._https_server",
    "stall": "._https_server",
    "trickle": "._https_server",
    "LocalAutodiscover": "._local",
    "refused_port": "._local",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        loaded = importlib.import_module(module, __name__)
    except ImportError as exc:
        raise ImportError(
            f"autodiscover_client.testing.{name} needs the testing extra ({exc.name} is missing): "
            "pip install 'autodiscover-client[testing]'",
            name=exc.name,
        ) from exc
    return getattr(loaded, name)
