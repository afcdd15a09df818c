"""``RequestsTransport``: the default transport, and the only module that imports requests and certifi.

Every wait of an exchange is bounded by one deadline (DESIGN §3 "Deadline"): names are resolved with a
:class:`~autodiscover_client.Resolver` (dnspython by default, never the system's unbounded
``getaddrinfo``), connects and reads get the time left, and the response is read through
``_response_limits``, which re-arms the socket timeout before every ``recv`` so that a server that
trickles one byte a second cannot stretch the exchange past its deadline, not even inside one header line.
"""

from __future__ import annotations

import http.client
import ipaddress
import logging
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import certifi
import requests
import requests.adapters
import urllib3.util.ssl_

from ._errors import (
    ConnectError,
    ResolverError,
    ResolverTimeoutError,
    ResponseTooLargeError,
    TLSError,
    TransportError,
    TransportTimeoutError,
    error_chain,
)
from ._response_limits import HTTP_POOLS, HeadersTooLargeError, Limits, keeping_connections, limited
from ._seams import HttpRequest, HttpResponse, NtlmCredentials, Resolver
from ._urls import url_refusal

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 1024 * 1024  # DESIGN §4 rule 6: bodies are capped (1 MiB by default)
# DESIGN §4 rule 6: headers are capped too. http.client alone allows 100 lines of 64 KiB (6.4 MiB);
# real Autodiscover answers carry about 1-2 KiB of headers.
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
# Keep-alive pools: how many hosts keep idle connections, and how many per host. The concurrent driver
# sends at most one request per candidate at a time, but a Discoverer shared by a batch's worker threads
# may send many to one host; urllib3's pools are thread-safe, and a connection beyond the size would be
# closed on return instead of reused.
POOL_HOSTS = 64
POOL_PER_HOST = 32
_CHUNK = 16 * 1024


class _PinnedNameAdapter(requests.adapters.HTTPAdapter):
    """Verify TLS for the name in the ``Host`` header when the URL names an address instead.

    This is how an address override connects to ``127.0.0.1`` yet sends SNI for, and verifies the
    certificate of, ``autodiscover.example.com`` (urllib3's ``server_hostname``/``assert_hostname``).
    Its pools read responses within the exchange's limits (``_response_limits``), and every https pool
    shares one verifying TLS context that holds the CA bundle (``tls_context``).
    """

    def __init__(self, *, tls_context: Callable[[], ssl.SSLContext], **kwargs: Any) -> None:
        self._tls_context = tls_context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(HTTP_POOLS)

    def build_connection_pool_key_attributes(  # type: ignore[override]
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        params: dict[str, Any] = dict(host_params)
        kwargs: dict[str, Any] = dict(pool_kwargs)
        if params.get("scheme") == "https":
            kwargs["ssl_context"] = self._tls_context()  # holds the CA bundle: see cert_verify
            pinned = request.headers.get("Host")
            if pinned:
                # "mail.example.com." is the same host (RFC 1034 §3.1), but SNI and certificates carry the
                # name without the final dot (RFC 6066 §3): verify that one.
                name = (urlsplit(f"//{pinned}").hostname or pinned).rstrip(".")
                kwargs["server_hostname"] = name
                kwargs["assert_hostname"] = name
        return params, kwargs

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        if url.lower().startswith("https") and getattr(conn, "conn_kw", {}).get("ssl_context") is not None:
            # The pool's shared context holds the bundle and requires verification. requests would set the
            # bundle's path on the pool, which urllib3 loads into the context again on every connect
            # (certifi's takes about 15 ms of CPU), and check that the file still exists, failing with a
            # bare OSError if it was removed after it was loaded.
            conn.cert_reqs = "CERT_REQUIRED"
            conn.ca_certs = conn.ca_cert_dir = None
            return
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]


