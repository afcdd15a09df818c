"""Frozen result types: settings, protocols, attempts, and the enums that name closed sets."""

from __future__ import annotations

import dataclasses
import enum
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from ._urls import url_refusal


class Method(enum.Enum):
    """A way of finding an Autodiscover endpoint (DESIGN §3, PROTOCOL.md §1)."""

    SRV = "srv"
    """DNS SRV ``_autodiscover._tcp.<domain>`` (MS-OXDISCO §3.1.5.3, RFC 2782)."""
    HTTPS_ROOT = "https_root"
    """POST ``https://<domain>/autodiscover/autodiscover.xml``."""
    HTTPS_AUTODISCOVER = "https_autodiscover"
    """POST ``https://autodiscover.<domain>/autodiscover/autodiscover.xml``."""
    HTTP_REDIRECT = "http_redirect"
    """Unauthenticated GET ``http://autodiscover.<domain>/…``, used only when it redirects to https."""
    V2_JSON = "v2_json"
    """Autodiscover V2: unauthenticated GET ``…/autodiscover/autodiscover.json/v1.0/<address>?Protocol=…``.

    Off by default; when enabled it goes first, as Microsoft 365 apps do (PROTOCOL.md §7). Its 200/302
    difference reveals whether a mailbox exists: never run it for addresses from untrusted input.
    """
    SCP = "scp"
    """Active Directory service connection points (MS-OXDISCO §3.1.5.1); needs an ``ScpSource``.

    Off by default; when enabled its URLs are tried before the domain-derived candidates.
    """


DEFAULT_ORDER: tuple[Method, ...] = (
    Method.SRV,
    Method.HTTPS_ROOT,
    Method.HTTPS_AUTODISCOVER,
    Method.HTTP_REDIRECT,
)
"""The mission's order: SRV first, then the two https URLs, then the plain-http redirect probe."""

MICROSOFT_ORDER: tuple[Method, ...] = (
    Method.HTTPS_ROOT,
    Method.HTTPS_AUTODISCOVER,
    Method.HTTP_REDIRECT,
    Method.SRV,
)
"""The order Microsoft documents for Outlook and the EWS Managed API: SRV is the last resort."""


class Outcome(enum.Enum):
    """What one attempt came to."""

    SETTINGS = "settings"
    """The endpoint answered with settings: discovery is done."""
    REDIRECT_ADDRESS = "redirect_address"
    """The endpoint sent another address (``redirectAddr``); discovery restarts for it."""
    REDIRECT_URL = "redirect_url"
    """The endpoint sent another URL (HTTP 30x or ``redirectUrl``), which was followed."""
    NO_RECORDS = "no_records"
    """The SRV lookup found no usable record."""
    SERVER_ERROR = "server_error"
    """The endpoint answered with an Autodiscover ``Error`` (500, 501, 600 … or any other code)."""
    HTTP_ERROR = "http_error"
    """The endpoint answered with an HTTP status that is not a usable answer (404, 405, 5xx …)."""
    UNAUTHORIZED = "unauthorized"
    """The endpoint asked for credentials that could not be sent, or rejected the ones sent."""
    INVALID_RESPONSE = "invalid_response"
    """The body was not an Autodiscover document (HTML, empty, malformed, forbidden XML)."""
    CONNECT_ERROR = "connect_error"
    """The connection could not be made."""
    TLS_ERROR = "tls_error"
    """TLS failed, or the certificate did not verify."""
    TIMEOUT = "timeout"
    """A connect, read or DNS lookup timed out, or the overall deadline passed."""
    TOO_LARGE = "too_large"
    """The response exceeded a size cap."""
    DNS_ERROR = "dns_error"
    """The DNS lookup failed (SERVFAIL, refused, malformed answer)."""
    DIRECTORY_ERROR = "directory_error"
    """The Active Directory (SCP) look-up failed, or no ``ScpSource`` was configured."""
    REDIRECT_DENIED = "redirect_denied"
    """A redirect was refused: not https, outside the mail domain and not approved, or a bad path."""
    REDIRECT_LOOP = "redirect_loop"
    """A redirect led back to a URL or address already visited in this run."""
    REDIRECT_LIMIT = "redirect_limit"
    """The run's budget of redirect hops (10) was used up."""
    ABANDONED = "abandoned"
    """Still in flight when a lower-priority candidate had answered ``patience`` seconds earlier: not a failure."""
    CACHED = "cached"
    """A note, not a request: a cached endpoint was tried first, or was dropped because it failed."""


