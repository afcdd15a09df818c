"""The kit imports without pytest or trustme, and its pytest plugin degrades gracefully without the extra.

Each test runs a fresh interpreter in which a meta-path finder makes the named modules impossible to
import, as they are for a user who installed the package without the ``testing`` extra.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import autodiscover_client.testing
from autodiscover_client.testing import _pytest_plugin

BLOCKER = """
import sys

class _Hide:
    # Pretend these top-level packages are not installed.
    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError("No module named " + repr(name) + " (hidden by the test)", name=name)
        return None

sys.meta_path.insert(0, _Hide(HIDDEN))
"""


def run_python(code: str, *, hidden: set[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    script = f"HIDDEN = {sorted(hidden)!r}\n" + BLOCKER + textwrap.dedent(code)
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )


def test_kit_imports_and_works_without_pytest_or_trustme() -> None:
    """import autodiscover_client.testing, a scenario and a discovery work with pytest and trustme hidden."""
    result = run_python(
        """
        import autodiscover_client.testing as kit
        from autodiscover_client import discover
        scenario = kit.Scenario.root_dead_autodiscover_answers("example.com", kit.settings_body(ews_url="https://m/ews"))
        print(discover("ann@example.com", "pw", **scenario.discover_kwargs()).ews_url)
        print(kit.LocalDnsServer.__name__)
        try:
            kit.LocalAutodiscoverServer
        except ImportError as exc:
            print("ImportError:", exc)
        assert "pytest" not in sys.modules and "trustme" not in sys.modules, sorted(sys.modules)
        """,
        hidden={"pytest", "_pytest", "trustme"},
    )
    assert 0 == result.returncode, result.stderr
    lines = result.stdout.splitlines()
    assert ["https://m/ews", "LocalDnsServer"] == lines[:2]
    assert "ImportError: autodiscover_client.testing.LocalAutodiscoverServer needs the testing extra" in lines[2]
    assert "pip install 'autodiscover-client[testing]'" in lines[2]


def test_public_names_are_sorted_resolvable_and_documented() -> None:
    """__all__ is sorted, every name in it resolves, and every public class and function has a docstring."""
    names = autodiscover_client.testing.__all__
    assert sorted(names) == names
    for name in names:
        value = getattr(autodiscover_client.testing, name)
        assert value.__doc__, f"{name} has no docstring"
    assert set(names) >= set(autodiscover_client.testing._LAZY)


def test_unknown_attribute_is_an_attribute_error() -> None:
    """A name the kit does not have raises AttributeError, not ImportError."""
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        autodiscover_client.testing.Nope  # noqa: B018


def test_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    """The package's metadata points pytest at the plugin module."""
    points = importlib.metadata.entry_points(group="pytest11")
    assert {"autodiscover_client.testing._pytest_plugin"} == {
        p.value for p in points if p.name == "autodiscover_client"
    }
    assert {"autodiscover_fake", "autodiscover_server", "autodiscover_dns"} <= set(_pytest_plugin.__all__)


USER_SUITE = """
from autodiscover_client import discover
from autodiscover_client.testing import settings_body

def test_plain():
    assert 1 + 1 == 2

def test_with_fakes(autodiscover_fake):
    autodiscover_fake.autodiscover(settings_body(ews_url="https://m/ews")).challenge()
    assert "https://m/ews" == discover("a@example.com", "pw", **autodiscover_fake.discover_kwargs()).ews_url

def test_with_dns(autodiscover_dns):
    autodiscover_dns.add_a("mail.example.test", "127.0.0.1")
    assert ("127.0.0.1",) == tuple(autodiscover_dns.resolver().resolve_addresses("mail.example.test", timeout=2))

def test_with_servers(autodiscover_server):
    autodiscover_server.add_host("example.test", settings_body(ews_url="https://m/ews"))
    assert "https://m/ews" == discover("a@example.test", "pw", **autodiscover_server.discover_kwargs()).ews_url
"""


def run_user_suite(tmp_path: Path, hidden: set[str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    (tmp_path / "test_user.py").write_text(USER_SUITE)
    return run_python(
        "import pytest\nsys.exit(pytest.main(['-q', '-rs', '-p', 'no:cacheprovider', 'test_user.py']))\n",
        hidden=hidden,
        cwd=tmp_path,
    )


def test_plugin_fixtures_skip_with_a_reason_when_the_extra_is_missing(tmp_path: Path) -> None:
    """Without trustme, autodiscover_server skips naming the extra; the rest of the user's suite runs."""
    result = run_user_suite(tmp_path, {"trustme"})
    assert 0 == result.returncode, result.stdout + result.stderr
    assert "3 passed, 1 skipped" in result.stdout
    assert "autodiscover_server needs the autodiscover-client[testing] extra" in result.stdout


@pytest.mark.integration
def test_plugin_fixtures_all_work_with_the_extra(tmp_path: Path) -> None:
    """With the extra installed, both fixtures work in a user's suite, loaded through the entry point."""
    result = run_user_suite(tmp_path, set())
    assert 0 == result.returncode, result.stdout + result.stderr
    assert "4 passed" in result.stdout
