"""Griffe extension: the two liberties the codebase's docstrings take with Google style, made readable.

1. Related parameters are documented together (``imap, smtp, pop3: (server, port) …``). Griffe would skip
   such a line and warn, failing ``mkdocs build --strict``; here it becomes one entry per name with the
   shared description, so the API reference lists every parameter.
2. Sphinx roles (``:class:`Discoverer```, ``:func:`~autodiscover_client.discover```) would show up
   literally; here they become inline code (the last dotted part when the target starts with ``~``).
"""

from __future__ import annotations

import re
from typing import Any

from griffe import Extension, Module, Object

_SECTION = re.compile(r"^(?P<indent>\s*)(Args|Arguments|Parameters|Params|Attributes)\s*:\s*$")
_ROLE = re.compile(r":(?:class|func|meth|attr|data|exc|mod|obj|const):`(?P<tilde>~?)(?P<target>[^`]+)`")
_NAMES = re.compile(r"^[A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)+$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def plain_roles(docstring: str) -> str:
    """Replace Sphinx cross-reference roles with inline code."""

    def code(match: re.Match[str]) -> str:
        target = match["target"]
        return f"`{target.rsplit('.', 1)[-1] if match['tilde'] else target}`"

    return _ROLE.sub(code, docstring)


def split_combined(docstring: str) -> str:
    """Return ``docstring`` with each ``a, b: text`` entry of a parameter section split per name.

    An entry is a line at the section's entry indent plus its more-indented continuation lines, so a list
    of names may wrap onto the next line before its colon.
    """
    lines = docstring.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        header = _SECTION.match(lines[index])
        out.append(lines[index])
        index += 1
        if header is None:
            continue
        section = len(header["indent"])
        entry_indent: int | None = None
        while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > section):
            line = lines[index]
            if not line.strip():
                out.append(line)
                index += 1
                continue
            entry_indent = entry_indent if entry_indent is not None else _indent(line)
            entry = [line]
            index += 1
            while index < len(lines) and lines[index].strip() and _indent(lines[index]) > entry_indent:
                entry.append(lines[index])
                index += 1
            joined = " ".join(part.strip() for part in entry)
            names, colon, text = joined.partition(":")
            if colon and _NAMES.match(names.strip()):
                prefix = " " * entry_indent
                out.extend(f"{prefix}{name.strip()}: {text.strip()}" for name in names.split(","))
            else:
                out.extend(entry)
    return "\n".join(out)


class HouseStyle(Extension):
    """Rewrite every docstring of the package (see the module docstring) before it is rendered."""

    def on_package(self, *, pkg: Module, **kwargs: Any) -> None:
        self._visit(pkg, set())

    def _visit(self, obj: Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = plain_roles(split_combined(obj.docstring.value))
        for member in obj.members.values():
            if not member.is_alias and isinstance(member, Object):
                self._visit(member, seen)
