"""Run the third-party automx2 Autodiscover server over real TLS on loopback, for peer tests.

automx2 (GPL) is never vendored: it must be pip-installed in the test environment, or the tests
using this helper are skipped. It runs in a child process, not a thread, because

* it reads its configuration (``AUTOMX2_CONF``, hence the DB URL) once, at import, into a module
  global: one process can host one configuration only;
* importing it emits warnings we cannot fix: a ``ResourceWarning`` (automx2's ``config.py`` never
  closes the config file) and ``DeprecationWarning``\\s (ldap3 uses pyasn1's ``tagMap``/``typeMap``).
  With ``filterwarnings = error`` these would fail whichever test happened to trigger them (or a
  later one, when the leaked file is garbage-collected). In a child they only reach its log file.

The child seeds the database through automx2's own documented route (``POST /initdb/`` with a
version-2 JSON document, called in-process with Flask's test client before anything listens), then
serves the app with werkzeug over TLS on an ephemeral loopback port, writes that port to a file and
stops when its stdin reaches EOF.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

_STARTUP_TIMEOUT = 30.0

# Runs in the child: python -c _CHILD <seed.json> <cert+key.pem> <port file>.
_CHILD = r"""
import json, os, ssl, sys, threading
from pathlib import Path
from werkzeug.serving import make_server
from automx2.server import app

seed_path, pem_path, port_path = sys.argv[1:4]
with app.test_client() as client:
    reply = client.post("/initdb/", json=json.loads(Path(seed_path).read_text("utf-8")))
    if reply.status_code != 200 or b"now prepared" not in reply.data:
        sys.exit(f"automx2 seeding failed: {reply.status_code} {reply.data!r}")
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.minimum_version = ssl.TLSVersion.TLSv1_2
context.load_cert_chain(pem_path)
server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)

def stop_at_eof():
    sys.stdin.buffer.read()
    server.shutdown()

threading.Thread(target=stop_at_eof, daemon=True).start()
Path(port_path + ".tmp").write_text(str(server.port), "ascii")
os.replace(port_path + ".tmp", port_path)
try:
    server.serve_forever(poll_interval=0.05)
finally:
    server.server_close()
"""


@dataclass(frozen=True)
class Automx2Server:
    address: str  # "127.0.0.1"
    port: int
    hostnames: tuple[str, ...]  # names in its TLS certificate (not the address)
    ca_bundle: str  # PEM path of the CA that issued its certificate; valid while the server runs
    domain: str  # the mail domain it is configured for
    imap_host: str
    imap_port: int
    smtp_host: str
    smtp_port: int
    log_path: str  # automx2's stderr (its log, werkzeug's access log, its warnings)


def _require_automx2() -> None:
    # find_spec does not execute automx2: importing it here would leak its warnings into pytest.
    if importlib.util.find_spec("automx2") is None:
        pytest.skip("automx2 is not installed: pip install automx2 (GPL; test-time only, never vendored)")


def _wait_for_port(proc: subprocess.Popen[bytes], port_file: Path, log_file: Path) -> int:
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            log = log_file.read_text("utf-8", errors="replace")[-4000:]
            raise RuntimeError(f"automx2 did not start (exit code {proc.returncode}); its log:\n{log}")
        time.sleep(0.01)
    return int(port_file.read_text("ascii"))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()  # EOF: the child shuts its server down and exits.
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def automx2_server(
    *,
    domain: str = "example.test",
    hostnames: Sequence[str] = ("autodiscover.example.test", "mail.example.test"),
    ca: trustme.CA | None = None,
) -> Iterator[Automx2Server]:
    """Start automx2 over HTTPS on 127.0.0.1 for one mail domain; stop it and clean up on exit."""
    _require_automx2()
    if not hostnames:
        raise ValueError("hostnames must name at least one host for the TLS certificate")
    ca = ca if ca is not None else trustme.CA()
    imap_host, imap_port = f"imap.{domain}", 993  # 993 → automx2 seeds SSL
    smtp_host, smtp_port = f"smtp.{domain}", 587  # 587 → automx2 seeds STARTTLS
    seed = {
        "version": 2,
        "provider": f"Peer Test Provider for {domain}",
        "domains": [{"name": domain}],
        "servers": [
            {"type": "imap", "name": imap_host, "port": imap_port},
            {"type": "smtp", "name": smtp_host, "port": smtp_port},
        ],
    }
    with tempfile.TemporaryDirectory(prefix="automx2-") as tmp:
        base = Path(tmp)
        conf, seed_file, pem_file = base / "automx2.conf", base / "seed.json", base / "server.pem"
        port_file, log_file, ca_file = base / "port", base / "automx2.log", base / "ca.pem"
        conf.write_text(
            "[automx2]\nloglevel = WARNING\ndb_echo = no\nproxy_count = 0\n"
            f"db_uri = sqlite:///{(base / 'automx2.sqlite').as_posix()}\n",
            "utf-8",
        )
        seed_file.write_text(json.dumps(seed), "utf-8")
        ca.cert_pem.write_to_path(str(ca_file))
        ca.issue_cert(*hostnames).private_key_and_cert_chain_pem.write_to_path(str(pem_file))
        env = {**os.environ, "AUTOMX2_CONF": str(conf)}
        env.pop("NOTIFY_SOCKET", None)  # automx2 would talk to systemd otherwise.
        argv = [sys.executable, "-c", _CHILD, str(seed_file), str(pem_file), str(port_file)]
        with (
            log_file.open("wb") as log,
            subprocess.Popen(argv, cwd=tmp, env=env, stdin=subprocess.PIPE, stdout=log, stderr=log) as proc,
        ):
            try:
                port = _wait_for_port(proc, port_file, log_file)
                yield Automx2Server(
                    address="127.0.0.1",
                    port=port,
                    hostnames=tuple(hostnames),
                    ca_bundle=str(ca_file),
                    domain=domain,
                    imap_host=imap_host,
                    imap_port=imap_port,
                    smtp_host=smtp_host,
                    smtp_port=smtp_port,
                    log_path=str(log_file),
                )
            finally:
                _stop(proc)
