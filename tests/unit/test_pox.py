"""The POX codec: request bodies, response parsing and the typed results (PROTOCOL.md §2-3, DESIGN §3-4).

The bodies here are written by hand for these tests. The tests never parse XML themselves: only
``_pox`` may (DESIGN §4 rule 6), so requests are checked by their text.
"""

from __future__ import annotations

import json
import pickle
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiscover_client import (
    Attempt,
    AuthenticationError,
    DiscoveryError,
    ErrorDocument,
    InvalidResponseError,
    Method,
    MobileSyncServer,
    Outcome,
    ProtocolSettings,
    RedirectAddressDocument,
    RedirectDeniedError,
    RedirectUrlDocument,
    Schema,
    Security,
    Settings,
    SettingsDocument,
    Source,
    User,
    build_request,
    parse_response,
)
from autodiscover_client.testing import settings_body

BASE = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
MOBILESYNC = "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"


def outlook(inner: str, *, prolog: str = "") -> bytes:
    """An Outlook-schema response whose ``Response`` holds ``inner``."""
    return (
        f'{prolog}<Autodiscover xmlns="{BASE}"><Response xmlns="{OUTLOOK}">{inner}</Response></Autodiscover>'.encode()
    )


def account(inner: str, action: str = "settings") -> bytes:
    """An Outlook ``Account`` with ``Action`` and ``inner``."""
    return outlook(f"<Account><AccountType>email</AccountType><Action>{action}</Action>{inner}</Account>")


def mobilesync(inner: str) -> bytes:
    """A mobilesync-schema response whose ``Response`` holds ``inner``."""
    return f'<Autodiscover xmlns="{BASE}"><Response xmlns="{MOBILESYNC}">{inner}</Response></Autodiscover>'.encode()


def parse_settings(body: bytes) -> SettingsDocument:
    document = parse_response(body)
    assert isinstance(document, SettingsDocument)
    return document


def parse_protocol(children: str, attributes: str = "") -> ProtocolSettings:
    """Parse one ``<Protocol{attributes}>{children}</Protocol>`` and return it."""
    document = parse_settings(account(f"<Protocol{attributes}>{children}</Protocol>"))
    assert 1 == len(document.protocols)
    return document.protocols[0]


def refused(body: bytes, *fragments: str) -> str:
    """Assert ``parse_response`` raises InvalidResponseError mentioning every fragment; return the message."""
    with pytest.raises(InvalidResponseError) as info:
        parse_response(body)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    return message


# --- build_request -------------------------------------------------------------------------------


def test_request_asks_for_the_outlook_schema_by_default() -> None:
    """The default request uses the Outlook request namespace and asks for the 2006a response schema."""
    body = build_request("user@example.com").decode("utf-8")
    assert body.startswith('<?xml version="1.0" encoding="utf-8"?>')
    assert (
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">' in body
    )
    assert "<EMailAddress>user@example.com</EMailAddress>" in body
    assert f"<AcceptableResponseSchema>{OUTLOOK}</AcceptableResponseSchema>" in body
    assert "https://" not in body


def test_mobilesync_request_uses_the_mobilesync_namespaces() -> None:
    """A mobilesync request uses the mobilesync request namespace and asks for the mobilesync response schema."""
    body = build_request("user@example.com", Schema.MOBILESYNC).decode("utf-8")
    assert 'xmlns="http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"' in body
    assert f"<AcceptableResponseSchema>{MOBILESYNC}</AcceptableResponseSchema>" in body
    assert "outlook" not in body


def test_request_escapes_every_markup_character_of_the_address() -> None:
    """& < > " and ' in the address are escaped, each exactly once."""
    body = build_request("""x&y<z>"q'@example.com""").decode("utf-8")
    assert "<EMailAddress>x&amp;y&lt;z&gt;&quot;q&apos;@example.com</EMailAddress>" in body
    assert "&amp;amp;" not in body
    assert "<z>" not in body


def test_quoted_local_part_cannot_inject_markup() -> None:
    """'"a<b"@example.com' appears as text with &lt;, so it cannot open an element."""
    body = build_request('"a<b"@example.com').decode("utf-8")
    assert "&quot;a&lt;b&quot;@example.com" in body
    assert "<b" not in body
    assert 1 == body.count("<EMailAddress>")


def test_injection_attempt_stays_inside_the_address_element() -> None:
    """An address carrying a closing tag and a second element stays text inside one EMailAddress."""
    body = build_request('"</EMailAddress><LegacyDN>x</LegacyDN>"@example.com').decode("utf-8")
    assert "<LegacyDN>" not in body
    assert 1 == body.count("</EMailAddress>")


def test_request_is_utf8_encoded() -> None:
    """Non-ASCII local parts are sent as UTF-8 (Learn: requests must be UTF-8)."""
    body = build_request("jörg@xn--bcher-kva.example")
    assert "jörg".encode() in body
    body.decode("utf-8")


# --- the envelope: encodings, prefixes, layout ---------------------------------------------------

MINIMAL_IMAP = "<Protocol><Type>IMAP</Type><Server>imap.example.com</Server></Protocol>"


def test_a_body_without_xml_declaration_parses() -> None:
    """The XML declaration is optional."""
    document = parse_settings(account(MINIMAL_IMAP))
    assert Schema.OUTLOOK is document.schema
    assert "imap.example.com" == document.protocols[0].server


@pytest.mark.parametrize(
    "prolog",
    ['<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-8"?>\r\n', '<?xml version="1.0" encoding="UTF-8" ?>'],
)
def test_xml_declarations_are_accepted(prolog: str) -> None:
    """Declarations with or without an encoding, and with a space before '?>', are accepted."""
    body = prolog.encode() + account(MINIMAL_IMAP)
    assert "IMAP" == parse_settings(body).protocols[0].type


def test_utf8_bom_is_accepted() -> None:
    """A UTF-8 byte order mark before the document is accepted."""
    body = b"\xef\xbb\xbf" + b'<?xml version="1.0" encoding="utf-8"?>' + account(MINIMAL_IMAP)
    assert "imap.example.com" == parse_settings(body).protocols[0].server


def test_crlf_and_indentation_are_accepted() -> None:
    """A pretty-printed body with CRLF line ends parses the same as a compact one."""
    text = (
        '<?xml version="1.0" encoding="utf-8"?>\r\n'
        f'<Autodiscover xmlns="{BASE}">\r\n'
        f'  <Response xmlns="{OUTLOOK}">\r\n'
        "    <Account>\r\n"
        "      <Action>settings</Action>\r\n"
        "      <Protocol>\r\n"
        "        <Type>IMAP</Type>\r\n"
        "        <Server>imap.example.com</Server>\r\n"
        "        <Port>993</Port>\r\n"
        "      </Protocol>\r\n"
        "    </Account>\r\n"
        "  </Response>\r\n"
        "</Autodiscover>\r\n"
    )
    protocol = parse_settings(text.encode()).protocols[0]
    assert ("IMAP", "imap.example.com", 993) == (protocol.type, protocol.server, protocol.port)


def test_single_line_body_is_accepted() -> None:
    """A compact single-line body parses."""
    body = account(MINIMAL_IMAP)
    assert b"\n" not in body
    assert 1 == len(parse_settings(body).protocols)


