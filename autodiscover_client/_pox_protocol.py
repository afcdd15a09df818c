"""The Outlook ``Protocol``, ``User`` and ``AlternativeMailbox`` elements, typed (PROTOCOL.md §3.2-3.5).

Every documented ``Protocol`` child becomes a typed field; every simple child, known or not, is also
kept raw in ``ProtocolSettings.elements`` ("The POX Autodiscover service does not have a published
schema", Learn; corpus 06, 19, 22). Converters never raise: junk becomes ``None`` and stays raw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._models import (
    AlternativeMailbox,
    MapiEndpoint,
    NetworkRequirements,
    OwaUrl,
    ProtocolSettings,
    Security,
    User,
    WebEndpoint,
)
from ._pox_tree import child, child_text, children, leaves, split, text

if TYPE_CHECKING:  # the type only: parsing goes through defusedxml, which loads with the first parse
    from xml.etree.ElementTree import Element


def parse_user(user: Element | None) -> User | None:
    """The ``User`` block (Outlook) or the mobilesync ``User`` (``DisplayName``, ``EMailAddress``)."""
    if user is None:
        return None
    return User(
        display_name=child_text(user, "DisplayName"),
        legacy_dn=child_text(user, "LegacyDN"),
        deployment_id=child_text(user, "DeploymentId"),
        autodiscover_smtp_address=child_text(user, "AutoDiscoverSMTPAddress"),
        email_address=child_text(user, "EMailAddress"),
    )


def parse_alternative_mailbox(box: Element) -> AlternativeMailbox:
    """An ``AlternativeMailbox`` entry (gromox, corpus 19)."""
    return AlternativeMailbox(
        type=child_text(box, "Type"),
        display_name=child_text(box, "DisplayName"),
        smtp_address=child_text(box, "SmtpAddress"),
        owner_smtp_address=child_text(box, "OwnerSmtpAddress"),
        legacy_dn=child_text(box, "LegacyDN"),
        server=child_text(box, "Server"),
    )


# Simple children: element local name -> (field name, converter). Names match exactly (PROTOCOL.md §3.5:
# "match local names exactly"; the EWS Java port's `EWSUrl` misses the `EwsUrl` servers send).
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
    "Type": ("type", _STR),  # popped into ProtocolSettings.type (MS-OXDSCLI: EXCH, EXPR, WEB, IMAP …)
    "AuthPackage": ("auth_package", _STR),
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


# Protocol children with fields of their own; unknown blocks are kept, flattened, in `elements`.
_BLOCKS = frozenset({"Internal", "External", "MailStore", "AddressBook", "NetworkRequirements"})


def parse_protocol(protocol: Element) -> ProtocolSettings:
    """One ``Protocol`` element, in any child order (gromox puts ``OOFUrl`` before ``Type``, corpus 19)."""
    values: dict[str, object] = {}
    # One walk builds both `values` and what kept_children(protocol, _BLOCKS) would keep, with
    # children()/local()/text() inlined: this loop is the parser's hot path (bench_parse.py).
    elements: list[tuple[str, str]] = []
    for item in protocol:
        tag: object = item.tag  # comments and processing instructions have a function as their tag
        if not isinstance(tag, str):
            continue
        name = split(tag)[1]
        if len(item):
            if name not in _BLOCKS:
                elements.extend(leaves(item, name))
            elif name in ("Internal", "External"):
                values.setdefault(name.lower(), _parse_web(item))
            elif name in ("MailStore", "AddressBook"):
                values.setdefault(
                    "mail_store" if name == "MailStore" else "address_book",
                    MapiEndpoint(
                        internal_url=child_text(item, "InternalUrl"), external_url=child_text(item, "ExternalUrl")
                    ),
                )
            elif name == "NetworkRequirements":
                values.setdefault(
                    "network_requirements",
                    NetworkRequirements(
                        ipv4_start=child_text(item, "IPv4Start"),
                        ipv4_end=child_text(item, "IPv4End"),
                        ipv6_start=child_text(item, "IPv6Start"),
                        ipv6_end=child_text(item, "IPv6End"),
                    ),
                )
            continue
        raw = (item.text or "").strip()
        elements.append((name, raw))
        known = _FIELDS.get(name)
        if known is None or known[0] in values:
            continue  # unknown elements stay in `elements`; the first of a repeated one wins
        field, kind = known
        values[field] = _int(raw) if kind == _INT else parse_bool(raw) if kind == _BOOL else raw
    # The MAPI/HTTP form names its type in an attribute, with no Type child (MS-OXDSCLI §4.4, corpus 02, 19).
    # Type and AuthPackage were picked up by the walk above (first one wins), without a second scan.
    type_ = str(values.pop("type", "") or "") or (protocol.get("Type") or "").strip()
    auth_package = values.get("auth_package")
    # Learn lists basic, kerb, ntlm …; servers send Ntlm, Basic, Anonymous (corpus 06, 22).
    if isinstance(auth_package, str):
        values["auth_package"] = auth_package.lower()
    security, conflict = _security(values.get("ssl"), values.get("encryption"), values.get("port"))
    version = protocol.get("Version")
    return ProtocolSettings(
        type=type_,
        version=version.strip() if version is not None else None,
        security=security,
        security_conflict=conflict,
        elements=tuple(elements),
        **values,  # type: ignore[arg-type]
    )


def _parse_web(block: Element) -> WebEndpoint:
    nested = child(block, "Protocol")
    return WebEndpoint(
        owa_urls=tuple(
            OwaUrl(url=text(owa) or "", authentication_method=owa.get("AuthenticationMethod"))
            for owa in children(block, "OWAUrl")
        ),
        protocol_type=child_text(nested, "Type"),
        as_url=child_text(nested, "ASUrl"),
    )


_MAX_INT_DIGITS = 18  # ports, TTLs: a hostile 5000-digit value must not hit int()'s 4300-digit ValueError


def _int(raw: str) -> int | None:
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= _MAX_INT_DIGITS else None


_TRUE = frozenset({"on", "true", "yes", "1"})
_FALSE = frozenset({"off", "false", "no", "0"})


def parse_bool(raw: str | None) -> bool | None:
    """Servers send on/off, On/Off, True/False (PROTOCOL.md §3.5): compare case-insensitively."""
    if raw is None:
        return None
    folded = raw.strip().casefold()
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
        flag = parse_bool(ssl) if isinstance(ssl, str) else True
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
