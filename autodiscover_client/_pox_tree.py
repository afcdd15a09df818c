"""Namespace-agnostic navigation of a parsed Autodiscover tree (PROTOCOL.md §3.1).

Elements are matched by local name and their namespaces by URI, never by prefix. Parsing itself
happens only in ``_pox`` (through defusedxml); this module only walks what was parsed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ._errors import InvalidResponseError

if TYPE_CHECKING:  # the type only: parsing goes through defusedxml, which loads with the first parse
    from xml.etree.ElementTree import Element

_HTTPS_MS = "https://schemas.microsoft.com/"


@functools.lru_cache(maxsize=1024)  # tags repeat within and across responses (benchmarks/bench_parse.py)
def split(tag: str) -> tuple[str, str]:
    """Return (canonical namespace, local name) of a tag in expat's ``uri}local`` spelling.

    ``_pox.parse_tree`` hands expat's spelling through (ElementTree's ``{uri}local`` is respelled on its
    fallback path), so a namespace that itself starts with ``{`` stays distinct, as in defusedxml. A local
    name cannot contain ``}`` (XML 1.0 §2.3), so the last one ends the namespace. Learn prints every
    namespace as ``https://schemas.microsoft.com/…`` (a site-wide link rewrite, PROTOCOL.md §3.1,
    corpus 03-06); that spelling is an alias of the ``http://`` one.
    """
    namespace, brace, local = tag.rpartition("}")
    if not brace:
        return "", tag
    if namespace.startswith(_HTTPS_MS):
        namespace = "http://" + namespace[len("https://") :]
    return namespace, local


def clark(tag: str) -> str:
    """The tag as sent, in ElementTree's ``{uri}local`` spelling, for messages."""
    return "{" + tag if "}" in tag else tag


def local(element: Element) -> str:
    """The local name of ``element``."""
    return split(element.tag)[1]


def children(element: Element, name: str | None = None) -> Iterator[Element]:
    """The child elements (not comments or processing instructions), optionally only those named ``name``."""
    for item in element:
        tag = item.tag
        if isinstance(tag, str) and (name is None or split(tag)[1] == name):
            yield item


def child(element: Element, name: str) -> Element | None:
    """The first child named ``name``, in any namespace; element order is never relied upon."""
    for item in element:  # not next(children(...)): a generator per lookup costs a third of the parse
        tag = item.tag
        if isinstance(tag, str) and split(tag)[1] == name:
            return item
    return None


def text(element: Element | None) -> str | None:
    """The element's text with surrounding white space stripped; ``None`` for a missing element.

    MS-ASCMD's own example wraps URLs in new lines (PROTOCOL.md §3.1, corpus 07). Entities were decoded
    once by the parser and are never decoded again (corpus 06 keeps a literal ``&amp;``).
    """
    if element is None:
        return None
    return (element.text or "").strip()


def child_text(element: Element | None, name: str) -> str | None:
    """The stripped text of the first child named ``name``, or ``None``."""
    return text(child(element, name)) if element is not None else None


def kept_children(element: Element, parsed: frozenset[str] = frozenset()) -> tuple[tuple[str, str], ...]:
    """Every child not parsed elsewhere, as ``(name, stripped text)`` in document order.

    Simple children keep their local name; an unknown block (one not in ``parsed``) is flattened to its
    leaves as ``("Block/Leaf", text)``, so nothing the server sent is lost ("Unknown elements … are
    kept", DESIGN §3). The walk is iterative: nesting depth cannot exhaust the stack.
    """
    kept: list[tuple[str, str]] = []
    for item in element:  # inlined children()/local()/text(): the parser's hot path (bench_parse.py)
        tag: object = item.tag  # comments and processing instructions have a function as their tag
        if not isinstance(tag, str):
            continue
        name = split(tag)[1]
        if not len(item):
            kept.append((name, (item.text or "").strip()))
        elif name not in parsed:
            kept.extend(leaves(item, name))
    return tuple(kept)


# The deepest real response nests about seven levels (Autodiscover/Response/Account/Protocol/Internal/
# Protocol/ASUrl). A hostile body of 45,000 nested elements fits under the 1 MiB cap, and flattening it
# to ever longer paths costs quadratic time, past any deadline: unknown blocks have bounded depth.
MAX_DEPTH = 32


def leaves(block: Element, path: str) -> list[tuple[str, str]]:
    """The leaves under ``block`` as ``("path/Leaf", stripped text)``, iteratively (no recursion limit).

    Raises:
        InvalidResponseError: The block nests deeper than ``MAX_DEPTH`` levels.
    """
    found: list[tuple[str, str]] = []
    stack = [(path, iter(list(children(block))))]
    while stack:
        if len(stack) > MAX_DEPTH:
            raise InvalidResponseError(f"the XML nests deeper than {MAX_DEPTH} levels: not an Autodiscover response")
        prefix, pending = stack[-1]
        item = next(pending, None)
        if item is None:
            stack.pop()
            continue
        name = f"{prefix}/{local(item)}"
        if len(item):
            stack.append((name, iter(list(children(item)))))
        else:
            found.append((name, text(item) or ""))
    return found