def test_white_space_around_values_is_stripped() -> None:
    """Text values lose surrounding white space, as MS-ASCMD's own example needs."""
    protocol = parse_protocol("<Type>\n IMAP \n</Type><Server>\r\n\timap.example.com  </Server><Port> 993 </Port>")
    assert ("IMAP", "imap.example.com", 993) == (protocol.type, protocol.server, protocol.port)
    assert ("Server", "imap.example.com") in protocol.elements


def test_action_value_is_stripped() -> None:
    """White space around the Action value does not hide 'settings'."""
    assert isinstance(parse_response(account("", action="\n  settings  \n")), SettingsDocument)


def test_namespace_prefixes_do_not_matter() -> None:
    """Dispatch is on namespace URIs, so prefixed elements parse the same as default-namespace ones."""
    body = (
        f'<a:Autodiscover xmlns:a="{BASE}"><o:Response xmlns:o="{OUTLOOK}"><o:Account>'
        "<o:Action>settings</o:Action><o:Protocol><o:Type>SMTP</o:Type><o:Port>587</o:Port></o:Protocol>"
        "</o:Account></o:Response></a:Autodiscover>"
    ).encode()
    protocol = parse_settings(body).protocols[0]
    assert ("SMTP", 587) == (protocol.type, protocol.port)


def test_a_prefix_that_looks_like_the_namespace_is_not_enough() -> None:
    """A root in some other namespace is refused even when its prefix is spelled like Autodiscover's."""
    refused(b'<ad:Autodiscover xmlns:ad="urn:not-autodiscover"><ad:Response/></ad:Autodiscover>', "not an Autodiscover")


def test_https_namespace_spelling_is_an_alias() -> None:
    """The https://schemas.microsoft.com/... spelling printed by Learn is accepted for both namespaces."""
    body = (
        '<Autodiscover xmlns="https://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">'
        '<Response xmlns="https://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">'
        "<Account><Action>settings</Action>" + MINIMAL_IMAP + "</Account></Response></Autodiscover>"
    ).encode()
    assert "IMAP" == parse_settings(body).protocols[0].type


def test_https_alias_works_for_mobilesync_too() -> None:
    """The https alias is accepted for the mobilesync namespace."""
    body = mobilesync("<Action><Redirect>user@other.example</Redirect></Action>").replace(b"http://", b"https://")
    assert RedirectAddressDocument(address="user@other.example", schema=Schema.MOBILESYNC) == parse_response(body)


def test_utf16_body_with_declaration_parses() -> None:
    """A body declared and encoded as UTF-16 (with its BOM) parses, non-ASCII text included."""
    text = '<?xml version="1.0" encoding="utf-16"?>' + account(
        "<Protocol><Type>IMAP</Type><LoginName>Jörg Ünal</LoginName></Protocol>"
    ).decode("utf-8")
    body = text.encode("utf-16")
    assert body.startswith((b"\xff\xfe", b"\xfe\xff"))
    assert "Jörg Ünal" == parse_settings(body).protocols[0].login_name


def test_utf16le_body_without_bom_parses() -> None:
    """A UTF-16LE body without a BOM but declaring utf-16le parses."""
    text = '<?xml version="1.0" encoding="utf-16le"?>' + account(MINIMAL_IMAP).decode("utf-8")
    assert "imap.example.com" == parse_settings(text.encode("utf-16-le")).protocols[0].server


@pytest.mark.parametrize(("encoding", "codec"), [("iso-8859-1", "latin-1"), ("windows-1252", "cp1252")])
def test_single_byte_declared_encodings_are_honoured(encoding: str, codec: str) -> None:
    """The declared encoding decodes the bytes, not an assumed UTF-8."""
    text = f'<?xml version="1.0" encoding="{encoding}"?>' + account(
        "<Protocol><Type>IMAP</Type><LoginName>jörg</LoginName></Protocol>"
    ).decode("utf-8")
    assert "jörg" == parse_settings(text.encode(codec)).protocols[0].login_name


def test_an_unknown_declared_encoding_is_an_invalid_response() -> None:
    """An encoding Python does not know is refused as InvalidResponseError, not LookupError."""
    refused(b'<?xml version="1.0" encoding="x-made-up"?>' + account(""), "not well-formed", "x-made-up")


def test_bytes_that_contradict_the_declared_encoding_are_refused() -> None:
    """A UTF-16 body declaring utf-8 is refused as not well-formed."""
    text = '<?xml version="1.0" encoding="utf-8"?>' + account("").decode("utf-8")
    refused(text.encode("utf-16"), "not well-formed")


def test_latin1_bytes_without_declaration_are_refused() -> None:
    """Undeclared non-UTF-8 bytes are not well-formed (XML defaults to UTF-8)."""
    body = account("<Protocol><Type>IMAP</Type><LoginName>jörg</LoginName></Protocol>").decode("utf-8")
    refused(body.encode("latin-1"), "not well-formed")


def test_comments_processing_instructions_and_cdata_are_harmless() -> None:
    """Comments and processing instructions are skipped, and CDATA text is read as text."""
    protocol = parse_protocol("<!-- note --><?pi data?><Type><![CDATA[IMAP]]></Type><Server>a&amp;b</Server>")
    assert ("IMAP", "a&b") == (protocol.type, protocol.server)


def test_entities_are_decoded_exactly_once() -> None:
    """A predefined entity is decoded once: '&amp;amp;' gives '&amp;', not '&'."""
    protocol = parse_protocol("<Type>WEB</Type><Server>https://x.example/?a=1&amp;amp;b=2</Server>")
    assert "https://x.example/?a=1&amp;b=2" == protocol.server


# --- documents: settings, redirects ---------------------------------------------------------------


def test_elements_may_come_in_any_order() -> None:
    """Account, User and Protocol children are found wherever they are."""
    body = outlook(
        "<Account><Protocol><OOFUrl>https://mail.example.com/oof</OOFUrl><Port>143</Port><Type>IMAP</Type>"
        "</Protocol><MicrosoftOnline>False</MicrosoftOnline><Action>settings</Action></Account>"
        "<User><AutoDiscoverSMTPAddress>user@example.com</AutoDiscoverSMTPAddress>"
        "<DisplayName>A User</DisplayName></User>"
    )
    document = parse_settings(body)
    protocol = document.protocols[0]
    assert ("IMAP", 143, "https://mail.example.com/oof") == (protocol.type, protocol.port, protocol.oof_url)
    assert document.microsoft_online is False
    assert User(display_name="A User", autodiscover_smtp_address="user@example.com") == document.user


def test_user_block_is_read() -> None:
    """All documented User children are read."""
    body = outlook(
        "<User><DisplayName>A User</DisplayName><LegacyDN>/o=Org/cn=user</LegacyDN>"
        "<DeploymentId>1234-5678</DeploymentId><AutoDiscoverSMTPAddress>user@example.com</AutoDiscoverSMTPAddress>"
        "</User><Account><Action>settings</Action></Account>"
    )
    assert (
        User(
            display_name="A User",
            legacy_dn="/o=Org/cn=user",
            deployment_id="1234-5678",
            autodiscover_smtp_address="user@example.com",
        )
        == parse_settings(body).user
    )


