"""Batch discovery over real sockets: sharing per domain, the batch CLI, kill-and-resume, the disk cache."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _batch_env import black_hole, cli_network_args, ews_url, refusing_port, slow_settings

from autodiscover_client import DnspythonResolver, Method, RequestsTransport, discover_many
from autodiscover_client.testing import LocalAutodiscoverServer, LocalDnsServer
from autodiscover_client.testing._dead_hosts import SilentHost

pytestmark = pytest.mark.integration

PASSWORD = "batch-s3cret-password-9c1"


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "AUTODISCOVER_PASSWORD"}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "autodiscover_client", "batch", *args],
        input=stdin, capture_output=True, text=True, timeout=600, env=environment, check=False,
    )  # fmt: skip


@pytest.fixture
def world() -> Iterator[tuple[LocalDnsServer, LocalAutodiscoverServer]]:
    with LocalDnsServer() as dns_server, LocalAutodiscoverServer() as web:
        yield dns_server, web


def add_domains(web: LocalAutodiscoverServer, count: int, *, delay: float = 0.0, password: bool = False) -> list[str]:
    domains = [f"d{n}.test" for n in range(count)]
    for domain in domains:
        web.add_host(f"autodiscover.{domain}", slow_settings(domain, delay))
    return domains


def test_sharing_over_real_sockets(world: tuple[LocalDnsServer, LocalAutodiscoverServer]) -> None:
    """40 addresses over 4 domains with dead roots: one SRV query per domain, dead roots tried once or twice."""
    dns_server, web = world
    domains = add_domains(web, 4)
    with black_hole() as hole:
        overrides = {
            **web.connect_overrides,
            (domains[0], 443): hole,
            (domains[1], 443): ("127.0.0.1", refusing_port()),
        }
        resolver = DnspythonResolver(nameservers=[dns_server.address], timeout=2.0)
        with RequestsTransport(ca_bundle=web.ca_bundle, connect_to=overrides, resolver=resolver) as transport:
            addresses = [f"user{n}@{domain}" for domain in domains for n in range(10)]
            batch = discover_many(
                addresses, resolver=resolver, transport=transport, workers=8, request_timeout=2.0,
                methods=[Method.SRV, Method.HTTPS_ROOT, Method.HTTPS_AUTODISCOVER],
            )  # fmt: skip
            results = list(batch)
    assert {"found"} == {r.status for r in results}
    assert [ews_url(a.split("@")[1]) for a in addresses] == [r.settings.ews_url for r in results]  # type: ignore[union-attr]
    srv = Counter(name for name, kind in dns_server.queries if kind == "SRV")
    assert {f"_autodiscover._tcp.{d}.": 1 for d in domains} == dict(srv) or {
        f"_autodiscover._tcp.{d}": 1 for d in domains
    } == dict(srv)
    # Refusing and two roots with no address fail for one address only. The black hole too, for the
    # addresses that waited alongside its first contact; a later one could make the second strike. With
    # concurrent discovery (the default) the black hole is abandoned after the patience instead, and its
    # time-out may come after the batch has finished: then it is not counted.
    assert batch.stats.failed_requests in (3, 4, 5)


def test_batch_cli_jsonl_and_csv(world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path) -> None:
    """JSON Lines and CSV output, one line per address, with exit 1 when some are not found."""
    dns_server, web = world
    domains = add_domains(web, 2)
    source = tmp_path / "in.txt"
    source.write_text(f"# migration wave 1\nuser@{domains[0]}\n\nnot-an-address\nuser@{domains[1]}\n")
    out = tmp_path / "out.jsonl"
    result = cli(str(source), "--output", str(out), "--anonymous", *cli_network_args(dns_server, web))
    assert 1 == result.returncode, result.stderr
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [f"user@{domains[0]}", "not-an-address", f"user@{domains[1]}"] == [r["address"] for r in lines]
    assert ["found", "invalid_address", "found"] == [r["status"] for r in lines]
    assert ews_url(domains[0]) == lines[0]["ews_url"]
    assert {"method", "url"} == set(lines[0]["source"])

    csv_out = tmp_path / "out.csv"
    table = tmp_path / "in.csv"
    table.write_text(f"name,Email\nA,user@{domains[0]}\nB,user@{domains[1]}\n")
    result = cli(str(table), "--output", str(csv_out), "--anonymous", *cli_network_args(dns_server, web))
    assert 0 == result.returncode, result.stderr
    rows = list(csv.DictReader(io.StringIO(csv_out.read_text())))
    assert [f"user@{d}" for d in domains] == [r["address"] for r in rows]
    assert [ews_url(d) for d in domains] == [r["ews_url"] for r in rows]
    assert "" == result.stderr  # no progress bar without a terminal


def test_password_column_is_refused_unless_asked(
    world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path
) -> None:
    """A plain-text password column is a usage error (exit 2) unless --allow-password-column is given."""
    dns_server, web = world
    domain = "auth.test"
    web.add_host(f"autodiscover.{domain}", slow_settings(domain, 0.0), credentials=(f"u@{domain}", PASSWORD))
    table = tmp_path / "in.csv"
    table.write_text(f"email,password\nu@{domain},{PASSWORD}\n")
    out = tmp_path / "out.jsonl"
    refused = cli(str(table), "--output", str(out), *cli_network_args(dns_server, web))
    assert 2 == refused.returncode
    assert "password" in refused.stderr
    assert not out.exists()
    allowed = cli(str(table), "--output", str(out), "--allow-password-column", *cli_network_args(dns_server, web))
    assert 0 == allowed.returncode, allowed.stderr
    assert "found" == json.loads(out.read_text())["status"]
    assert PASSWORD not in out.read_text() + allowed.stdout + allowed.stderr


def test_shared_password_from_stdin_and_usage_errors(
    world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path
) -> None:
    """--password-stdin serves every address; --resume without --output is bad usage."""
    dns_server, web = world
    domain = "shared.test"
    web.add_host(f"autodiscover.{domain}", slow_settings(domain, 0.0), credentials=("svc@shared.test", PASSWORD))
    source = tmp_path / "in.txt"
    source.write_text(f"a@{domain}\nb@{domain}\n")
    result = cli(
        str(source), "--password-stdin", "--username", "svc@shared.test", *cli_network_args(dns_server, web),
        stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert 0 == result.returncode, result.stderr
    assert ["found", "found"] == [json.loads(line)["status"] for line in result.stdout.splitlines()]
    assert PASSWORD not in result.stdout
    assert 2 == cli(str(source), "--resume").returncode
    assert 2 == cli(str(tmp_path / "missing.txt")).returncode


def test_disk_cache_from_the_cli_is_private_and_holds_no_secret(
    world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path
) -> None:
    """--cache writes a 0600 file in $XDG_CACHE_HOME/autodiscover-client with endpoints only."""
    dns_server, web = world
    domain = "cached.test"
    web.add_host(f"autodiscover.{domain}", slow_settings(domain, 0.0), credentials=(f"a@{domain}", PASSWORD))
    source = tmp_path / "in.txt"
    source.write_text(f"a@{domain}\n")
    env = {"XDG_CACHE_HOME": str(tmp_path / "xdg"), "AUTODISCOVER_PASSWORD": PASSWORD}
    result = cli(str(source), "--cache", *cli_network_args(dns_server, web), env=env)
    assert 0 == result.returncode, result.stderr
    path = tmp_path / "xdg" / "autodiscover-client" / "endpoints.json"
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    assert 0o700 == stat.S_IMODE(path.parent.stat().st_mode)
    text = path.read_text()
    assert f"https://autodiscover.{domain}/autodiscover/autodiscover.xml" in text
    assert PASSWORD not in text
    assert "Authorization" not in text
    assert "Basic" not in text
    again = cli(str(source), "--cache", *cli_network_args(dns_server, web), env=env)
    assert "cached" == json.loads(again.stdout)["attempts"][0]["outcome"]


LONG = os.environ.get("AUTODISCOVER_LONG_TESTS") == "1"


@pytest.mark.parametrize(
    ("fmt", "count", "workers"),
    [
        ("jsonl", 300, 2),
        ("csv", 300, 2),
        pytest.param(
            "jsonl", 10_000, 16,
            marks=pytest.mark.skipif(not LONG, reason="10,000 addresses: set AUTODISCOVER_LONG_TESTS=1 to run"),
        ),
    ],
)  # fmt: skip
def test_kill_midway_and_resume_loses_and_duplicates_nothing(
    world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path, fmt: str, count: int, workers: int
) -> None:
    """SIGKILL a run midway, resume it: every address appears exactly once, all found."""
    dns_server, web = world
    domains = add_domains(web, 10, delay=0.02)
    addresses = [f"user{n}@{domain}" for n in range(count // len(domains)) for domain in domains]
    source = tmp_path / "in.txt"
    source.write_text("\n".join(addresses) + "\n")
    out = tmp_path / f"out.{fmt}"
    args = [str(source), "--output", str(out), "--anonymous", "--workers", str(workers)]
    args += cli_network_args(dns_server, web)
    environment = {k: v for k, v in os.environ.items() if k != "AUTODISCOVER_PASSWORD"}
    process = subprocess.Popen(
        [sys.executable, "-m", "autodiscover_client", "batch", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60 + count / 20
        while time.monotonic() < deadline and process.poll() is None:
            if out.exists() and out.read_bytes().count(b"\n") >= count // 5:
                break
            time.sleep(0.01)
        assert process.poll() is None, "the run finished before it could be killed; make it slower"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    written = out.read_bytes().count(b"\n")
    assert written < len(addresses) + (fmt == "csv")
    with out.open("ab") as handle:  # what a kill in the middle of a write would leave: half a line
        handle.write(b'{"address": "user0@d0.te' if fmt == "jsonl" else b"user0@d0.test,fou")

    resumed = cli(*args, "--resume")
    assert 0 == resumed.returncode, resumed.stderr
    if fmt == "jsonl":
        records = [json.loads(line) for line in out.read_text().splitlines()]
    else:
        records = list(csv.DictReader(io.StringIO(out.read_text())))
    assert Counter(addresses) == Counter(r["address"] for r in records)
    assert {"found"} == {r["status"] for r in records}
    assert "skipped" in resumed.stderr


def _hear_ctrl_c() -> None:
    """In the child: undo an inherited "ignore SIGINT" (a job started with & by a script, as CI may do).

    Python keeps SIGINT ignored when it starts with it ignored, and then never raises KeyboardInterrupt.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _hanging_world(dns_server: LocalDnsServer, web: LocalAutodiscoverServer, silent: SilentHost) -> list[str]:
    """CLI network arguments where fast.test answers at once and every hang.test discovery hangs for 30 s."""
    web.add_host("autodiscover.fast.test", slow_settings("fast.test", 0.0))
    hang = {("autodiscover.hang.test", 443): (silent.address, silent.port)}
    return [*cli_network_args(dns_server, web, hang), "--request-timeout", "30", "--timeout", "60"]


