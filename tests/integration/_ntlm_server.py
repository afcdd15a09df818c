"""A real HTTPS server on loopback that authenticates with NTLM or Negotiate, as on-premises Exchange does.

The acceptor is pyspnego's own NTLM server context, which checks the client's proof against the
accounts in the file named by ``NTLM_USER_FILE`` (``DOMAIN:user:password`` lines). NTLM authenticates
the *connection*: one context lives per TCP connection, so a client that opens a new connection between
the legs fails here exactly as it would against IIS.
"""

from __future__ import annotations

import base64
import binascii
import http.server
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import spnego
import spnego.exceptions
import trustme


@dataclass
class NtlmLog:
    """What the server saw: per request, (connection number, Authorization scheme or None, status sent)."""

    entries: list[tuple[int, str | None, int]] = field(default_factory=list)
    principals: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(offer: tuple[str, ...], body: bytes, log: NtlmLog) -> type[http.server.BaseHTTPRequestHandler]:
    counter = iter(range(1, 1_000_000))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 10.0

        def setup(self) -> None:
            super().setup()
            self.connection_number = next(counter)
            self.context: Any = None

        def log_message(self, format: str, *args: object) -> None:
            """Silent."""

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0") or 0)
            self.rfile.read(length)
            auth = self.headers.get("Authorization")
            scheme, _, token = (auth or "").partition(" ")
            status, extra = self._authenticate(scheme, token.strip()) if auth else (401, ())
            with log.lock:
                log.entries.append((self.connection_number, scheme or None, status))
            if status == 401 and not extra:
                extra = tuple(("WWW-Authenticate", name) for name in offer)
            self.send_response(status)
            for name, value in extra:
                self.send_header(name, value)
            payload = body if status == 200 else b""
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _authenticate(self, scheme: str, token: str) -> tuple[int, tuple[tuple[str, str], ...]]:
            if scheme not in offer:
                return 401, ()
            try:
                data = base64.b64decode(token, validate=True)
                if self.context is None:
                    self.context = spnego.server(protocol=scheme.lower())
                answer = self.context.step(data)
            except (binascii.Error, spnego.exceptions.SpnegoError):
                self.context = None
                return 401, ()
            if self.context.complete:
                with log.lock:
                    log.principals.append(str(self.context.client_principal))
                self.context = None
                return 200, ()
            return 401, (("WWW-Authenticate", f"{scheme} {base64.b64encode(answer or b'').decode()}"),)

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls getfqdn(), a reverse DNS look-up that can stall offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])


@contextmanager
def ntlm_server(
    hostname: str, ca: trustme.CA, *, offer: tuple[str, ...] = ("Negotiate", "NTLM"), body: bytes = b""
) -> Iterator[tuple[int, NtlmLog]]:
    """Serve ``https://hostname`` on 127.0.0.1 (a free port) until the block ends; yield (port, log)."""
    log = NtlmLog()
    server = _Server(("127.0.0.1", 0), _handler(offer, body, log))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(hostname).configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5.0)