def test_a_settings_answer_without_user_has_user_none() -> None:
    """Non-Exchange servers often omit User; that is not an error."""
    assert parse_settings(account(MINIMAL_IMAP)).user is None


def test_protocols_keep_document_order_and_unknown_types() -> None:
    """Every Protocol is kept in order, including types no specification lists."""
    body = account(
        "<Protocol><Type>IMAP</Type></Protocol><Protocol><Type>CalDAV</Type><Server>https://dav.example.com</Server>"
        "</Protocol><Protocol><Type>Gopher</Type></Protocol><Protocol><Type>SMTP</Type></Protocol>"
    )
    document = parse_settings(body)
    assert ["IMAP", "CalDAV", "Gopher", "SMTP"] == [p.type for p in document.protocols]
    assert "https://dav.example.com" == document.protocols[1].server


def test_unknown_elements_are_kept_in_elements() -> None:
    """Undocumented simple children are kept, in order, beside the known ones, as (name, text)."""
    protocol = parse_protocol(
        "<Type>EXPR</Type><ConsumerMailbox>False</ConsumerMailbox><Server>mail.example.com</Server>"
        "<ExchangeRpcUrl>https://mail.example.com/rpc</ExchangeRpcUrl><Empty/>"
    )
    assert (
        ("Type", "EXPR"),
        ("ConsumerMailbox", "False"),
        ("Server", "mail.example.com"),
        ("ExchangeRpcUrl", "https://mail.example.com/rpc"),
        ("Empty", ""),
    ) == protocol.elements


def test_unknown_account_children_and_nested_unknown_blocks_are_not_fatal() -> None:
    """Unknown Account children and unknown nested blocks inside Protocol do not stop parsing."""
    body = account(
        "<Image>x.png</Image><Widget><Part>1</Part></Widget><Protocol><Type>IMAP</Type><Foo><Bar/></Foo></Protocol>"
    )
    document = parse_settings(body)
    assert ["IMAP"] == [p.type for p in document.protocols]
    assert (("Type", "IMAP"), ("Foo/Bar", "")) == document.protocols[0].elements
    assert (("AccountType", "email"), ("Action", "settings"), ("Image", "x.png"), ("Widget/Part", "1")) == (
        document.account_elements
    )


def test_unknown_blocks_are_flattened_in_document_order_at_any_depth() -> None:
    """Nested unknown blocks keep every leaf as a path, beside the simple children, even when nested very deep."""
    protocol = parse_protocol(
        "<Foo><A>1</A><B><C> 2 </C></B></Foo><Type>EXHTTP</Type><Server>s</Server>"
        "<Internal><OWAUrl>https://o.example.com/</OWAUrl></Internal><Bar>3</Bar>"
    )
    assert (("Foo/A", "1"), ("Foo/B/C", "2"), ("Type", "EXHTTP"), ("Server", "s"), ("Bar", "3")) == protocol.elements
    assert protocol.internal is not None
    deep = parse_protocol("<Type>IMAP</Type>" + "<X>" * 20 + "leaf" + "</X>" * 20)
    assert ("/".join(["X"] * 20), "leaf") == deep.elements[1]
    with pytest.raises(InvalidResponseError, match="deeper than"):  # past MAX_DEPTH: refused, not flattened
        parse_protocol("<Type>IMAP</Type>" + "<X>" * 5000 + "leaf" + "</X>" * 5000)


def test_the_first_of_a_repeated_element_wins_and_all_are_kept() -> None:
    """When a known element repeats, the typed field takes the first and elements keep both."""
    protocol = parse_protocol("<Type>IMAP</Type><Port>993</Port><Port>143</Port>")
    assert 993 == protocol.port
    assert [("Port", "993"), ("Port", "143")] == [e for e in protocol.elements if e[0] == "Port"]


def test_exchange_protocol_fields_are_typed() -> None:
    """Documented EXCH/EXPR children land in their typed fields, EcpUrl-* included."""
    protocol = parse_protocol(
        "<Type>EXCH</Type><Server>guid@example.com</Server><ServerDN>/o=Org/cn=srv</ServerDN>"
        "<ServerVersion>73C08204</ServerVersion><MdbDN>/o=Org/cn=db</MdbDN><AD>dc.example.com</AD>"
        "<ASUrl>https://mail.example.com/EWS/Exchange.asmx</ASUrl><EwsUrl>https://mail.example.com/EWS/Exchange.asmx</EwsUrl>"
        "<EcpUrl>https://mail.example.com/ecp/</EcpUrl><EcpUrl-um>?p=um</EcpUrl-um><EcpUrl-tmHiding>?h</EcpUrl-tmHiding>"
        "<OABUrl>https://mail.example.com/OAB/</OABUrl><AuthPackage>Ntlm</AuthPackage><DirectoryPort>0</DirectoryPort>"
        "<ServerExclusiveConnect>off</ServerExclusiveConnect><TTL>1</TTL>"
    )
    assert "guid@example.com" == protocol.server
    assert "/o=Org/cn=srv" == protocol.server_dn
    assert (15, 0, 516) == protocol.server_version_info
    assert "dc.example.com" == protocol.ad
    assert "https://mail.example.com/EWS/Exchange.asmx" == protocol.ews_url
    assert "?p=um" == protocol.ecp_url_um
    assert "?h" == protocol.ecp_url_tm_hiding
    assert "ntlm" == protocol.auth_package
    assert 0 == protocol.directory_port
    assert protocol.server_exclusive_connect is False
    assert 1 == protocol.ttl


def test_web_protocol_internal_and_external_blocks() -> None:
    """WEB Internal/External give OWA URLs with their authentication methods and the nested Protocol."""
    protocol = parse_protocol(
        "<Type>WEB</Type><Internal><OWAUrl AuthenticationMethod='Basic, Fba'>https://mail.example.com/owa/</OWAUrl>"
        "<Protocol><Type>EXCH</Type><ASUrl>https://mail.example.com/EWS/Exchange.asmx</ASUrl></Protocol></Internal>"
        "<External><OWAUrl AuthenticationMethod='LiveIdFba, OAuth'>https://owa.example.com/</OWAUrl></External>"
    )
    assert protocol.internal is not None
    assert protocol.external is not None
    assert ("Basic", "Fba") == protocol.internal.owa_urls[0].authentication_methods
    assert "EXCH" == protocol.internal.protocol_type
    assert "https://mail.example.com/EWS/Exchange.asmx" == protocol.internal.as_url
    assert ("LiveIdFba", "OAuth") == protocol.external.owa_urls[0].authentication_methods
    assert protocol.external.protocol_type is None


