"""A small migration-shaped world on loopback for the batch tests: domains, dead roots, slow servers."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer, refused_port, settings_body
from autodiscover_client.testing._dead_hosts import BlackHole
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
    """The kit's ``BlackHole`` as ``(address, port)``: new SYNs are dropped."""
    with BlackHole() as hole:
        yield hole.address, hole.port


def refusing_port() -> int:
    """A loopback port nobody listens on, so connections are refused (the kit's ``refused_port``)."""
    return refused_port()


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
