"""Conformance with the shared corpus: every sample parsed and compared with its sidecar (DESIGN §7).

The samples live outside the repository, in ``../shared/corpus/`` (or where ``AUTODISCOVER_CORPUS``
points), and are read at test time: they are public material under several licences and are never
copied here. Each sample ``NN-*.xml`` has a sidecar ``NN-*.md`` with a fenced JSON "raw extraction"
(namespace-agnostic local names, stripped text, one decoding pass) and prose "typed expectations".

- The raw extraction is read from the sidecar and compared, value for value, with what the parser
  kept (typed fields and the raw ``elements``), through a name mapping that is independent of the
  parser's own table.
- The typed expectations are prose, so each is encoded below in :data:`TYPED`, one function per
  sample, quoting the sidecar line it checks. A sample without an entry fails, so a new sample
  cannot pass unchecked.
- Each sample is also served by a fake transport to ``discover()``, to check what it means for a
  run (settings, a typed server error, a redirect, an invalid response).

The V2 JSON samples (25-30) and the V2 HTTP exchange (26) belong to Autodiscover V2 (issue 6): here
they only show that the POX parser refuses them with a typed error.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import os
import re
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from autodiscover_client import (
    AlternativeMailbox,
    DiscoveryError,
    ErrorDocument,
    HttpResponse,
    InvalidResponseError,
    MapiEndpoint,
    Method,
    MobileSyncServer,
    Outcome,
    ProtocolSettings,
    RedirectAddressDocument,
    RedirectUrlDocument,
    Schema,
    Security,
    Settings,
    SettingsDocument,
    Source,
    User,
    WebEndpoint,
    discover,
    parse_response,
)
from autodiscover_client.testing import FakeResolver, FakeTransport

pytestmark = pytest.mark.conformance

CORPUS = Path(os.environ.get("AUTODISCOVER_CORPUS") or Path(__file__).parents[2].parent / "shared" / "corpus")
_MS = "http://schemas.microsoft.com/exchange/autodiscover/"
BASE_NS = _MS + "responseschema/2006"
NAMESPACE_SCHEMAS: dict[str, Schema | None] = {
    BASE_NS: None,
    _MS + "outlook/responseschema/2006a": Schema.OUTLOOK,
    _MS + "mobilesync/responseschema/2006": Schema.MOBILESYNC,
}
V2_REASON = "a V2 sample: checked by tests/conformance/test_corpus_v2.py"
SAMPLE_NAME = re.compile(r"^(\d\d)-.+\.(xml|json|http)$")

Document = SettingsDocument | RedirectAddressDocument | RedirectUrlDocument | ErrorDocument


def _samples(*suffixes: str) -> list[Any]:
    """One pytest param per sample with one of ``suffixes``, or a single skipped param saying why there are none."""
    if not CORPUS.is_dir():
        reason = f"corpus folder {CORPUS} is absent (set AUTODISCOVER_CORPUS to its path to run these tests)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason), id="no-corpus")]
    found = sorted(p for p in CORPUS.iterdir() if SAMPLE_NAME.match(p.name) and p.suffix in suffixes)
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"no {suffixes} samples in {CORPUS}"), id="none")]
    return [pytest.param(p, id=p.stem) for p in found]


def _number(sample: Path) -> str:
    return sample.name[:2]


# --- reading sidecars ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Sidecar:
    """What a sample's ``.md`` says: its fenced JSON block and its typed-expectation bullets."""

    path: Path
    data: dict[str, Any] | None
    typed: tuple[str, ...]


def read_sidecar(sample: Path) -> Sidecar:
    path = sample.with_suffix(".md")
    assert path.is_file(), f"{sample.name} has no sidecar {path.name}"
    text = path.read_text(encoding="utf-8")
    blocks = re.findall(r"```json\s*\n(.*?)```", text, flags=re.DOTALL)
    typed_section = re.search(r"\*\*A correct parser should extract[^\n]*\n(.*?)(?:\n\*\*|\Z)", text, flags=re.DOTALL)
    bullets = tuple(
        line[2:].strip()
        for line in (typed_section.group(1) if typed_section else "").splitlines()
        if line.startswith("- ")
    )
    return Sidecar(path=path, data=json.loads(blocks[0]) if blocks else None, typed=bullets)


def _parse(body: bytes) -> Document | InvalidResponseError:
    try:
        return parse_response(body)
    except InvalidResponseError as exc:
        return exc


# --- raw extraction: names and values, independent of the parser's own table -------------------

# Element names whose snake_case spelling is not the field name.
_ALIASES = {
    "AutoDiscoverSMTPAddress": "autodiscover_smtp_address",
    "EMailAddress": "email_address",
    "ErrorCode": "code",
}
# Documented normalisations of a raw value in a typed field.
_NORMALISED: dict[str, Callable[[str], object]] = {
    "auth_package": str.lower,  # sidecar 06: 'EXPR.auth_package="ntlm" (normalise case)'
}
_BOOLEANS = {"on": True, "true": True, "off": False, "false": False}  # every boolean spelling in the corpus