def test_mapi_http_type_attribute() -> None:
    """The MAPI/HTTP form names its type and version in attributes and has MailStore/AddressBook blocks."""
    protocol = parse_protocol(
        "<MailStore><InternalUrl>https://mail.example.com/mapi/emsmdb/?a</InternalUrl>"
        "<ExternalUrl>https://ext.example.com/mapi/emsmdb/?a</ExternalUrl></MailStore>"
        "<AddressBook><ExternalUrl>https://ext.example.com/mapi/nspi/?a</ExternalUrl></AddressBook>",
        ' Type="mapiHttp" Version="1"',
    )
    assert ("mapiHttp", "1") == (protocol.type, protocol.version)
    assert protocol.mail_store is not None
    assert protocol.address_book is not None
    assert "https://mail.example.com/mapi/emsmdb/?a" == protocol.mail_store.internal_url
    assert "https://ext.example.com/mapi/nspi/?a" == protocol.address_book.external_url
    assert protocol.address_book.internal_url is None


def test_a_type_child_wins_over_a_type_attribute() -> None:
    """When both are present, the Type child names the protocol."""
    assert "EXPR" == parse_protocol("<Type>EXPR</Type>", ' Type="mapiHttp"').type


def test_network_requirements_alternative_mailboxes_and_public_folders() -> None:
    """NetworkRequirements, AlternativeMailbox entries and PublicFolderInformation are read."""
    document = parse_settings(
        account(
            "<Protocol><Type>POP3</Type><NetworkRequirements><IPv4Start>10.0.0.0</IPv4Start>"
            "<IPv4End>10.255.255.255</IPv4End></NetworkRequirements></Protocol>"
            "<AlternativeMailbox><Type>Archive</Type><DisplayName>Archive</DisplayName>"
            "<SmtpAddress>archive@example.com</SmtpAddress></AlternativeMailbox>"
            "<AlternativeMailbox><Type>Delegate</Type><OwnerSmtpAddress>boss@example.com</OwnerSmtpAddress>"
            "</AlternativeMailbox><PublicFolderInformation><SmtpAddress>pf@example.com</SmtpAddress>"
            "</PublicFolderInformation><MicrosoftOnline>True</MicrosoftOnline>"
        )
    )
    requirements = document.protocols[0].network_requirements
    assert requirements is not None
    assert ("10.0.0.0", "10.255.255.255", None) == (
        requirements.ipv4_start,
        requirements.ipv4_end,
        requirements.ipv6_start,
    )
    assert ["Archive", "Delegate"] == [box.type for box in document.alternative_mailboxes]
    assert "archive@example.com" == document.alternative_mailboxes[0].smtp_address
    assert "boss@example.com" == document.alternative_mailboxes[1].owner_smtp_address
    assert "pf@example.com" == document.public_folder_smtp_address
    assert document.microsoft_online is True


def test_redirect_addr() -> None:
    """Action redirectAddr gives the new address, stripped."""
    body = account("<RedirectAddr> other@example.net </RedirectAddr>", action="redirectAddr")
    assert RedirectAddressDocument(address="other@example.net") == parse_response(body)


@pytest.mark.parametrize("name", ["RedirectUrl", "RedirectURL", "redirecturl"])
def test_redirect_url_any_spelling(name: str) -> None:
    """Action redirectUrl reads RedirectUrl or Learn's RedirectURL spelling, stripped."""
    body = account(f"<{name}>\n https://mail.example.com/autodiscover/autodiscover.xml \n</{name}>", "redirectUrl")
    assert RedirectUrlDocument(url="https://mail.example.com/autodiscover/autodiscover.xml") == parse_response(body)


@pytest.mark.parametrize(
    ("inner", "action", "fragment"),
    [
        ("", "redirectAddr", "without a RedirectAddr"),
        ("<RedirectAddr>   </RedirectAddr>", "redirectAddr", "without a RedirectAddr"),
        ("<RedirectAddr/>", "redirectAddr", "without a RedirectAddr"),
        ("", "redirectUrl", "without a RedirectUrl"),
        ("<RedirectUrl/>", "redirectUrl", "without a RedirectUrl"),
        ("<RedirectAddr>a@example.net</RedirectAddr>", "redirectUrl", "without a RedirectUrl"),
    ],
)
def test_redirect_actions_without_their_target_are_invalid(inner: str, action: str, fragment: str) -> None:
    """A redirect action without (or with an empty) target element is an invalid response."""
    refused(account(inner, action), fragment)


@pytest.mark.parametrize("action", ["dance", "Settings", "SETTINGS", "redirectaddr", ""])
def test_unknown_actions_are_invalid(action: str) -> None:
    """An Action other than settings, redirectAddr or redirectUrl (case-sensitive) is refused and named."""
    refused(account("", action), "unknown Action", repr(action))


def test_missing_action_is_invalid() -> None:
    """An Account without Action is refused."""
    refused(outlook("<Account><Protocol><Type>IMAP</Type></Protocol></Account>"), "unknown Action")


def test_outlook_response_without_account_or_error_is_invalid() -> None:
    """An Outlook Response with neither Account nor Error is refused."""
    refused(outlook("<User><DisplayName>x</DisplayName></User>"), "neither Account nor Error")


# --- errors in HTTP-200 bodies -------------------------------------------------------------------


def test_error_in_the_base_namespace() -> None:
    """An Error in a Response without its own namespace (the usual Outlook error shape) is an ErrorDocument."""
    body = (
        f'<Autodiscover xmlns="{BASE}"><Response><Error Time="10:11:12.1234567" Id="2215">'
        "<ErrorCode>600</ErrorCode><Message>Invalid Request</Message><DebugData/></Error></Response></Autodiscover>"
    ).encode()
    assert ErrorDocument(code="600", message="Invalid Request", debug_data="", time="10:11:12.1234567", id="2215") == (
        parse_response(body)
    )


def test_error_in_the_outlook_namespace() -> None:
    """An Error directly in an Outlook-namespace Response is an ErrorDocument that says which schema carried it."""
    document = parse_response(outlook("<Error><ErrorCode>603</ErrorCode></Error>"))
    assert ErrorDocument(code="603", schema=Schema.OUTLOOK) == document


def test_error_inside_account() -> None:
    """An Account/Error is an ErrorDocument, even beside an Action."""
    body = outlook(
        "<Account><Action>settings</Action><Error Time='1' Id='2'><ErrorCode>500</ErrorCode>"
        "<Message>The email address can't be found.</Message></Error></Account>"
    )
    expected = ErrorDocument(
        code="500", message="The email address can't be found.", time="1", id="2", schema=Schema.OUTLOOK
    )
    assert expected == parse_response(body)


def test_mobilesync_framework_error() -> None:
    """A mobilesync Response/Error with ErrorCode 601 is an ErrorDocument."""
    body = mobilesync("<Error><ErrorCode>601</ErrorCode><Message>Provider not found</Message></Error>")
    assert ErrorDocument(code="601", message="Provider not found", schema=Schema.MOBILESYNC) == parse_response(body)


def test_mobilesync_action_error_with_status() -> None:
    """A mobilesync Action/Error with Status is an ErrorDocument that describes itself by status."""
    document = parse_response(mobilesync("<Action><Error><Status>2</Status><Message>nope</Message></Error></Action>"))
    assert isinstance(document, ErrorDocument)
    assert ("2", None) == (document.status, document.code)
    assert "Autodiscover status 2: nope" == document.describe()


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        ("500", "cannot be found"),
        ("501", "no configuration"),
        ("600", "invalid request"),
        ("601", "schema is not available"),
        ("602", "configuration errors"),
        ("603", "internal error"),
    ],
)
def test_known_error_codes_describe_themselves_without_a_message(code: str, meaning: str) -> None:
    """Without a Message, a documented error code is described by its meaning."""
    document = parse_response(outlook(f"<Error><ErrorCode>{code}</ErrorCode></Error>"))
    assert isinstance(document, ErrorDocument)
    assert document.describe().startswith(f"Autodiscover error {code}: ")
    assert meaning in document.describe()


