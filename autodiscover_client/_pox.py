"""The POX codec: the request body, and the response parser (MS-OXDSCLI §2.2, MS-ASCMD §2.2.1.1).

This is the only module that parses XML, and it parses only with defusedxml: no DTDs, no entities,
no external references (DESIGN §4 rule 6). Dispatch is on namespace URIs, never on prefixes
(PROTOCOL.md §3.1), and element order is never relied upon.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Iterator
from xml.etree.ElementTree import Element  # the type only; parsing goes through defusedxml

import defusedxml
import defusedxml.ElementTree

from ._errors import InvalidResponseError
from ._models import (
    AlternativeMailbox,
    MapiEndpoint,
    MobileSyncServer,
    NetworkRequirements,
    OwaUrl,
    ProtocolSettings,
    Security,
    User,
    WebEndpoint,
)

_MS = "http://schemas.microsoft.com/exchange/autodiscover/"
BASE_NS = _MS + "responseschema/2006"
OUTLOOK_NS = _MS + "outlook/responseschema/2006a"
MOBILESYNC_NS = _MS + "mobilesync/responseschema/2006"


class Schema(enum.Enum):
    """The response schema a request asks for."""

    OUTLOOK = "outlook"
    MOBILESYNC = "mobilesync"


_REQUEST_NS = {
    Schema.OUTLOOK: (_MS + "outlook/requestschema/2006", OUTLOOK_NS),
    Schema.MOBILESYNC: (_MS + "mobilesync/requestschema/2006", MOBILESYNC_NS),
}


def build_request(email: str, schema: Schema = Schema.OUTLOOK) -> bytes:
    """Return the UTF-8 POX request body for ``email`` (MS-OXDSCLI §2.2.3, MS-ASCMD §2.2.3.1).

    The address is XML-escaped, so ``"a<b"@example.com`` cannot inject markup.
    """
    request_ns, response_ns = _REQUEST_NS[schema]
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<Autodiscover xmlns="{request_ns}">\n'
        "  <Request>\n"
        f"    <EMailAddress>{_escape(email)}</EMailAddress>\n"
        f"    <AcceptableResponseSchema>{response_ns}</AcceptableResponseSchema>\n"
        "  </Request>\n"
        "</Autodiscover>\n"
    ).encode()


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


# ---------------------------------------------------------------------------------------------------
# What a response means. The flow acts on these; Settings is assembled from SettingsDocument.


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SettingsDocument:
    """``Action=settings`` (Outlook) or mobilesync ``Settings``."""

    schema: Schema
    user: User | None = None
    protocols: tuple[ProtocolSettings, ...] = ()
    mobilesync_servers: tuple[MobileSyncServer, ...] = ()
    microsoft_online: bool | None = None
    alternative_mailboxes: tuple[AlternativeMailbox, ...] = ()
    public_folder_smtp_address: str | None = None
    culture: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RedirectAddressDocument:
    """``Action=redirectAddr`` or a mobilesync ``Redirect``: start again for another address."""

    address: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RedirectUrlDocument:
    """``Action=redirectUrl``: POST again to another URL."""

    url: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ErrorDocument:
    """An Autodiscover ``Error`` (MS-OXDSCLI §2.2.4.1.1.3) or a mobilesync action ``Error`` with ``Status``."""

    code: str | None = None
    message: str | None = None
    debug_data: str | None = None
    time: str | None = None
    id: str | None = None
    status: str | None = None

    def describe(self) -> str:
        """One line: code (or status) and message."""
        what = f"error {self.code}" if self.code else f"status {self.status}" if self.status else "error"
        meaning = _ERROR_MEANINGS.get(self.code or "")
        message = self.message or meaning or "no message"
        return f"Autodiscover {what}: {message}"


# MS-OXDSCLI §2.2.4.1.1.3.2; servers MAY send other codes (§3.2.5), which are kept as they are.
_ERROR_MEANINGS = {
    "500": "the e-mail address cannot be found",
    "501": "the address has no configuration options",
    "600": "invalid request",
    "601": "the requested response schema is not available",
    "602": "the address has configuration errors",
    "603": "the server had an internal error",
}

Document = SettingsDocument | RedirectAddressDocument | RedirectUrlDocument | ErrorDocument


def parse_response(body: bytes) -> Document:
    """Parse an Autodiscover response body, classifying it by content, never by Content-Type.

    Args:
        body: The raw bytes (any XML encoding declaration, with or without a BOM).

    Returns:
        One of :class:`SettingsDocument`, :class:`RedirectAddressDocument`,
        :class:`RedirectUrlDocument` or :class:`ErrorDocument`.

    Raises:
        InvalidResponseError: The body is empty, not well-formed, uses a DTD or entities, or is not
            an Autodiscover response.
    """
    if not body.strip():
        raise InvalidResponseError("the body is empty")
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        # Web sites on root domains and captive portals answer HTML (PROTOCOL.md §1.9): say so plainly.
        raise InvalidResponseError("an HTML page, not an Autodiscover response")
    try:
        root = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise InvalidResponseError(f"forbidden XML construct: {type(exc).__name__}") from exc
    except (defusedxml.ElementTree.ParseError, ValueError, LookupError) as exc:
        raise InvalidResponseError(f"not well-formed XML: {exc}") from exc
    namespace, local = _split(root.tag)
    if local != "Autodiscover" or namespace != BASE_NS:
        raise InvalidResponseError(f"not an Autodiscover response (root element {root.tag!r})")
    response = _child(root, "Response")
    if response is None:
        raise InvalidResponseError("the Autodiscover response has no Response element")
    response_ns = _split(response.tag)[0]
    error = _child(response, "Error")
    if error is not None:
        return _parse_error(error)
    if response_ns == OUTLOOK_NS:
        return _parse_outlook(response)
    if response_ns == MOBILESYNC_NS:
        return _parse_mobilesync(response)
    raise InvalidResponseError(f"unknown Autodiscover response schema {response_ns!r}")


@functools.lru_cache(maxsize=1024)  # tags repeat across and within responses; this halves parse time
def _split(tag: str) -> tuple[str, str]:
    """Return (canonical namespace, local name). The ``https://`` spelling is an alias (PROTOCOL.md §3.1)."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        if namespace.startswith("https://schemas.microsoft.com/"):
            namespace = "http://" + namespace[len("https://") :]
        return namespace, local
    return "", tag


