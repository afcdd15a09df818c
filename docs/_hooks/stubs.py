"""MkDocs hook: a stub for each page another branch writes, only while its file is absent.

Several pages (security, testing, performance, protocols, batch) are written on other branches and land
when those branches merge. Until then the nav entries and links to them must not break
``mkdocs build --strict``, and a placeholder file committed here would collide with the real one at
merge time. So the stub is generated in memory, never written to ``docs/``.
"""

from __future__ import annotations

from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

STUBS = {
    "security.md": "Security guarantees",
    "testing.md": "Testing your code",
    "performance.md": "Performance",
    "protocols.md": "Protocols",
    "batch.md": "Batch discovery",
}


def on_files(files: Files, *, config: MkDocsConfig, **_: Any) -> Files:
    """Add a generated stub page for every page in :data:`STUBS` that has no file yet."""
    for name, title in STUBS.items():
        if files.get_file_from_path(name) is None:
            content = (
                f"# {title}\n\n"
                '!!! note "Not written yet"\n'
                "    This page is written on another branch and is not on `main` yet.\n"
            )
            files.append(File.generated(config, name, content=content))
    return files