def test_unknown_error_codes_are_kept() -> None:
    """An error code outside the table (the spec allows them) is kept as it is."""
    document = parse_response(outlook("<Error><ErrorCode>777</ErrorCode></Error>"))
    assert ErrorDocument(code="777", schema=Schema.OUTLOOK) == document
    assert 777 == document.numeric_code
    assert "Autodiscover error 777: no message" == document.describe()


@pytest.mark.parametrize(
    ("code", "number"),
    [("600", 600), (" 601 ", 601), (None, None), ("", None), ("E600", None), ("6.0", None),
     ("\u0666\u0660\u0660", None), ("9" * 5000, None)],
)  # fmt: skip
def test_numeric_code_reads_plain_digits_only(code: str | None, number: int | None) -> None:
    """numeric_code is the code as an int for plain ASCII digits, else None (never an exception)."""
    assert number == ErrorDocument(code=code).numeric_code


def test_the_server_message_wins_over_the_table() -> None:
    """When the server sends a Message, describe() uses it."""
    document = ErrorDocument(code="500", message="The e-mail address cannot be found.")
    assert "Autodiscover error 500: The e-mail address cannot be found." == document.describe()


def test_an_error_without_code_or_status() -> None:
    """An empty Error still describes itself."""
    assert "Autodiscover error: no message" == ErrorDocument().describe()


# --- mobilesync ----------------------------------------------------------------------------------


def test_mobilesync_settings() -> None:
    """A mobilesync Settings answer gives its servers, user and culture; whitespace in Url is stripped."""
    body = mobilesync(
        "<Culture>en:us</Culture><User><DisplayName>A User</DisplayName><EMailAddress>user@example.com</EMailAddress>"
        "</User><Action><Settings><Server><Type>MobileSync</Type><Url>\n  https://eas.example.com/Microsoft-Server-ActiveSync\n"
        "</Url><Name>https://eas.example.com/Microsoft-Server-ActiveSync</Name></Server><Server><Type>CertEnroll</Type>"
        "<Url>https://eas.example.com/enroll</Url><Name/><ServerData>Template</ServerData></Server></Settings></Action>"
    )
    document = parse_settings(body)
    assert Schema.MOBILESYNC is document.schema
    assert "en:us" == document.culture
    assert User(display_name="A User", email_address="user@example.com") == document.user
    assert (
        MobileSyncServer(
            type="MobileSync",
            url="https://eas.example.com/Microsoft-Server-ActiveSync",
            name="https://eas.example.com/Microsoft-Server-ActiveSync",
        ),
        MobileSyncServer(type="CertEnroll", url="https://eas.example.com/enroll", name="", server_data="Template"),
    ) == document.mobilesync_servers
    assert () == document.protocols


def test_a_mobilesync_answer_to_an_outlook_request_is_still_settings() -> None:
    """A server that answers mobilesync to an Outlook request (mailcow) still yields settings with its servers."""
    request = build_request("user@example.com", Schema.OUTLOOK)
    assert OUTLOOK.encode() in request
    document = parse_settings(
        mobilesync("<Action><Settings><Server><Type>MobileSync</Type><Url>https://eas.example.com/eas</Url>"
                   "</Server></Settings></Action>")
    )  # fmt: skip
    assert Schema.MOBILESYNC is document.schema
    settings_ = Settings(
        email="user@example.com",
        source=Source(method=Method.HTTPS_ROOT, url="https://example.com/autodiscover/autodiscover.xml"),
        mobilesync_servers=document.mobilesync_servers,
        schema=document.schema.value,
    )
    assert "https://eas.example.com/eas" == settings_.activesync_url
    assert settings_.ews_url is None


def test_mobilesync_redirect() -> None:
    """A mobilesync Redirect is an address redirect."""
    body = mobilesync("<Action><Redirect> user@other.example </Redirect></Action>")
    assert RedirectAddressDocument(address="user@other.example", schema=Schema.MOBILESYNC) == parse_response(body)


@pytest.mark.parametrize(
    ("inner", "fragment"),
    [
        ("<Culture>en:us</Culture>", "neither Action nor Error"),
        ("<Action/>", "no Settings, Redirect or Error"),
        ("<Action><Redirect/></Action>", "no Settings, Redirect or Error"),
    ],
)
def test_mobilesync_shapes_without_an_answer_are_invalid(inner: str, fragment: str) -> None:
    """A mobilesync Response without Action, or an Action without an answer, is refused."""
    refused(mobilesync(inner), fragment)


def test_mobilesync_server_without_url() -> None:
    """An empty Url is kept as "" but is not a usable URL; a missing one is None; an empty Settings is settings."""
    document = parse_settings(
        mobilesync(
            "<Action><Settings><Server><Type>MobileSync</Type><Url/></Server><Server><Type>CertEnroll</Type>"
            "</Server></Settings></Action>"
        )
    )
    assert (MobileSyncServer(type="MobileSync", url=""), MobileSyncServer(type="CertEnroll")) == (
        document.mobilesync_servers
    )
    assert not any(server.url_is_valid for server in document.mobilesync_servers)
    assert () == parse_settings(mobilesync("<Action><Settings/></Action>")).mobilesync_servers


# --- what is not an Autodiscover document --------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   ", b"\r\n\t \n"])
def test_empty_bodies_are_invalid(body: bytes) -> None:
    """Empty and white-space-only bodies are refused as empty."""
    refused(body, "empty")


def test_a_bom_alone_is_invalid() -> None:
    """A body that is only a byte order mark is refused."""
    refused(b"\xef\xbb\xbf", "not well-formed")


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><body>Welcome</body></html>",
        b"<!doctype html>\n<html lang='en'></html>",
        b"\r\n  <html><head><title>Portal</title></head></html>",
        b"\xef\xbb\xbf<HTML><BODY>Sign in</BODY></HTML>",
        b"<html><body><p>unclosed",
    ],
)
def test_html_bodies_say_html(body: bytes) -> None:
    """HTML pages (web sites, captive portals) are refused with a message that says HTML."""
    refused(body, "HTML")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"hello, world", "not well-formed"),
        (b'{"Protocol": "AutodiscoverV1"}', "not well-formed"),
        (b"<Autodiscover", "not well-formed"),
        (outlook("<Account>"), "not well-formed"),
        (account("") + b"<second/>", "not well-formed"),
        (account("<Protocol><Type>&nbsp;</Type></Protocol>"), "not well-formed"),
        (b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>', "not an Autodiscover"),
        (b'<rss version="2.0"><channel/></rss>', "not an Autodiscover"),
        (b"<Autodiscover><Response/></Autodiscover>", "not an Autodiscover"),
        (b'<Autodiscover xmlns="http://example.com/autodiscover"><Response/></Autodiscover>', "not an Autodiscover"),
        (f'<Autodiscover xmlns="{OUTLOOK}"><Response/></Autodiscover>'.encode(), "not an Autodiscover"),
        (f'<Other xmlns="{BASE}"><Response/></Other>'.encode(), "not an Autodiscover"),
        (f'<Autodiscover xmlns="{BASE}"/>'.encode(), "no Response"),
        (f'<Autodiscover xmlns="{BASE}"><Request/></Autodiscover>'.encode(), "no Response"),
        (
            f'<Autodiscover xmlns="{BASE}"><Response xmlns="urn:x"><Account/></Response></Autodiscover>'.encode(),
            "urn:x",
        ),
        (f'<Autodiscover xmlns="{BASE}"><Response><Account/></Response></Autodiscover>'.encode(), "unknown"),
    ],
)
def test_non_autodiscover_bodies_are_invalid(body: bytes, fragment: str) -> None:
    """Malformed XML, other XML roots, wrong namespaces and a missing or unknown Response are refused."""
    refused(body, fragment)


