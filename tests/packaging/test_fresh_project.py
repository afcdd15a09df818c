"""Done-when for the testing kit: a fresh project installs ``autodiscover-client[testing]`` and tests with it.

The package is built into a wheel once, next to the wheels of its dependencies, and installed with
``--no-index`` into a new virtual environment without system site-packages, so the project sees
exactly what a user gets from ``pip install 'autodiscover-client[testing]'``: never this checkout.
Its test suite then runs with the network guarded: any connection beyond loopback fails the run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.packaging

ROOT = Path(__file__).resolve().parents[2]
BUDGET_SECONDS = 60.0

ACCOUNT_CODE = """
from autodiscover_client import discover


def set_up_account(email, password, **seams):
    return discover(email, password, **seams).imap.server
"""

# The six-line test a user writes for their own account-setup code.
SIX_LINE_TEST = """
from account import set_up_account
from autodiscover_client.testing import settings_body

def test_account_setup(autodiscover_fake):
    autodiscover_fake.autodiscover(settings_body(imap=("imap.example.com", 993))).challenge()
    assert "imap.example.com" == set_up_account("ann@example.com", "pw", **autodiscover_fake.seams())
"""

SERVER_TEST = """
from account import set_up_account
from autodiscover_client.testing import settings_body

def test_account_setup_over_loopback(autodiscover_server):
    autodiscover_server.add_host("autodiscover.example.test", settings_body(imap=("imap.example.test", 993)))
    assert "imap.example.test" == set_up_account("ann@example.test", "pw", **autodiscover_server.discover_kwargs())
"""

# Not part of the user's suite: the proof that it needs no network. Loopback is all it may reach.
NETWORK_GUARD = """
import ipaddress
import socket

_connect, _sendto = socket.socket.connect, socket.socket.sendto


def _check(address):
    host = address[0] if isinstance(address, tuple) else address
    if not ipaddress.ip_address(host).is_loopback:
        raise AssertionError(f"the test suite tried to reach {host}")


def connect(self, address):
    _check(address)
    return _connect(self, address)


def sendto(self, data, *args):
    _check(args[-1])
    return _sendto(self, data, *args)


socket.socket.connect, socket.socket.sendto = connect, sendto
"""


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert 0 == result.returncode, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def pip_supports_python_option() -> bool:
    import pip

    major, minor = (int(part) for part in pip.__version__.split(".")[:2])
    return (major, minor) >= (22, 3)


def test_a_fresh_project_tests_its_account_setup_with_the_kit(tmp_path: Path) -> None:
    """pip-installed with the testing extra into a fresh venv, the kit lets a six-line test pass with no network."""
    started = time.monotonic()
    wheels, env_dir, project = tmp_path / "wheels", tmp_path / "venv", tmp_path / "project"
    # One wheel of this checkout, plus the wheels of its dependencies (from pip's cache or index).
    run(sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", wheels, f"{ROOT}[testing]", "pytest")
    fast = pip_supports_python_option()
    venv.EnvBuilder(with_pip=not fast, system_site_packages=False, clear=True).create(env_dir)
    python = env_dir / ("Scripts" if os.name == "nt" else "bin") / "python"
    installer: list[str | Path] = (
        [sys.executable, "-m", "pip", "--python", str(python)] if fast else [str(python), "-m", "pip"]
    )
    install: list[str | Path] = [
        "install",
        "--quiet",
        "--no-index",
        "--find-links",
        wheels,
        "autodiscover-client[testing]",
        "pytest",
    ]
    run(*installer, *install)

    probe = "import autodiscover_client, sys; print(autodiscover_client.__file__); print(sys.path)"
    where = run(python, "-c", probe, cwd=tmp_path)
    installed_at, search_path = where.stdout.splitlines()
    assert Path(installed_at).resolve().is_relative_to(env_dir.resolve())
    assert str(ROOT) not in search_path

    project.mkdir()
    (project / "account.py").write_text(ACCOUNT_CODE)
    (project / "test_account.py").write_text(SIX_LINE_TEST)
    (project / "test_account_servers.py").write_text(SERVER_TEST)
    (project / "conftest.py").write_text(NETWORK_GUARD)
    (project / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    assert 6 == len(textwrap.dedent(SIX_LINE_TEST).strip().splitlines())
    result = run(python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", cwd=project)
    assert "2 passed" in result.stdout, result.stdout
    assert "skipped" not in result.stdout

    elapsed = time.monotonic() - started
    print(f"fresh project: built, installed and tested in {elapsed:.1f}s")
    assert elapsed < BUDGET_SECONDS, f"the fresh-project check took {elapsed:.1f}s (budget {BUDGET_SECONDS:.0f}s)"