def _interrupt(process: subprocess.Popen[bytes], ready: Callable[[], None]) -> tuple[bytes, float]:
    """Once ``ready()`` returns, send SIGINT; return the stderr and the seconds the process took to exit."""
    try:
        ready()
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        _stdout, stderr = process.communicate(timeout=60)
        return stderr, time.monotonic() - interrupted
    finally:
        process.kill()
        process.wait(timeout=30)


def _wait_for_line(out: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        if out.exists() and out.read_bytes().endswith(b"\n"):
            time.sleep(0.3)  # the hang.test discoveries are in flight by now
            return
        time.sleep(0.01)
    raise AssertionError("fast.test never answered")


def test_ctrl_c_exits_at_once_and_keeps_what_was_written(
    world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path
) -> None:
    """SIGINT while four discoveries hang: exit 130 within seconds, not when they time out (30 s)."""
    dns_server, web = world
    source = tmp_path / "in.txt"
    # In input order, the two fast addresses after the first hanging one finish but wait behind it.
    source.write_text("user@fast.test\nuser0@hang.test\na@fast.test\nb@fast.test\nuser1@hang.test\n")
    out = tmp_path / "out.jsonl"
    with SilentHost() as silent:
        args = [
            str(source),
            "--output",
            str(out),
            "--anonymous",
            "--workers",
            "4",
            *_hanging_world(dns_server, web, silent),
        ]
        environment = {k: v for k, v in os.environ.items() if k != "AUTODISCOVER_PASSWORD"}
        process = subprocess.Popen(
            [sys.executable, "-m", "autodiscover_client", "batch", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, preexec_fn=_hear_ctrl_c,
        )  # fmt: skip
        stderr, took = _interrupt(process, lambda: _wait_for_line(out, process))
    assert 130 == process.returncode, stderr
    assert took < 5, f"exit took {took:.1f} s after Ctrl-C"
    assert b"interrupted; run again with --resume" in stderr
    assert b"Traceback" not in stderr
    written = [json.loads(line)["address"] for line in out.read_text().splitlines()]
    assert ["user@fast.test", "a@fast.test", "b@fast.test"] == written


def test_a_closed_output_pipe_ends_the_batch_quietly(world: tuple[LocalDnsServer, LocalAutodiscoverServer]) -> None:
    """``autodiscover batch … | head -1``: exit 141 (as after SIGPIPE), no traceback."""
    dns_server, web = world
    domains = add_domains(web, 3)
    addresses = "".join(f"user{n}@{domain}\n" for n in range(40) for domain in domains)
    process = subprocess.Popen(
        [sys.executable, "-m", "autodiscover_client", "batch", "-", "--anonymous", *cli_network_args(dns_server, web)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    try:
        process.stdin.write(addresses.encode())
        process.stdin.close()
        assert b'"status":"found"' in process.stdout.readline()
        process.stdout.close()  # what head does after its line
        process.wait(timeout=60)
        stderr = process.stderr.read()
    finally:
        process.kill()
        process.wait(timeout=30)
        process.stderr.close()
    assert 141 == process.returncode, stderr
    assert b"Traceback" not in stderr


_LIBRARY_SCRIPT = """
import sys
from autodiscover_client import DnspythonResolver, RequestsTransport, discover_many
host, port, bundle, silent_host, silent_port, web_overrides = sys.argv[1:7]
overrides = dict(eval(web_overrides))
overrides[("autodiscover.hang.test", 443)] = (silent_host, int(silent_port))
resolver = DnspythonResolver(nameservers=[(host, int(port))], timeout=2.0)
transport = RequestsTransport(ca_bundle=bundle, connect_to=overrides, resolver=resolver)
addresses = ["user@fast.test"] + [f"user{n}@hang.test" for n in range(4)]
results = discover_many(addresses, resolver=resolver, transport=transport, workers=4, request_timeout=30, timeout=60)
for result in results:
    print(result.address, result.status, flush=True)
"""


def test_ctrl_c_in_a_program_using_discover_many_exits_at_once(
    world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path
) -> None:
    """A script's Ctrl-C raises KeyboardInterrupt and the interpreter exits without joining hung workers."""
    dns_server, web = world
    web.add_host("autodiscover.fast.test", slow_settings("fast.test", 0.0))
    with SilentHost() as silent:
        host, port = dns_server.address
        argv = [host, str(port), web.ca_bundle, silent.address, str(silent.port), repr(web.connect_overrides)]
        process = subprocess.Popen(
            [sys.executable, "-c", _LIBRARY_SCRIPT, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=_hear_ctrl_c,
        )  # fmt: skip
        assert process.stdout is not None
        stdout = process.stdout

        def first_result_then_a_moment() -> None:
            assert b"user@fast.test found" in stdout.readline()
            time.sleep(0.3)  # the hang.test discoveries are in flight by now

        stderr, took = _interrupt(process, first_result_then_a_moment)
    assert b"KeyboardInterrupt" in stderr
    assert took < 5, f"exit took {took:.1f} s after Ctrl-C"


def test_too_many_open_files_is_reported_as_itself(
    world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path
) -> None:
    """With every descriptor used up, the output says 'too many open files', never a bare 'not found'."""
    _, web = world
    domain = add_domains(web, 1)[0]
    script = tmp_path / "exhaust.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import json, os
            from autodiscover_client import Method, RequestsTransport, discover_many
            from autodiscover_client.testing import FakeResolver
            transport = RequestsTransport(ca_bundle={web.ca_bundle!r}, connect_to={web.connect_overrides!r})
            def run(address):
                return list(discover_many([address], resolver=FakeResolver(), transport=transport,
                                          methods=[Method.HTTPS_AUTODISCOVER], workers=1))
            run("warm-up@{domain}")  # loads every module a discovery needs, while files can be opened
            transport.close()  # no pooled connection to reuse: the next request needs a new socket
            hoard = []
            try:
                while True:
                    hoard.append(os.open(os.devnull, os.O_RDONLY))
            except OSError:
                pass
            results = run("a@{domain}")
            for fd in hoard:
                os.close(fd)
            print(json.dumps(results[0].to_dict()))
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False,
        preexec_fn=lambda: __import__("resource").setrlimit(__import__("resource").RLIMIT_NOFILE, (256, 256)),
    )  # fmt: skip
    assert 0 == result.returncode, result.stderr
    record = json.loads(result.stdout)
    assert "resource_error" == record["status"]
    trail = " ".join(a["error"] or "" for a in record["attempts"])
    assert "Too many open files" in trail


def test_progress_bar_on_a_terminal(world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path) -> None:
    """With stderr on a terminal, a progress bar counts the addresses; the output file gets only results."""
    import pty

    dns_server, web = world
    domains = add_domains(web, 2)
    source = tmp_path / "in.txt"
    source.write_text("".join(f"u{n}@{d}\n" for d in domains for n in range(5)))
    out = tmp_path / "out.jsonl"
    leader, follower = pty.openpty()
    environment = {k: v for k, v in os.environ.items() if k != "AUTODISCOVER_PASSWORD"}
    try:
        process = subprocess.run(
            [sys.executable, "-m", "autodiscover_client", "batch", str(source), "--output", str(out), "--anonymous",
             *cli_network_args(dns_server, web)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower, env=environment, timeout=120,
            check=False,
        )  # fmt: skip
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)
    shown = b"".join(chunks).decode()
    assert 0 == process.returncode
    assert "10/10" in shown
    assert "found 10" in shown
    assert 10 == len(out.read_text().splitlines())


def test_a_repeated_address_takes_each_rows_password(
    world: tuple[LocalDnsServer, LocalAutodiscoverServer], tmp_path: Path
) -> None:
    """Two rows for one mailbox, a wrong and a right password: one row is rejected, the other found."""
    dns_server, web = world
    web.add_host("autodiscover.pw.test", slow_settings("pw.test", 0.0), credentials=("ann@pw.test", PASSWORD))
    table = tmp_path / "in.csv"
    table.write_text(f"email,password\nann@pw.test,wrong-{PASSWORD}\nann@pw.test,{PASSWORD}\n")
    out = tmp_path / "out.jsonl"
    result = cli(
        str(table), "--allow-password-column", "--anonymous", "-o", str(out), *cli_network_args(dns_server, web)
    )
    statuses = [json.loads(line)["status"] for line in out.read_text().splitlines()]
    assert ["credentials_rejected", "found"] == statuses, result.stderr  # each row its own, in row order
    assert PASSWORD not in out.read_text() + result.stderr


def test_the_output_may_not_be_the_standard_input_that_holds_the_addresses() -> None:
    result = cli("-", "--anonymous", "--output", "/dev/stdin", stdin="ann@example.test\n")
    assert 2 == result.returncode
    assert "standard input" in result.stderr
