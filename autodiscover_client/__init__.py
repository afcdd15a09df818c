"""Find a mail account's server settings the way Microsoft Outlook does (Autodiscover), safely.

Examples:
    >>> from autodiscover_client import discover
    >>> settings = discover("user@example.com", "password")  # doctest: +SKIP
    >>> settings.ews_url  # doctest: +SKIP
    'https://mail.example.com/EWS/Exchange.asmx'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._address import EmailAddress, parse_email
from ._api import Discoverer, discover
from ._cache import Cache, CachedEndpoint, DiskCache, MemoryCache, default_cache_dir
from ._errors import (
    AuthenticationError,
    AutodiscoverError,
    ConnectError,
    DeadlineExceededError,
    DiscoveryError,
    InvalidArgumentError,
    InvalidCredentialsError,
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

if TYPE_CHECKING:
    from ._batch import BatchProgress, BatchResult, BatchResults, BatchStats, CredentialSource, discover_many
    from ._dns import DnspythonResolver
    from ._http import RequestsTransport
    from ._ldap import Ldap3ScpSource

__all__ = [
    "DEFAULT_ORDER",
    "MICROSOFT365_HOSTS",
    "MICROSOFT_ORDER",
    "POINTER_KEYWORD",
    "URL_KEYWORD",
    "AlternativeMailbox",
    "Attempt",
    "AuthenticationError",
    "AutodiscoverError",
    "BasicCredentials",
    "BatchProgress",
    "BatchResult",
    "BatchResults",
    "BatchStats",
    "BearerCredentials",
    "Cache",
    "CachedEndpoint",
    "Clock",
    "ConnectError",
    "CredentialSource",
    "Credentials",
    "DeadlineExceededError",
    "Discoverer",
    "DiscoveryError",
    "DiskCache",
    "DnspythonResolver",
    "EmailAddress",
    "ErrorDocument",
    "HttpRequest",
    "HttpResponse",
    "InvalidArgumentError",
    "InvalidCredentialsError",
    "InvalidEmailError",
    "InvalidResponseError",
    "Ldap3ScpSource",
    "MapiEndpoint",
    "MemoryCache",
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
    "default_cache_dir",
    "deny_all",
    "discover",
    "discover_many",
    "parse_email",
    "parse_response",
    "parse_v2_response",
]


_BATCH_NAMES = frozenset(
    {"BatchProgress", "BatchResult", "BatchResults", "BatchStats", "CredentialSource", "discover_many"}
)


def __getattr__(name: str) -> Any:
    # The default adapters import dnspython and requests, and batch discovery a thread pool: load them
    # on first use, so that `import autodiscover_client` stays light (benchmarks/bench_import.py).
    if name in _BATCH_NAMES:
        from . import _batch

        return getattr(_batch, name)
    if name == "DnspythonResolver":
        from ._dns import DnspythonResolver

        return DnspythonResolver
    if name == "Ldap3ScpSource":
        from ._ldap import Ldap3ScpSource

        return Ldap3ScpSource
    if name == "RequestsTransport":
        from ._http import RequestsTransport

        return RequestsTransport
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