def test_a_request_body_is_not_a_response() -> None:
    """Our own request (request namespace) is not mistaken for a response."""
    refused(build_request("user@example.com"), "not an Autodiscover")


_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]><lolz>&lol9;</lolz>"
)
_FORBIDDEN = {
    "internal-dtd": '<?xml version="1.0"?><!DOCTYPE Autodiscover [<!ELEMENT Autodiscover ANY>]>' + account("").decode(),
    "bare-doctype": "<!DOCTYPE Autodiscover>" + account("").decode(),
    "entity": f'<!DOCTYPE Autodiscover [<!ENTITY who "user@example.com">]><Autodiscover xmlns="{BASE}">'
    f'<Response xmlns="{OUTLOOK}"><Account><Action>redirectAddr</Action><RedirectAddr>&who;</RedirectAddr>'
    "</Account></Response></Autodiscover>",
    "external-entity": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    f'<Autodiscover xmlns="{BASE}"><Response xmlns="{OUTLOOK}"><Account><Action>redirectUrl</Action>'
    "<RedirectUrl>&secret;</RedirectUrl></Account></Response></Autodiscover>",
    "external-dtd": '<!DOCTYPE Autodiscover SYSTEM "http://evil.example/autodiscover.dtd">' + account("").decode(),
    "parameter-entity": '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://evil.example/p.dtd"> %p;]>' + account("").decode(),
    "billion-laughs": _LAUGHS,
    "quadratic-blowup": '<!DOCTYPE x [<!ENTITY a "' + "A" * 50_000 + '">]><x>' + "&a;" * 2_000 + "</x>",
}


@pytest.mark.parametrize("body", list(_FORBIDDEN.values()), ids=list(_FORBIDDEN))
def test_dtds_and_entities_are_refused_quickly(body: str) -> None:
    """DTDs, entity declarations, external entities and entity bombs are refused at once, never expanded."""
    started = time.perf_counter()
    refused(body.encode(), "forbidden XML construct")
    assert time.perf_counter() - started < 1.0


# --- numbers, booleans, ServerVersion ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "port"),
    [("993", 993), (" 587 ", 587), ("0", 0), ("99x", None), ("-1", None), ("+1", None), ("9.9", None),
     ("\uff10\uff19\uff19\uff13", None), ("٩٩٣", None), ("", None), ("0x3e1", None), ("9" * 5000, None)],
)  # fmt: skip
def test_ports_parse_digits_only_and_keep_the_raw_text(raw: str, port: int | None) -> None:
    """Port is an int only for plain ASCII digits; junk (even 5000 digits) gives None and stays in elements."""
    protocol = parse_protocol(f"<Type>IMAP</Type><Port>{raw}</Port>")
    assert port == protocol.port
    assert ("Port", raw.strip()) in protocol.elements


@pytest.mark.parametrize("name", ["TTL", "DirectoryPort", "ReferralPort"])
def test_other_integers_tolerate_junk(name: str) -> None:
    """TTL, DirectoryPort and ReferralPort with junk are None, never an exception."""
    protocol = parse_protocol(f"<Type>EXCH</Type><{name}>12 hours</{name}>")
    assert (name, "12 hours") in protocol.elements
    assert (protocol.ttl, protocol.directory_port, protocol.referral_port) == (None, None, None)


@pytest.mark.parametrize(
    ("raw", "value"),
    [("on", True), ("On", True), ("TRUE", True), ("yes", True), ("1", True), (" off ", False), ("Off", False),
     ("False", False), ("no", False), ("0", False), ("maybe", None), ("", None)],
)  # fmt: skip
def test_booleans_are_case_insensitive(raw: str, value: bool | None) -> None:
    """on/off, true/false, yes/no and 1/0 in any case are booleans; anything else is None."""
    names = ("SPA", "DomainRequired", "AuthRequired", "UsePOPAuth", "SMTPLast")
    protocol = parse_protocol("<Type>SMTP</Type>" + "".join(f"<{name}>{raw}</{name}>" for name in names))
    fields = (protocol.spa, protocol.domain_required, protocol.auth_required, protocol.use_pop_auth, protocol.smtp_last)
    assert (value,) * 5 == fields


def test_absent_elements_are_none_not_defaults() -> None:
    """Absent elements stay None (their documented defaults are not filled in), except the normalised security."""
    protocol = parse_protocol("<Type>IMAP</Type>")
    assert (None, None, None, None) == (protocol.spa, protocol.auth_required, protocol.ssl, protocol.ttl)
    assert Security.TLS is protocol.security


@pytest.mark.parametrize(
    ("raw", "info"),
    [
        ("73C08204", (15, 0, 516)),
        ("72008287", (8, 0, 647)),
        ("73C0834F", (15, 0, 847)),
        ("73c08419", (15, 0, 1049)),
        (" 73C08204 ", (15, 0, 516)),
        (None, None),
        ("", None),
        ("zz", None),
        ("Version 15", None),
        ("0x73C08204", None),
        ("+73C0820", None),
        ("7_3", None),
        ("73C0_8204", None),
        ("-73C0820", None),
        ("173C08204", None),
        ("3C08204", None),
        ("73C08204\u0663", None),
    ],
)
def test_server_version_decoding(raw: str | None, info: tuple[int, int, int] | None) -> None:
    """ServerVersion decodes only as exactly 8 hex digits (4+6+6+1+15 bits); anything else is None."""
    assert info == ProtocolSettings(type="EXCH", server_version=raw).server_version_info


def test_server_version_is_decoded_from_a_response() -> None:
    """A parsed ServerVersion is kept raw and decoded on demand."""
    protocol = parse_protocol("<Type>EXPR</Type><ServerVersion>72008287</ServerVersion>")
    assert ("72008287", (8, 0, 647)) == (protocol.server_version, protocol.server_version_info)


# --- Security normalisation ----------------------------------------------------------------------

