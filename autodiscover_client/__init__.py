"""Find a mail account's server settings the way Microsoft Outlook does (Autodiscover), safely.

>>> from autodiscover_client import discover
>>> settings = discover("user@example.com", "password")  # doctest: +SKIP
>>> settings.ews_url  # doctest: +SKIP
'https://mail.example.com/EWS/Exchange.asmx'
"""

from __future__ import annotations

from ._address import EmailAddress, parse_email
from ._api import Discoverer, discover
from ._dns import DnspythonResolver
from ._errors import (
    AuthenticationError,
    AutodiscoverError,
    ConnectError,
    DeadlineExceededError,
    DiscoveryError,
    InvalidEmailError,
    InvalidResponseError,
    RedirectDeniedError,
    ResolverError,
    ResolverTimeoutError,
    ResponseTooLargeError,
    TLSError,
    TransportError,
    TransportTimeoutError,
)
from ._http import RequestsTransport
from ._models import (
    DEFAULT_ORDER,
    MICROSOFT_ORDER,
    AlternativeMailbox,
    Attempt,
    MapiEndpoint,
    Method,
    MobileSyncServer,
    NetworkRequirements,
    Outcome,
    OwaUrl,
    ProtocolSettings,
    Security,
    Settings,
    Source,
    User,
    WebEndpoint,
)
from ._policy import MICROSOFT365_HOSTS, RedirectApprover, RedirectProposal, RedirectReason, deny_all
from ._pox import (
    ErrorDocument,
    RedirectAddressDocument,
    RedirectUrlDocument,
    Schema,
    SettingsDocument,
    build_request,
    parse_response,
)
from ._seams import BasicCredentials, Clock, HttpRequest, HttpResponse, Resolver, SrvRecord, Transport
from ._version import __version__

__all__ = [
    "DEFAULT_ORDER",
    "MICROSOFT365_HOSTS",
    "MICROSOFT_ORDER",
    "AlternativeMailbox",
    "Attempt",
    "AuthenticationError",
    "AutodiscoverError",
    "BasicCredentials",
    "Clock",
    "ConnectError",
    "DeadlineExceededError",
    "Discoverer",
    "DiscoveryError",
    "DnspythonResolver",
    "EmailAddress",
    "ErrorDocument",
    "HttpRequest",
    "HttpResponse",
    "InvalidEmailError",
    "InvalidResponseError",
    "MapiEndpoint",
    "Method",
    "MobileSyncServer",
    "NetworkRequirements",
    "Outcome",
    "OwaUrl",
    "ProtocolSettings",
    "RedirectAddressDocument",
    "RedirectApprover",
    "RedirectDeniedError",
    "RedirectProposal",
    "RedirectReason",
    "RedirectUrlDocument",
    "RequestsTransport",
    "Resolver",
    "ResolverError",
    "ResolverTimeoutError",
    "ResponseTooLargeError",
    "Schema",
    "Security",
    "Settings",
    "SettingsDocument",
    "Source",
    "SrvRecord",
    "TLSError",
    "Transport",
    "TransportError",
    "TransportTimeoutError",
    "User",
    "WebEndpoint",
    "__version__",
    "build_request",
    "deny_all",
    "discover",
    "parse_email",
    "parse_response",
]
