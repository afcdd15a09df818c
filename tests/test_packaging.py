"""Packaging and release hygiene: the wheel and sdist build, install into a fresh venv and run.

The build uses hatchling directly (it is in the dev extra), so no build environment is downloaded; the fresh
virtual environment installs the wheel's dependencies the ordinary way (PyPI or the local pip cache).
"""

from __future__ import annotations

import email.parser
import email.policy
import importlib.metadata
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import autodiscover_client

ROOT = Path(__file__).resolve().parent.parent
KEEP_A_CHANGELOG_SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}


def run(*command: str | Path, cwd: Path = ROOT, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output if it fails."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VIRTUAL_ENV")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )
    assert 0 == result.returncode, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and sdist, built from this checkout."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "hatchling", "build", "-d", out)
    return out


def only(folder: Path, pattern: str) -> Path:
    found = sorted(folder.glob(pattern))
    assert 1 == len(found), found
    return found[0]


def wheel_metadata(wheel: Path) -> email.message.EmailMessage:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        text = archive.read(name).decode()
    message = email.parser.Parser(policy=email.policy.default).parsestr(text)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_wheel_metadata(dist: Path) -> None:
    """The wheel says what it is: version, licence, classifiers (Typing :: Typed), URLs, README as description."""
    wheel = only(dist, "*.whl")
    metadata = wheel_metadata(wheel)
    assert autodiscover_client.__version__ == metadata["Version"]
    assert "MIT" == metadata["License-Expression"]
    assert "LICENSE" in metadata.get_all("License-File", [])
    classifiers = metadata.get_all("Classifier", [])
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Programming Language :: Python :: 3.") for c in classifiers)
    urls = dict(entry.split(", ", 1) for entry in metadata.get_all("Project-URL", []))
    assert {"Documentation", "Changelog", "Source"} <= set(urls)
    assert "text/markdown" == metadata["Description-Content-Type"]
    assert (ROOT / "README.md").read_text(encoding="utf-8").strip() == str(metadata.get_payload()).strip()
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "autodiscover_client/py.typed" in names
    assert any(name.endswith("licenses/LICENSE") for name in names)
    assert not any(name.startswith("tests/") for name in names)


def test_sdist_contents(dist: Path) -> None:
    """The sdist carries what a downstream packager needs to rebuild, test and document the project."""
    with tarfile.open(only(dist, "*.tar.gz")) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = {"LICENSE", "README.md", "CHANGELOG.md", "pyproject.toml", "mkdocs.yml", "docs/index.md"}
    assert expected <= names
    assert "autodiscover_client/py.typed" in names
    assert "tests/typing/api.py" in names


@pytest.mark.integration
def test_the_wheel_installs_into_a_fresh_venv_and_runs(dist: Path, tmp_path: Path) -> None:
    """``pip install wheel[testing]`` into a new venv gives a working ``autodiscover --version`` and ``demo``."""
    wheel = only(dist, "*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{wheel}[testing]", timeout=300)
    # Run from an empty folder so the checkout's sources cannot be imported by accident.
    where = run(python, "-c", "import autodiscover_client; print(autodiscover_client.__file__)", cwd=tmp_path)
    assert str(venv) in where.stdout
    version = run(bin_dir / "autodiscover", "--version", cwd=tmp_path)
    assert f"autodiscover {autodiscover_client.__version__}" == version.stdout.strip()
    demo = run(bin_dir / "autodiscover", "demo", cwd=tmp_path, timeout=60)
    assert "found by HTTPS_AUTODISCOVER" in demo.stdout
    assert "Credentials arrived at: https autodiscover.example.test (and nowhere else)." in demo.stdout


def test_version_matches_the_installed_metadata() -> None:
    """``__version__`` is the version pip knows (reinstall after bumping ``_version.py``)."""
    assert importlib.metadata.version("autodiscover-client") == autodiscover_client.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", autodiscover_client.__version__)


def test_changelog_states_the_policy_and_follows_keep_a_changelog() -> None:
    """CHANGELOG.md opens with its format and versioning policy, then ``## [Unreleased]``, with standard sections."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    head, _, _ = text.partition("\n## ")
    assert text.startswith("# Changelog\n")
    assert "Keep a Changelog" in head
    assert "Semantic Versioning" in head
    assert "public API" in head
    assert "1.0" in head
    releases = re.findall(r"^## (.+)$", text, re.M)
    assert "[Unreleased]" == releases[0]
    for release in releases[1:]:
        assert re.fullmatch(r"\[\d+\.\d+\.\d+[^\]]*\] - \d{4}-\d{2}-\d{2}", release), release
    sections = set(re.findall(r"^### (.+)$", text, re.M))
    assert sections <= KEEP_A_CHANGELOG_SECTIONS, sections - KEEP_A_CHANGELOG_SECTIONS