class Security(enum.Enum):
    """How a mail protocol's connection is protected, normalised from ``SSL`` and ``Encryption``."""

    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """One step of discovery, as recorded in the trail. Never holds headers or secrets.

    Attributes:
        method: The method this attempt belongs to.
        url: The URL contacted, or for SRV the DNS name queried.
        outcome: What the attempt came to.
        email: The address being discovered when the attempt was made (changes after ``redirectAddr``).
        status: The HTTP status, if a response arrived.
        error: A human-readable explanation of a failure (or of the redirect taken).
        elapsed: Seconds spent on this attempt.
        authenticated: Whether credentials were sent in this attempt.
        authorization_uri: From a 401's ``WWW-Authenticate: Bearer … authorization_uri="…"``: where
            the caller can obtain an OAuth token for this endpoint (PROTOCOL.md §5).
        redirect_target: Where a redirect pointed, for the redirect outcomes: the URL (HTTP 30x,
            ``redirectUrl``, an SRV target) or the address (``redirectAddr``), as resolved.
        denied_host: For ``REDIRECT_DENIED`` only when the redirect policy said no: the host (for
            ``redirectAddr``, the domain) that ``allowed_hosts`` or the approver could allow. ``None``
            for refusals no approval lifts (plain http, a malformed URL, a wrong path).
    """

    method: Method
    url: str
    outcome: Outcome
    email: str = ""
    status: int | None = None
    error: str | None = None
    elapsed: float = 0.0
    authenticated: bool = False
    authorization_uri: str | None = None
    redirect_target: str | None = None
    denied_host: str | None = None

    def describe(self) -> str:
        """Return one line for humans: method, URL, outcome, status and explanation."""
        status = f" HTTP {self.status}" if self.status is not None else ""
        auth = " (with credentials)" if self.authenticated else ""
        detail = f": {self.error}" if self.error else ""
        token = f" (a token is available from {self.authorization_uri})" if self.authorization_uri else ""
        return f"{self.method.name} {self.url}{auth} -> {self.outcome.value}{status}{detail}{token}"

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data."""
        return to_plain(self)  # type: ignore[no-any-return]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """Which method and URL produced the settings."""

    method: Method
    url: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class User:
    """The ``User`` block of an Outlook response (PROTOCOL.md §3.2); mobilesync fills name and address."""

    display_name: str | None = None
    legacy_dn: str | None = None
    deployment_id: str | None = None
    autodiscover_smtp_address: str | None = None
    email_address: str | None = None


def is_web_url(text: str | None) -> bool:
    """Whether ``text`` is a well-formed absolute ``http``/``https`` URL with a host.

    It says nothing about trust. Published responses do hold broken URLs: MS-OXDSCLI §4.4 prints
    ``https:/Internal.mail.Example.com/owa`` (corpus 02), and Z-Push sends an empty ``Url`` (corpus 15).
    The reading is the strict one of :func:`~autodiscover_client._urls.url_refusal`, so that a URL
    called well-formed here names the same host for every parser that later connects to it.
    """
    if not text or url_refusal(text) is not None:
        return False
    return text[len(urlsplit(text).scheme) :].startswith("://")


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class OwaUrl:
    """An ``OWAUrl`` with the authentication methods from its ``AuthenticationMethod`` attribute."""

    url: str
    authentication_method: str | None = None

    @property
    def authentication_methods(self) -> tuple[str, ...]:
        """The comma-separated methods as a tuple, e.g. ``("Basic", "Fba")``."""
        raw = self.authentication_method or ""
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    @property
    def url_is_valid(self) -> bool:
        """Whether ``url`` is a well-formed http(s) URL; a broken one is kept, never dropped (corpus 02)."""
        return is_web_url(self.url)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class WebEndpoint:
    """An ``Internal`` or ``External`` block of a ``WEB`` protocol."""

    owa_urls: tuple[OwaUrl, ...] = ()
    protocol_type: str | None = None
    as_url: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MapiEndpoint:
    """A ``MailStore`` or ``AddressBook`` block of a ``mapiHttp`` protocol."""

    internal_url: str | None = None
    external_url: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class NetworkRequirements:
    """The ISP address range a ``Protocol`` applies to (``NetworkRequirements``)."""

    ipv4_start: str | None = None
    ipv4_end: str | None = None
    ipv6_start: str | None = None
    ipv6_end: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ProtocolSettings:
    """One ``Protocol`` element, with every documented child typed (PROTOCOL.md §3.5).

    Absent elements are ``None``; their documented defaults are not filled in, except in the
    normalised ``security``. ``elements`` keeps every simple child, known or not, as
    ``(local name, text)`` in document order, and flattens unknown blocks to their leaves as
    ``("Block/Leaf", text)``, so nothing the server sent is lost.
    """

    type: str
    version: str | None = None
    server: str | None = None
    server_dn: str | None = None
    server_version: str | None = None
    mdb_dn: str | None = None
    public_folder_server: str | None = None
    ad: str | None = None
    port: int | None = None
    directory_port: int | None = None
    referral_port: int | None = None
    as_url: str | None = None
    ews_url: str | None = None
    emws_url: str | None = None
    ews_partner_url: str | None = None
    sharing_url: str | None = None
    ecp_url: str | None = None
    ecp_url_um: str | None = None
    ecp_url_aggr: str | None = None
    ecp_url_mt: str | None = None
    ecp_url_ret: str | None = None
    ecp_url_sms: str | None = None
    ecp_url_publish: str | None = None
    ecp_url_photo: str | None = None
    ecp_url_connect: str | None = None
    ecp_url_tm: str | None = None
    ecp_url_tm_creating: str | None = None
    ecp_url_tm_hiding: str | None = None
    ecp_url_tm_editing: str | None = None
    ecp_url_extinstall: str | None = None
    oof_url: str | None = None
    um_url: str | None = None
    oab_url: str | None = None
    login_name: str | None = None
    domain_required: bool | None = None
    domain_name: str | None = None
    spa: bool | None = None
    auth_package: str | None = None
    cert_principal_name: str | None = None
    ssl: str | None = None
    encryption: str | None = None
    security: Security | None = None
    security_conflict: bool = False
    auth_required: bool | None = None
    use_pop_auth: bool | None = None
    smtp_last: bool | None = None
    ttl: int | None = None
    grouping_information: str | None = None
    server_exclusive_connect: bool | None = None
    network_requirements: NetworkRequirements | None = None
    internal: WebEndpoint | None = None
    external: WebEndpoint | None = None
    mail_store: MapiEndpoint | None = None
    address_book: MapiEndpoint | None = None
    elements: tuple[tuple[str, str], ...] = ()

    @property
    def server_version_info(self) -> tuple[int, int, int] | None:
        """``ServerVersion`` decoded to ``(major, minor, build)``, e.g. ``73C08204`` -> ``(15, 0, 516)``.

        The value is 32 bits of hex: 4 bits structure version, 6 major, 6 minor, 1 flag, 15 build
        (PROTOCOL.md §3.5).
        """
        text = (self.server_version or "").strip()
        # Exactly 8 hex digits: int(..., 16) alone would also take "0x…", "+…" and "7_3".
        if len(text) != 8 or not all(ch in string.hexdigits for ch in text):
            return None
        value = int(text, 16)
        return ((value >> 22) & 0x3F, (value >> 16) & 0x3F, value & 0x7FFF)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class AlternativeMailbox:
    """An ``AlternativeMailbox`` entry (delegate, archive, team mailbox …)."""

    type: str | None = None
    display_name: str | None = None
    smtp_address: str | None = None
    owner_smtp_address: str | None = None
    legacy_dn: str | None = None
    server: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MobileSyncServer:
    """A mobilesync ``Server``: ``MobileSync`` (the ActiveSync URL) or ``CertEnroll`` (MS-ASCMD §2.2.3)."""

    type: str
    url: str | None = None
    name: str | None = None
    server_data: str | None = None

    @property
    def url_is_valid(self) -> bool:
        """Whether ``url`` is a well-formed http(s) URL: an empty ``Url`` is no usable endpoint (corpus 15)."""
        return is_web_url(self.url)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """What discovery found: the typed settings, where they came from, and the trail.

    Attributes:
        email: The final address, after any ``redirectAddr``.
        user: The user block, if the response had one.
        protocols: One entry per ``Protocol`` element, in document order.
        mobilesync_servers: The servers of a mobilesync response.
        microsoft_online: ``MicrosoftOnline`` (mailbox hosted in Exchange Online), if sent.
        alternative_mailboxes: ``AlternativeMailbox`` entries.
        public_folder_smtp_address: ``PublicFolderInformation/SmtpAddress``, if sent.
        schema: ``"outlook"``, ``"mobilesync"`` or ``"v2"``: the kind of response that answered.
        source: The method and URL that answered.
        attempts: Every attempt of the run, in order.
        v2_protocol: For an Autodiscover V2 answer (``Protocol=Ews`` or ``ActiveSync``): the protocol
            the server named. V2 carries one URL and nothing else (PROTOCOL.md §7).
        v2_url: The URL of that V2 answer.

    URLs that use plain ``http://`` are kept as sent but listed in :attr:`insecure_urls`, and the
    convenience accessors (:attr:`ews_url`, :attr:`activesync_url`) never return one.
    """

    email: str
    source: Source
    user: User | None = None
    protocols: tuple[ProtocolSettings, ...] = ()
    mobilesync_servers: tuple[MobileSyncServer, ...] = ()
    microsoft_online: bool | None = None
    alternative_mailboxes: tuple[AlternativeMailbox, ...] = ()
    public_folder_smtp_address: str | None = None
    schema: str = "outlook"
    attempts: tuple[Attempt, ...] = ()
    v2_protocol: str | None = None
    v2_url: str | None = None

    def protocol(self, type_: str) -> ProtocolSettings | None:
        """Return the first protocol of this type (case-insensitive), or ``None``."""
        wanted = type_.casefold()
        return next((p for p in self.protocols if p.type.casefold() == wanted), None)

    @property
    def exchange(self) -> ProtocolSettings | None:
        """The external Exchange protocol (``EXPR``), else the internal one (``EXCH``)."""
        return self.protocol("EXPR") or self.protocol("EXCH")

    @property
    def ews_url(self) -> str | None:
        """The EWS URL: ``EXPR``'s, else ``EXCH``'s (PROTOCOL.md §3.4: "EXPR is meant for EWS").

        Only ``https`` URLs qualify: an ``http://`` EwsUrl is skipped (it is in :attr:`insecure_urls`),
        because credentials sent there would travel in clear (DESIGN §4 rule 2). A V2 ``Ews`` answer
        counts when there are no protocols.
        """
        for kind in ("EXPR", "EXCH"):
            for found in self.protocols:
                if found.type.casefold() == kind.casefold() and _secure(found.ews_url):
                    return found.ews_url
        if (self.v2_protocol or "").casefold() == "ews" and _secure(self.v2_url):
            return self.v2_url
        return None

    @property
    def mapi_http(self) -> ProtocolSettings | None:
        """The MAPI over HTTP protocol (``Protocol Type="mapiHttp"``): ``mail_store``/``address_book`` URLs."""
        return self.protocol("mapiHttp")

    @property
    def web(self) -> ProtocolSettings | None:
        """The ``WEB`` protocol (OWA): its ``internal`` and ``external`` blocks."""
        return self.protocol("WEB")

    @property
    def imap(self) -> ProtocolSettings | None:
        """The ``IMAP`` protocol, if any."""
        return self.protocol("IMAP")

    @property
    def pop3(self) -> ProtocolSettings | None:
        """The ``POP3`` protocol, if any."""
        return self.protocol("POP3")

    @property
    def smtp(self) -> ProtocolSettings | None:
        """The ``SMTP`` protocol, if any."""
        return self.protocol("SMTP")

    @property
    def activesync_url(self) -> str | None:
        """The ActiveSync URL: the mobilesync ``MobileSync`` server's, or a V2 ``ActiveSync`` answer's.

        Only ``https`` URLs qualify, as for :attr:`ews_url`.
        """
        for server in self.mobilesync_servers:
            if server.type.casefold() == "mobilesync" and _secure(server.url):
                return server.url
        if (self.v2_protocol or "").casefold() == "activesync" and _secure(self.v2_url):
            return self.v2_url
        return None

    @property
    def insecure_urls(self) -> tuple[str, ...]:
        """Every ``http://`` URL in the answer, once each in document order: flagged, never used silently."""
        found: list[str] = []
        _collect_insecure((self.user, self.protocols, self.mobilesync_servers, self.v2_url), found)
        return tuple(dict.fromkeys(found))

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data, with ``ews_url`` and ``activesync_url`` added for convenience."""
        data: dict[str, Any] = to_plain(self)
        data["ews_url"] = self.ews_url
        data["activesync_url"] = self.activesync_url
        data["insecure_urls"] = list(self.insecure_urls)
        for plain, protocol in zip(data["protocols"], self.protocols, strict=True):
            plain["server_version_info"] = list(protocol.server_version_info) if protocol.server_version_info else None
        return data


def _secure(url: str | None) -> bool:
    """A well-formed https URL: the only kind the convenience accessors return."""
    return is_web_url(url) and (url or "").lower().startswith("https://")


def _collect_insecure(value: object, found: list[str]) -> None:
    """Walk result data for plain-http URLs; ``elements`` repeats the typed fields and is skipped."""
    if isinstance(value, str):
        if value.strip().lower().startswith("http://"):
            found.append(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            if field.name != "elements":
                _collect_insecure(getattr(value, field.name), found)
    elif isinstance(value, tuple):
        for item in value:
            _collect_insecure(item, found)


def to_plain(value: object) -> Any:
    """Convert dataclasses, enums, tuples and mappings into JSON-ready builtins."""
    if isinstance(value, enum.Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: to_plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): to_plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [to_plain(item) for item in value]
    return value