class _TlsContext:
    """The one verifying context of a transport's https connections, built on first use."""

    def __init__(self, ca_bundle: str) -> None:
        self._ca_bundle = ca_bundle
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def get(self) -> ssl.SSLContext:
        """The context.

        Raises:
            TLSError: The CA bundle cannot be read or holds no usable certificate.
        """
        with self._lock:
            if self._context is None:
                # urllib3's own defaults (TLS 1.2+, its cipher list) with verification required.
                context = urllib3.util.ssl_.create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
                context.hostname_checks_common_name = False  # RFC 6125 §6.4.4: names from SANs only
                try:
                    context.load_verify_locations(cafile=self._ca_bundle)
                except (ssl.SSLError, OSError) as exc:
                    raise TLSError(f"cannot load the CA bundle {self._ca_bundle}: {exc}") from exc
                self._context = context
            return self._context


class RequestsTransport:
    """Make one HTTP exchange with requests, safely.

    TLS is always verified, against certifi's bundle or ``ca_bundle``; redirects are never followed;
    bodies are read streamed and capped; every exchange is bounded by its ``timeout``.

    Args:
        ca_bundle: A PEM file of CA certificates to trust instead of certifi's.
        connect_to: Address overrides: ``{(host, port): (address, port)}``. The connection goes to the
            address while SNI, certificate verification and ``Host`` use the real name (like curl's
            ``--connect-to``).
        resolver: Resolves host names (A, then AAAA). By default a :class:`DnspythonResolver` with the
            system's nameservers: unlike the system's ``getaddrinfo``, every lookup is bounded by the
            exchange's timeout. ``/etc/hosts`` is therefore not consulted; use ``connect_to`` instead.
        max_body: The largest body accepted, in bytes.
        max_header_bytes: The largest status line plus header block accepted, in bytes.
        session: A requests session to use (its redirect and verification settings are overridden).

    Connections are kept alive and reused, within a discovery and across discoveries, for as long as
    the transport lives; it is safe to share between threads. ``close()`` closes them.
    """

    def __init__(
        self,
        *,
        ca_bundle: str | os.PathLike[str] | None = None,
        connect_to: Mapping[tuple[str, int], tuple[str, int]] | None = None,
        resolver: Resolver | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        session: requests.Session | None = None,
    ) -> None:
        self._verify = _ca_bundle_path(ca_bundle) if ca_bundle is not None else certifi.where()
        self._connect_to = {
            (host.lower().rstrip("."), port): target for (host, port), target in (connect_to or {}).items()
        }
        self._resolver = resolver
        self._max_body = max_body
        self._max_header_bytes = max_header_bytes
        self._session = session or requests.Session()
        self._session.trust_env = False  # no proxies or netrc credentials picked up behind the caller's back
        # The adapter gets the context from a holder, not from a method of this object: a bound method
        # would make a cycle (transport -> session -> adapter -> transport) that keeps an unclosed,
        # dropped transport and its sockets alive until the garbage collector runs.
        self._tls = _TlsContext(self._verify)
        adapter = _PinnedNameAdapter(tls_context=self._tls.get, pool_connections=POOL_HOSTS, pool_maxsize=POOL_PER_HOST)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def __repr__(self) -> str:
        return f"RequestsTransport(ca_bundle={self._verify!r}, connect_to={self._connect_to!r})"

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> RequestsTransport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        """Make the request. See :class:`~autodiscover_client.Transport`.

        Raises:
            ConnectError: The connection could not be made.
            TLSError: The handshake or certificate verification failed.
            TransportTimeoutError: The exchange did not finish within ``timeout``.
            ResponseTooLargeError: The body or headers exceeded their cap.
            TransportError: Anything else (e.g. a URL that is not http or https).
        """
        deadline = time.monotonic() + timeout
        refusal = url_refusal(request.url)
        if refusal is not None:
            # Defence in depth: requests must connect to the host the policy judged (see _urls).
            raise TransportError(f"cannot send to {request.url!r}: {refusal}")
        parts = urlsplit(request.url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"cannot send to {request.url!r}: only http and https URLs are supported")
        if request.credentials is not None and scheme != "https":
            raise TransportError("refusing to send credentials over plain http (DESIGN §4 rule 2)")
        host = parts.hostname.rstrip(".").lower()
        port = parts.port or (443 if scheme == "https" else 80)
        targets = self._targets(host, port, deadline)
        last_error: TransportError | None = None
        for target in targets:
            try:
                response = self._send_to(request, parts, target, deadline)
            except ConnectError as exc:  # try the next address, as a browser would
                last_error = exc
                continue
            # Method, URL, status and size only: never headers (Authorization) or bodies (DESIGN §4 rule 7).
            with_credentials = " (with credentials)" if request.credentials is not None else ""
            logger.debug("%s %s%s -> HTTP %d, %d bytes", request.method, request.url, with_credentials,
                         response.status, len(response.body))  # fmt: skip
            return response
        raise last_error or ConnectError(f"{request.url}: no address to connect to")

    def _targets(self, host: str, port: int, deadline: float) -> list[tuple[str, int] | None]:
        override = self._connect_to.get((host, port))
        if override is not None:
            return [override]
        if _is_ip(host):
            return [None]
        try:
            addresses = self._get_resolver().resolve_addresses(host, timeout=_left(deadline))
        except ResolverTimeoutError as exc:
            raise TransportTimeoutError(f"cannot resolve {host}: {exc}") from exc
        except ResolverError as exc:
            raise ConnectError(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise ConnectError(f"cannot resolve {host}: no A or AAAA records")
        return [(address, port) for address in addresses]

    @property
    def resolver(self) -> Resolver:
        """The resolver host names are looked up with (created on first use when none was given).

        Raises:
            ResolverError: No resolver was given and the system's DNS configuration cannot be read.
        """
        return self._get_resolver()

    def _get_resolver(self) -> Resolver:
        if self._resolver is None:
            from ._dns import DnspythonResolver  # late: reads /etc/resolv.conf only when a name needs it

            self._resolver = DnspythonResolver()
        return self._resolver

    def _send_to(
        self, request: HttpRequest, parts: Any, target: tuple[str, int] | None, deadline: float
    ) -> HttpResponse:
        headers = {name: value for name, value in request.headers}
        headers.setdefault("Accept-Encoding", "identity")  # a compressed body could bypass the size cap
        url = request.url
        if target is not None:
            address, port = target
            literal = f"[{address}]" if ":" in address else address
            url = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
            headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
        credentials = request.credentials
        if isinstance(credentials, NtlmCredentials):
            return self._handshake(request, url, headers, credentials, parts.hostname or "", deadline)
        if credentials is not None:
            headers["Authorization"] = credentials.authorization()
        return self._exchange(request, url, headers, deadline)

    def _handshake(
        self,
        request: HttpRequest,
        url: str,
        headers: dict[str, str],
        credentials: NtlmCredentials,
        host: str,
        deadline: float,
    ) -> HttpResponse:
        """NTLM/Negotiate: NEGOTIATE, CHALLENGE, AUTHENTICATE over one kept-alive connection (MS-NLMP §3.1)."""
        from ._ntlm import NtlmHandshake

        handshake = NtlmHandshake(credentials, host)
        headers = {**headers, "Authorization": handshake.first(), "Connection": "keep-alive"}
        with keeping_connections():  # the next leg must find this connection in the pool, open
            response = self._exchange(request, url, headers, deadline, keep_alive=True)
        if response.status != 401:
            return response
        answer = handshake.answer(response.header("WWW-Authenticate"))
        if answer is None:  # no challenge for our scheme: the server refused; never try another scheme
            return response
        return self._exchange(request, url, {**headers, "Authorization": answer}, deadline)

    def _exchange(
        self, request: HttpRequest, url: str, headers: dict[str, str], deadline: float, *, keep_alive: bool = False
    ) -> HttpResponse:
        with limited(Limits(deadline=deadline, max_header_bytes=self._max_header_bytes)):
            return self._exchange_within_limits(request, url, headers, deadline, keep_alive=keep_alive)

    def _exchange_within_limits(
        self, request: HttpRequest, url: str, headers: dict[str, str], deadline: float, *, keep_alive: bool
    ) -> HttpResponse:
        left = _left(deadline)
        try:
            response = self._session.request(
                request.method,
                url,
                data=request.body or None,
                headers=headers,
                timeout=(left, left),
                verify=self._verify,
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.RequestException as exc:
            logger.debug("%s %s failed: %s", request.method, request.url, type(exc).__name__)
            raise _translate(exc, request.url) from exc
        released = False
        try:
            body = self._read_body(response, deadline, request.url)
            if keep_alive:
                # Fully read: hand the connection back to the pool, open, for the next leg (the pool
                # gives out the most recently returned connection first). close() would drop it.
                response.raw.release_conn()
                released = True
        finally:
            if not released:
                response.close()
        return HttpResponse(status=response.status_code, headers=tuple(response.headers.items()), body=body)

    def _read_body(self, response: requests.Response, deadline: float, url: str) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            raise ResponseTooLargeError(f"the body of {declared} bytes exceeds the {self._max_body}-byte cap")
        raw = response.raw
        # read1 returns what has arrived, so a 1 byte/s trickle still meets the deadline check below.
        read = getattr(raw, "read1", None) or raw.read
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                chunk = read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > self._max_body:
                    raise ResponseTooLargeError(f"the body exceeds the {self._max_body}-byte cap")
                chunks.append(chunk)
                if time.monotonic() > deadline:
                    raise TransportTimeoutError("the body did not arrive within the timeout")
        except (requests.exceptions.RequestException, OSError, http.client.HTTPException) as exc:
            raise _translate(exc, url) from exc
        except Exception as exc:  # urllib3's own errors during a streamed read
            if type(exc).__module__.startswith("urllib3"):
                raise _translate(exc, url) from exc
            raise
        return b"".join(chunks)


def _ca_bundle_path(ca_bundle: str | os.PathLike[str]) -> str:
    """The CA bundle's path, refusing what requests would read as "do not verify".

    requests takes any false ``verify`` value (``""``, from ``--ca-bundle "$UNSET"``) as verification off;
    DESIGN §4 rule 1 says verification is never turned off implicitly.
    """
    path = os.fspath(ca_bundle)
    if not isinstance(path, str) or not path:
        raise ValueError("ca_bundle must name a PEM file of CA certificates (verification is never turned off)")
    if not os.path.isfile(path):
        raise ValueError(f"ca_bundle {path!r} is not a file")
    return path


def _left(deadline: float) -> float:
    return max(0.001, deadline - time.monotonic())


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _translate(exc: BaseException, url: str) -> TransportError:
    """Map requests/urllib3 errors to ours, most specific first (cf. httpx's map_httpcore_exceptions)."""
    text = _root_cause(exc)
    if any(isinstance(item, HeadersTooLargeError) for item in error_chain(exc)):
        return ResponseTooLargeError(text)
    if isinstance(exc, requests.exceptions.SSLError) or "SSL" in type(exc).__name__:
        return TLSError(f"TLS failed: {text}")
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return TransportTimeoutError("connect timed out")
    if isinstance(exc, (requests.exceptions.ReadTimeout, TimeoutError)) or "Timeout" in type(exc).__name__:
        return TransportTimeoutError("read timed out")
    if "header" in text.lower() and ("too long" in text.lower() or "more than" in text.lower()):
        return ResponseTooLargeError(f"response headers too large: {text}")
    if isinstance(exc, (requests.exceptions.ConnectionError, OSError)):
        return ConnectError(f"{text}")
    return TransportError(f"{text}")


_POOL_PREFIX = re.compile(r"^_?\w*Connection(?:Pool)?\([^)]*\): ")
_OBJECT_PREFIX = re.compile(r"^<[^>]* object at 0x[0-9a-f]+>: ")


def _root_cause(exc: BaseException) -> str:
    """The innermost message, without urllib3's pool and object reprs or its ``('Connection aborted.', …)`` tuples."""
    seen: BaseException = exc
    for _ in range(10):  # chains are short; the bound only guards against a cycle
        nested = next((arg for arg in seen.args if isinstance(arg, BaseException)), None)
        if nested is None:
            reason = getattr(seen, "reason", None)
            nested = reason if isinstance(reason, BaseException) else None
        if nested is None or nested is seen:
            break
        seen = nested
    message = str(seen)
    # urllib3 prefixes "HTTPSConnection(host=..., port=...): " or an object repr; the trail has the URL.
    message = _OBJECT_PREFIX.sub("", _POOL_PREFIX.sub("", message))
    if type(seen).__module__ == "http.client" and type(seen).__name__ not in message:
        message = f"{type(seen).__name__}: {message}" if message else type(seen).__name__
    return message or type(seen).__name__
