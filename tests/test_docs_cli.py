"""docs/cli.md cannot drift from the parser: its option table is generated from ``_build_parser()``.

``python tests/test_docs_cli.py`` rewrites the table in place after a change to the command line.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from autodiscover_client._cli import _build_parser

PAGE = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
START, END = "<!-- cli-options:start -->", "<!-- cli-options:end -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def options_table(parser: argparse.ArgumentParser) -> str:
    """The Markdown table of the parser's arguments, in the order ``--help`` lists them."""
    rows = ["| argument | meaning | default |", "| --- | --- | --- |"]
    for action in parser._actions:
        if action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            names = ", ".join(action.option_strings)
            if action.nargs != 0:
                metavar = action.metavar or (
                    "{" + ",".join(map(str, action.choices)) + "}" if action.choices else action.dest.upper()
                )
                names += f" {metavar}"
        else:
            names = str(action.metavar or action.dest).upper()
        default = action.default
        shown = "" if default in (None, False, [], argparse.SUPPRESS) else f"`{default}`"
        help_text = (action.help or "") % {"prog": parser.prog, "default": default}
        rows.append(f"| `{_cell(names)}` | {_cell(help_text)} | {shown} |")
    return "\n".join(rows)


def section(page: str) -> str:
    match = re.search(re.escape(START) + r"\n(.*?)\n" + re.escape(END), page, re.S)
    assert match, f"{PAGE} has no {START} … {END} section"
    return match.group(1)


def test_cli_reference_matches_the_parser() -> None:
    """The option table in docs/cli.md is exactly what the parser defines (regenerate: see the module doc)."""
    assert options_table(_build_parser()) == section(PAGE.read_text(encoding="utf-8"))


def test_every_option_is_in_the_table() -> None:
    """Each option string of the parser appears in the page (guards the generator itself)."""
    page = PAGE.read_text(encoding="utf-8")
    for action in _build_parser()._actions:
        for option in action.option_strings:
            assert f"`{option}" in page or f", {option}" in page, option


if __name__ == "__main__":
    text = PAGE.read_text(encoding="utf-8")
    span = re.compile(re.escape(START) + r".*?" + re.escape(END), re.S)
    table = options_table(_build_parser())
    PAGE.write_text(span.sub(lambda _: f"{START}\n{table}\n{END}", text, count=1), encoding="utf-8")
    sys.stdout.write(f"rewrote the option table in {PAGE}\n")