SecurityCase = tuple[str | None, str | None, int | None, Security | None, bool]
_SECURITY: list[SecurityCase] = [
    # SSL alone (default on when absent)
    (None, None, None, Security.TLS, False),
    (None, None, 993, Security.TLS, False),
    ("on", None, 993, Security.TLS, False),
    ("On", None, 465, Security.TLS, False),
    ("yes", None, 995, Security.TLS, False),
    ("TRUE", None, None, Security.TLS, False),
    ("on", None, 587, Security.TLS, True),
    ("on", None, 143, Security.TLS, True),
    (None, None, 143, Security.TLS, True),
    ("off", None, 143, Security.NONE, False),
    ("Off", None, 25, Security.NONE, False),
    ("off", None, 993, Security.NONE, True),
    ("auto", None, 587, Security.STARTTLS, False),
    ("Auto", None, 993, Security.TLS, False),
    ("sometimes", None, 993, None, False),
    # Encryption overrides SSL
    ("on", "TLS", 587, Security.STARTTLS, False),
    (None, "tls", 143, Security.STARTTLS, False),
    ("off", "TLS", 993, Security.STARTTLS, True),
    (None, "SSL", 993, Security.TLS, False),
    ("off", "ssl", 465, Security.TLS, False),
    (None, "SSL", 587, Security.TLS, True),
    ("on", "None", 143, Security.NONE, False),
    (None, "none", 995, Security.NONE, True),
    (None, "Auto", 587, Security.STARTTLS, False),
    ("off", "auto", 143, Security.STARTTLS, False),
    (None, "AUTO", 993, Security.TLS, False),
    (None, "Auto", None, Security.TLS, False),
    (None, " TLS ", 25, Security.STARTTLS, False),
    ("on", "On", 993, None, False),
    ("on", "yes", 993, None, False),
    # a blank Encryption is as good as absent
    ("off", "", 143, Security.NONE, False),
    # unknown ports never conflict
    ("on", None, 2525, Security.TLS, False),
    (None, "TLS", 10143, Security.STARTTLS, False),
]


@pytest.mark.parametrize(("ssl", "encryption", "port", "security", "conflict"), _SECURITY)
def test_security_normalisation(
    ssl: str | None, encryption: str | None, port: int | None, security: Security | None, conflict: bool
) -> None:
    """SSL/Encryption/Port normalise to one Security, and a contradiction with a well-known port is flagged."""
    children = "<Type>IMAP</Type>"
    children += f"<SSL>{ssl}</SSL>" if ssl is not None else ""
    children += f"<Encryption>{encryption}</Encryption>" if encryption is not None else ""
    children += f"<Port>{port}</Port>" if port is not None else ""
    protocol = parse_protocol(children)
    assert (security, conflict) == (protocol.security, protocol.security_conflict)
    assert (ssl, encryption.strip() if encryption else encryption) == (protocol.ssl, protocol.encryption)


def test_a_junk_port_never_conflicts() -> None:
    """A Port that is not a number cannot contradict the security."""
    protocol = parse_protocol("<Type>IMAP</Type><SSL>on</SSL><Port>143x</Port>")
    assert (Security.TLS, False) == (protocol.security, protocol.security_conflict)


# --- Settings, to_dict, pickling -----------------------------------------------------------------

SOURCE = Source(method=Method.HTTPS_AUTODISCOVER, url="https://autodiscover.example.com/autodiscover/autodiscover.xml")


def make_settings(*protocols: ProtocolSettings, servers: tuple[MobileSyncServer, ...] = ()) -> Settings:
    return Settings(email="user@example.com", source=SOURCE, protocols=protocols, mobilesync_servers=servers)


def test_ews_url_prefers_expr_then_exch() -> None:
    """ews_url takes EXPR's EwsUrl, else EXCH's; exchange is EXPR, else EXCH."""
    exch = ProtocolSettings(type="EXCH", ews_url="https://internal.example.com/EWS/Exchange.asmx")
    expr = ProtocolSettings(type="EXPR", ews_url="https://external.example.com/EWS/Exchange.asmx")
    assert "https://external.example.com/EWS/Exchange.asmx" == make_settings(exch, expr).ews_url
    assert expr is make_settings(exch, expr).exchange
    assert "https://internal.example.com/EWS/Exchange.asmx" == make_settings(exch).ews_url
    assert exch is make_settings(exch).exchange


def test_ews_url_falls_back_when_expr_has_none() -> None:
    """An EXPR without EwsUrl (or with an empty one) does not hide EXCH's."""
    exch = ProtocolSettings(type="EXCH", ews_url="https://internal.example.com/EWS/Exchange.asmx")
    assert exch.ews_url == make_settings(ProtocolSettings(type="EXPR"), exch).ews_url
    assert exch.ews_url == make_settings(ProtocolSettings(type="EXPR", ews_url=""), exch).ews_url
    assert make_settings(ProtocolSettings(type="WEB", ews_url="https://x.example/ews")).ews_url is None
    assert make_settings().ews_url is None
    assert make_settings().exchange is None


def test_protocol_accessors_are_case_insensitive_and_take_the_first() -> None:
    """imap, smtp and pop3 return the first protocol of that type, whatever its case."""
    first_imap = ProtocolSettings(type="imap", server="imap1.example.com")
    second_imap = ProtocolSettings(type="IMAP", server="imap2.example.com")
    smtp = ProtocolSettings(type="Smtp", server="smtp.example.com")
    pop3 = ProtocolSettings(type="POP3", server="pop.example.com")
    found = make_settings(first_imap, smtp, second_imap, pop3)
    assert first_imap is found.imap
    assert smtp is found.smtp
    assert pop3 is found.pop3
    assert found.protocol("caldav") is None
    assert make_settings().imap is None


def test_activesync_url_is_the_mobilesync_server() -> None:
    """activesync_url is the first MobileSync server with a URL; CertEnroll servers are ignored."""
    servers = (
        MobileSyncServer(type="CertEnroll", url="https://eas.example.com/enroll"),
        MobileSyncServer(type="mobilesync", url=None),
        MobileSyncServer(type="MobileSync", url="https://eas.example.com/Microsoft-Server-ActiveSync"),
    )
    assert "https://eas.example.com/Microsoft-Server-ActiveSync" == make_settings(servers=servers).activesync_url
    assert make_settings(servers=servers[:2]).activesync_url is None


def _full_settings() -> Settings:
    document = parse_settings(
        outlook(
            "<User><DisplayName>Jörg</DisplayName></User><Account><Action>settings</Action>"
            "<Protocol><Type>EXPR</Type><EwsUrl>https://mail.example.com/EWS/Exchange.asmx</EwsUrl>"
            "<ServerVersion>73C08204</ServerVersion><Unknown>kept</Unknown></Protocol>"
            "<Protocol><Type>WEB</Type><External><OWAUrl AuthenticationMethod='Basic'>https://mail.example.com/owa/"
            "</OWAUrl></External></Protocol><Protocol><Type>IMAP</Type><Port>993</Port><SSL>on</SSL></Protocol>"
            "<AlternativeMailbox><Type>Archive</Type></AlternativeMailbox></Account>"
        )
    )
    attempt = Attempt(
        method=Method.HTTPS_AUTODISCOVER, url=SOURCE.url, outcome=Outcome.SETTINGS, email="user@example.com",
        status=200, elapsed=0.25,
    )  # fmt: skip
    return Settings(
        email="user@example.com",
        source=SOURCE,
        user=document.user,
        protocols=document.protocols,
        alternative_mailboxes=document.alternative_mailboxes,
        mobilesync_servers=(MobileSyncServer(type="MobileSync", url="https://eas.example.com/eas"),),
        attempts=(attempt,),
    )


