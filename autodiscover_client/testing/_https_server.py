"""Real HTTP(S) servers on loopback for integration tests of an Autodiscover client.

Every virtual host gets its own listening socket, TLS certificate (issued by a throwaway
``trustme`` CA) and behaviour, so one test can mix a good host, a host with a certificate
for the wrong name and a plain-HTTP host. Every request is recorded with its credentials
redacted, so tests can assert where a client sent what without the secret ever being stored.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime
import hmac
import http
import http.server
import shutil
import socket
import socketserver
import ssl
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias, cast

import trustme

if TYPE_CHECKING:
    from autodiscover_client._http import RequestsTransport
    from autodiscover_client._seams import Resolver

__all__ = [
    "Endpoint",
    "Handler",
    "LocalAutodiscoverServer",
    "RecordedRequest",
    "ServerResponse",
    "Wire",
    "endless_body",
    "html_page",
    "redirect",
    "reset_connection",
    "sequence",
    "stall",
    "trickle",
    "xml_response",
]

DEFAULT_PORTS = {"https": 443, "http": 80}
MAX_BODY = 1024 * 1024
CONNECTION_TIMEOUT = 10.0  # a client that stalls must not pin a worker thread for ever
_JOIN_TIMEOUT = 5.0
_POLL_INTERVAL = 0.05  # how quickly the accept loop notices shutdown()
_REDACTED = "<redacted>"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRequest:
    """One request as the server saw it, with the Authorization value replaced by ``<redacted>``.

    ``host`` is the Host header (lower-case, no port); ``port`` and ``scheme`` are those of the
    listening socket; ``sni`` is the TLS server name the client sent (None for plain HTTP).
    ``credentials_valid`` is None when no Authorization header was sent, True only for Basic
    credentials equal to the host's configured pair, and False otherwise.
    """

    host: str
    port: int
    scheme: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    auth_scheme: str | None
    auth_user: str | None
    credentials_valid: bool | None
    sni: str | None = None

    def header(self, name: str) -> str | None:
        """Return the first value of header ``name`` (case-insensitive), or None."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class Wire:
    """The raw connection, for responses that misbehave on purpose (see :attr:`ServerResponse.stream`)."""

    def __init__(self, connection: socket.socket, stopping: threading.Event) -> None:
        self._connection = connection
        self._stopping = stopping

    @property
    def stopping(self) -> bool:
        """Whether the server is shutting down (a stream should return soon)."""
        return self._stopping.is_set()

    def write(self, data: bytes) -> None:
        """Send ``data`` as is. Raises ``OSError`` once the client has gone, which ends the stream."""
        self._connection.sendall(data)

    def wait(self, seconds: float | None) -> bool:
        """Sleep up to ``seconds`` (``None``: until shutdown); return True if the server is shutting down."""
        return self._stopping.wait(seconds)

    def reset(self) -> None:
        """Abort the TCP connection with a RST (SO_LINGER 0), as a crashing middlebox would."""
        with contextlib.suppress(OSError):
            self._connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            socket.socket.close(self._connection)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerResponse:
    """What a host answers. Content-Length is added unless ``headers`` already sets one.

    ``stream``, if set, replaces all of that: the server calls it with the :class:`Wire` and it writes
    whatever it likes (see :func:`stall`, :func:`trickle`, :func:`endless_body`, :func:`reset_connection`).
    The connection is closed afterwards.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    stream: Callable[[Wire], None] | None = None

    def to_bytes(self) -> bytes:
        """The response as HTTP/1.1 bytes on the wire (status line, headers, body)."""
        try:
            reason = http.HTTPStatus(self.status).phrase
        except ValueError:
            reason = ""
        lines = [f"HTTP/1.1 {self.status} {reason}".rstrip(), *(f"{name}: {value}" for name, value in self.headers)]
        if not any(name.lower() == "content-length" for name, _ in self.headers):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


Handler: TypeAlias = Callable[[RecordedRequest], ServerResponse]
_Request: TypeAlias = socket.socket | tuple[bytes, socket.socket]  # socketserver's request type


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """Where a virtual host really listens."""

    hostname: str
    scheme: str
    address: str
    port: int

    @property
    def url(self) -> str:
        """Base URL by host name, e.g. ``https://autodiscover.example.com:49152``."""
        if DEFAULT_PORTS.get(self.scheme) == self.port:
            return f"{self.scheme}://{self.hostname}"
        return f"{self.scheme}://{self.hostname}:{self.port}"