def _local(element: Element) -> str:
    return _split(element.tag)[1]


def _children(element: Element, name: str | None = None) -> Iterator[Element]:
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and (name is None or _split(tag)[1] == name):
            yield child


def _child(element: Element, name: str) -> Element | None:
    for child in element:  # not next(_children(...)): a generator per lookup is a third of the parse time
        tag = child.tag
        if isinstance(tag, str) and _split(tag)[1] == name:
            return child
    return None


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    # MS-ASCMD's own example wraps URLs in white space (PROTOCOL.md §3.1): strip it.
    return (element.text or "").strip()


def _child_text(element: Element, name: str) -> str | None:
    return _text(_child(element, name))


def _parse_error(error: Element) -> ErrorDocument:
    return ErrorDocument(
        code=_child_text(error, "ErrorCode"),
        message=_child_text(error, "Message"),
        debug_data=_child_text(error, "DebugData"),
        time=error.get("Time"),
        id=error.get("Id"),
        status=_child_text(error, "Status"),
    )


def _parse_outlook(response: Element) -> Document:
    account = _child(response, "Account")
    if account is None:
        raise InvalidResponseError("the Outlook response has neither Account nor Error")
    account_error = _child(account, "Error")
    if account_error is not None:
        return _parse_error(account_error)
    action = (_child_text(account, "Action") or "").strip()
    if action == "redirectAddr":
        address = _child_text(account, "RedirectAddr")
        if not address:
            raise InvalidResponseError("Action redirectAddr without a RedirectAddr")
        return RedirectAddressDocument(address=address)
    if action == "redirectUrl":
        # Spelled RedirectUrl in MS-OXDSCLI and RedirectURL in Learn's syntax block (PROTOCOL.md §3.3).
        url = next((_text(c) for c in _children(account) if _local(c).lower() == "redirecturl"), None)
        if not url:
            raise InvalidResponseError("Action redirectUrl without a RedirectUrl")
        return RedirectUrlDocument(url=url)
    if action != "settings":
        raise InvalidResponseError(f"unknown Action {action!r}")
    pf_info = _child(account, "PublicFolderInformation")
    return SettingsDocument(
        schema=Schema.OUTLOOK,
        user=_parse_user(_child(response, "User")),
        protocols=tuple(_parse_protocol(p) for p in _children(account, "Protocol")),
        microsoft_online=_bool(_child_text(account, "MicrosoftOnline")),
        alternative_mailboxes=tuple(
            AlternativeMailbox(
                type=_child_text(box, "Type"),
                display_name=_child_text(box, "DisplayName"),
                smtp_address=_child_text(box, "SmtpAddress"),
                owner_smtp_address=_child_text(box, "OwnerSmtpAddress"),
                legacy_dn=_child_text(box, "LegacyDN"),
                server=_child_text(box, "Server"),
            )
            for box in _children(account, "AlternativeMailbox")
        ),
        public_folder_smtp_address=_child_text(pf_info, "SmtpAddress") if pf_info is not None else None,
    )


