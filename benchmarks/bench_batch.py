"""Batch discovery: many addresses over many domains against local servers, over real sockets on loopback.

Run: python benchmarks/bench_batch.py [--quick]

The servers run in a child process (so their CPU, memory and descriptors are not counted as ours):
a DNS server (no SRV records: every domain costs one SRV query) and one TLS listener serving every
``autodiscover.<domain>`` and root host, with about 20 ms of server-side latency per request. A few
domains have dead roots: black-holed (a listener whose accept queue is full, so SYNs are dropped) or
refusing. Roots that are alive answer 404, as web sites do.

Printed side by side, from one run: addresses per second for ``discover_many`` with 16 workers and
for a sequential loop of direct POSTs to known endpoints; DNS queries and failed probes for a tenth
of the addresses and for all of them; CPU time per discovery; peak RSS and its growth; peak open
descriptors. This process runs under ``ulimit -n 1024`` (it lowers its own soft limit).
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import random
import resource
import socket
import ssl
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

try:
    from _common import verdict
except ImportError:  # run as a module
    from benchmarks._common import verdict

LATENCY = 0.02
BLACK_HOLED, REFUSING = 3, 3  # dead roots, among the first domains
REQUEST_TIMEOUT = 2.0  # what a black-holed root costs the first address of its domain
FD_LIMIT = 1024


def domain_name(n: int) -> str:
    return f"d{n}.test"


# --- the servers (child process) -----------------------------------------------------------------


def serve(domains: int, latency: float) -> None:
    """Run the servers until standard input closes; answer 'stats' lines with counters."""
    import trustme

    from autodiscover_client.testing import LocalDnsServer, protocol_xml, settings_body

    names = [f"autodiscover.{domain_name(n)}" for n in range(domains)] + [domain_name(n) for n in range(domains)]
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    ca_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bench-batch-ca-{os.getpid()}.pem")  # noqa: S108
    ca.cert_pem.write_to_path(ca_path)
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    bodies = {
        name: settings_body(
            protocols=[
                protocol_xml("EXPR", Server=f"mail.{name}", EwsUrl=f"https://mail.{name}/EWS/Exchange.asmx", SSL="On"),
                protocol_xml("IMAP", Server=f"imap.{name}", Port=993, SSL="on"),
                protocol_xml("SMTP", Server=f"smtp.{name}", Port=587, SSL="off", Encryption="TLS"),
            ]
        )
        for name in (domain_name(n) for n in range(domains))
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            time.sleep(latency)
            if host.startswith("autodiscover.") and host[len("autodiscover.") :] in bodies:
                status, body, kind = 200, bodies[host[len("autodiscover.") :]], "text/xml"
            else:
                status, body, kind = 404, b"<!DOCTYPE html><html><body>Not Found</body></html>", "text/html"
            with lock:
                counts[str(status)] += 1
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    class Server(http.server.ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def finish_request(self, request: Any, client_address: Any) -> None:
            with contextlib.suppress(OSError):
                request.settimeout(10)
                conn = context.wrap_socket(request, server_side=True)
                self.RequestHandlerClass(conn, client_address, self)

        def handle_error(self, request: Any, client_address: Any) -> None:
            pass

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    fillers = []
    for _ in range(4):  # fill the accept queue; nobody accepts, so later SYNs are dropped
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(hole.getsockname())
        fillers.append(filler)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused = probe.getsockname()[1]
    with LocalDnsServer() as dns_server:
        print(
            json.dumps({"https_port": server.server_address[1], "ca": ca_path, "dns": list(dns_server.address),
                        "black_hole": hole.getsockname()[1], "refused": refused}),
            flush=True,
        )  # fmt: skip
        for line in sys.stdin:
            if line.strip() == "stats":
                with lock:
                    snapshot = {"responses": dict(counts), "dns_queries": len(dns_server.queries)}
                print(json.dumps(snapshot), flush=True)
    server.shutdown()
    os.unlink(ca_path)


# --- the client (this process) -------------------------------------------------------------------


class Sampler:
    """Samples this process's open descriptors and resident memory every few milliseconds."""

    def __init__(self) -> None:
        self.peak_fds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.peak_fds = max(self.peak_fds, len(os.listdir("/proc/self/fd")))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    """Start the servers, measure, print; exit 0 if every target is met."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 addresses over 50 domains")
    parser.add_argument("--addresses", type=int)
    parser.add_argument("--domains", type=int)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--latency", type=float, default=LATENCY, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    addresses_n = args.addresses or (1000 if args.quick else 10_000)
    domains_n = args.domains or (50 if args.quick else 200)
    if args.serve:
        serve(domains_n, args.latency)
        return 0

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(FD_LIMIT, hard), hard))

    from autodiscover_client import DnspythonResolver, HttpRequest, RequestsTransport, build_request, discover_many

    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve", "--domains", str(domains_n),
         "--latency", str(args.latency)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert child.stdout is not None
    assert child.stdin is not None
    info = json.loads(child.stdout.readline())

    def server_stats() -> dict[str, Any]:
        child.stdin.write("stats\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
        return json.loads(child.stdout.readline())  # type: ignore[union-attr,no-any-return]

    port = info["https_port"]
    overrides: dict[tuple[str, int], tuple[str, int]] = {}
    for n in range(domains_n):
        overrides[(f"autodiscover.{domain_name(n)}", 443)] = ("127.0.0.1", port)
        if n < BLACK_HOLED:
            overrides[(domain_name(n), 443)] = ("127.0.0.1", info["black_hole"])
        elif n < BLACK_HOLED + REFUSING:
            overrides[(domain_name(n), 443)] = ("127.0.0.1", info["refused"])
        else:
            overrides[(domain_name(n), 443)] = ("127.0.0.1", port)
    resolver = DnspythonResolver(nameservers=[tuple(info["dns"])], timeout=REQUEST_TIMEOUT)  # type: ignore[list-item]
    rng = random.Random(4)  # noqa: S311 - a reproducible shuffle, not a secret
    everyone = [f"user{i}@{domain_name(i % domains_n)}" for i in range(addresses_n)]
    rng.shuffle(everyone)  # a mailbox export sorted by name: the domains interleave
    ok = True
    try:
        with RequestsTransport(ca_bundle=info["ca"], connect_to=overrides, resolver=resolver) as transport:
            # The floor: one worker POSTing straight to endpoints already known, one after another.
            sequential_rates = []
            sample = everyone[: max(50, addresses_n // 50)]
            for _ in range(args.repeat):
                start = time.perf_counter()
                for address in sample:
                    domain = address.split("@")[1]
                    request = HttpRequest(
                        method="POST", url=f"https://autodiscover.{domain}/autodiscover/autodiscover.xml",
                        headers=(("Content-Type", "text/xml; charset=utf-8"),), body=build_request(address),
                    )  # fmt: skip
                    assert transport.send(request, timeout=10).status == 200
                sequential_rates.append(len(sample) / (time.perf_counter() - start))

            def run(addresses: list[str]) -> dict[str, Any]:
                before_dns = server_stats()["dns_queries"]
                statuses: Counter[str] = Counter()
                rss: list[float] = []
                cpu0, start = cpu_seconds(), time.perf_counter()
                with Sampler() as sampler:
                    batch = discover_many(
                        addresses, resolver=resolver, transport=transport, workers=args.workers,
                        request_timeout=REQUEST_TIMEOUT, ordered=False,
                    )  # fmt: skip
                    for done, result in enumerate(batch, 1):
                        statuses[result.status] += 1
                        if done % max(1, len(addresses) // 10) == 0:
                            rss.append(rss_mb())
                elapsed, cpu = time.perf_counter() - start, cpu_seconds() - cpu0
                return {
                    "rate": len(addresses) / elapsed, "cpu_ms": cpu / len(addresses) * 1e3,
                    "dns_client": batch.stats.dns_queries, "dns_server": server_stats()["dns_queries"] - before_dns,
                    "failed": batch.stats.failed_requests, "requests": batch.stats.requests,
                    "statuses": dict(statuses), "rss": rss, "peak_fds": sampler.peak_fds,
                }  # fmt: skip

            tenth = run(everyone[: addresses_n // 10])
            runs = [run(everyone) for _ in range(args.repeat)]
    finally:
        child.stdin.close()
        child.wait(timeout=30)

    rate = statistics.median(r["rate"] for r in runs)
    floor = statistics.median(sequential_rates)
    cpu_ms = statistics.median(r["cpu_ms"] for r in runs)
    last = runs[-1]
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    growth = last["rss"][-1] - last["rss"][0] if last["rss"] else 0.0
    peak_fds = max(r["peak_fds"] for r in runs)
    print(
        f"bench_batch: {addresses_n} addresses over {domains_n} domains ({BLACK_HOLED} black-holed and {REFUSING} "
        f"refusing roots), {args.latency * 1e3:.0f} ms server latency, {args.workers} workers; "
        f"medians of {args.repeat} runs"
    )
    print(f"  discover_many, {args.workers} workers      {rate:8.1f} addresses/s")
    print(f"  sequential loop of direct POSTs   {floor:8.1f} POSTs/s  (ratio {rate / floor:.1f} x)")
    print(f"  {'':34}{'a tenth':>10}{'all':>10}")
    print(f"  {'addresses':34}{addresses_n // 10:>10}{addresses_n:>10}")
    touched_domains = len({address.split("@")[1] for address in everyone[: addresses_n // 10]})
    print(f"  {'domains touched':34}{touched_domains:>10}{domains_n:>10}")
    print(f"  {'DNS queries (client / server)':34}{tenth['dns_client']:>4} /{tenth['dns_server']:>4}"
          f"{last['dns_client']:>4} /{last['dns_server']:>4}")  # fmt: skip
    print(f"  {'failed probes':34}{tenth['failed']:>10}{last['failed']:>10}")
    print(f"  {'HTTP requests':34}{tenth['requests']:>10}{last['requests']:>10}")
    print(f"  statuses: {last['statuses']}")
    print(f"  CPU time per discovery            {cpu_ms:8.2f} ms (this process; the servers run in another)")
    print(f"  peak RSS                          {peak_rss:8.1f} MB; growth over the last run {growth:+.1f} MB")
    print(f"  RSS samples over the last run     {' '.join(f'{x:.0f}' for x in last['rss'])} MB")
    print(f"  peak open file descriptors        {peak_fds:8d} (soft limit {FD_LIMIT})")
    print(
        f"  load average                      {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)"
    )
    # Domains, not addresses: per domain touched, ten times the addresses must cost no more DNS or dead probes.
    touched = len({address.split("@")[1] for address in everyone[: addresses_n // 10]})
    for label, key in (("DNS queries", "dns_server"), ("failed probes", "failed")):
        few, many = tenth[key] / touched, last[key] / domains_n
        ok &= verdict(
            f"{label} grow with domains, not addresses", many <= few * 1.1 + 0.05,
            f"{few:.2f} per domain with {addresses_n // 10 / touched:.0f} addresses per domain, "
            f"{many:.2f} with {addresses_n / domains_n:.0f}",
        )  # fmt: skip
    ok &= verdict("16 workers > 4 x sequential POSTs", rate > 4 * floor, f"{rate / floor:.1f} x")
    ok &= verdict("peak RSS < 100 MB", peak_rss < 100, f"{peak_rss:.1f} MB")
    ok &= verdict("RSS flat", growth < 10, f"{growth:+.1f} MB from 10 % to 100 % of the last run")
    ok &= verdict("open fds bounded", peak_fds <= 4 * args.workers + 64, f"peak {peak_fds}")
    ok &= verdict("every address found", last["statuses"] == {"found": addresses_n}, str(last["statuses"]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