def redirect(location: str, status: int = 302) -> ServerResponse:
    """Build a redirect to ``location``."""
    return ServerResponse(status=status, headers=(("Location", location),))


def html_page(body: bytes = b"<!DOCTYPE html><html><body>Welcome</body></html>") -> ServerResponse:
    """Build a 200 HTML page, as a parked domain or captive portal would answer."""
    return ServerResponse(headers=(("Content-Type", "text/html; charset=utf-8"),), body=body)


def xml_response(body: bytes | str, status: int = 200) -> ServerResponse:
    """Build an XML response (``str`` bodies are encoded as UTF-8)."""
    data = body.encode() if isinstance(body, str) else body
    return ServerResponse(status=status, headers=(("Content-Type", "text/xml; charset=utf-8"),), body=data)


def sequence(*responses: ServerResponse) -> Handler:
    """Build a handler answering ``responses`` in turn, then repeating the last one."""
    if not responses:
        raise ValueError("sequence() needs at least one response")
    pending = list(responses)
    lock = threading.Lock()

    def handler(_request: RecordedRequest) -> ServerResponse:
        with lock:
            return pending.pop(0) if len(pending) > 1 else pending[0]

    return handler


def stall() -> ServerResponse:
    """Read the request, then never answer (until the server shuts down)."""

    def stream(wire: Wire) -> None:
        wire.wait(None)

    return ServerResponse(stream=stream)


def trickle(response: ServerResponse, *, interval: float = 1.0, chunk: int = 1) -> ServerResponse:
    """Send ``response`` (status line and headers included) ``chunk`` bytes every ``interval`` seconds."""
    data = response.to_bytes()

    def stream(wire: Wire) -> None:
        for start in range(0, len(data), chunk):
            wire.write(data[start : start + chunk])
            if wire.wait(interval):
                return

    return ServerResponse(stream=stream)


def endless_body(chunk: bytes = b"<Autodiscover>" * 1024) -> ServerResponse:
    """Answer 200 without a Content-Length and send ``chunk`` after ``chunk`` until the client gives up."""

    def stream(wire: Wire) -> None:
        wire.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n")
        while not wire.stopping:
            wire.write(chunk)

    return ServerResponse(stream=stream)


def reset_connection() -> ServerResponse:
    """Read the request, then abort the connection with a TCP RST."""
    return ServerResponse(stream=lambda wire: wire.reset())


def _always(response: ServerResponse) -> Handler:
    return lambda _request: response


def _host_without_port(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):  # IPv6 literal: the port, if any, follows the bracket
        return value[: value.find("]") + 1] or value
    host, sep, port = value.rpartition(":")
    return host if sep and port.isdigit() else value


