"""``autodiscover batch FILE``: discovery for a list of mailboxes, with resumable JSON Lines or CSV output.

Exit codes: 0 every address found, 1 at least one not found (see each line's ``status``), 2 bad usage
or unreadable input. Output is appended one whole line per ``write()``, so a killed run loses nothing it
wrote, and ``--resume`` drops a trailing partial line before skipping the addresses already done.
"""

from __future__ import annotations

import argparse
import collections
import csv
import io
import json
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from ._batch import MAX_WORKERS, BatchProgress, BatchResult
from ._cli import (
    EXIT_FOUND,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_USAGE,
    METHOD_ALIASES,
    PASSWORD_VARIABLE,
    UsageError,
    _Parser,
    add_discovery_options,
    check_ca_bundle,
    parse_nameservers,
    parse_resolve,
    printable,
    read_secret,
)
from ._errors import InvalidCredentialsError
from ._models import DEFAULT_ORDER, MICROSOFT_ORDER, Method
from ._options import checked_hosts
from ._pox import Schema
from ._seams import check_basic

CSV_FIELDS = (
    "address", "status", "email", "method", "url", "ews_url", "activesync_url",
    "imap_server", "imap_port", "smtp_server", "smtp_port", "error",
)  # fmt: skip
_EMAIL_COLUMNS = ("email", "address", "mail", "e-mail", "smtp")
_PASSWORD_COLUMN = "password"  # noqa: S105 - a column name, not a secret


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="autodiscover batch",
        description="Discover the settings of many mailboxes (one address per line, or a CSV file).",
        epilog=(
            "Input: one address per line ('#' starts a comment), or CSV with an 'email' column (else the first "
            "column is used). Passwords: one password for every address, from --password-stdin, else "
            f"${PASSWORD_VARIABLE}, else a prompt on a terminal (with --username for a service account); an empty "
            "one is an error (use --anonymous). A CSV "
            "'password' column is refused unless --allow-password-column is given: plain-text password files "
            "are a risk. Output: one line per address (JSON Lines or CSV), appended as each result is ready; "
            "--resume skips the addresses already in --output. "
            "Exit codes: 0 every address of this run found, 1 at least one not found (see each line's status), "
            "2 bad usage, unreadable input or unwritable output, 130 interrupted, 141 output pipe closed."
        ),
    )
    parser.add_argument("file", help="the input file, or '-' for standard input")
    parser.add_argument("--output", "-o", metavar="PATH", help="append results here (default: standard output)")
    parser.add_argument("--format", choices=("jsonl", "csv"), help="output format (default: from --output's suffix)")
    parser.add_argument("--resume", action="store_true", help="skip addresses already in --output")
    parser.add_argument("--workers", type=int, default=8, help="addresses worked on at once (default 8)")
    parser.add_argument("--as-completed", action="store_true", help="write results as they complete, not in order")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (shown only on a terminal)")
    parser.add_argument("--cache", action="store_true", help="remember endpoints on disk between runs")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    auth.add_argument("--anonymous", action="store_true", help="send no credentials")
    parser.add_argument("--username", help="the user name to authenticate as (default: each address)")
    parser.add_argument(
        "--allow-password-column", action="store_true", help="use a CSV 'password' column (plain text: a risk)"
    )
    parser.add_argument("--methods", help="comma-separated methods in order (default: all)")
    add_discovery_options(parser, timeout_help="deadline per address, seconds (0.001-86400)")
    parser.add_argument("--schema", choices=[s.value for s in Schema], default="outlook", help="response schema")
    return parser


