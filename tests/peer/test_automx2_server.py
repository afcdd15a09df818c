"""Prove the automx2 peer-server helper works, talking to it with the stdlib only (http.client + ssl).

These tests also pin down how automx2 behaves, so peer tests of our client know what to expect.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import ssl
from collections.abc import Iterator

import pytest
from _automx2 import Automx2Server, automx2_server

pytestmark = pytest.mark.peer

SNI = "autodiscover.example.test"
POX_PATH = "/autodiscover/autodiscover.xml"
RESPONSE_SCHEMA = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"


def pox_request(address: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">\n'
        "  <Request>\n"
        f"    <EMailAddress>{address}</EMailAddress>\n"
        f"    <AcceptableResponseSchema>{RESPONSE_SCHEMA}</AcceptableResponseSchema>\n"
        "  </Request>\n"
        "</Autodiscover>\n"
    ).encode()


@pytest.fixture(scope="module")
def server() -> Iterator[Automx2Server]:
    with automx2_server() as running:
        yield running


def call(
    server: Automx2Server,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = XML_CONTENT_TYPE,
    sni: str = SNI,
) -> tuple[int, dict[str, str], bytes]:
    """One request over a fresh TLS connection to address:port, verifying the certificate for `sni`."""
    context = ssl.create_default_context(cafile=server.ca_bundle)
    raw = socket.create_connection((server.address, server.port), timeout=10)
    try:
        tls = context.wrap_socket(raw, server_hostname=sni)
    except BaseException:
        raw.close()
        raise
    connection = http.client.HTTPConnection(server.address, server.port, timeout=10)
    connection.sock = tls  # already connected and verified: http.client will not connect again.
    with contextlib.closing(connection):
        headers = {"Host": sni}
        if content_type is not None:
            headers["Content-Type"] = content_type
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


def protocols(body: bytes) -> dict[str, dict[str, str]]:
    """{Type: {element: text}} for each <Protocol> (substring parsing: XML parsers are banned here)."""
    found: dict[str, dict[str, str]] = {}
    for block in re.findall(r"<Protocol>(.*?)</Protocol>", body.decode("utf-8"), re.DOTALL):
        fields = dict(re.findall(r"<(\w+)>([^<]*)</\1>", block))
        found[fields["Type"]] = fields
    return found


def test_outlook_pox_request_gets_seeded_settings(server: Automx2Server) -> None:
    # No credentials are sent: automx2 needs no authentication.
    status, headers, body = call(server, "POST", POX_PATH, pox_request(f"user@{server.domain}"))
    assert status == 200
    assert headers["content-type"] == "application/xml"
    assert b'xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"' in body
    assert f'xmlns="{RESPONSE_SCHEMA}"'.encode() in body
    assert b"<AccountType>email</AccountType><Action>settings</Action>" in body
    assert protocols(body) == {
        "IMAP": {
            "Type": "IMAP",
            "Server": server.imap_host,
            "Port": str(server.imap_port),
            "LoginName": f"user@{server.domain}",
            "SSL": "on",
            "Encryption": "SSL",
        },
        "SMTP": {
            "Type": "SMTP",
            "Server": server.smtp_host,
            "Port": str(server.smtp_port),
            "LoginName": f"user@{server.domain}",
            "SSL": "off",
            "Encryption": "TLS",
        },
    }


def test_certificate_is_for_the_configured_hostnames_only(server: Automx2Server) -> None:
    assert server.address == "127.0.0.1"
    assert call(server, "POST", POX_PATH, pox_request("a@example.test"), sni="mail.example.test")[0] == 200
    with pytest.raises(ssl.SSLCertVerificationError):
        call(server, "POST", POX_PATH, pox_request("a@example.test"), sni="other.example.test")


def test_unknown_domain_is_204_no_content(server: Automx2Server) -> None:
    status, _, body = call(server, "POST", POX_PATH, pox_request("user@unknown.test"))
    assert (status, body) == (204, b"")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/AutoDiscover/AutoDiscover.xml", 200),  # automx2's one alternate route
        ("/Autodiscover/Autodiscover.xml", 404),  # routes are case-sensitive
        ("/autodiscover/autodiscover.json", 404),  # no JSON (v2) Autodiscover
    ],
)
def test_path_variants(server: Automx2Server, path: str, expected: int) -> None:
    assert call(server, "POST", path, pox_request("user@example.test"))[0] == expected


def test_get_is_405_method_not_allowed(server: Automx2Server) -> None:
    status, headers, body = call(server, "GET", POX_PATH, content_type=None)
    assert status == 405
    assert sorted(headers["allow"].split(", ")) == ["OPTIONS", "POST"]  # order varies between runs
    assert b"405 Method Not Allowed" in body


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain"])
def test_non_xml_content_type_is_400(server: Automx2Server, content_type: str | None) -> None:
    status, _, body = call(server, "POST", POX_PATH, pox_request("user@example.test"), content_type)
    assert (status, body) == (400, b"Unexpected content type")


def test_request_without_request_namespace_is_400(server: Automx2Server) -> None:
    bare = b"<Autodiscover><Request><EMailAddress>user@example.test</EMailAddress></Request></Autodiscover>"
    status, _, body = call(server, "POST", POX_PATH, bare, "application/xml")
    assert (status, body) == (400, b'Missing request argument "EMailAddress"')


def test_two_servers_for_different_domains_run_side_by_side() -> None:
    with automx2_server(domain="other.test", hostnames=("autodiscover.other.test",)) as other:
        sni = other.hostnames[0]
        status, _, body = call(other, "POST", POX_PATH, pox_request("x@other.test"), sni=sni)
        assert status == 200
        assert other.imap_host.encode() in body
        assert other.smtp_host.encode() in body
        assert call(other, "POST", POX_PATH, pox_request("x@example.test"), sni=sni)[0] == 204