@dataclass(kw_only=True)
class _HostConfig:
    endpoint: Endpoint
    handler: Handler
    credentials: tuple[str, str] | None
    owner: LocalAutodiscoverServer
    connections: set[socket.socket] = field(default_factory=set)
    workers: list[threading.Thread] = field(default_factory=list)
    sni: dict[object, str | None] = field(default_factory=dict)
    closing: bool = False
    stopping: threading.Event = field(default_factory=threading.Event)
    complete_handshake: bool = True
    lock: threading.Lock = field(default_factory=threading.Lock)


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the body waits for the client's delayed
    # ACK (40 ms on Linux), which would dwarf every latency a test or benchmark measures.
    disable_nagle_algorithm = True
    server_version = "autodiscover-client-testing"
    timeout = CONNECTION_TIMEOUT

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: object) -> None:
        """Stay silent: tests provoke errors on purpose and stderr output is noise."""

    def _dispatch(self) -> None:
        config = cast("_HostServer", self.server).config
        body, error = self._read_body()
        request = self._record(config, body)
        config.owner._append(request)
        if error is not None:
            self.close_connection = True  # the unread body would be parsed as the next request
            self._send(ServerResponse(status=error, headers=(("Connection", "close"),)))
        elif config.credentials is not None and request.credentials_valid is not True:
            challenge = ("WWW-Authenticate", 'Basic realm="autodiscover"')
            self._send(ServerResponse(status=401, headers=(challenge,), body=b"Unauthorized"))
        else:
            try:
                response = config.handler(request)
            except Exception as exc:  # a broken test handler must show up as a 500, not a hang
                config.owner._append_error(exc)
                response = ServerResponse(status=500, body=b"handler failed")
            self._send(response)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _dispatch

    def _read_body(self) -> tuple[bytes, int | None]:
        if "Transfer-Encoding" in self.headers:
            return b"", 411  # Autodiscover clients send bodies with a length; chunked is not needed
        raw = self.headers.get("Content-Length", "0")
        length = int(raw) if raw.strip().isdigit() else -1
        if length < 0:
            return b"", 400
        if length > MAX_BODY:
            return b"", 413
        return self.rfile.read(length), None

    def _record(self, config: _HostConfig, body: bytes) -> RecordedRequest:
        endpoint = config.endpoint
        auth = self.headers.get("Authorization")
        auth_scheme = auth_user = valid = None
        if auth is not None:
            auth_scheme, _, token = auth.strip().partition(" ")
            valid = False
            if auth_scheme.lower() == "basic":
                try:
                    decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
                except (binascii.Error, UnicodeDecodeError):
                    decoded = None
                if decoded is not None and ":" in decoded:
                    auth_user, _, password = decoded.partition(":")
                    if config.credentials is not None:
                        expected = ":".join(config.credentials).encode()
                        valid = hmac.compare_digest(expected, f"{auth_user}:{password}".encode())
        headers = tuple(
            (name, _REDACTED if name.lower() in _SECRET_HEADERS else value) for name, value in self.headers.items()
        )
        with config.lock:
            sni = config.sni.get(self.connection)
        return RecordedRequest(
            host=_host_without_port(self.headers.get("Host") or endpoint.hostname),
            port=endpoint.port,
            scheme=endpoint.scheme,
            method=self.command,
            path=self.path,
            headers=headers,
            body=body,
            auth_scheme=auth_scheme,
            auth_user=auth_user,
            credentials_valid=valid,
            sni=sni,
        )

    def _send(self, response: ServerResponse) -> None:
        if response.stream is not None:
            self.close_connection = True
            config = cast("_HostServer", self.server).config
            response.stream(Wire(self.connection, config.stopping))
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name, _ in response.headers):
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


class _HostServer(http.server.ThreadingHTTPServer):
    """One listening socket; TLS handshakes run in the per-connection thread, not in accept()."""

    daemon_threads = True

    def __init__(
        self, config: Callable[[int], _HostConfig], bind: tuple[str, int], ssl_context: ssl.SSLContext | None
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in bind[0] else socket.AF_INET
        self.ssl_context = ssl_context
        self.serve_thread: threading.Thread | None = None
        super().__init__(bind, _RequestHandler)
        self.config = config(self.server_port)
        if ssl_context is not None:
            ssl_context.sni_callback = self._remember_sni

    def server_bind(self) -> None:
        # HTTPServer.server_bind() calls getfqdn(), a reverse DNS look-up that can stall offline.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def process_request(self, request: _Request, client_address: object) -> None:
        config = self.config
        if not isinstance(request, socket.socket):
            return
        with config.lock:
            if config.closing:
                self.shutdown_request(request)
                return
            config.workers[:] = [t for t in config.workers if t.is_alive()]
            name = f"autodiscover-test-{config.endpoint.hostname}:{config.endpoint.port}"
            worker = threading.Thread(target=self._serve, args=(request, client_address), name=name, daemon=True)
            config.workers.append(worker)
        worker.start()

    def _serve(self, request: socket.socket, client_address: object) -> None:
        config = self.config
        conn = request
        try:
            request.settimeout(CONNECTION_TIMEOUT)
            if self.ssl_context is not None:
                conn = self.ssl_context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            with config.lock:
                if config.closing:
                    return
                config.connections.add(conn)  # so close() can interrupt a stuck handshake or read
            if isinstance(conn, ssl.SSLSocket):
                if not config.complete_handshake:
                    config.stopping.wait()  # accept, read nothing, answer nothing: the ClientHello hangs
                    return
                conn.do_handshake()
            self.finish_request(conn, client_address)
        except OSError:
            pass  # disconnects, timeouts and failed handshakes are what hostile tests provoke
        except Exception as exc:  # a bug here must reach the test, not stderr
            config.owner._append_error(exc)
        finally:
            with config.lock:
                config.connections.discard(conn)
                config.sni.pop(conn, None)
            self.shutdown_request(conn)

    def handle_error(self, request: _Request, client_address: object) -> None:
        """Stay silent: accept-time errors are expected when clients misbehave."""

    def _remember_sni(self, sock: object, server_name: str | None, _context: object) -> None:
        with self.config.lock:
            self.config.sni[sock] = server_name

    def start(self) -> None:
        name = f"autodiscover-test-accept-{self.config.endpoint.hostname}:{self.server_port}"
        self.serve_thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": _POLL_INTERVAL}, name=name, daemon=True
        )
        self.serve_thread.start()

    def stop(self) -> list[threading.Thread]:
        """Stop accepting, cut live connections and close the socket; return the threads to join."""
        if self.serve_thread is not None:
            self.shutdown()  # only after serve_forever() started: shutdown() would wait for ever otherwise
        with self.config.lock:
            self.config.closing = True
            self.config.stopping.set()
            connections, workers = list(self.config.connections), list(self.config.workers)
        for conn in connections:
            # The descriptor, not the TLS layer: the worker thread still owns the SSL object.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(conn, socket.SHUT_RDWR)
        self.server_close()
        return [*workers, *([self.serve_thread] if self.serve_thread is not None else [])]


