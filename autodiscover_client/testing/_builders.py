"""Response builders: valid Autodiscover bodies and HTTP responses for tests (yours and ours)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from autodiscover_client._pox import BASE_NS, MOBILESYNC_NS, OUTLOOK_NS
from autodiscover_client._seams import HttpResponse

_XML = (("Content-Type", "text/xml; charset=utf-8"),)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def protocol_xml(type_: str, **children: object) -> str:
    """One ``<Protocol>`` element. Keyword names are element names; ``_`` becomes ``-`` after ``EcpUrl``.

    Example: ``protocol_xml("IMAP", Server="imap.example.com", Port=993, SSL="on")``.
    """
    parts = [f"<Type>{_escape(type_)}</Type>"]
    for name, value in children.items():
        element = name.replace("EcpUrl_", "EcpUrl-")
        parts.append(f"<{element}>{_escape(str(value))}</{element}>")
    return "<Protocol>" + "".join(parts) + "</Protocol>"


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
        protocols: Extra ``<Protocol>`` elements, e.g. from :func:`protocol_xml`.
        display_name: ``User/DisplayName``.
        email: ``User/AutoDiscoverSMTPAddress``.
        ews_url: Adds an ``EXPR`` protocol with this ``EwsUrl``.
        imap, smtp, pop3: ``(server, port)``: adds that protocol, with SSL on for the implicit-TLS ports.
    """
    blocks = list(protocols)
    if ews_url:
        blocks.insert(0, protocol_xml("EXPR", Server="mail", EwsUrl=ews_url, SSL="On"))
    for kind, pair in (("IMAP", imap), ("POP3", pop3), ("SMTP", smtp)):
        if pair:
            server, port = pair
            ssl = "on" if port in (993, 995, 465) else "off"
            extra = {"Encryption": "TLS"} if ssl == "off" else {}
            blocks.append(protocol_xml(kind, Server=server, Port=port, SSL=ssl, **extra))
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
