"""A small migration-shaped world on loopback for the batch tests: domains, dead roots, slow servers."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator

from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer, settings_body
from autodiscover_client.testing._https_server import RecordedRequest, ServerResponse


def ews_url(domain: str) -> str:
    return f"https://mail.{domain}/EWS/Exchange.asmx"


def slow_settings(domain: str, delay: float) -> Callable[[RecordedRequest], ServerResponse]:
    """A handler answering settings after ``delay`` seconds (server-side latency)."""
    body = settings_body(ews_url=ews_url(domain))

    def handler(_request: RecordedRequest) -> ServerResponse:
        if delay:
            time.sleep(delay)
        return ServerResponse(body=body)

    return handler


@contextlib.contextmanager
def black_hole() -> Iterator[tuple[str, int]]:
    """A listening socket whose accept queue is full and never drained, so new SYNs are dropped."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(address)
            fillers.append(filler)
        time.sleep(0.05)
        yield address[0], address[1]
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def refusing_port() -> int:
    """A loopback port nobody listens on (bound, then released), so connections are refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def cli_network_args(
    dns_server: LocalDnsServer,
    web: LocalAutodiscoverServer,
    extra: dict[tuple[str, int], tuple[str, int]] | None = None,
) -> list[str]:
    host, port = dns_server.address
    args = ["--nameserver", f"{host}:{port}", "--ca-bundle", web.ca_bundle]
    overrides = {**web.connect_overrides, **(extra or {})}
    for (name, default_port), (address, real_port) in overrides.items():
        args += ["--resolve", f"{name}:{default_port}:{address}:{real_port}"]
    return args
