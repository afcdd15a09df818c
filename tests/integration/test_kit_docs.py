"""docs/testing.md shows the files in docs/examples/ verbatim, and those examples pass under pytest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "testing.md"
EXAMPLES = ROOT / "docs" / "examples"
BLOCK = re.compile(r"<!-- example: (?P<path>\S+) -->\n```python\n(?P<code>.*?)```\n", re.DOTALL)


def test_every_example_file_is_shown_verbatim_in_the_docs() -> None:
    """Each example block in docs/testing.md equals its file, and every example file has a block."""
    shown = {match["path"]: match["code"] for match in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}
    files = {f"docs/examples/{path.name}" for path in EXAMPLES.glob("*.py")}
    assert files == set(shown)
    for path, code in shown.items():
        assert (ROOT / path).read_text(encoding="utf-8") == code, f"{path} differs from its block in testing.md"


@pytest.mark.integration
def test_the_examples_pass_as_a_users_suite_would_run_them() -> None:
    """pytest runs docs/examples (with its own pytest.ini, warnings as errors): everything passes, nothing skips."""
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", str(EXAMPLES)],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == result.returncode, result.stdout + result.stderr
    assert re.search(r"\b8 passed\b", result.stdout), result.stdout
    assert "skipped" not in result.stdout
