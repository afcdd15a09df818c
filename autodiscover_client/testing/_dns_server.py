"""A tiny authoritative DNS server on loopback, for tests that need real DNS traffic.

It answers from an in-memory table filled with :meth:`LocalDnsServer.add_srv` and friends, over
UDP and TCP on the same port, so code under test can use an ordinary stub resolver against it.
"""

from __future__ import annotations

import ipaddress
import selectors
import socket
import threading

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.CNAME
import dns.rrset

from autodiscover_client._dns import DnspythonResolver

__all__ = ["LocalDnsServer"]

_IN = dns.rdataclass.IN
# Plain DNS over UDP without EDNS is limited to 512 bytes (RFC 1035 §4.2.1).
_UDP_MIN_PAYLOAD = 512
_TCP_MAX_MESSAGE = 65535
# A CNAME loop in test data must not hang the server thread.
_MAX_CNAME_HOPS = 8
# How often the serving loop wakes up to notice stop(); bounds shutdown latency.
_POLL_SECONDS = 0.05
_BIND_ATTEMPTS = 20
_JOIN_SECONDS = 5.0


def _name(text: str) -> dns.name.Name:
    # from_text makes relative input absolute, so "a.example" and "a.example." are one name.
    return dns.name.from_text(text)


class LocalDnsServer:
    """Context manager: serves DNS over UDP and TCP on one loopback port, in a daemon thread.

    Names are case-insensitive and may be given with or without the trailing dot. Records may be
    added while the server runs.
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        """Prepare a server; nothing is bound until :meth:`start`.

        Args:
            host: Literal IPv4 or IPv6 address to bind, e.g. ``"127.0.0.1"`` or ``"::1"``.
            port: Port for both UDP and TCP; 0 picks a free one.
        """
        self._host = host
        self._port = port
        self._family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
        self._lock = threading.Lock()
        self._zone: dict[dns.name.Name, dict[dns.rdatatype.RdataType, dns.rdataset.Rdataset]] = {}
        self._dropped: set[dns.name.Name] = set()
        self._failed: set[dns.name.Name] = set()
        self._log: list[tuple[str, str]] = []
        self._address: tuple[str, int] | None = None
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def __enter__(self) -> LocalDnsServer:
        """Start serving and return the server."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving and release the sockets."""
        self.stop()

    @property
    def address(self) -> tuple[str, int]:
        """The ``(host, port)`` actually bound; valid once started."""
        if self._address is None:
            raise RuntimeError("LocalDnsServer has not been started")
        return self._address

    @property
    def queries(self) -> tuple[tuple[str, str], ...]:
        """Every query received, in order, as ``(lower-case name without final dot, type e.g. "SRV")``."""
        with self._lock:
            return tuple(self._log)

    def resolver(self, *, timeout: float = 2.0) -> DnspythonResolver:
        """Return the default resolver (dnspython), asking only this server: pass it to ``discover()``.

        Args:
            timeout: The most one query may take, in seconds (short: a test should fail fast).
        """
        return DnspythonResolver(nameservers=[self.address], timeout=timeout)

    def add_srv(self, name: str, target: str, port: int, *, priority: int = 0, weight: int = 0, ttl: int = 60) -> None:
        """Add an SRV record.

        Args:
            name: Owner, e.g. ``"_autodiscover._tcp.example.com"``.
            target: Host offering the service; ``"."`` (with port 0) means "not offered" (RFC 2782).
            port: Port of the service on ``target``.
            priority: Lower is tried first.
            weight: Relative share among records of equal priority.
            ttl: Time to live in seconds.
        """
        text = f"{priority} {weight} {port} {_name(target).to_text()}"
        self._add(name, dns.rdatatype.SRV, text, ttl)

    def add_a(self, name: str, address: str, *, ttl: int = 60) -> None:
        """Add an A record.

        Args:
            name: Owner name.
            address: IPv4 address, e.g. ``"192.0.2.1"``.
            ttl: Time to live in seconds.
        """
        self._add(name, dns.rdatatype.A, address, ttl)

    def add_aaaa(self, name: str, address: str, *, ttl: int = 60) -> None:
        """Add an AAAA record.

        Args:
            name: Owner name.
            address: IPv6 address, e.g. ``"2001:db8::1"``.
            ttl: Time to live in seconds.
        """
        self._add(name, dns.rdatatype.AAAA, address, ttl)

    def add_cname(self, name: str, target: str, *, ttl: int = 60) -> None:
        """Make ``name`` an alias of ``target``; answers then follow it to ``target``'s records.

        Args:
            name: The alias.
            target: The canonical name; it need not have records here.
            ttl: Time to live in seconds.
        """
        self._add(name, dns.rdatatype.CNAME, _name(target).to_text(), ttl)

    def drop(self, name: str) -> None:
        """Never answer queries for ``name`` (they are still logged), so clients time out.

        Args:
            name: Name whose queries are silently dropped, whatever their type.
        """
        with self._lock:
            self._dropped.add(_name(name))

    def fail(self, name: str) -> None:
        """Answer queries for ``name`` with SERVFAIL, even if it has records.

        Args:
            name: Name whose queries fail, whatever their type.
        """
        with self._lock:
            self._failed.add(_name(name))

    def start(self) -> None:
        """Bind UDP and TCP on one port and start the serving thread; a no-op if already running."""
        if self._thread is not None:
            return
        self._udp, self._tcp = self._bind()
        sockname = self._udp.getsockname()
        self._address = (self._host, int(sockname[1]))
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._serve,
            args=(self._udp, self._tcp),
            name=f"LocalDnsServer{self._address}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the serving thread (bounded wait) and close every socket; safe to call twice."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(_JOIN_SECONDS)
            self._thread = None
        for sock in (self._udp, self._tcp):
            if sock is not None:
                sock.close()
        self._udp = self._tcp = None

    def _add(self, name: str, rdtype: dns.rdatatype.RdataType, text: str, ttl: int) -> None:
        rdata = dns.rdata.from_text(_IN, rdtype, text)
        with self._lock:
            node = self._zone.setdefault(_name(name), {})
            node.setdefault(rdtype, dns.rdataset.Rdataset(_IN, rdtype)).add(rdata, ttl)

    def _bind(self) -> tuple[socket.socket, socket.socket]:
        # With port 0 the kernel picks a free UDP port, which may be taken for TCP: try again.
        attempts = _BIND_ATTEMPTS if self._port == 0 else 1
        for attempt in range(1, attempts + 1):
            udp = socket.socket(self._family, socket.SOCK_DGRAM)
            tcp = socket.socket(self._family, socket.SOCK_STREAM)
            try:
                udp.bind((self._host, self._port))
                # Lets a fixed port be reused right after a previous server's TIME_WAIT connections.
                tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                tcp.bind((self._host, udp.getsockname()[1]))
                tcp.listen()
            except OSError:
                udp.close()
                tcp.close()
                if attempt == attempts:
                    raise
            else:
                udp.setblocking(False)
                tcp.setblocking(False)
                return udp, tcp
        raise OSError(f"no port free for both UDP and TCP on {self._host}")  # pragma: no cover

    def _serve(self, udp: socket.socket, tcp: socket.socket) -> None:
        buffers: dict[socket.socket, bytearray] = {}
        with selectors.DefaultSelector() as selector:
            selector.register(udp, selectors.EVENT_READ, udp)
            selector.register(tcp, selectors.EVENT_READ, tcp)
            try:
                while not self._stopping.is_set():
                    for key, _ in selector.select(_POLL_SECONDS):
                        sock: socket.socket = key.data
                        # A misbehaving client must never kill the thread every test relies on.
                        try:
                            if sock is udp:
                                self._serve_udp(udp)
                            elif sock is tcp:
                                conn, _ = tcp.accept()
                                # Blocking with a timeout: reads follow readiness, sendall may need to wait.
                                conn.settimeout(1.0)
                                buffers[conn] = bytearray()
                                selector.register(conn, selectors.EVENT_READ, conn)
                            elif not self._serve_tcp(sock, buffers[sock]):
                                raise ConnectionResetError
                        # Broad on purpose: whatever one client did, drop only its connection and go on.
                        except Exception:
                            if sock in buffers:
                                selector.unregister(sock)
                                sock.close()
                                del buffers[sock]
            finally:
                for conn in buffers:
                    conn.close()

    def _serve_udp(self, udp: socket.socket) -> None:
        try:
            wire, peer = udp.recvfrom(_TCP_MAX_MESSAGE)
        except BlockingIOError:
            return
        payload = self._answer(wire, udp=True)
        if payload is not None:
            udp.sendto(payload, peer)

    def _serve_tcp(self, conn: socket.socket, buffer: bytearray) -> bool:
        """Handle readable data on a TCP connection; return False once the client has closed it."""
        chunk = conn.recv(_TCP_MAX_MESSAGE)
        if not chunk:
            return False
        buffer += chunk
        # One connection may carry several length-prefixed queries (RFC 7766 §6.2.1).
        while len(buffer) >= 2 and len(buffer) >= 2 + int.from_bytes(buffer[:2], "big"):
            size = int.from_bytes(buffer[:2], "big")
            wire = bytes(buffer[2 : 2 + size])
            del buffer[: 2 + size]
            payload = self._answer(wire, udp=False)
            if payload is not None:
                conn.sendall(len(payload).to_bytes(2, "big") + payload)
        return True

    def _answer(self, wire: bytes, *, udp: bool) -> bytes | None:
        """Return the wire response to ``wire``, or None if nothing should be sent back."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # garbage of any shape must be ignored, not crash the thread
            return None
        # Never answer responses (avoids loops) nor anything but a single-question standard query.
        if query.flags & dns.flags.QR or query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            return None
        question = query.question[0]
        with self._lock:
            name = question.name.to_text(omit_final_dot=True).lower()
            self._log.append((name, dns.rdatatype.to_text(question.rdtype)))
            if question.name in self._dropped:
                return None
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if question.name in self._failed:
                response.set_rcode(dns.rcode.SERVFAIL)
            elif question.rdclass != _IN:
                response.set_rcode(dns.rcode.REFUSED)
            else:
                response.set_rcode(self._resolve(question.name, question.rdtype, response.answer))
        limit = max(_UDP_MIN_PAYLOAD, query.payload if query.edns >= 0 else 0) if udp else _TCP_MAX_MESSAGE
        # prefer_truncation drops RRsets that do not fit and sets TC, so the client retries over TCP.
        return response.to_wire(max_size=limit, prefer_truncation=True)

    def _resolve(
        self, qname: dns.name.Name, rdtype: dns.rdatatype.RdataType, answer: list[dns.rrset.RRset]
    ) -> dns.rcode.Rcode:
        """Fill ``answer`` for ``qname``/``rdtype``, following CNAMEs, and return the rcode."""
        current = qname
        for _ in range(_MAX_CNAME_HOPS):
            node = self._zone.get(current)
            if node is None:
                # After a CNAME the alias itself exists, so an unknown target is not NXDOMAIN here.
                return dns.rcode.NOERROR if answer else dns.rcode.NXDOMAIN
            found = node.get(rdtype)
            if found is None and rdtype != dns.rdatatype.CNAME:
                found = node.get(dns.rdatatype.CNAME)
            if found is None:
                return dns.rcode.NOERROR
            # Owner is the name as asked, so a client using 0x20 case randomisation sees its own spelling.
            answer.append(dns.rrset.from_rdata_list(current, found.ttl, list(found)))
            if found.rdtype == rdtype:
                return dns.rcode.NOERROR
            alias = next(iter(found))
            if not isinstance(alias, dns.rdtypes.ANY.CNAME.CNAME):  # pragma: no cover - narrows the type
                break
            current = alias.target
        return dns.rcode.NOERROR