class LocalAutodiscoverServer:
    """Context manager serving any number of virtual hosts over HTTPS (and plain HTTP) on loopback.

    Each :meth:`add_host` binds its own listening socket at once, so its port is known before
    the server starts; sockets are released by :meth:`close` (``__exit__``), so always use it
    as a context manager. Hosts added after ``__enter__`` start serving immediately.

    Example:
        >>> with LocalAutodiscoverServer() as server:  # doctest: +SKIP
        ...     server.add_host("autodiscover.example.com", xml_response("<Autodiscover/>"))
        ...     client.fetch(..., connect_overrides=server.connect_overrides, ca_bundle=server.ca_bundle)
    """

    def __init__(self, *, address: str = "127.0.0.1", ca: trustme.CA | None = None) -> None:
        """Prepare an empty server.

        Args:
            address: default loopback address the hosts listen on.
            ca: certificate authority issuing the hosts' certificates; a fresh one if None.
        """
        self._address = address
        self._ca = ca
        self._lock = threading.RLock()
        self._servers: dict[tuple[str, str], _HostServer] = {}
        self._requests: list[RecordedRequest] = []
        self._errors: list[Exception] = []
        self._transports: list[RequestsTransport] = []
        self._tmpdir: str | None = None
        self._started = False
        self._closed = False

    @property
    def ca(self) -> trustme.CA:
        """The certificate authority that signs every host's certificate."""
        with self._lock:
            if self._ca is None:
                self._ca = trustme.CA()
            return self._ca

    def add_host(
        self,
        hostname: str,
        handler: Handler | ServerResponse,
        *,
        scheme: str = "https",
        port: int = 0,
        address: str | None = None,
        credentials: tuple[str, str] | None = None,
        cert_hostnames: Sequence[str] | None = None,
        cert_not_after: datetime.datetime | None = None,
        self_signed: bool = False,
        complete_handshake: bool = True,
    ) -> Endpoint:
        """Serve a virtual host on a listening socket of its own.

        Args:
            hostname: the name clients use; stored lower-case.
            handler: a fixed response, or a function of the recorded request.
            scheme: ``"https"`` or ``"http"``.
            port: port to bind; 0 picks a free one.
            address: address to bind; the server's default if None.
            credentials: (user, password) required as Basic credentials. Requests without them
                get 401 with ``WWW-Authenticate: Basic realm="autodiscover"``; the handler is not called.
            cert_hostnames: names in the certificate (default ``[hostname]``); others simulate a
                certificate issued for the wrong name.
            cert_not_after: the certificate's expiry; a past date simulates an expired certificate.
            self_signed: issue the certificate from a throwaway CA of its own, which clients do not trust.
            complete_handshake: False accepts TCP connections but never answers the TLS ClientHello.

        Returns:
            Where the host really listens.

        Raises:
            ValueError: unknown scheme, empty ``cert_hostnames`` or a host added twice.
            RuntimeError: the server is already closed.
        """
        name = hostname.lower()
        if scheme not in DEFAULT_PORTS:
            raise ValueError(f"scheme must be 'https' or 'http', not {scheme!r}")
        if cert_hostnames is not None and not cert_hostnames:
            raise ValueError("cert_hostnames must name at least one host")
        behaviour = handler if not isinstance(handler, ServerResponse) else _always(handler)
        bind = (address or self._address, port)
        with self._lock:
            if self._closed:
                raise RuntimeError("server is closed")
            if (name, scheme) in self._servers:
                raise ValueError(f"{scheme}://{name} is already served")
            context = None
            if scheme == "https":
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                issuer = trustme.CA() if self_signed else self.ca
                not_before = cert_not_after - datetime.timedelta(days=30) if cert_not_after is not None else None
                issuer.issue_cert(
                    *(cert_hostnames or [name]), not_before=not_before, not_after=cert_not_after
                ).configure_cert(context)

            def config(bound_port: int) -> _HostConfig:
                endpoint = Endpoint(hostname=name, scheme=scheme, address=bind[0], port=bound_port)
                return _HostConfig(
                    endpoint=endpoint, handler=behaviour, credentials=credentials, owner=self,
                    complete_handshake=complete_handshake,
                )  # fmt: skip

            server = _HostServer(config, bind, context)
            self._servers[(name, scheme)] = server
            if self._started:
                server.start()
            return server.config.endpoint

    def __enter__(self) -> LocalAutodiscoverServer:
        """Start serving every host added so far."""
        with self._lock:
            if self._closed or self._started:
                raise RuntimeError("a LocalAutodiscoverServer can be entered only once")
            self._started = True
            for server in self._servers.values():
                server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Shut everything down: see :meth:`close`."""
        self.close()

    def close(self) -> None:
        """Stop all hosts, close every socket, join the threads (bounded) and delete the CA file."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            servers = list(self._servers.values())
        for transport in self._transports:  # made by transport(): close their pooled connections too
            transport.close()
        threads = [thread for server in servers for thread in server.stop()]
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    @property
    def ca_bundle(self) -> str:
        """Path of a PEM file holding the CA certificate; deleted by :meth:`close`."""
        with self._lock:
            if self._closed:
                raise RuntimeError("server is closed; its CA bundle is deleted")
            if self._tmpdir is None:
                self._tmpdir = tempfile.mkdtemp(prefix="autodiscover-test-ca-")
                self.ca.cert_pem.write_to_path(str(Path(self._tmpdir) / "ca.pem"))
            return str(Path(self._tmpdir) / "ca.pem")

    def transport(self, *, resolver: Resolver | None = None) -> RequestsTransport:
        """Return the default transport (requests), trusting this server's CA and reaching its hosts.

        Pass it to ``discover()``. Make it after adding hosts: it copies :attr:`connect_overrides`.
        It is closed with the server.

        Args:
            resolver: Resolves host names the overrides do not cover (e.g. SRV targets on other ports);
                typically ``LocalDnsServer.resolver()``.
        """
        from autodiscover_client._http import RequestsTransport

        made = RequestsTransport(ca_bundle=self.ca_bundle, connect_to=self.connect_overrides, resolver=resolver)
        with self._lock:
            self._transports.append(made)
        return made

    @property
    def requests(self) -> tuple[RecordedRequest, ...]:
        """Every request received by any host, in arrival order."""
        with self._lock:
            return tuple(self._requests)

    @property
    def errors(self) -> tuple[Exception, ...]:
        """Exceptions raised by handlers (answered with 500) or by the server itself."""
        with self._lock:
            return tuple(self._errors)

    def credentials_seen(self) -> tuple[tuple[str, str, str], ...]:
        """Return ``(scheme, host, auth_scheme)`` for each request that carried an Authorization header."""
        return tuple(
            (request.scheme, request.host, request.auth_scheme)
            for request in self.requests
            if request.auth_scheme is not None
        )

    @property
    def connect_overrides(self) -> dict[tuple[str, int], tuple[str, int]]:
        """Map ``(hostname, 443 or 80)`` to the ``(address, port)`` really listening for it."""
        with self._lock:
            endpoints = [server.config.endpoint for server in self._servers.values()]
        return {(e.hostname, DEFAULT_PORTS[e.scheme]): (e.address, e.port) for e in endpoints}

    def endpoint(self, hostname: str, scheme: str = "https") -> Endpoint:
        """Return where ``scheme://hostname`` listens.

        Raises:
            KeyError: no such host was added.
        """
        with self._lock:
            server = self._servers.get((hostname.lower().rstrip("."), scheme))  # "MAIL.Example.TEST." is the same host
        if server is None:
            raise KeyError(f"no host {scheme}://{hostname}")
        return server.config.endpoint

    def _append(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _append_error(self, error: Exception) -> None:
        with self._lock:
            self._errors.append(error)
