"""Response builders: valid Autodiscover bodies and HTTP responses for tests (yours and ours)."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Mapping

from autodiscover_client._models import Security
from autodiscover_client._pox import BASE_NS, MOBILESYNC_NS, OUTLOOK_NS
from autodiscover_client._seams import BasicCredentials, HttpRequest, HttpResponse

_XML = (("Content-Type", "text/xml; charset=utf-8"),)


def _escape(text: str) -> str:
    # Quotes too, so the same function is safe inside attribute values.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _element(name: str, value: object) -> str:
    element = name.replace("EcpUrl_", "EcpUrl-")
    if isinstance(value, Mapping):
        inner = "".join(_element(str(child), item) for child, item in value.items())
        return f"<{element}>{inner}</{element}>"
    if isinstance(value, (list, tuple)):
        return "".join(_element(name, item) for item in value)
    text = ("On" if value else "Off") if isinstance(value, bool) else str(value)
    return f"<{element}>{_escape(text)}</{element}>"


def protocol_xml(type_: str, **children: object) -> str:
    """One ``<Protocol>`` element. Keyword names are element names; ``_`` becomes ``-`` after ``EcpUrl``.

    Values are written as text, except: ``True``/``False`` become ``On``/``Off``, a mapping becomes a
    nested element (e.g. ``NetworkRequirements={"IPv4Start": "192.0.2.0"}``) and a list or tuple
    repeats the element. ``None`` values are left out.

    Example: ``protocol_xml("IMAP", Server="imap.example.com", Port=993, SSL="on")``.
    """
    parts = [f"<Type>{_escape(type_)}</Type>"]
    parts += [_element(name, value) for name, value in children.items() if value is not None]
    return "<Protocol>" + "".join(parts) + "</Protocol>"


def exchange_xml(
    type_: str = "EXPR",
    *,
    server: str | None = None,
    ews_url: str | None = None,
    as_url: str | None = None,
    oab_url: str | None = None,
    ecp_url: str | None = None,
    server_dn: str | None = None,
    server_version: str | None = None,
    auth_package: str | None = None,
    ssl: bool | None = None,
    **elements: object,
) -> str:
    """An ``EXPR`` (Outlook Anywhere, external) or ``EXCH`` (internal) ``<Protocol>`` (MS-OXDSCLI §2.2.4.1.1.2).

    Args:
        type_: ``"EXPR"`` or ``"EXCH"``.
        server, ews_url, as_url, oab_url, ecp_url, server_dn, server_version, auth_package, ssl: The
            ``Server``, ``EwsUrl``, ``ASUrl``, ``OABUrl``, ``EcpUrl``, ``ServerDN``, ``ServerVersion``,
            ``AuthPackage`` and ``SSL`` elements; ``None`` leaves the element out.
        elements: Any other elements, by their XML names (as for :func:`protocol_xml`).
    """
    return protocol_xml(
        type_, Server=server, ServerDN=server_dn, ServerVersion=server_version, EwsUrl=ews_url, ASUrl=as_url,
        OABUrl=oab_url, EcpUrl=ecp_url, AuthPackage=auth_package, SSL=ssl, **elements,
    )  # fmt: skip


def web_xml(
    *,
    external_owa: str | None = None,
    internal_owa: str | None = None,
    authentication_method: str | None = "Basic",
    internal_as_url: str | None = None,
) -> str:
    """A ``WEB`` ``<Protocol>``: Outlook Web App URLs in ``External`` and ``Internal`` blocks.

    Args:
        external_owa: The ``External/OWAUrl``.
        internal_owa: The ``Internal/OWAUrl``.
        authentication_method: The ``AuthenticationMethod`` attribute of each ``OWAUrl`` (``None``: none).
        internal_as_url: The ``Internal/Protocol/ASUrl`` (with ``Type`` ``EXCH``), as Exchange sends it.
    """
    attribute = f' AuthenticationMethod="{_escape(authentication_method)}"' if authentication_method else ""
    blocks = []
    for name, url, nested in (("Internal", internal_owa, internal_as_url), ("External", external_owa, None)):
        if url is None and nested is None:
            continue
        owa = f"<OWAUrl{attribute}>{_escape(url)}</OWAUrl>" if url is not None else ""
        inner = f"<Protocol><Type>EXCH</Type><ASUrl>{_escape(nested)}</ASUrl></Protocol>" if nested else ""
        blocks.append(f"<{name}>{owa}{inner}</{name}>")
    return "<Protocol><Type>WEB</Type>" + "".join(blocks) + "</Protocol>"


_ENCRYPTION = {Security.TLS: None, Security.STARTTLS: "TLS", Security.NONE: "None"}


def mail_xml(
    type_: str,
    server: str,
    port: int,
    *,
    security: Security | str | None = None,
    login_name: str | None = None,
    spa: bool | None = None,
    auth_required: bool | None = None,
    **elements: object,
) -> str:
    """An ``IMAP``, ``POP3`` or ``SMTP`` ``<Protocol>``.

    Args:
        type_: ``"IMAP"``, ``"POP3"`` or ``"SMTP"``.
        server: The ``Server``.
        port: The ``Port``.
        security: ``"tls"`` (implicit TLS: ``SSL`` on), ``"starttls"`` (``Encryption`` ``TLS``) or
            ``"none"``; by default ``tls`` on 993, 995 and 465, ``starttls`` on any other port.
        login_name, spa, auth_required: The ``LoginName``, ``SPA`` and ``AuthRequired`` elements.
        elements: Any other elements, by their XML names (as for :func:`protocol_xml`).

    Raises:
        ValueError: ``security`` is not one of the three values.
    """
    if security is None:
        security = Security.TLS if port in (993, 995, 465) else Security.STARTTLS
    mode = Security(security)
    # MS-OXDSCLI: Encryption, when present, overrides SSL; SSL stays for clients that only read SSL.
    return protocol_xml(
        type_, Server=server, Port=port, LoginName=login_name, SPA=spa, SSL=mode is Security.TLS,
        Encryption=_ENCRYPTION[mode], AuthRequired=auth_required, **elements,
    )  # fmt: skip


def settings_body(
    *,
    protocols: Iterable[str] = (),
    display_name: str | None = None,
    email: str | None = None,
    ews_url: str | None = None,
    imap: tuple[str, int] | None = None,
    smtp: tuple[str, int] | None = None,
    pop3: tuple[str, int] | None = None,
) -> bytes:
    """An Outlook ``Action=settings`` response.

    Args:
        protocols: ``<Protocol>`` elements, from :func:`exchange_xml`, :func:`web_xml`, :func:`mail_xml`
            or :func:`protocol_xml`, in any mix and order.
        display_name: ``User/DisplayName``.
        email: ``User/AutoDiscoverSMTPAddress``.
        ews_url: Adds an ``EXPR`` protocol with this ``EwsUrl``.
        imap, smtp, pop3: ``(server, port)``: adds that protocol, with SSL on for the implicit-TLS ports.

    Example: ``settings_body(protocols=[mail_xml("IMAP", "imap.example.com", 993)], display_name="Ann")``.
    """
    blocks = list(protocols)
    if ews_url:
        blocks.insert(0, exchange_xml("EXPR", server="mail", ews_url=ews_url, ssl=True))
    for kind, pair in (("IMAP", imap), ("POP3", pop3), ("SMTP", smtp)):
        if pair:
            server, port = pair
            blocks.append(mail_xml(kind, server, port))
    user = ""
    if display_name or email:
        user = "<User>"
        user += f"<DisplayName>{_escape(display_name)}</DisplayName>" if display_name else ""
        user += f"<AutoDiscoverSMTPAddress>{_escape(email)}</AutoDiscoverSMTPAddress>" if email else ""
        user += "</User>"
    account = "<Account><AccountType>email</AccountType><Action>settings</Action>" + "".join(blocks) + "</Account>"
    return _outlook(user + account)


def redirect_addr_body(address: str) -> bytes:
    """An Outlook ``Action=redirectAddr`` response pointing at ``address``."""
    return _outlook(
        "<Account><AccountType>email</AccountType><Action>redirectAddr</Action>"
        f"<RedirectAddr>{_escape(address)}</RedirectAddr></Account>"
    )


def redirect_url_body(url: str) -> bytes:
    """An Outlook ``Action=redirectUrl`` response pointing at ``url``."""
    return _outlook(
        "<Account><AccountType>email</AccountType><Action>redirectUrl</Action>"
        f"<RedirectUrl>{_escape(url)}</RedirectUrl></Account>"
    )


def error_body(code: int | str = 500, message: str = "The email address can't be found.") -> bytes:
    """An Autodiscover ``Error`` response (MS-OXDSCLI §2.2.4.1.1.3)."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{BASE_NS}"><Response>'
        f'<Error Time="12:00:00.0000000" Id="1"><ErrorCode>{_escape(str(code))}</ErrorCode>'
        f"<Message>{_escape(message)}</Message><DebugData /></Error></Response></Autodiscover>"
    ).encode()