def _parse_user(user: Element | None) -> User | None:
    if user is None:
        return None
    return User(
        display_name=_child_text(user, "DisplayName"),
        legacy_dn=_child_text(user, "LegacyDN"),
        deployment_id=_child_text(user, "DeploymentId"),
        autodiscover_smtp_address=_child_text(user, "AutoDiscoverSMTPAddress"),
        email_address=_child_text(user, "EMailAddress"),
    )


# Simple children: element local name -> (field name, converter). Converters never raise.
_STR = "str"
_INT = "int"
_BOOL = "bool"
_FIELDS: dict[str, tuple[str, str]] = {
    "Server": ("server", _STR),
    "ServerDN": ("server_dn", _STR),
    "ServerVersion": ("server_version", _STR),
    "MdbDN": ("mdb_dn", _STR),
    "PublicFolderServer": ("public_folder_server", _STR),
    "AD": ("ad", _STR),
    "Port": ("port", _INT),
    "DirectoryPort": ("directory_port", _INT),
    "ReferralPort": ("referral_port", _INT),
    "ASUrl": ("as_url", _STR),
    "EwsUrl": ("ews_url", _STR),
    "EmwsUrl": ("emws_url", _STR),
    "EwsPartnerUrl": ("ews_partner_url", _STR),
    "SharingUrl": ("sharing_url", _STR),
    "EcpUrl": ("ecp_url", _STR),
    "EcpUrl-um": ("ecp_url_um", _STR),
    "EcpUrl-aggr": ("ecp_url_aggr", _STR),
    "EcpUrl-mt": ("ecp_url_mt", _STR),
    "EcpUrl-ret": ("ecp_url_ret", _STR),
    "EcpUrl-sms": ("ecp_url_sms", _STR),
    "EcpUrl-publish": ("ecp_url_publish", _STR),
    "EcpUrl-photo": ("ecp_url_photo", _STR),
    "EcpUrl-connect": ("ecp_url_connect", _STR),
    "EcpUrl-tm": ("ecp_url_tm", _STR),
    "EcpUrl-tmCreating": ("ecp_url_tm_creating", _STR),
    "EcpUrl-tmHiding": ("ecp_url_tm_hiding", _STR),
    "EcpUrl-tmEditing": ("ecp_url_tm_editing", _STR),
    "EcpUrl-extinstall": ("ecp_url_extinstall", _STR),
    "OOFUrl": ("oof_url", _STR),
    "UMUrl": ("um_url", _STR),
    "OABUrl": ("oab_url", _STR),
    "LoginName": ("login_name", _STR),
    "DomainRequired": ("domain_required", _BOOL),
    "DomainName": ("domain_name", _STR),
    "SPA": ("spa", _BOOL),
    "CertPrincipalName": ("cert_principal_name", _STR),
    "SSL": ("ssl", _STR),
    "Encryption": ("encryption", _STR),
    "AuthRequired": ("auth_required", _BOOL),
    "UsePOPAuth": ("use_pop_auth", _BOOL),
    "SMTPLast": ("smtp_last", _BOOL),
    "TTL": ("ttl", _INT),
    "GroupingInformation": ("grouping_information", _STR),
    "ServerExclusiveConnect": ("server_exclusive_connect", _BOOL),
}


def _parse_protocol(protocol: Element) -> ProtocolSettings:
    values: dict[str, object] = {}
    elements: list[tuple[str, str]] = []
    first: dict[str, str] = {}  # the first Type and AuthPackage texts, used below
    split, fields, append = _split, _FIELDS, elements.append  # locals: this loop is the parser's hot path
    for child in protocol:  # a plain loop, not _children(), for the same reason (bench_parse.py)
        tag = child.tag
        if not isinstance(tag, str):
            continue
        name = split(tag)[1]
        if len(child):
            if name in ("Internal", "External"):
                values[name.lower()] = _parse_web(child)
            elif name in ("MailStore", "AddressBook"):
                values["mail_store" if name == "MailStore" else "address_book"] = MapiEndpoint(
                    internal_url=_child_text(child, "InternalUrl"),
                    external_url=_child_text(child, "ExternalUrl"),
                )
            elif name == "NetworkRequirements":
                values["network_requirements"] = NetworkRequirements(
                    ipv4_start=_child_text(child, "IPv4Start"),
                    ipv4_end=_child_text(child, "IPv4End"),
                    ipv6_start=_child_text(child, "IPv6Start"),
                    ipv6_end=_child_text(child, "IPv6End"),
                )
            continue
        text = (child.text or "").strip()
        append((name, text))
        known = fields.get(name)
        if known is None:
            if name in ("Type", "AuthPackage"):
                first.setdefault(name, text)
            continue  # unknown elements stay in `elements`
        if known[0] in values:
            continue  # the first of a repeated element wins
        field, kind = known
        values[field] = _int(text) if kind == _INT else _bool(text) if kind == _BOOL else text
    # The MAPI/HTTP form names its type in an attribute, with no Type child (MS-OXDSCLI §4.4).
    type_ = first.get("Type") or protocol.get("Type") or ""
    auth_package = first.get("AuthPackage")
    values["auth_package"] = auth_package.lower() if auth_package else auth_package
    security, conflict = _security(values.get("ssl"), values.get("encryption"), values.get("port"))
    return ProtocolSettings(
        type=type_,
        version=protocol.get("Version"),
        security=security,
        security_conflict=conflict,
        elements=tuple(elements),
        **values,  # type: ignore[arg-type]
    )


