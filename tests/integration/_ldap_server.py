"""A tiny LDAP server on loopback (LDAPS with a trustme certificate, or plain), for ``Ldap3ScpSource`` tests.

It speaks just enough of RFC 4511 over a real socket: simple and anonymous binds, a base search of the
RootDSE (which names ``configurationNamingContext``), subtree searches that return the configured
entries under the base, and unbind. Messages are encoded and decoded with the RFC 4511 ASN.1 classes
that ldap3 ships (on pyasn1), and requests are read by a small hand-written BER reader (pyasn1 cannot
decode RFC 4511's recursive Filter), so the client under test talks to an independent peer. Filters are
not evaluated: every entry under the base is returned and the filter is recorded as its BER bytes, so
tests can check what the client asked for.
"""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import trustme
from ldap3.protocol.rfc4511 import (
    LDAPDN,
    AttributeDescription,
    AttributeValue,
    BindResponse,
    LDAPMessage,
    LDAPString,
    PartialAttribute,
    ProtocolOp,
    ResultCode,
    SearchResultDone,
    SearchResultEntry,
)
from ldap3.strategy.base import BaseStrategy
from pyasn1.codec.ber import encoder

Entry = tuple[str, Mapping[str, Sequence[str]]]


@dataclass
class LdapLog:
    """What the server saw: binds as (name, accepted) and searches as (base, scope, filter BER)."""

    binds: list[tuple[str, bool]] = field(default_factory=list)
    searches: list[tuple[str, int, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _message(message_id: int, name: str, operation: object) -> bytes:
    op = ProtocolOp()
    op[name] = operation
    message = LDAPMessage()
    message["messageID"] = message_id
    message["protocolOp"] = op
    return bytes(encoder.encode(message))


def _result(kind: type, code: str, text: str = "") -> object:
    result = kind()
    result["resultCode"] = ResultCode(code)
    result["matchedDN"] = LDAPDN("")
    result["diagnosticMessage"] = LDAPString(text)
    return result


def _entry(dn: str, attributes: Mapping[str, Sequence[str]]) -> object:
    entry = SearchResultEntry()
    entry["object"] = LDAPDN(dn)
    for name, values in attributes.items():
        attribute = PartialAttribute()
        attribute["type"] = AttributeDescription(name)
        for value in values:
            attribute["vals"].append(AttributeValue(value))
        entry["attributes"].append(attribute)
    return entry


def _tlv(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """One BER tag-length-value (definite lengths only): (tag, value, offset after it)."""
    tag, length, offset = data[offset], data[offset + 1], offset + 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(data[offset : offset + count], "big"), offset + count
    return tag, data[offset : offset + length], offset + length


def _fields(data: bytes) -> list[tuple[int, bytes, bytes]]:
    """The TLVs inside a constructed value: (tag, value, the whole encoding)."""
    out, offset = [], 0
    while offset < len(data):
        tag, value, end = _tlv(data, offset)
        out.append((tag, value, data[offset:end]))
        offset = end
    return out


def _handler(
    config_nc: str, entries: Sequence[Entry], account: tuple[str, str] | None, log: LdapLog
) -> type[socketserver.BaseRequestHandler]:
    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            sock.settimeout(10.0)
            buffer = b""
            while True:
                size = BaseStrategy.compute_ldap_message_size(buffer)
                while size == -1 or len(buffer) < size:
                    chunk = sock.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                    size = BaseStrategy.compute_ldap_message_size(buffer)
                raw, buffer = buffer[:size], buffer[size:]
                _, message, _ = _tlv(raw)
                (_, message_id, _), (op, body, _), *_controls = _fields(message)
                if not self._answer(sock, int.from_bytes(message_id, "big"), op, body):
                    return

        def _answer(self, sock: socket.socket, message_id: int, op: int, body: bytes) -> bool:
            if op == 0x60:  # BindRequest: version, name, [0] simple password
                _, (_, name, _), (auth_tag, secret, _) = _fields(body)[:3]
                who = name.decode()
                password = secret.decode() if auth_tag == 0x80 else ""
                accepted = (not who and not password) or (account is not None and (who, password) == account)
                with log.lock:
                    log.binds.append((who, accepted))
                code = "success" if accepted else "invalidCredentials"
                sock.sendall(_message(message_id, "bindResponse", _result(BindResponse, code)))
                return True
            if op == 0x63:  # SearchRequest: base, scope, deref, size, time, typesOnly, filter, attributes
                parts = _fields(body)
                base, scope, search_filter = parts[0][1].decode(), int.from_bytes(parts[1][1], "big"), parts[6][2]
                with log.lock:
                    log.searches.append((base, scope, search_filter))
                if base == "" and scope == 0:
                    root = {"configurationNamingContext": [config_nc], "supportedLDAPVersion": ["3"]}
                    sock.sendall(_message(message_id, "searchResEntry", _entry("", root)))
                else:
                    for dn, attributes in entries:
                        if dn.casefold().endswith(base.casefold()):
                            sock.sendall(_message(message_id, "searchResEntry", _entry(dn, attributes)))
                sock.sendall(_message(message_id, "searchResDone", _result(SearchResultDone, "success")))
                return True
            return False  # unbind (0x42) or anything else: close

    return Handler


class _TlsServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        if self.context is not None:
            sock.settimeout(10.0)
            sock = self.context.wrap_socket(sock, server_side=True)
        return sock, address

    def handle_error(self, request: object, client_address: object) -> None:
        """Stay silent: a client that refuses the certificate ends its connection on purpose."""


@contextmanager
def ldap_server(
    entries: Sequence[Entry],
    *,
    config_nc: str = "CN=Configuration,DC=example,DC=test",
    ca: trustme.CA | None = None,
    cert_names: Sequence[str] = ("127.0.0.1",),
    account: tuple[str, str] | None = None,
) -> Iterator[tuple[int, LdapLog]]:
    """Serve LDAP (LDAPS when ``ca`` is given) on 127.0.0.1; yield (port, log)."""
    log = LdapLog()
    server = _TlsServer(("127.0.0.1", 0), _handler(config_nc, entries, account, log))
    if ca is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*cert_names).configure_cert(context)
        server.context = context
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5.0)
