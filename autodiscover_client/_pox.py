"""The POX codec: the request body, and the response parser (MS-OXDSCLI §2.2, MS-ASCMD §2.2.1.1).

This is the only module that parses XML, and it parses only with defusedxml: no DTDs, no entities,
no external references (DESIGN §4 rule 6). Dispatch is on namespace URIs, never on prefixes
(PROTOCOL.md §3.1), and element order is never relied upon.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING, Any

from ._errors import InvalidResponseError
from ._models import AlternativeMailbox, MobileSyncServer, ProtocolSettings, User
from ._pox_protocol import parse_alternative_mailbox, parse_bool, parse_protocol, parse_user
from ._pox_tree import child, child_text, children, clark, kept_children, local, split, text

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

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
    """``Action=settings`` (Outlook) or mobilesync ``Settings``.

    ``schema`` is the namespace the ``Response`` came in, whatever the request asked for: mailcow answers
    mobilesync to Outlook requests (PROTOCOL.md §3.1, corpus 18). ``account_elements`` keeps every simple
    ``Account`` child, known or not (``AccountType``, ``MicrosoftOnline``, gromox's ``ConsumerMailbox`` …),
    as ``(local name, text)`` in document order.
    """

    schema: Schema
    user: User | None = None
    protocols: tuple[ProtocolSettings, ...] = ()
    mobilesync_servers: tuple[MobileSyncServer, ...] = ()
    account_type: str | None = None
    account_elements: tuple[tuple[str, str], ...] = ()
    microsoft_online: bool | None = None
    alternative_mailboxes: tuple[AlternativeMailbox, ...] = ()
    public_folder_smtp_address: str | None = None
    culture: str | None = None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RedirectAddressDocument:
    """``Action=redirectAddr`` or a mobilesync ``Redirect``: start again for another address."""

    address: str
    schema: Schema = Schema.OUTLOOK


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RedirectUrlDocument:
    """``Action=redirectUrl``: POST again to another URL."""

    url: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class ErrorDocument:
    """An Autodiscover ``Error`` (MS-OXDSCLI §2.2.4.1.1.3) or a mobilesync action ``Error`` with ``Status``.

    ``code``, ``time`` and ``id`` are kept as sent: servers MAY use codes outside the table (MS-OXDSCLI
    §3.2.5) and mailcow sends ``Time="14:03:070.123456"`` (corpus 17). ``schema`` is the namespace of the
    ``Response`` that carried the error, or ``None`` for the base namespace most servers use.
    """

    code: str | None = None
    message: str | None = None
    debug_data: str | None = None
    time: str | None = None
    id: str | None = None
    status: str | None = None
    schema: Schema | None = None

    @property
    def numeric_code(self) -> int | None:
        """``code`` as an int (``"600"`` -> 600), or ``None`` when absent or not a plain number."""
        code = (self.code or "").strip()
        return int(code) if code.isascii() and code.isdigit() and len(code) <= 9 else None

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

_SCHEMAS = {OUTLOOK_NS: Schema.OUTLOOK, MOBILESYNC_NS: Schema.MOBILESYNC}

Document = SettingsDocument | RedirectAddressDocument | RedirectUrlDocument | ErrorDocument


def parse_response(body: bytes | bytearray | memoryview) -> Document:
    """Parse an Autodiscover response body, classifying it by content, never by Content-Type.

    Args:
        body: The raw bytes (any XML encoding declaration, with or without a BOM).

    Returns:
        One of :class:`SettingsDocument`, :class:`RedirectAddressDocument`,
        :class:`RedirectUrlDocument` or :class:`ErrorDocument`.

    Raises:
        InvalidResponseError: The body is empty, compressed, not well-formed, uses a DTD or entities, or
            is not an Autodiscover response.
        TypeError: ``body`` is not bytes (``bytearray`` and ``memoryview`` are accepted).
    """
    body = _as_bytes(body)
    if not body.strip():
        raise InvalidResponseError("the body is empty")
    if body[:2] == b"\x1f\x8b":
        # Sent although the request said Accept-Encoding: identity; never decompressed (a bomb's way in).
        raise InvalidResponseError("a gzip-compressed body (the server ignored Accept-Encoding: identity)")
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    if head.startswith((b"<!doctype html", b"<html")):
        # Web sites on root domains and captive portals answer HTML (PROTOCOL.md §1.9): say so plainly.
        raise InvalidResponseError("an HTML page, not an Autodiscover response")
    if body[:1] in _LEADING_SPACE:
        # PHP servers (Z-Push, mailcow set-ups) often emit a new line before "<?xml": expat refuses a
        # declaration that is not at the very start, yet the document is otherwise fine.
        body = body.lstrip(b" \t\r\n")
    import defusedxml.ElementTree  # on first use, like dnspython and requests (benchmarks/bench_import.py)

    try:
        root = parse_tree(body)
    except defusedxml.DefusedXmlException as exc:
        raise InvalidResponseError(f"forbidden XML construct: {type(exc).__name__}") from exc
    except (defusedxml.ElementTree.ParseError, ValueError, LookupError) as exc:
        raise InvalidResponseError(f"not well-formed XML: {exc}") from exc
    if split(root.tag) != (BASE_NS, "Autodiscover"):
        raise InvalidResponseError(f"not an Autodiscover response (root element {clark(root.tag)!r})")
    response = child(root, "Response")
    if response is None:
        raise InvalidResponseError("the Autodiscover response has no Response element")
    response_ns = split(response.tag)[0]
    error = child(response, "Error")
    if error is not None:
        # Usually in the base namespace; MS-ASCMD also shows mobilesync ones (PROTOCOL.md §3.8).
        return _parse_error(error, _SCHEMAS.get(response_ns))
    if response_ns == OUTLOOK_NS:
        return _parse_outlook(response)
    if response_ns == MOBILESYNC_NS:
        return _parse_mobilesync(response)
    raise InvalidResponseError(f"unknown Autodiscover response schema {response_ns!r}")


_LEADING_SPACE = (b" ", b"\t", b"\r", b"\n")


def _as_bytes(body: object) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    # A str has already been decoded by someone, with whatever encoding they guessed: refuse to guess again.
    raise TypeError(f"parse_response() takes the body as bytes, not {type(body).__name__}")


def parse_tree(body: bytes) -> Element:
    """Parse ``body`` with defusedxml's parser, its element events going straight to the C tree builder.

    defusedxml subclasses ElementTree's pure-Python ``XMLParser``, whose per-element ``_start`` and
    ``_end`` methods only spell tags as ``{uri}local`` and build the attribute dict: two Python calls per
    element, about half of what a defusedxml parse costs (benchmarks/bench_parse.py). Its defences are
    expat handlers of their own (doctype, entity declarations, external references) and stay in place;
    only the element handlers are rewired, as ElementTree's own ``XMLPullParser`` does. Tags then read
    ``uri}local``, the spelling ``split`` reads; the fallback path respells ElementTree's ``{uri}local``.

    Raises:
        defusedxml.DefusedXmlException: A DTD, an entity declaration or an external reference.
        xml.etree.ElementTree.ParseError: The body is not well-formed.
    """
    from xml.etree.ElementTree import TreeBuilder  # ElementTree's C tree builder; no parsing of its own

    import defusedxml.ElementTree  # on first use, like dnspython and requests (benchmarks/bench_import.py)

    builder = TreeBuilder()
    parser = defusedxml.ElementTree.DefusedXMLParser(target=builder, forbid_dtd=True)
    expat: Any = getattr(parser, "parser", None)
    if getattr(expat, "StartDoctypeDeclHandler", None) is None or getattr(expat, "EntityDeclHandler", None) is None:
        # Not the defusedxml this was written against: take its own documented path, never a bare one.
        fallback: Element = defusedxml.ElementTree.fromstring(body, forbid_dtd=True)
        for element in fallback.iter():
            if isinstance(element.tag, str) and element.tag.startswith("{"):
                element.tag = element.tag[1:]  # "{uri}local" -> expat's "uri}local", what split() reads
        return fallback
    expat.ordered_attributes = False  # attributes as a dict: what TreeBuilder.start takes
    expat.StartElementHandler = builder.start
    expat.EndElementHandler = builder.end
    parser.feed(body)
    root: Element = parser.close()
    return root


def _parse_error(error: Element, schema: Schema | None) -> ErrorDocument:
    return ErrorDocument(
        code=child_text(error, "ErrorCode"),
        message=child_text(error, "Message"),
        debug_data=child_text(error, "DebugData"),
        time=error.get("Time"),
        id=error.get("Id"),
        status=child_text(error, "Status"),
        schema=schema,
    )


# Account children parsed into their own fields; every other child ends up in account_elements.
_ACCOUNT_BLOCKS = frozenset({"Protocol", "AlternativeMailbox", "PublicFolderInformation", "Error"})


def _parse_outlook(response: Element) -> Document:
    account = child(response, "Account")
    if account is None:
        raise InvalidResponseError("the Outlook response has neither Account nor Error")
    account_error = child(account, "Error")
    if account_error is not None:
        return _parse_error(account_error, Schema.OUTLOOK)
    action = child_text(account, "Action") or ""
    if action == "redirectAddr":
        address = child_text(account, "RedirectAddr")
        if not address:
            raise InvalidResponseError("Action redirectAddr without a RedirectAddr")
        return RedirectAddressDocument(address=address, schema=Schema.OUTLOOK)
    if action == "redirectUrl":
        # Spelled RedirectUrl in MS-OXDSCLI and RedirectURL in Learn's syntax block (PROTOCOL.md §3.3, corpus 11).
        url = next((text(c) for c in children(account) if local(c).lower() == "redirecturl"), None)
        if not url:
            raise InvalidResponseError("Action redirectUrl without a RedirectUrl")
        return RedirectUrlDocument(url=url)
    if action != "settings":
        raise InvalidResponseError(f"unknown Action {action!r}")
    return SettingsDocument(
        schema=Schema.OUTLOOK,
        user=parse_user(child(response, "User")),
        protocols=tuple(parse_protocol(p) for p in children(account, "Protocol")),
        account_type=child_text(account, "AccountType"),
        account_elements=kept_children(account, _ACCOUNT_BLOCKS),
        microsoft_online=parse_bool(child_text(account, "MicrosoftOnline")),
        alternative_mailboxes=tuple(parse_alternative_mailbox(b) for b in children(account, "AlternativeMailbox")),
        public_folder_smtp_address=child_text(child(account, "PublicFolderInformation"), "SmtpAddress"),
    )


def _parse_mobilesync(response: Element) -> Document:
    action = child(response, "Action")
    if action is None:
        raise InvalidResponseError("the mobilesync response has neither Action nor Error")
    redirect = child_text(action, "Redirect")
    if redirect:
        # MS-ASCMD §2.2.3.147: an SMTP address whose domain the client asks next.
        return RedirectAddressDocument(address=redirect, schema=Schema.MOBILESYNC)
    action_error = child(action, "Error")
    if action_error is not None:
        return _parse_error(action_error, Schema.MOBILESYNC)
    settings = child(action, "Settings")
    if settings is None:
        raise InvalidResponseError("the mobilesync Action has no Settings, Redirect or Error")
    servers = tuple(
        MobileSyncServer(
            type=child_text(server, "Type") or "",
            # Kept as sent: an empty Url is "no usable endpoint" (MobileSyncServer.url_is_valid), not absent.
            url=child_text(server, "Url"),
            name=child_text(server, "Name"),
            server_data=child_text(server, "ServerData"),
        )
        for server in children(settings, "Server")
    )
    return SettingsDocument(
        schema=Schema.MOBILESYNC,
        user=parse_user(child(response, "User")),
        mobilesync_servers=servers,
        culture=child_text(response, "Culture"),
    )
