"""Find a mail account's server settings the way Microsoft Outlook does (Autodiscover), safely.

Examples:
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
from ._ldap import Ldap3ScpSource
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
from ._policy import RedirectApprover, RedirectProposal, RedirectReason, deny_all
from ._pox import (
    ErrorDocument,
    RedirectAddressDocument,
    RedirectUrlDocument,
    Schema,
    SettingsDocument,
    build_request,
    parse_response,
)
from ._scp import POINTER_KEYWORD, URL_KEYWORD
from ._seams import (
    BasicCredentials,
    BearerCredentials,
    Clock,
    Credentials,
    HttpRequest,
    HttpResponse,
    NtlmCredentials,
    Resolver,
    ScpRecord,
    ScpSource,
    SrvRecord,
    Transport,
)
from ._v2 import V2Endpoint, V2Error, V2Protocol, parse_v2_response
from ._version import __version__

__all__ = [
    "DEFAULT_ORDER",
    "MICROSOFT_ORDER",
    "POINTER_KEYWORD",
    "URL_KEYWORD",
    "AlternativeMailbox",
    "Attempt",
    "AuthenticationError",
    "AutodiscoverError",
    "BasicCredentials",
    "BearerCredentials",
    "Clock",
    "ConnectError",
    "Credentials",
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
    "Ldap3ScpSource",
    "MapiEndpoint",
    "Method",
    "MobileSyncServer",
    "NetworkRequirements",
    "NtlmCredentials",
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
    "ScpRecord",
    "ScpSource",
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
    "V2Endpoint",
    "V2Error",
    "V2Protocol",
    "WebEndpoint",
    "__version__",
    "build_request",
    "deny_all",
    "discover",
    "parse_email",
    "parse_response",
    "parse_v2_response",
]