def _methods(args: argparse.Namespace) -> tuple[Method, ...]:
    """``--methods``/``--order``, kept here so the single command's options can grow independently."""
    if args.methods is None:
        return MICROSOFT_ORDER if args.order == "microsoft" else DEFAULT_ORDER
    names = [name.strip().lower() for name in args.methods.split(",") if name.strip()]
    if not names:
        raise UsageError(f"--methods {args.methods!r}: name at least one method, e.g. --methods srv")
    if Method.SCP.value in names:
        raise UsageError("--methods scp: batch runs have no --scp option (use 'autodiscover EMAIL --scp DC')")
    try:
        return tuple(METHOD_ALIASES.get(name) or Method(name) for name in names)
    except ValueError:
        choices = ", ".join(m.value for m in Method if m is not Method.SCP) + " (v2 for v2_json)"
        raise ValueError(f"--methods {args.methods!r}: choose from {choices}") from None


_DELIMITERS = (",", ";", "\t")


def read_addresses(text: str, *, csv_hint: bool) -> tuple[list[str], list[str | None] | None]:
    """Parse the input: addresses, and the password column's cells if there is one.

    Raises:
        ValueError: A CSV file with no usable column.
    """
    lines = text.splitlines()
    first = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    # Spreadsheets in many locales export CSV with ';' (the decimal separator is ','), and tab-separated
    # exports are common too: the first line's separator decides.
    delimiter = next((mark for mark in _DELIMITERS if mark in first), None)
    if not (csv_hint or delimiter):
        return [s for s in (line.strip() for line in lines) if s and not s.startswith("#")], None
    table = csv.reader(io.StringIO(text), delimiter=delimiter or ",")
    rows = [row for row in table if row and any(cell.strip() for cell in row)]
    # A row whose first cell starts with '#' is commented out, as a line is in a plain list: never run
    # (with a password column its secret would be sent).
    rows = [row for row in rows if not row[0].lstrip().startswith("#")]
    if not rows:
        return [], None
    header = [cell.strip().lower() for cell in rows[0]]
    # A header names columns; a first row with an address in any cell is data ("Ann,ann@example.com").
    with_address = [index for index, cell in enumerate(rows[0]) if "@" in cell]
    has_header = not with_address
    if has_header:
        column = next((header.index(name) for name in _EMAIL_COLUMNS if name in header), 0)
    else:
        column = with_address[0]
    secret = header.index(_PASSWORD_COLUMN) if has_header and _PASSWORD_COLUMN in header else None
    body = rows[1:] if has_header else rows
    addresses = [row[column].strip() if column < len(row) else "" for row in body]
    passwords = None if secret is None else [(row[secret] if secret < len(row) else "") or None for row in body]
    return addresses, passwords


def completed_addresses(path: str, fmt: str) -> collections.Counter[str]:
    """The addresses already in the output file, after cutting off a trailing partial line (from a kill)."""
    done: collections.Counter[str] = collections.Counter()
    try:
        with open(path, "rb+") as handle:
            data = handle.read()
            end = data.rfind(b"\n") + 1
            if end != len(data):
                handle.truncate(end)  # an interrupted write left half a line: drop it, redo that address
            data = data[:end]
    except FileNotFoundError:
        return done
    text = data.decode("utf-8", errors="replace")
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first and first.lstrip().startswith("{") != (fmt == "jsonl"):
        # Resuming a CSV file as JSON Lines (or the reverse) would find nothing done and append every row
        # again, in another format: refuse instead.
        found = "JSON Lines" if first.lstrip().startswith("{") else "CSV"
        raise UsageError(
            f"--resume: {path} holds {found}, not {fmt}; pass --format {'jsonl' if found != 'CSV' else 'csv'}"
        )
    if fmt == "csv":
        for row in csv.DictReader(io.StringIO(text)):
            if isinstance(row.get("address"), str):  # "" too: an empty input address gets a row as well
                done[row["address"]] += 1
        return done
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("address"), str):
            done[record["address"]] += 1
    return done