def field_name(element: str) -> str:
    """``EcpUrl-tmCreating`` -> ``ecp_url_tm_creating``, ``ASUrl`` -> ``as_url``, ``SMTPLast`` -> ``smtp_last``."""
    if element in _ALIASES:
        return _ALIASES[element]
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", element)
    name = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return name.replace("-", "_").lower()


def typed_value(cls: type, field: str, raw: str) -> object:
    """What a raw value becomes in ``cls.field``, judged from the field's declared type."""
    if field in _NORMALISED:
        return _NORMALISED[field](raw)
    hint = typing.get_type_hints(cls)[field]
    if int in typing.get_args(hint):
        return int(raw) if raw.isdigit() else None
    if bool in typing.get_args(hint):
        return _BOOLEANS.get(raw.casefold())
    return raw


def check_record(raw: Mapping[str, Any], record: object, *, ignore: frozenset[str] = frozenset()) -> None:
    """Every raw child maps to a field holding that value; every other field of ``record`` is None."""
    fields = {f.name for f in dataclasses.fields(record)} - ignore  # type: ignore[arg-type]
    expected: dict[str, object] = dict.fromkeys(fields)
    for element, value in raw.items():
        name = field_name(element)
        assert name in fields, f"{type(record).__name__} has no field for <{element}>"
        expected[name] = typed_value(type(record), name, value)
    assert expected == {name: getattr(record, name) for name in fields}


def check_raw(sample: Path, raw: dict[str, Any], body: bytes, parsed: Document | InvalidResponseError) -> None:
    """Compare a parse result with the sidecar's raw extraction."""
    assert raw["bom"] == body.startswith(codecs.BOM_UTF8)
    if not raw["well_formed"]:
        # Sidecar 09: "parser must raise a typed parse error (never a crash, never a partial success)".
        assert isinstance(parsed, InvalidResponseError), f"{sample.name} is not well-formed but parsed as {parsed!r}"
        assert "not well-formed" in str(parsed)
        return
    assert not isinstance(parsed, InvalidResponseError), f"{sample.name}: {parsed}"
    assert ("Autodiscover", BASE_NS) == (raw["root"]["local"], canonical(raw["root"]["ns"]))
    schema = NAMESPACE_SCHEMAS[canonical(raw["response_ns"])]
    kind = raw["kind"]
    if kind == "error":
        assert isinstance(parsed, ErrorDocument)
        assert schema == parsed.schema
        check_record(raw["error"], parsed, ignore=frozenset({"schema"}))
    elif kind == "outlook":
        assert Schema.OUTLOOK is schema
        check_outlook(raw, parsed)
    elif kind == "mobilesync":
        assert Schema.MOBILESYNC is schema
        check_mobilesync(raw, parsed)
    else:
        pytest.fail(f"{sample.name}: unknown kind {kind!r} in the sidecar")


def canonical(namespace: str) -> str:
    # The https:// spelling Learn prints is an alias (PROTOCOL.md §3.1; sidecars 03-06).
    return re.sub(r"^https://schemas\.microsoft\.com/", "http://schemas.microsoft.com/", namespace)


def check_outlook(raw: dict[str, Any], parsed: Document) -> None:
    account: dict[str, Any] = raw["account"]
    action = account["Action"]
    if action == "redirectAddr":
        assert RedirectAddressDocument(address=account["RedirectAddr"], schema=Schema.OUTLOOK) == parsed
        assert [] == raw["protocols"]
        return
    if action == "redirectUrl":
        url = next(value for name, value in account.items() if name.lower() == "redirecturl")
        assert RedirectUrlDocument(url=url) == parsed
        return
    assert "settings" == action
    assert isinstance(parsed, SettingsDocument)
    assert Schema.OUTLOOK is parsed.schema
    check_user(raw.get("user"), parsed.user)
    simple = {name: value for name, value in account.items() if isinstance(value, str)}
    assert simple == dict(parsed.account_elements)  # every simple Account child kept, known or not
    assert account.get("AccountType") == parsed.account_type
    assert _BOOLEANS.get(account.get("MicrosoftOnline", "").casefold()) == parsed.microsoft_online
    blocks = {name: value for name, value in account.items() if not isinstance(value, str)}
    assert set(blocks) <= {"PublicFolderInformation"}, f"comparator does not know {set(blocks)}"
    assert blocks.get("PublicFolderInformation", {}).get("SmtpAddress") == parsed.public_folder_smtp_address
    raw_boxes = raw.get("alternative_mailboxes", [])
    assert len(raw_boxes) == len(parsed.alternative_mailboxes)
    for raw_box, box in zip(raw_boxes, parsed.alternative_mailboxes, strict=True):
        check_record(raw_box, box)
    assert len(raw["protocols"]) == len(parsed.protocols)
    for raw_protocol, protocol in zip(raw["protocols"], parsed.protocols, strict=True):
        check_protocol(raw_protocol, protocol)


