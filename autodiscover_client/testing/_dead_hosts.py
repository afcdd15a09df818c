"""Dead hosts on loopback: one that drops SYNs (black-holed) and one that accepts but never answers.

Both are real sockets, so a client pays exactly what it would pay against a firewalled root domain:
its connect timeout, or its read timeout.
"""

from __future__ import annotations

import contextlib
import socket
import time

_FILLERS = 4


class BlackHole:
    """A port whose SYNs are dropped, like a firewall that drops packets: connecting hangs until timeout.

    It listens with a backlog of 0 and fills the accept queue with connections it never accepts; Linux
    then drops further SYNs silently (``net.ipv4.tcp_abort_on_overflow`` is 0 by default), so the client
    sees no reset, only silence.
    """

    def __init__(self, address: str = "127.0.0.1") -> None:
        self._listener = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
        self._listener.bind((address, 0))
        self._listener.listen(0)
        self.address: str = address
        self.port: int = self._listener.getsockname()[1]
        self._fillers: list[socket.socket] = []
        for _ in range(_FILLERS):
            filler = socket.socket(self._listener.family)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect((address, self.port))
            self._fillers.append(filler)
        time.sleep(0.05)  # let the kernel finish the fillers' handshakes, so the queue is really full

    def __enter__(self) -> BlackHole:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the port and the filler connections."""
        for filler in self._fillers:
            filler.close()
        self._listener.close()


class SilentHost:
    """A port that completes the TCP handshake (the kernel does) and then never says anything.

    Nothing calls ``accept()``: the connection sits in the queue, so a TLS client hangs in the handshake
    until its read timeout.
    """

    def __init__(self, address: str = "127.0.0.1") -> None:
        self._listener = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
        self._listener.bind((address, 0))
        self._listener.listen(128)
        self.address: str = address
        self.port: int = self._listener.getsockname()[1]

    def __enter__(self) -> SilentHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the port (queued connections are reset)."""
        self._listener.close()