def csv_row(result: BatchResult) -> dict[str, str]:
    """One CSV row: the essentials, each on one line (so every record is exactly one line)."""
    settings, error = result.settings, result.error
    row: dict[str, object] = {"address": result.address, "status": result.status}
    if settings is not None:
        imap, smtp = settings.imap, settings.smtp
        row.update(
            email=settings.email, method=settings.source.method.value, url=settings.source.url,
            ews_url=settings.ews_url, activesync_url=settings.activesync_url,
            imap_server=imap.server if imap else None, imap_port=imap.port if imap else None,
            smtp_server=smtp.server if smtp else None, smtp_port=smtp.port if smtp else None,
        )  # fmt: skip
    elif error is not None:
        row["error"] = getattr(error, "message", None) or str(error)
    return {key: _cell(str(value)) if value is not None else "" for key, value in row.items()}


# OWASP "CSV injection" (CWE-1236): a spreadsheet runs a cell that starts with one of these as a formula,
# and servers choose most of these values. A leading apostrophe keeps the cell text; resume matches the guarded form.
_FORMULA_STARTS = ("=", "+", "-", "@")


def _cell(text: str) -> str:
    """``text`` as a CSV cell: on one line (every record is one line) and with the formula guard."""
    text = " ".join(text.split())
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def written_address(address: str, fmt: str) -> str:
    """The address as the output file holds it, which is what ``--resume`` matches against.

    CSV cells are written on one line with the formula guard (:func:`csv_row`); JSON Lines keep it as is.
    """
    return _cell(address) if fmt == "csv" else address


class _Output:
    """Appends whole lines with one ``write()`` each: a kill never leaves half a line behind it."""

    def __init__(self, path: str | None, fmt: str) -> None:
        self._fmt = fmt
        self._fd: int | None = None
        if path is not None:
            self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            if fmt == "csv" and os.fstat(self._fd).st_size == 0:
                self._write(self._csv_line(dict(zip(CSV_FIELDS, CSV_FIELDS, strict=True))))
        elif fmt == "csv":
            self._write(self._csv_line(dict(zip(CSV_FIELDS, CSV_FIELDS, strict=True))))

    @staticmethod
    def _csv_line(row: dict[str, str]) -> str:
        buffer = io.StringIO()
        csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n").writerow(row)
        return buffer.getvalue()

    def write(self, result: BatchResult) -> None:
        if self._fmt == "csv":
            self._write(self._csv_line(csv_row(result)))
        else:
            self._write(json.dumps(result.to_dict(), separators=(",", ":"), ensure_ascii=False) + "\n")

    def _write(self, line: str) -> None:
        if self._fd is None:
            sys.stdout.write(line)
            sys.stdout.flush()
            return
        data = line.encode("utf-8")
        while data:  # a regular file takes it in one go; the loop covers a short write (disk full)
            written = os.write(self._fd, data)
            data = data[written:]

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)


class _ProgressBar:
    """A one-line bar on a terminal's stderr, redrawn at most ten times a second."""

    def __init__(self, out: TextIO, skipped: int) -> None:
        self._out = out
        self._skipped = skipped
        self._start = time.monotonic()
        self._last = 0.0

    def __call__(self, state: BatchProgress) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and state.done != state.total:
            return
        self._last = now
        total = state.total or 0
        fraction = state.done / total if total else 0.0
        filled = int(fraction * 30)
        rate = state.done / max(now - self._start, 1e-6)
        eta = (total - state.done) / rate if rate > 0 and total else 0.0
        line = (
            f"[{'#' * filled}{'.' * (30 - filled)}] {state.done}/{total} {fraction:6.1%}  "
            f"found {state.found}  not found {state.failed}  {rate:.1f}/s  ETA {eta:.0f}s"
            + (f"  ({self._skipped} done before)" if self._skipped else "")
        )
        # A line wider than the terminal wraps, and "\r" then redraws only its last row: keep it narrower.
        width = max(shutil.get_terminal_size(fallback=(80, 24)).columns - 1, 10)
        self._out.write("\r" + line[:width].ljust(width))
        self._out.flush()

    def finish(self) -> None:
        self._out.write("\n")
        self._out.flush()