def mobilesync_body(url: str, *, email: str = "user@example.com", display_name: str = "Test User") -> bytes:
    """A mobilesync ``Settings`` response whose ActiveSync (``MobileSync``) URL is ``url``."""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{BASE_NS}">'
        f'<Response xmlns="{MOBILESYNC_NS}"><Culture>en:us</Culture><User>'
        f"<DisplayName>{_escape(display_name)}</DisplayName><EMailAddress>{_escape(email)}</EMailAddress></User>"
        f"<Action><Settings><Server><Type>MobileSync</Type><Url>{_escape(url)}</Url><Name>{_escape(url)}</Name>"
        "</Server></Settings></Action></Response></Autodiscover>"
    ).encode()


def _outlook(inner: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{BASE_NS}">'
        f'<Response xmlns="{OUTLOOK_NS}">{inner}</Response></Autodiscover>'
    ).encode()


def xml_response(body: bytes, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
    """An HTTP response carrying an XML body."""
    extra = tuple((headers or {}).items())
    return HttpResponse(status=status, headers=_XML + extra, body=body)


def redirect_response(location: str, status: int = 302) -> HttpResponse:
    """An HTTP redirect to ``location``."""
    return HttpResponse(status=status, headers=(("Location", location),), body=b"")


def unauthorized_response(challenge: str = 'Basic realm="autodiscover"') -> HttpResponse:
    """A 401 with a ``WWW-Authenticate`` challenge."""
    return HttpResponse(status=401, headers=(("WWW-Authenticate", challenge),), body=b"")


def html_response(status: int = 200) -> HttpResponse:
    """An HTML page, as web sites on root domains and captive portals answer."""
    body = b"<!DOCTYPE html><html><head><title>Welcome</title></head><body>Our web site</body></html>"
    return HttpResponse(status=status, headers=(("Content-Type", "text/html"),), body=body)


def require_basic_auth(
    response: HttpResponse, *, username: str | None = None, password: str | None = None
) -> Callable[[HttpRequest], HttpResponse]:
    """A :class:`FakeTransport` handler that answers 401 until Basic credentials arrive, then ``response``.

    This is what a real Autodiscover endpoint does (MS-OXDSCLI §3.1.5.1: the client answers the
    challenge). With ``username``/``password`` given, other credentials get 401 too.
    """

    def handler(request: HttpRequest) -> HttpResponse:
        credentials = request.credentials
        if not isinstance(credentials, BasicCredentials):  # none yet, or a bearer/NTLM type: still 401
            return unauthorized_response()
        if username is not None and credentials.username != username:
            return unauthorized_response()
        if password is not None and not hmac.compare_digest(credentials.password.encode(), password.encode()):
            return unauthorized_response()
        return response

    return handler