def check_user(raw: dict[str, str] | None, user: User | None) -> None:
    if raw is None:
        assert user is None
        return
    assert user is not None
    check_record(raw, user)


_PROTOCOL_FIELDS = {f.name for f in dataclasses.fields(ProtocolSettings)}


def check_protocol(raw: dict[str, Any], protocol: ProtocolSettings) -> None:
    attributes: dict[str, str] = raw.get("@", {})
    simple = {name: value for name, value in raw.items() if isinstance(value, str)}
    assert simple == dict(protocol.elements)  # every simple child kept raw, nothing invented
    assert simple.get("Type", attributes.get("Type")) == protocol.type
    assert attributes.get("Version") == protocol.version
    for element, value in simple.items():
        name = field_name(element)
        if element != "Type" and name in _PROTOCOL_FIELDS:  # undocumented ones live in `elements` only
            assert typed_value(ProtocolSettings, name, value) == getattr(protocol, name), element
    blocks = {name: value for name, value in raw.items() if isinstance(value, dict) and name != "@"}
    assert set(blocks) <= {"Internal", "External", "MailStore", "AddressBook"}, f"comparator does not know {blocks}"
    for name in ("Internal", "External"):
        check_web(blocks.get(name), getattr(protocol, name.lower()))
    check_mapi(blocks.get("MailStore"), protocol.mail_store)
    check_mapi(blocks.get("AddressBook"), protocol.address_book)


def check_web(raw: dict[str, Any] | None, endpoint: WebEndpoint | None) -> None:
    if raw is None:
        assert endpoint is None
        return
    assert endpoint is not None
    expected = [(owa["@"].get("AuthenticationMethod"), owa["#text"]) for owa in raw.get("OWAUrl", [])]
    assert expected == [(owa.authentication_method, owa.url) for owa in endpoint.owa_urls]
    nested = raw.get("Protocol", {})
    assert (nested.get("Type"), nested.get("ASUrl")) == (endpoint.protocol_type, endpoint.as_url)


def check_mapi(raw: dict[str, str] | None, endpoint: MapiEndpoint | None) -> None:
    if raw is None:
        assert endpoint is None
        return
    assert endpoint is not None
    check_record(raw, endpoint)


def check_mobilesync(raw: dict[str, Any], parsed: Document) -> None:
    action: dict[str, Any] = raw["action"]
    if "redirect" in action:
        assert RedirectAddressDocument(address=action["redirect"], schema=Schema.MOBILESYNC) == parsed
    elif "error" in action:
        assert isinstance(parsed, ErrorDocument)
        assert Schema.MOBILESYNC is parsed.schema
        check_record(action["error"], parsed, ignore=frozenset({"schema"}))
    else:
        assert isinstance(parsed, SettingsDocument)
        assert Schema.MOBILESYNC is parsed.schema
        assert raw.get("culture") == parsed.culture
        check_user(raw.get("user"), parsed.user)
        assert len(action["servers"]) == len(parsed.mobilesync_servers)
        for raw_server, server in zip(action["servers"], parsed.mobilesync_servers, strict=True):
            check_record(raw_server, server)


# --- typed expectations: the sidecars' prose, one function per sample ----------------------------

SOURCE = Source(method=Method.HTTPS_ROOT, url="https://example.com/autodiscover/autodiscover.xml")


def as_settings(document: Document | InvalidResponseError) -> Settings:
    """The Settings a run would return for this document (the fields ``_api`` copies)."""
    assert isinstance(document, SettingsDocument), document
    return Settings(
        email="user@example.com",
        source=SOURCE,
        user=document.user,
        protocols=document.protocols,
        mobilesync_servers=document.mobilesync_servers,
        microsoft_online=document.microsoft_online,
        alternative_mailboxes=document.alternative_mailboxes,
        public_folder_smtp_address=document.public_folder_smtp_address,
        schema=document.schema.value,
    )


def protocol(settings: Settings, type_: str) -> ProtocolSettings:
    found = settings.protocol(type_)
    assert found is not None, f"no {type_} protocol"
    return found


def _01(document: object) -> None:
    # "result kind = redirect_address, target = "user@sub.example.com""
    assert RedirectAddressDocument(address="user@sub.example.com", schema=Schema.OUTLOOK) == document