def _shared_password(args: argparse.Namespace) -> str | None:
    """The one password: ``--password-stdin``, else the variable, else a prompt (the single command's order)."""
    prompt = f"Password for {args.username or 'every address'}: "
    return read_secret(args, sys.stdin, variable=PASSWORD_VARIABLE, prompt=prompt, can_prompt=args.file != "-")


def _is_standard_input(path: str) -> bool:
    try:
        given, stdin = os.stat(path), os.fstat(0)
    except (OSError, ValueError):
        return False
    return (given.st_dev, given.st_ino) == (stdin.st_dev, stdin.st_ino)


def run_batch(argv: Sequence[str]) -> int:
    """Run ``autodiscover batch``; return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(list(argv))
    fmt = args.format or ("csv" if (args.output or "").lower().endswith(".csv") else "jsonl")
    if args.output == "-":
        args.output = None  # standard output, as '-' is standard input for the addresses
    if args.resume and not args.output:
        parser.error("--resume needs --output: the results already written are read from there")
    if args.resume and os.path.exists(args.output) and not stat.S_ISREG(os.stat(args.output).st_mode):
        # /dev/zero would be read for ever, a FIFO would block: only a file can be resumed.
        parser.error(f"--resume: {args.output} is not a regular file")
    if not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers must be from 1 to {MAX_WORKERS}")
    if args.output and args.file != "-" and os.path.exists(args.output) and os.path.samefile(args.file, args.output):
        parser.error("--output is the input file: results would be appended to the addresses")
    if args.output and args.file == "-" and _is_standard_input(args.output):
        parser.error("--output is standard input, which holds the addresses")
    if args.file == "-" and args.password_stdin:
        parser.error("standard input cannot hold both the addresses and the password")
    try:
        methods = _methods(args)
        overrides = dict(parse_resolve(item) for item in args.resolve)
        nameservers = parse_nameservers(args.nameserver)
        check_ca_bundle(args.ca_bundle)
        checked_hosts(args.allow_redirect)  # the library's own check, as the single command gets it
    except ValueError as exc:
        parser.error(str(exc))
    if args.file == "-" and sys.stdin is None:
        parser.error("the input is '-' but standard input is closed")
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8-sig")
        addresses, passwords = read_addresses(text, csv_hint=args.file.lower().endswith(".csv"))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        sys.stderr.write(printable(f"autodiscover batch: cannot read {args.file}: {exc}") + "\n")
        return EXIT_USAGE
    if passwords is not None and not args.allow_password_column:
        sys.stderr.write(
            f"autodiscover batch: {args.file} has a 'password' column; refusing to read passwords from a plain-text "
            "file. Remove the column and use --password-stdin or $AUTODISCOVER_PASSWORD, or pass "
            "--allow-password-column if you accept the risk.\n"
        )
        return EXIT_USAGE
    try:
        done = completed_addresses(args.output, fmt) if args.resume else collections.Counter()
    except UsageError as exc:
        parser.error(str(exc))
    except OSError as exc:  # a directory, no permission
        parser.error(f"--resume: cannot read and repair {args.output}: {exc}")
    todo: list[tuple[str, str | None]] = []
    for position, address in enumerate(addresses):
        key = written_address(address, fmt)
        if done[key] > 0:
            done[key] -= 1
            continue
        todo.append((address, passwords[position] if passwords is not None else None))
    skipped = len(addresses) - len(todo)
    try:
        shared = _shared_password(args)
    except UsageError as exc:
        parser.error(str(exc))
    unsecured = passwords is None or any(secret is None for _, secret in todo)
    if shared is None and unsecured and not args.anonymous:
        # A migration run that silently goes anonymous reports every mailbox behind a 401 as not found.
        what = "no password" if passwords is None else "some rows have an empty password cell and there is no password"
        parser.error(
            f"{what}: give --password-stdin or $AUTODISCOVER_PASSWORD (a prompt needs a terminal), "
            "or --anonymous to send none"
        )
    try:
        # Every address would fail alike on credentials that Basic cannot carry: refuse before any I/O.
        check_basic(args.username, shared)
        for row, (_, secret) in enumerate(todo, start=1):
            try:
                check_basic(None, secret)
            except InvalidCredentialsError as exc:
                raise InvalidCredentialsError(f"the password column, address {row} to do: {exc}") from None
    except InvalidCredentialsError as exc:
        parser.error(str(exc))
    return _execute(args, todo, skipped, shared, fmt, methods, overrides, nameservers)


def _execute(
    args: argparse.Namespace,
    todo: list[tuple[str, str | None]],
    skipped: int,
    shared: str | None,
    fmt: str,
    methods: Any,
    overrides: dict[tuple[str, int], tuple[str, int]],
    nameservers: list[tuple[str, int]],
) -> int:
    from ._batch import discover_many
    from ._cache import DiskCache
    from ._dns import DnspythonResolver
    from ._http import RequestsTransport

    def credentials(_address: str) -> str | None:
        return shared  # rows without a password of their own

    try:
        cache = DiskCache() if args.cache else None
    except (OSError, ValueError) as exc:  # e.g. a cache directory writable by others: refused, not used
        sys.stderr.write(printable(f"autodiscover batch: --cache: {exc}") + "\n")
        return EXIT_USAGE
    resolver = DnspythonResolver(nameservers=nameservers or None, timeout=args.request_timeout)
    transport = RequestsTransport(
        ca_bundle=args.ca_bundle, connect_to=overrides, resolver=resolver if nameservers else None
    )
    bar = _ProgressBar(sys.stderr, skipped) if sys.stderr.isatty() and not args.no_progress and todo else None
    progress: Callable[[BatchProgress], None] | None = bar
    try:
        results = discover_many(
            # Each row with a password cell brings its own (a mailbox listed twice may have two).
            [(address, secret) for address, secret in todo], username=args.username, credentials=credentials,
            workers=args.workers,
            ordered=not args.as_completed, cache=cache,
            methods=methods, timeout=args.timeout, request_timeout=args.request_timeout, resolver=resolver,
            transport=transport, allowed_hosts=args.allow_redirect, schema=Schema(args.schema),
            trust_microsoft365=not args.no_microsoft365, parallel=not args.sequential, patience=args.patience,
            progress=progress,
        )  # fmt: skip
        output = _Output(args.output, fmt)
    except (ValueError, TypeError) as exc:  # the library's own argument checks: InvalidArgumentError
        transport.close()
        sys.stderr.write(printable(f"autodiscover batch: {exc}") + "\n")
        return EXIT_USAGE
    except OSError as exc:  # --output is a directory, in a missing folder, not writable …
        transport.close()
        sys.stderr.write(printable(f"autodiscover batch: cannot write {args.output}: {exc}") + "\n")
        return EXIT_USAGE
    all_found = True
    try:
        with transport, results:
            try:
                for result in results:
                    output.write(result)
                    all_found = all_found and result.settings is not None
            except KeyboardInterrupt:
                # In input order, finished results may wait behind a slow earlier address: keep them.
                for result in results.unreported():
                    output.write(result)
                raise
    except KeyboardInterrupt:
        sys.stderr.write("\nautodiscover batch: interrupted; run again with --resume to continue\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        raise  # the reader of standard output went away: main() says nothing more
    except OSError as exc:  # the disk is full, the file system went away …
        sys.stderr.write(printable(f"autodiscover batch: cannot write the output: {exc}") + "\n")
        return EXIT_USAGE
    finally:
        output.close()
        if bar is not None:
            bar.finish()
    if skipped:
        sys.stderr.write(f"autodiscover batch: {skipped} address(es) already done, skipped (--resume)\n")
    return EXIT_FOUND if all_found else EXIT_NOT_FOUND
