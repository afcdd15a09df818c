"""Benchmark: what dead candidates cost, concurrent against sequential, over real sockets on loopback.

Run from a fresh clone (after the README's set-up):

    .venv/bin/python benchmarks/bench_dead_candidates.py    # options: --repeat 9 --request-timeout 2 ...

Child processes serve DNS (no SRV records) and HTTPS hosts with a throwaway CA, plus a black-holed port
(SYNs dropped) and a silent one (accepts, never answers). Each scenario is measured side by side in this
one run, as the median over repetitions, each with a fresh transport (so every run pays its own TCP and
TLS handshakes, like a first discovery):

- floor: one direct POST to the endpoint that answers;
- concurrent, default patience (0.5 s); concurrent, patience=None; sequential.

Every HTTPS answer takes ``--server-latency`` (default 20 ms) of server processing, as real servers do;
one extra row shows every candidate alive with no server latency at all, for information: a loopback POST
is then ~2 ms of pure CPU, so any client-side work (parsing the answer, a parallel DNS query under the
GIL) shows up as a ratio that says nothing about waiting.

Targets: with a dead root, concurrent (default patience) <= (floor + patience) * 1.1; with every
candidate alive, concurrent <= 1.1 * floor. The script prints whether each is met and exits 1 if not.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from autodiscover_client import DnspythonResolver, HttpRequest, Method, RequestsTransport, discover
from autodiscover_client._pox import Schema, build_request

PATH = "/autodiscover/autodiscover.xml"
SCENARIOS = {
    "root black-holed (SYNs dropped), autodiscover.<d> works": "blackhole.test",
    "root hangs after connect, autodiscover.<d> works": "silent.test",
    "every candidate alive (root answers)": "alive.test",
    "every candidate alive, no server latency (informational)": "instant.test",
}
ALIVE = ("alive.test", "instant.test")


def serve(channel: Connection, role: str, ca_pem: tuple[bytes, bytes], latency: float) -> None:
    """Child process: serve one role's hosts, send their coordinates, serve until told to stop.

    Each role (root domains, autodiscover.<d> hosts, the plain-http probes, DNS and the dead ports) has a
    process of its own, as real servers are separate machines: a Python server's own GIL would otherwise
    make the candidates queue behind each other on the server side. Every HTTPS answer waits ``latency``
    seconds first (except on instant.test), as a real server's processing does.
    """
    import trustme

    from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer, settings_body
    from autodiscover_client.testing._dead_hosts import BlackHole, SilentHost
    from autodiscover_client.testing._https_server import ServerResponse

    if role == "dns":
        with LocalDnsServer() as dns, BlackHole() as hole, SilentHost() as silent:
            dead = {
                ("blackhole.test", 443): (hole.address, hole.port),
                ("silent.test", 443): (silent.address, silent.port),
            }
            channel.send((dns.address, dead))
            channel.recv()
        return
    with LocalAutodiscoverServer(ca=trustme.CA.from_pem(*ca_pem)) as web:
        for domain in SCENARIOS.values():
            body = settings_body(ews_url=f"https://mail.{domain}/EWS/Exchange.asmx")
            answer = _slow(ServerResponse(body=body), 0.0 if domain == "instant.test" else latency)
            if role == "autodiscover":
                web.add_host(f"autodiscover.{domain}", answer)
            elif role == "probe":
                web.add_host(f"autodiscover.{domain}", ServerResponse(status=404), scheme="http")
            elif domain in ALIVE:
                web.add_host(domain, answer)
        channel.send(web.connect_overrides)
        channel.recv()


def _slow(response: object, latency: float) -> Callable[[object], object]:
    def answer(_request: object) -> object:
        time.sleep(latency)
        return response

    return answer


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure(
    args: argparse.Namespace,
    domain: str,
    transport: Callable[[], RequestsTransport],
    resolver: DnspythonResolver,
    modes: dict[str, dict[str, object]],
) -> dict[str, list[float]]:
    """Time the floor and each mode, interleaved, ``args.repeat`` times, each with fresh connections."""
    email = f"user@{domain}"
    working = f"https://{domain if domain in ALIVE else 'autodiscover.' + domain}{PATH}"
    expected = Method.HTTPS_ROOT if domain in ALIVE else Method.HTTPS_AUTODISCOVER
    headers = (("Content-Type", "text/xml; charset=utf-8"),)
    post = HttpRequest(method="POST", url=working, headers=headers, body=build_request(email, Schema.OUTLOOK))
    samples: dict[str, list[float]] = {name: [] for name in ("floor", *modes)}
    for _ in range(args.repeat):
        with transport() as fresh:
            samples["floor"].append(timed(lambda: fresh.send(post, timeout=args.request_timeout)))
        for name, options in modes.items():
            with transport() as fresh:
                start = time.perf_counter()
                settings = discover(
                    email, resolver=resolver, transport=fresh, request_timeout=args.request_timeout,
                    **options,  # type: ignore[arg-type]
                )  # fmt: skip
                samples[name].append(time.perf_counter() - start)
            assert expected == settings.source.method, settings.attempts
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=9, help="repetitions per figure (median)")
    parser.add_argument("--request-timeout", type=float, default=2.0, help="per-attempt timeout, seconds")
    parser.add_argument("--patience", type=float, default=0.5, help="the default patience, seconds")
    parser.add_argument("--server-latency", type=float, default=0.02, help="server processing time, seconds")
    parser.add_argument("--quick", action="store_true", help="3 repetitions and a 1 s timeout (run_all.sh --quick)")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.request_timeout = 3, 1.0

    import trustme

    ca = trustme.CA()
    pem = (ca.cert_pem.bytes(), ca.private_key_pem.bytes())
    context = multiprocessing.get_context("spawn")  # servers in their own processes: no GIL shared with us
    channels, servers = [], []
    for role in ("dns", "root", "autodiscover", "probe"):
        parent, child = context.Pipe()
        servers.append(context.Process(target=serve, args=(child, role, pem, args.server_latency), daemon=True))
        servers[-1].start()
        channels.append(parent)
    try:
        dns_address, overrides = channels[0].recv()
        for channel in channels[1:]:
            overrides.update(channel.recv())
        with tempfile.TemporaryDirectory(prefix="bench-ca-") as folder:
            ca_bundle = str(Path(folder) / "ca.pem")
            ca.cert_pem.write_to_path(ca_bundle)
            return run(args, dns_address, ca_bundle, overrides)
    finally:
        for channel in channels:
            channel.send("stop")
        for server in servers:
            server.join(10)


def run(args: argparse.Namespace, dns_address: tuple[str, int], ca_bundle: str, overrides: dict) -> int:  # type: ignore[type-arg]
    resolver = DnspythonResolver(nameservers=[dns_address], timeout=2.0)

    def transport() -> RequestsTransport:
        return RequestsTransport(ca_bundle=ca_bundle, connect_to=overrides, resolver=resolver)

    modes: dict[str, dict[str, object]] = {
        "concurrent": {"patience": args.patience},
        "patience=None": {"patience": None},
        "sequential": {"parallel": False},
    }
    print(f"dead candidates: median of {args.repeat}, request timeout {args.request_timeout:g}s, ", end="")
    print(
        f"patience {args.patience:g}s, server latency {args.server_latency * 1000:g}ms; fresh connections each time\n"
    )
    header = f"{'scenario':<58} {'floor':>8} {'concurrent':>11} {'patience=None':>14} {'sequential':>11}  target"
    print(header)
    print("-" * len(header) + "-" * 30)
    all_met = True
    for title, domain in SCENARIOS.items():
        samples = measure(args, domain, transport, resolver, modes)
        median = {name: statistics.median(values) for name, values in samples.items()}
        floor = median["floor"]
        if domain in ALIVE:
            limit, rule = 1.1 * floor, "<= 1.1 x floor"
        else:
            limit, rule = 1.1 * (floor + args.patience), "<= (floor + patience) x 1.1"
        met = median["concurrent"] <= limit
        if domain != "instant.test":
            all_met &= met
        figures = f"{floor * 1000:>6.1f}ms {median['concurrent'] * 1000:>9.1f}ms"
        figures += f" {median['patience=None'] * 1000:>12.1f}ms {median['sequential'] * 1000:>9.1f}ms"
        print(f"{title:<58} {figures}  {rule} = {limit * 1000:.1f}ms: {'met' if met else 'NOT MET'}")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {load} (other work on the machine moves these figures)")
    print("all targets met" if all_met else "some targets NOT met")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