def _02(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    mapi, web = settings.protocols
    # "protocols[0]: type=mapiHttp (from attribute), version="1", mailstore.internal_url and
    #  addressbook.internal_url as shown; no <Type> child"
    assert ("mapiHttp", "1") == (mapi.type, mapi.version)
    assert "Type" not in dict(mapi.elements)
    assert mapi.mail_store is not None
    assert mapi.address_book is not None
    assert mapi.mail_store.internal_url is not None
    assert mapi.mail_store.internal_url.startswith("https://mail.Example.com/mapi/emsmdb/?MailboxId=")
    assert mapi.address_book.internal_url is not None
    assert mapi.address_book.internal_url.startswith("https://mail.Example.com/mapi/nspi/?MailboxId=")
    assert (None, None) == (mapi.mail_store.external_url, mapi.address_book.external_url)
    # "protocols[1]: type=WEB; external.owa_urls=[("Fba","https://mail.Example.com/owa")];
    #  external.protocol.type=EXPR, as_url=https://mail.Example.com/ews/exchange.asmx"
    assert "WEB" == web.type
    assert web.external is not None
    assert [("Fba", "https://mail.Example.com/owa")] == [
        (o.authentication_method, o.url) for o in web.external.owa_urls
    ]
    assert ("EXPR", "https://mail.Example.com/ews/exchange.asmx") == (web.external.protocol_type, web.external.as_url)
    # "internal.owa_urls has 2 entries, first one is the malformed "https:/Internal..." string
    #  (flag as invalid URL, do not drop silently)"
    assert web.internal is not None
    first, second = web.internal.owa_urls
    assert ("https:/Internal.mail.Example.com/owa", False) == (first.url, first.url_is_valid)
    assert ("Ntlm", "WindowsIntegrated") == first.authentication_methods
    assert second.url_is_valid
    # "No EwsUrl anywhere: an EWS-URL accessor must return None"
    assert settings.ews_url is None


def _03(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    # 'user.display_name="First Last", legacy_dn as shown, deployment_id="644560b8-…"'
    assert settings.user is not None
    assert ("First Last", "644560b8-a1ce-429c-8ace-23395843f701") == (
        settings.user.display_name,
        settings.user.deployment_id,
    )
    assert "/o=example/ou=First Administrative Group/cn=Recipients/cn=iuser885646" == settings.user.legacy_dn
    # 'EXCH.server_version raw "72008287" -> decoded 8.0.647'
    exch = protocol(settings, "EXCH")
    assert ("72008287", (8, 0, 647)) == (exch.server_version, exch.server_version_info)
    # 'EXPR.server="Exchange.example.com"; WEB.internal.owa_urls has 4 entries with AuthenticationMethod values'
    assert "Exchange.example.com" == protocol(settings, "EXPR").server
    web = protocol(settings, "WEB")
    assert web.internal is not None
    assert ["Ntlm, WindowsIntegrated", "Ntlm, WindowsIntegrated", "Basic", "Ntlm, WindowsIntegrated"] == [
        owa.authentication_method for owa in web.internal.owa_urls
    ]
    # "ews_url: None in every protocol; as_url=https://mail.example.com/ews/exchange.asmx"
    assert [None, None, None] == [p.ews_url for p in settings.protocols]
    assert settings.ews_url is None
    assert {"https://mail.example.com/ews/exchange.asmx"} == {exch.as_url, protocol(settings, "EXPR").as_url}


def _error(code: str, message: str, time: str | None = None, id_: str | None = None) -> Callable[[object], None]:
    def check(document: object) -> None:
        assert isinstance(document, ErrorDocument)
        assert (code, int(code), message) == (document.code, document.numeric_code, document.message)
        if time is not None:
            assert (time, id_) == (document.time, document.id)  # opaque strings, never parsed
        assert document.debug_data in ("", None)
        assert message in document.describe()

    return check


# '04: kind=error, code=600 (int), message="Invalid Request", time="21:25:04.8897083" (opaque string),
#  id="4130155072" (opaque string), debug_data="" or None'
_04 = _error("600", "Invalid Request", "21:25:04.8897083", "4130155072")


def _05(document: object) -> None:
    # 'kind=redirect_address, target="user@mail.example.com"'
    assert RedirectAddressDocument(address="user@mail.example.com", schema=Schema.OUTLOOK) == document


def _06(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    # "account.microsoft_online=False (parse True/False case-insensitively)"
    assert settings.microsoft_online is False
    # 'EXCH.server_version "73C08204" -> 15.0.516; EXCH.ews_url=…; EXCH.public_folder_server="public.example.com"'
    exch = protocol(settings, "EXCH")
    assert (15, 0, 516) == exch.server_version_info
    assert "https://mail.example.com/EWS/Exchange.asmx" == exch.ews_url
    assert "public.example.com" == exch.public_folder_server
    # 'EXCH.ecp_url_um == "?rfr=olk&amp;p=customize/voicemail.aspx&amp;exsvurl=1&amp;realm=example.com"
    #  (literal "&amp;" after ONE level of XML decoding)'
    assert "?rfr=olk&amp;p=customize/voicemail.aspx&amp;exsvurl=1&amp;realm=example.com" == exch.ecp_url_um
    # Undocumented <AD> is typed where the EWS Managed API reads it, and kept raw (Exercises).
    assert ("dc.example.com", ("AD", "dc.example.com")) == (exch.ad, next(e for e in exch.elements if e[0] == "AD"))
    # 'EXPR.ssl=False (from "Off")': the raw value is kept and normalised to Security.NONE (DESIGN §5).
    expr = protocol(settings, "EXPR")
    assert ("Off", Security.NONE) == (expr.ssl, expr.security)
    # 'EXPR.auth_package="ntlm" (normalise case), EXPR.cert_principal_name="None" (string)'
    assert ("ntlm", "None") == (expr.auth_package, expr.cert_principal_name)
    # 'WEB.internal.owa_urls=[("Basic, Fba","https://mail.example.com/owa/")],
    #  WEB.internal.protocol=(EXCH, as_url https://mail.example.com/EWS/Exchange.asmx)'
    web = protocol(settings, "WEB")
    assert web.internal is not None
    assert [("Basic, Fba", "https://mail.example.com/owa/")] == [
        (o.authentication_method, o.url) for o in web.internal.owa_urls
    ]
    assert ("EXCH", "https://mail.example.com/EWS/Exchange.asmx") == (web.internal.protocol_type, web.internal.as_url)


def _07(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    assert isinstance(document, SettingsDocument)
    # 'culture="en:us"; user.email="user@example.com"'
    assert "en:us" == document.culture
    assert settings.user is not None
    assert "user@example.com" == settings.user.email_address
    eas = "https://eas.example.com/Microsoft-Server-ActiveSync"
    # 'servers[0]: type=MobileSync, url="https://eas.example.com/Microsoft-Server-ActiveSync" (trimmed), name same'
    # 'servers[1]: type=CertEnroll, url="https://cert.example.com/CertEnroll", name="",
    #  server_data="CertEnrollTemplate"'
    assert (
        MobileSyncServer(type="MobileSync", url=eas, name=eas),
        MobileSyncServer(
            type="CertEnroll", url="https://cert.example.com/CertEnroll", name="", server_data="CertEnrollTemplate"
        ),
    ) == settings.mobilesync_servers
    # "the EAS endpoint to use is the MobileSync server URL"
    assert eas == settings.activesync_url


def _08(document: object) -> None:
    # 'kind=error (mobilesync), status=2, message="The directory service could not be reached", debug_data="MailUser"'
    assert (
        ErrorDocument(
            status="2",
            message="The directory service could not be reached",
            debug_data="MailUser",
            schema=Schema.MOBILESYNC,
        )
        == document
    )


def _09(document: object) -> None:
    # "parse -> ParseError/MalformedResponse"; "do NOT attempt regex salvage of ErrorCode"
    assert isinstance(document, InvalidResponseError)
    assert "not well-formed" in str(document)


def _10(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    assert isinstance(document, SettingsDocument)
    # 'user.autodiscover_smtp_address="user@example.com"; action=settings;
    #  protocols=[EXPR(ews_url=https://expr.example.com/EWS/Exchange.asmx)]'
    assert User(autodiscover_smtp_address="user@example.com") == settings.user
    assert "settings" == dict(document.account_elements)["Action"]
    assert [("EXPR", "https://expr.example.com/EWS/Exchange.asmx")] == [(p.type, p.ews_url) for p in settings.protocols]
    assert "https://expr.example.com/EWS/Exchange.asmx" == settings.ews_url
    # "TTL default 1 h when absent; SSL/SPA/AuthRequired defaults "on" when absent": absent values stay None
    # (ProtocolSettings keeps what was sent); only the normalised security applies SSL's default.
    expr = settings.protocols[0]
    assert (None, None, None, None) == (expr.ttl, expr.ssl, expr.spa, expr.auth_required)
    assert Security.TLS is expr.security


def _11(document: object) -> None:
    # 'kind=redirect_url, target="https://example.com/foo.asmx"'; the User block does not matter.
    assert RedirectUrlDocument(url="https://example.com/foo.asmx") == document


def _12(document: object) -> None:
    # 'kind=redirect_address, target="foo@example.com" (Action decides; User is informational)'
    assert RedirectAddressDocument(address="foo@example.com", schema=Schema.OUTLOOK) == document


def _13(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    # "protocols: EXCH.ews_url=https://exch…, EXPR.ews_url=https://expr…"; "both, in document order";
    # "choosing one is policy (exchangelib prefers EXPR, then EXCH)"
    assert [
        ("EXCH", "https://exch.example.com/EWS/Exchange.asmx"),
        ("EXPR", "https://expr.example.com/EWS/Exchange.asmx"),
    ] == [(p.type, p.ews_url) for p in settings.protocols]
    assert "https://expr.example.com/EWS/Exchange.asmx" == settings.ews_url


def _14(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    # 'protocols=[{type:"XXX", ews_url:"https://xxx.example.com/EWS/Exchange.asmx"}] kept as an unknown/opaque
    #  type; an "EWS URL" helper restricted to EXCH/EXPR returns None'
    assert [("XXX", "https://xxx.example.com/EWS/Exchange.asmx")] == [(p.type, p.ews_url) for p in settings.protocols]
    assert settings.ews_url is None


def _15(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    # 'kind=mobilesync settings; user.display_name="" ; user.email=""; servers=[{type:MobileSync,url:"",name:""}]'
    assert User(display_name="", email_address="") == settings.user
    assert (MobileSyncServer(type="MobileSync", url="", name=""),) == settings.mobilesync_servers
    # 'an empty Url must be reported as "no usable endpoint" (validation error), not as a valid URL'
    # (the run refuses it too: see test_discovery_treats_the_sample_as_its_kind)
    assert not settings.mobilesync_servers[0].url_is_valid
    assert settings.activesync_url is None


def _16(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    # 'IMAP: server=mail.example.com, port=993 (int), ssl=True, spa=False, auth_required=True,
    #  domain_required=False, login_name=user@example.com'
    imap = settings.imap
    assert imap is not None
    assert ("mail.example.com", 993, False, True, False, "user@example.com") == (
        imap.server, imap.port, imap.spa, imap.auth_required, imap.domain_required, imap.login_name,
    )  # fmt: skip
    assert ("on", Security.TLS, False) == (imap.ssl, imap.security, imap.security_conflict)
    # "SMTP: port=465, use_pop_auth=True, smtp_last=False"
    smtp = settings.smtp
    assert smtp is not None
    assert (465, True, False, Security.TLS) == (smtp.port, smtp.use_pop_auth, smtp.smtp_last, smtp.security)
    # 'CalDAV/CardDAV kept as protocols with server URL "https://mail.example.com/SOGo/dav/user@example.com/"'
    for kind in ("CalDAV", "CardDAV"):
        assert "https://mail.example.com/SOGo/dav/user@example.com/" == protocol(settings, kind).server
    assert settings.ews_url is None


# '17: kind=error, code=600, message="Invalid Request", time="14:03:070.123456", id="2477272013"'
_17 = _error("600", "Invalid Request", "14:03:070.123456", "2477272013")


def _18(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    # "Response namespace = mobilesync; kind=mobilesync settings;
    #  servers=[MobileSync https://mail.example.com/Microsoft-Server-ActiveSync]"
    assert "mobilesync" == settings.schema
    assert [("MobileSync", "https://mail.example.com/Microsoft-Server-ActiveSync")] == [
        (s.type, s.url) for s in settings.mobilesync_servers
    ]
    # "if the caller wanted the Outlook schema: return … a MobileSync result - never an empty Outlook settings
    #  object": no Outlook protocols are invented (the run's note is checked in the discovery test).
    assert () == settings.protocols
    assert "https://mail.example.com/Microsoft-Server-ActiveSync" == settings.activesync_url
    assert settings.ews_url is None


def _19(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    assert isinstance(document, SettingsDocument)
    # "protocols in order: EXHTTP, mapiHttp(attr, Version 1, MailStore/AddressBook with Internal+External URLs),
    #  EXCH, EXPR"
    assert ["EXHTTP", "mapiHttp", "EXCH", "EXPR"] == [p.type for p in settings.protocols]
    mapi = settings.protocols[1]
    assert "1" == mapi.version
    for endpoint in (mapi.mail_store, mapi.address_book):
        assert endpoint is not None
        assert endpoint.internal_url
        assert endpoint.external_url
    # Element order: OOFUrl/OABUrl come before <Type> in EXHTTP; Type is still read (Exercises).
    assert "OOFUrl" == settings.protocols[0].elements[0][0]
    # 'EXCH.server_version "73C0834F" -> 15.0.847'
    assert (15, 0, 847) == protocol(settings, "EXCH").server_version_info
    # 'alternative_mailboxes=[{type:Delegate, display_name:"Boss User", smtp_address:"boss@example.com",
    #  owner_smtp_address:"boss@example.com"}]'
    assert (
        AlternativeMailbox(
            type="Delegate", display_name="Boss User", smtp_address="boss@example.com",
            owner_smtp_address="boss@example.com",
        ),
    ) == settings.alternative_mailboxes  # fmt: skip
    # 'public_folder_smtp_address="public.folder.root@example.com"'
    assert "public.folder.root@example.com" == settings.public_folder_smtp_address
    # Undocumented Account child <ConsumerMailbox> is kept (Exercises); AuthPackage lower-case, SSL "On".
    assert ("ConsumerMailbox", "False") in document.account_elements
    assert ("basic", "On", Security.TLS) == (protocol(settings, "EXPR").auth_package, protocol(settings, "EXPR").ssl,
                                             protocol(settings, "EXPR").security)  # fmt: skip


def _20(document: object) -> None:
    # 'kind=error, code=601, message="Provider is not available"'
    _error("601", "Provider is not available")(document)
    assert isinstance(document, ErrorDocument)
    assert "14:03:07" == document.time  # "Time without fractional seconds" (Exercises)


def _21(document: object) -> None:
    # 'kind=mobilesync redirect, target="user@example.net" -> restart discovery for domain example.net'
    assert RedirectAddressDocument(address="user@example.net", schema=Schema.MOBILESYNC) == document


def _22(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    # "account.microsoft_online=True"
    assert settings.microsoft_online is True
    # 'EXCH.server_version "73C08419" -> 15.0.1049; EXCH.auth_package="anonymous";
    #  EXCH.ews_url=https://outlook.office365.com/EWS/Exchange.asmx'
    exch = protocol(settings, "EXCH")
    assert ((15, 0, 1049), "anonymous", "https://outlook.office365.com/EWS/Exchange.asmx") == (
        exch.server_version_info, exch.auth_package, exch.ews_url,
    )  # fmt: skip
    # 'EXCH.ecp_url_mt == "PersonalSettings/DeliveryReport.aspx?rfr=olk&exsvurl=1&IsOWA=<IsOWA>&MsgID=<MsgID>
    #  &Mbx=<Mbx>&realm=example.onmicrosoft.com"' (single-escaped in the source: decoded once)
    assert (
        "PersonalSettings/DeliveryReport.aspx?rfr=olk&exsvurl=1&IsOWA=<IsOWA>&MsgID=<MsgID>&Mbx=<Mbx>"
        "&realm=example.onmicrosoft.com"
    ) == exch.ecp_url_mt
    # 'EXPR.ssl=True, EXPR.auth_package="basic", EXPR.cert_principal_name="msstd:outlook.com",
    #  EXPR.grouping_information="DB4PR01"'
    expr = protocol(settings, "EXPR")
    assert (Security.TLS, "basic", "msstd:outlook.com", "DB4PR01") == (
        expr.security, expr.auth_package, expr.cert_principal_name, expr.grouping_information,
    )  # fmt: skip
    # 'WEB.internal.owa_urls=[("LiveIdFba, OAuth","https://outlook.office365.com/owa/")];
    #  WEB.external.owa_urls=[("Fba","https://outlook.office365.com/owa/example.onmicrosoft.com/")]'
    web = protocol(settings, "WEB")
    assert web.internal is not None
    assert web.external is not None
    assert [("LiveIdFba, OAuth", "https://outlook.office365.com/owa/")] == [
        (o.authentication_method, o.url) for o in web.internal.owa_urls
    ]
    assert [("Fba", "https://outlook.office365.com/owa/example.onmicrosoft.com/")] == [
        (o.authentication_method, o.url) for o in web.external.owa_urls
    ]
    assert ("LiveIdFba", "OAuth") == web.internal.owa_urls[0].authentication_methods


# '23: kind=error, code=500, message="The email address can't be found.", time="06:48:34.3039282", id="424529772"'
_23 = _error("500", "The email address can't be found.", "06:48:34.3039282", "424529772")


def _24(document: object) -> None:
    settings = as_settings(document)  # type: ignore[arg-type]
    # 'SMTP: port=587, ssl=False, encryption="TLS" -> effective transport STARTTLS'
    smtp = settings.smtp
    assert smtp is not None
    assert (587, "off", "TLS", Security.STARTTLS, False) == (
        smtp.port, smtp.ssl, smtp.encryption, smtp.security, smtp.security_conflict,
    )  # fmt: skip
    # 'IMAP: port=993, ssl=True, encryption="SSL" -> implicit TLS'
    imap = settings.imap
    assert imap is not None
    assert (993, "on", "SSL", Security.TLS, False) == (
        imap.port, imap.ssl, imap.encryption, imap.security, imap.security_conflict,
    )  # fmt: skip
    # "user is None; CalDAV server string kept verbatim including %EMAILADDRESS%"
    assert settings.user is None
    assert "https://www.example.net/SOGo/dav/%EMAILADDRESS%/Calendar/personal/" == protocol(settings, "CalDAV").server


def _31(document: object) -> None:
    # "same typed result as sample 10"
    assert _parse((CORPUS / _sibling("10")).read_bytes()) == document
    _10(document)


def _32(document: object) -> None:
    # "same typed result as sample 13 (namespace matching by URI, never by prefix text)"
    assert _parse((CORPUS / _sibling("13")).read_bytes()) == document
    _13(document)


def _sibling(number: str) -> str:
    return next(p.name for p in CORPUS.iterdir() if p.name.startswith(f"{number}-") and p.suffix == ".xml")


TYPED: dict[str, Callable[[object], None]] = {
    "01": _01, "02": _02, "03": _03, "04": _04, "05": _05, "06": _06, "07": _07, "08": _08, "09": _09,
    "10": _10, "11": _11, "12": _12, "13": _13, "14": _14, "15": _15, "16": _16, "17": _17, "18": _18,
    "19": _19, "20": _20, "21": _21, "22": _22, "23": _23, "24": _24, "31": _31, "32": _32,
}  # fmt: skip


# --- the tests -------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", _samples(".xml", ".json", ".http"))
def test_every_sample_has_a_sidecar_with_expectations(sample: Path) -> None:
    """Every sample has a sidecar that states typed expectations (and, for POX, a raw extraction)."""
    sidecar = read_sidecar(sample)
    assert sidecar.typed, f"{sidecar.path.name} states no typed expectations"
    if sample.suffix == ".xml":
        assert sidecar.data is not None, f"{sidecar.path.name} has no JSON raw extraction"


@pytest.mark.parametrize("sample", _samples(".xml", ".json", ".http"))
def test_sample_matches_the_raw_extraction_of_its_sidecar(sample: Path) -> None:
    """The parse result holds every value of the sidecar's raw extraction, and nothing it does not list."""
    if sample.suffix != ".xml":
        pytest.skip(V2_REASON)
    sidecar = read_sidecar(sample)
    assert sidecar.data is not None
    body = sample.read_bytes()
    check_raw(sample, sidecar.data, body, _parse(body))


@pytest.mark.parametrize("sample", _samples(".xml", ".json", ".http"))
def test_sample_meets_the_typed_expectations_of_its_sidecar(sample: Path) -> None:
    """The typed result meets the sidecar's typed expectations, as encoded in TYPED."""
    if sample.suffix != ".xml":
        pytest.skip(V2_REASON)
    check = TYPED.get(_number(sample))
    assert check is not None, f"no typed expectations encoded for {sample.name}: add them to TYPED from its sidecar"
    check(_parse(sample.read_bytes()))


ROOT = "https://example.com/autodiscover/autodiscover.xml"


@pytest.mark.parametrize("sample", _samples(".xml"))
def test_discovery_treats_the_sample_as_its_kind(sample: Path) -> None:
    """Served as text/html by a root-domain endpoint, each sample ends its attempt the way its kind says."""
    body = sample.read_bytes()
    transport = FakeTransport({ROOT: HttpResponse(status=200, headers=(("Content-Type", "text/html"),), body=body)})
    parsed = _parse(body)
    try:
        result: Settings | DiscoveryError = discover(
            "user@example.com", methods=[Method.HTTPS_ROOT], resolver=FakeResolver(), transport=transport
        )
    except DiscoveryError as exc:
        result = exc
    first = result.attempts[0]
    assert ROOT == first.url
    if isinstance(parsed, InvalidResponseError):
        assert (Outcome.INVALID_RESPONSE, str(parsed)) == (first.outcome, first.error)
    elif isinstance(parsed, ErrorDocument):
        assert isinstance(result, DiscoveryError)
        assert (Outcome.SERVER_ERROR, parsed.describe()) == (first.outcome, first.error)
    elif isinstance(parsed, RedirectUrlDocument):
        assert Outcome.REDIRECT_URL is first.outcome
        assert parsed.url in (first.error or "")
        assert parsed.url == result.attempts[1].url
    elif isinstance(parsed, RedirectAddressDocument):
        # Within example.com the run restarts for the new address; example.net needs approval (DESIGN §4 rule 3).
        expected = Outcome.REDIRECT_ADDRESS if parsed.address.endswith(".example.com") or parsed.address.endswith(
            "@example.com"
        ) else Outcome.REDIRECT_DENIED  # fmt: skip
        assert expected is first.outcome
        assert parsed.address in (first.error or "")
    elif parsed.schema is Schema.MOBILESYNC and as_settings(parsed).activesync_url is None:
        # Sidecar 15: 'an empty Url must be reported as "no usable endpoint"'.
        assert isinstance(result, DiscoveryError)
        assert (Outcome.INVALID_RESPONSE, "the mobilesync answer has no usable MobileSync URL") == (
            first.outcome,
            first.error,
        )
    else:
        assert isinstance(result, Settings)
        assert (Outcome.SETTINGS, Source(method=Method.HTTPS_ROOT, url=ROOT)) == (first.outcome, result.source)
        assert parsed.protocols == result.protocols
        if parsed.schema is Schema.MOBILESYNC:
            # Sidecar 18: a mobilesync answer to an Outlook request is detected and said so in the trail.
            assert ("mobilesync", as_settings(parsed).activesync_url) == (result.schema, result.activesync_url)
            assert "mobilesync" in (first.error or "")
        else:
            assert first.error is None


@pytest.mark.parametrize("sample", _samples(".json", ".http"))
def test_v2_samples_are_refused_by_the_pox_parser(sample: Path) -> None:
    """A V2 JSON body (or the HTML body of a V2 302) given to the POX parser is a typed InvalidResponseError.

    Everything else about these samples is Autodiscover V2, which is issue 6.
    """
    raw = sample.read_bytes()
    if sample.suffix == ".http":
        head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
        assert head.startswith(b"HTTP/1.1 302")
        with pytest.raises(InvalidResponseError, match="HTML"):
            parse_response(body)
        return
    sidecar = read_sidecar(sample)
    assert sidecar.data == json.loads(raw)  # the sidecar's "Decoded JSON" is the sample
    with pytest.raises(InvalidResponseError, match="not well-formed"):
        parse_response(raw)