def _parse_web(block: Element) -> WebEndpoint:
    nested = _child(block, "Protocol")
    return WebEndpoint(
        owa_urls=tuple(
            OwaUrl(url=_text(owa) or "", authentication_method=owa.get("AuthenticationMethod"))
            for owa in _children(block, "OWAUrl")
        ),
        protocol_type=_child_text(nested, "Type") if nested is not None else None,
        as_url=_child_text(nested, "ASUrl") if nested is not None else None,
    )


_MAX_INT_DIGITS = 18  # ports, TTLs: a hostile 5000-digit value must not hit int()'s 4300-digit ValueError


def _int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= _MAX_INT_DIGITS else None


_TRUE = frozenset({"on", "true", "yes", "1"})
_FALSE = frozenset({"off", "false", "no", "0"})


def _bool(text: str | None) -> bool | None:
    """Servers send on/off, On/Off, True/False (PROTOCOL.md §3.5): compare case-insensitively."""
    if text is None:
        return None
    folded = text.strip().casefold()
    return True if folded in _TRUE else False if folded in _FALSE else None


_IMPLICIT_TLS_PORTS = frozenset({993, 995, 465})
_STARTTLS_PORTS = frozenset({143, 110, 587, 25})


def _security(ssl: object, encryption: object, port: object) -> tuple[Security | None, bool]:
    """Normalise ``SSL``/``Encryption`` to a :class:`Security`, and flag a contradiction with the port.

    "If present, the Encryption element overrides the SSL element" (MS-OXDSCLI, PROTOCOL.md §3.5);
    SSL defaults to on when absent (Learn ``SSL`` (POX)).
    """
    numeric_port = port if isinstance(port, int) else None
    mode = encryption.strip().casefold() if isinstance(encryption, str) and encryption.strip() else None
    if mode is None:
        flag = _bool(ssl) if isinstance(ssl, str) else True
        if isinstance(ssl, str) and flag is None:
            mode = "auto" if ssl.strip().casefold() == "auto" else None
            if mode is None:
                return None, False
        else:
            mode = "ssl" if flag else "none"
    if mode == "auto":
        # Encryption=Auto lets the client choose; the port is the only hint there is.
        if numeric_port in _STARTTLS_PORTS:
            return Security.STARTTLS, False
        return Security.TLS, False
    security = {"none": Security.NONE, "ssl": Security.TLS, "tls": Security.STARTTLS}.get(mode)
    if security is None:
        return None, False
    conflict = numeric_port is not None and (
        (security is Security.NONE and numeric_port in _IMPLICIT_TLS_PORTS)
        or (security is Security.TLS and numeric_port in _STARTTLS_PORTS)
        or (security is Security.STARTTLS and numeric_port in _IMPLICIT_TLS_PORTS)
    )
    return security, conflict


def _parse_mobilesync(response: Element) -> Document:
    action = _child(response, "Action")
    if action is None:
        raise InvalidResponseError("the mobilesync response has neither Action nor Error")
    redirect = _child_text(action, "Redirect")
    if redirect:
        # MS-ASCMD §2.2.3.147: an SMTP address whose domain the client asks next.
        return RedirectAddressDocument(address=redirect)
    action_error = _child(action, "Error")
    if action_error is not None:
        return _parse_error(action_error)
    settings = _child(action, "Settings")
    if settings is None:
        raise InvalidResponseError("the mobilesync Action has no Settings, Redirect or Error")
    servers = tuple(
        MobileSyncServer(
            type=_child_text(server, "Type") or "",
            url=_child_text(server, "Url") or None,
            name=_child_text(server, "Name"),
            server_data=_child_text(server, "ServerData"),
        )
        for server in _children(settings, "Server")
    )
    return SettingsDocument(
        schema=Schema.MOBILESYNC,
        user=_parse_user(_child(response, "User")),
        mobilesync_servers=servers,
        culture=_child_text(response, "Culture"),
    )