def test_to_dict_is_json_serialisable() -> None:
    """Settings.to_dict() is plain data that json.dumps accepts, with enums as values and convenience keys."""
    data = _full_settings().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert "https://mail.example.com/EWS/Exchange.asmx" == data["ews_url"]
    assert "https://eas.example.com/eas" == data["activesync_url"]
    assert [15, 0, 516] == data["protocols"][0]["server_version_info"]
    assert data["protocols"][1]["server_version_info"] is None
    assert "tls" == data["protocols"][2]["security"]
    assert [["Type", "EXPR"], ["EwsUrl", "https://mail.example.com/EWS/Exchange.asmx"],
            ["ServerVersion", "73C08204"], ["Unknown", "kept"]] == data["protocols"][0]["elements"]  # fmt: skip
    assert {"method": "https_autodiscover", "url": SOURCE.url} == data["source"]
    assert "settings" == data["attempts"][0]["outcome"]


def test_attempt_to_dict_is_json_serialisable() -> None:
    """Attempt.to_dict() is plain JSON-ready data."""
    attempt = Attempt(method=Method.SRV, url="_autodiscover._tcp.example.com", outcome=Outcome.NO_RECORDS)
    data = attempt.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert ("srv", "no_records") == (data["method"], data["outcome"])


def test_settings_and_attempts_survive_pickling() -> None:
    """Settings and Attempt pickle and unpickle to equal objects (they travel between processes)."""
    original = _full_settings()
    copy = pickle.loads(pickle.dumps(original))
    assert original == copy
    assert original.ews_url == copy.ews_url
    assert original.attempts[0] == pickle.loads(pickle.dumps(original.attempts[0]))


@pytest.mark.parametrize("error_type", [DiscoveryError, AuthenticationError, RedirectDeniedError])
def test_discovery_errors_survive_pickling(error_type: type[DiscoveryError]) -> None:
    """A DiscoveryError (or subclass) unpickles with its type, message, address and trail intact."""
    attempts = (
        Attempt(method=Method.SRV, url="_autodiscover._tcp.example.com", outcome=Outcome.NO_RECORDS),
        Attempt(method=Method.HTTPS_ROOT, url="https://example.com/autodiscover/autodiscover.xml",
                outcome=Outcome.HTTP_ERROR, status=404, error="HTTP 404"),
    )  # fmt: skip
    original = error_type("no Autodiscover settings for user@example.com", email="user@example.com", attempts=attempts)
    copy = pickle.loads(pickle.dumps(original))
    assert type(original) is type(copy)
    assert (original.message, original.email, original.attempts) == (copy.message, copy.email, copy.attempts)
    assert str(original) == str(copy)
    assert original.to_dict() == copy.to_dict()
    assert json.loads(json.dumps(copy.to_dict())) == copy.to_dict()


def test_documents_are_frozen_and_comparable() -> None:
    """Parsed documents compare by value, so the same body parses to equal documents."""
    body = account(MINIMAL_IMAP)
    assert parse_response(body) == parse_response(body)
    assert hash(parse_response(body)) == hash(parse_response(body))


# --- fuzz ----------------------------------------------------------------------------------------

_VALID = settings_body(
    display_name="A User",
    email="user@example.com",
    ews_url="https://mail.example.com/EWS/Exchange.asmx",
    imap=("imap.example.com", 993),
    smtp=("smtp.example.com", 587),
    pop3=("pop.example.com", 110),
)
_SNIPPETS = [b"<", b">", b"&", b"/", b'"', b"<!DOCTYPE x [<!ENTITY a 'b'>]>", b"&a;", b"<![CDATA[", b"\x00", b"\xff",
             b"\xef\xbb\xbf", b"<?xml version='1.0' encoding='utf-16'?>", b"xmlns:x='urn:x'", b"</Response>",
             b"<Protocol>", b"<Port>99999999999999999999999</Port>", b"\xc3", b"]]>"]  # fmt: skip


@st.composite
def mutated_bodies(draw: st.DrawFn) -> bytes:
    data = bytearray(_VALID)
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        kind = draw(st.sampled_from(["insert", "delete", "flip", "snippet"]))
        at = draw(st.integers(min_value=0, max_value=len(data)))
        if kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "snippet":
            data[at:at] = draw(st.sampled_from(_SNIPPETS))
        elif kind == "delete" and data:
            end = at + draw(st.integers(min_value=1, max_value=16))
            del data[at:end]
        elif data:
            index = min(at, len(data) - 1)
            data[index] ^= 1 << draw(st.integers(min_value=0, max_value=7))
    return bytes(data)


@settings(max_examples=300, deadline=None)
@given(mutated_bodies())
def test_mutated_bodies_parse_or_raise_invalid_response_error(body: bytes) -> None:
    """A mangled settings body either parses to a document or raises InvalidResponseError, nothing else."""
    try:
        document = parse_response(body)
    except InvalidResponseError:
        return
    assert isinstance(document, (SettingsDocument, RedirectAddressDocument, RedirectUrlDocument, ErrorDocument))


def test_the_unmutated_fuzz_seed_is_valid() -> None:
    """The fuzz starts from a body that parses to settings with every protocol it names."""
    document = parse_settings(_VALID)
    assert ["EXPR", "IMAP", "POP3", "SMTP"] == [p.type for p in document.protocols]
    assert [Security.TLS, Security.TLS, Security.STARTTLS, Security.STARTTLS] == [
        p.security for p in document.protocols
    ]
    assert not any(p.security_conflict for p in document.protocols)


def test_a_deeply_nested_body_is_refused_quickly() -> None:
    """A body of 45,000 nested elements (under the 1 MiB cap) is refused as a typed error in well under a second."""
    import time

    from autodiscover_client import InvalidResponseError, parse_response

    depth = 45_000
    body = (
        b'<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">'
        b'<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">'
        b"<Account><Action>settings</Action>"
        + b"<Protocol>" * depth
        + b"x"
        + b"</Protocol>" * depth
        + b"</Account></Response></Autodiscover>"
    )
    start = time.perf_counter()
    with pytest.raises(InvalidResponseError, match="deeper than"):
        parse_response(body)
    assert time.perf_counter() - start < 1.0


def test_white_space_before_the_xml_declaration_is_accepted() -> None:
    """A new line before ``<?xml`` (common from PHP servers) does not make the document unreadable."""
    from autodiscover_client import SettingsDocument, parse_response

    body = (
        b'\n\n<?xml version="1.0" encoding="utf-8"?>'
        b'<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">'
        b'<Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">'
        b"<Account><Action>settings</Action><Protocol><Type>IMAP</Type><Server>imap.example.com</Server>"
        b"</Protocol></Account></Response></Autodiscover>"
    )
    document = parse_response(body)
    assert isinstance(document, SettingsDocument)
    assert "imap.example.com" == document.protocols[0].server
