"""The public surface is deliberate: ``__all__`` is complete and sorted, and every public object is documented.

Modelled on httpx's ``tests/test_exported_members.py``; the docstring check reads attribute docstrings (the
string literal after a module-level constant) from the source, as the API reference does.
"""

from __future__ import annotations
import __future__

import ast
import enum
import inspect
import itertools
import typing
from pathlib import Path
from types import ModuleType

import pytest

import autodiscover_client
import autodiscover_client.testing

MODULES = [autodiscover_client, autodiscover_client.testing]
PACKAGE = Path(autodiscover_client.__file__).resolve().parent
COMPATIBILITY_PAGE = PACKAGE.parent / "docs" / "compatibility.md"
UNDOCUMENTED_BY_NATURE = {"__version__"}  # a version string documents itself


def public_names(module: ModuleType) -> set[str]:
    """Names a user can import from ``module`` that look public: not private, not modules, not typing helpers."""
    names = set()
    for name, value in vars(module).items():
        if name.startswith("_") or isinstance(value, (ModuleType, __future__._Feature)):
            continue
        if getattr(typing, name, object()) is value:  # TYPE_CHECKING, Any …: imported for annotations only
            continue
        names.add(name)
    return names


def isort_style(name: str) -> tuple[int, str]:
    """Ruff's RUF022 order: SCREAMING_CASE constants, then CamelCase classes, then everything else."""
    group = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return group, name


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_all_is_sorted_and_unique(module: ModuleType) -> None:
    """``__all__`` is sorted (as ruff's RUF022 sorts it) without duplicates, so API diffs stay readable."""
    exported = list(module.__all__)
    assert sorted(set(exported), key=isort_style) == exported


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.__name__)
def test_all_is_complete(module: ModuleType) -> None:
    """Every public-looking name in the module is exported, and every exported name resolves."""
    exported = set(module.__all__)
    assert set() == public_names(module) - exported
    for name in exported:
        assert getattr(module, name) is not None, name


def _attribute_docstrings() -> dict[str, str]:
    """``NAME = …`` followed by a string literal, in any module of the package (PEP 257 attribute docstrings)."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        body = ast.parse(path.read_text(encoding="utf-8")).body
        for statement, following in itertools.pairwise(body):
            targets: list[ast.expr] = []
            if isinstance(statement, ast.Assign):
                targets = list(statement.targets)
            elif isinstance(statement, ast.AnnAssign):
                targets = [statement.target]
            if not isinstance(following, ast.Expr) or not isinstance(following.value, ast.Constant):
                continue
            text = following.value.value
            if isinstance(text, str):
                found.update({target.id: text for target in targets if isinstance(target, ast.Name)})
    return found


def exported_objects() -> list[tuple[str, object]]:
    return [
        (f"{module.__name__}.{name}", getattr(module, name))
        for module in MODULES
        for name in module.__all__
        if name not in UNDOCUMENTED_BY_NATURE
    ]


@pytest.mark.parametrize(("name", "value"), exported_objects(), ids=[name for name, _ in exported_objects()])
def test_every_public_object_has_a_docstring(name: str, value: object) -> None:
    """Exported classes and functions have their own docstring; exported constants an attribute docstring."""
    if inspect.isclass(value) or inspect.isfunction(value):
        assert (value.__doc__ or "").strip(), f"{name} has no docstring"
    else:
        assert _attribute_docstrings().get(name.rsplit(".", 1)[1], "").strip(), f"{name} has no attribute docstring"


def _own_public_members(cls: type) -> list[tuple[str, object]]:
    members: list[tuple[str, object]] = []
    for attribute, value in vars(cls).items():
        if attribute.startswith("_") or (issubclass(cls, enum.Enum) and attribute in cls.__members__):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            members.append((attribute, value))
    return members


def test_public_methods_and_properties_have_docstrings() -> None:
    """The methods and properties a user calls on public classes are documented too."""
    missing = [
        f"{name}.{attribute}"
        for name, value in exported_objects()
        if inspect.isclass(value)
        for attribute, member in _own_public_members(value)
        if not (inspect.getdoc(member) or "").strip()
    ]
    assert [] == missing


START, END = "<!-- public-names:start -->", "<!-- public-names:end -->"


def _kind(value: object) -> str:
    if inspect.isclass(value):
        if issubclass(value, BaseException):
            return "exception"
        if issubclass(value, enum.Enum):
            return "enum"
        if getattr(value, "_is_protocol", False):
            return "protocol"
        return "class"
    if inspect.isfunction(value):
        return "function"
    return "constant"


def _summary(module: ModuleType, name: str, value: object) -> str:
    if inspect.isclass(value) or inspect.isfunction(value):
        text = inspect.getdoc(value) or ""
    else:
        text = _attribute_docstrings().get(name, "")
    return (text.strip().splitlines() or [""])[0].replace("|", "\\|")


def public_names_table() -> str:
    """The Markdown table of every exported name, generated from ``__all__`` and the docstrings."""
    rows = ["| name | kind | what it is |", "| --- | --- | --- |"]
    for module in MODULES:
        for name in module.__all__:
            if name in UNDOCUMENTED_BY_NATURE:
                rows.append(f"| `{module.__name__}.{name}` | constant | The package version. |")
                continue
            value = getattr(module, name)
            rows.append(f"| `{module.__name__}.{name}` | {_kind(value)} | {_summary(module, name, value)} |")
    return "\n".join(rows)


def _section(page: str) -> str:
    start, end = page.find(START), page.find(END)
    assert 0 <= start < end, f"{COMPATIBILITY_PAGE} has no {START} … {END} section"
    return page[start + len(START) : end].strip("\n")


def test_the_docs_list_every_public_name() -> None:
    """docs/compatibility.md lists exactly the exported names (regenerate: python tests/test_exported_members.py)."""
    shown = _section(COMPATIBILITY_PAGE.read_text(encoding="utf-8"))
    assert public_names_table() == shown, "run: python tests/test_exported_members.py (rewrites the table)"


def test_the_checks_see_what_they_check() -> None:
    """The helpers find real names: attribute docstrings for the order presets, members for ``Settings``."""
    docstrings = _attribute_docstrings()
    assert "DEFAULT_ORDER" in docstrings
    assert "MICROSOFT_ORDER" in docstrings
    assert "ews_url" in dict(_own_public_members(autodiscover_client.Settings))
    assert "discover" in public_names(autodiscover_client)
    assert "TYPE_CHECKING" not in public_names(autodiscover_client.testing)


if __name__ == "__main__":
    text = COMPATIBILITY_PAGE.read_text(encoding="utf-8")
    old = text[text.index(START) : text.index(END) + len(END)]
    COMPATIBILITY_PAGE.write_text(text.replace(old, f"{START}\n{public_names_table()}\n{END}"), encoding="utf-8")
    print(f"rewrote the public names in {COMPATIBILITY_PAGE}")
