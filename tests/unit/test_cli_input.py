"""Command-line mistakes are usage errors (exit 2) with a clear message, never a traceback; checked before I/O.

These run ``main()`` in-process: every case here stops before any socket is opened.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from autodiscover_client import _cli
from autodiscover_client._batch_cli import run_batch
from autodiscover_client._cli import main, parse_resolve, printable

EMAIL = "user@good.test"


@pytest.fixture(autouse=True)
def _no_secrets_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTODISCOVER_PASSWORD", raising=False)
    monkeypatch.delenv("AUTODISCOVER_TOKEN", raising=False)


@pytest.fixture(autouse=True)
def _no_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if discovery would start: every case must be refused up front."""

    def refuse(*args: object, **kwargs: object) -> int:
        raise AssertionError("discovery started")

    monkeypatch.setattr(_cli, "_run", refuse)


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[str, str]:
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    assert 2 == caught.value.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return out, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([EMAIL, "--anonymous", "--methods", ","], "--methods ','"),
        ([EMAIL, "--anonymous", "--methods", " "], "name at least one method"),
        ([EMAIL, "--anonymous", "--timeout", "nan"], "--timeout"),
        ([EMAIL, "--anonymous", "--timeout", "inf"], "--timeout"),
        ([EMAIL, "--anonymous", "--timeout", "1e-300"], "--timeout"),
        ([EMAIL, "--anonymous", "--request-timeout", "-inf"], "--request-timeout"),
        ([EMAIL, "--anonymous", "--nameserver", "127.0.0.1:"], "--nameserver '127.0.0.1:'"),
        ([EMAIL, "--anonymous", "--nameserver", "[::1]x"], "ADDR:PORT"),
        ([EMAIL, "--anonymous", "--resolve", "a:443:1.2.3.4:xyz"], "--resolve 'a:443:1.2.3.4:xyz'"),
        ([EMAIL, "--anonymous", "--resolve", "a:443:[::1"], "HOST:PORT:ADDR"),
        ([EMAIL, "--anonymous", "--resolve", "a:443:[::1]8443"], "HOST:PORT:ADDR"),
        ([EMAIL, "--anonymous", "--resolve", "a:443:not-an-ip"], "ADDR an IP address"),
        ([EMAIL, "--anonymous", "--resolve", "a:x:1.2.3.4"], "HOST:PORT:ADDR"),
        ([EMAIL, "--anonymous", "--resolve", "a:443:1.2.3.4:70000"], "HOST:PORT:ADDR"),
        ([EMAIL, "--anonymous", "--ca-bundle", "/nonexistent/ca.pem"], "--ca-bundle '/nonexistent/ca.pem'"),
        ([EMAIL, "--anonymous", "--ca-bundle", ""], "--ca-bundle ''"),
        ([EMAIL, "--anonymous", "--methods", "scp"], "needs --scp"),
        (["-user@x.test", "--anonymous"], "autodiscover -- -user@example.com"),
    ],
)
def test_bad_options_are_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    """Each is refused with exit 2 and a message naming the option and the expected shape."""
    _, err = usage_error(capsys, *argv)
    assert message in err
    assert "invalid literal" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["--allow-redirect", "a b"], "--allow-redirect: 'a b'"), (["--ad-site", "a\x01"], "--ad-site must be")],
)
def test_options_checked_by_the_library_name_the_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], message: str
) -> None:
    """Checks made by Discoverer come back as usage errors naming the command-line option (no I/O yet)."""
    monkeypatch.undo()  # the real _run: Discoverer refuses before any socket is opened
    monkeypatch.delenv("AUTODISCOVER_PASSWORD", raising=False)
    _, err = usage_error(capsys, EMAIL, "--anonymous", *argv)
    assert message in err


def test_a_ca_bundle_that_is_not_pem_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A file without certificates, or with a broken one, is refused before any I/O."""
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n")
    for path in (text, broken, tmp_path):
        _, err = usage_error(capsys, EMAIL, "--anonymous", "--ca-bundle", str(path))
        assert f"--ca-bundle {str(path)!r}" in err


@pytest.mark.parametrize(("auth", "module", "extra"), [("ntlm", "spnego", "ntlm"), ("negotiate", "spnego", "ntlm")])
def test_a_missing_extra_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, auth: str, module: str, extra: str
) -> None:
    """--auth ntlm without pyspnego says which extra to install, before asking for a password."""
    monkeypatch.setitem(sys.modules, module, None)  # makes `import spnego` raise ImportError
    _, err = usage_error(capsys, EMAIL, "--auth", auth, "--password-stdin")
    assert f"autodiscover-client[{extra}]" in err


def test_scp_without_the_ad_extra_is_named(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """--scp without ldap3 names the ad extra."""
    monkeypatch.setitem(sys.modules, "ldap3", None)
    _, err = usage_error(capsys, EMAIL, "--anonymous", "--scp", "dc.good.test")
    assert "autodiscover-client[ad]" in err


def test_an_address_after_double_dash_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """`autodiscover -- -user@x.test` reaches discovery with the address as given."""
    seen: dict[str, Any] = {}
    monkeypatch.setattr(_cli, "_run", lambda parser, args, *rest: seen.setdefault("email", args.email) and 0)
    assert 0 == main(["--anonymous", "--", "-user@x.test"])
    assert "-user@x.test" == seen["email"]


def test_json_usage_errors_are_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """With --json a usage error prints {"error", "kind": "UsageError"} on stdout and argparse's message on stderr."""
    for argv in ([EMAIL, "--json", "--methods", ","], ["--json"], [EMAIL, "--js", "--timeout", "nan"]):
        out, err = usage_error(capsys, *argv)
        report = json.loads(out)
        assert "UsageError" == report["kind"]
        assert report["error"] in err


def test_without_json_usage_errors_leave_stdout_empty(capsys: pytest.CaptureFixture[str]) -> None:
    """Human failure reports go to stderr only, and a mistyped option gets no hint about "-" addresses."""
    out, _ = usage_error(capsys, EMAIL, "--methods", ",")
    assert "" == out
    out, err = usage_error(capsys, "--bogus", "--", EMAIL)
    assert "" == out
    assert "unrecognized arguments: --bogus\n" in err  # no hint about '-' addresses for a mistyped option


def test_a_bad_address_with_json_includes_the_raw_email(capsys: pytest.CaptureFixture[str], monkeypatch: Any) -> None:
    """{"error", "kind", "email", "attempts"}, email as typed; checked before any I/O."""
    monkeypatch.undo()  # _run is real here: the address is refused before a socket is opened
    monkeypatch.delenv("AUTODISCOVER_PASSWORD", raising=False)
    assert 2 == main(["x@@y.test", "--json", "--anonymous"])
    report = json.loads(capsys.readouterr().out)
    assert {"error", "kind", "email", "attempts"} <= set(report)
    assert "x@@y.test" == report["email"]


# --- secrets: closed stdin, empty values, one precedence ---------------------------------------------------


def secret_of(monkeypatch: pytest.MonkeyPatch, *argv: str, stdin: io.StringIO | None) -> Any:
    """What main() would authenticate with (discovery itself is replaced)."""
    seen: dict[str, Any] = {}

    def capture(parser: object, args: object, methods: object, overrides: object, ns: object, credentials: Any) -> int:
        seen["credentials"] = credentials
        return 0

    monkeypatch.setattr(_cli, "_run", capture)
    monkeypatch.setattr(sys, "stdin", stdin)
    assert 0 == main([EMAIL, *argv])
    return seen["credentials"]


@pytest.mark.parametrize("argv", [[], ["--auth", "bearer"], ["--auth", "ntlm"]])
def test_closed_stdin_means_no_password(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    """`0<&-` leaves sys.stdin None: no prompt is possible, so discovery runs without credentials."""
    assert secret_of(monkeypatch, *argv, stdin=None) is None


@pytest.mark.parametrize("argv", [["--password-stdin"], ["--password-stdin", "--auth", "bearer"]])
def test_password_stdin_with_closed_stdin_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """--password-stdin cannot read a closed stdin: a clear usage error, not AttributeError."""
    monkeypatch.setattr(sys, "stdin", None)
    _, err = usage_error(capsys, EMAIL, *argv)
    assert "standard input is closed" in err


@pytest.mark.parametrize(
    ("argv", "env", "stdin", "source"),
    [
        (["--password-stdin"], {}, "", "--password-stdin"),
        (["--password-stdin"], {}, "\n", "--password-stdin"),
        ([], {"AUTODISCOVER_PASSWORD": ""}, "", "$AUTODISCOVER_PASSWORD"),
        (["--auth", "bearer", "--password-stdin"], {}, "  \n", "--password-stdin"),
        (["--auth", "bearer"], {"AUTODISCOVER_TOKEN": " "}, "", "$AUTODISCOVER_TOKEN"),
    ],
)
def test_an_empty_secret_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    argv: list[str], env: dict[str, str], stdin: str, source: str,
) -> None:  # fmt: skip
    """An empty password or token is never sent: exit 2, saying so and pointing at --anonymous."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    _, err = usage_error(capsys, EMAIL, *argv)
    assert source in err
    assert "empty" in err
    assert "--anonymous" in err


@pytest.mark.parametrize(("auth", "variable"), [("basic", "AUTODISCOVER_PASSWORD"), ("bearer", "AUTODISCOVER_TOKEN")])
def test_stdin_flag_beats_the_environment_for_password_and_token(
    monkeypatch: pytest.MonkeyPatch, auth: str, variable: str
) -> None:
    """One order for both: --password-stdin, then the variable, then a prompt."""
    monkeypatch.setenv(variable, "fromenv")
    credentials = secret_of(monkeypatch, "--auth", auth, "--password-stdin", stdin=io.StringIO("fromstdin\n"))
    assert "fromstdin" == (credentials.token if auth == "bearer" else credentials.password)
    credentials = secret_of(monkeypatch, "--auth", auth, stdin=io.StringIO(""))
    assert "fromenv" == (credentials.token if auth == "bearer" else credentials.password)


def test_an_unsendable_token_is_a_usage_error_without_the_token(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CR/LF inside the token is refused up front, and neither stream shows it."""
    monkeypatch.setenv("AUTODISCOVER_TOKEN", "tok-SECRET\r\nX-Injected: yes")
    out, err = usage_error(capsys, EMAIL, "--auth", "bearer", "--json")
    assert "SECRET" not in out + err
    assert "RFC 6750" in json.loads(out)["error"]


# --- output escaping, parse_resolve, demo help ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [("a\nEWS: x", "a\\x0aEWS: x"), ("a\r", "a\\x0d"), ("\x1b[2J", "\\x1b[2J"), ("x\u202ey", "x\\u202ey"),
     ("x\x85y", "x\\x85y"), ("x\u2028y", "x\\u2028y"), ("x\u200by", "x\\u200by"), ("Zoë Ünïcode", "Zoë Ünïcode")],
)  # fmt: skip
def test_printable_escapes_control_format_and_separator_characters(text: str, shown: str) -> None:
    """Cc (C0, DEL, C1), Cf (U+202E …), Zl and Zp are escaped visibly; ordinary letters are kept."""
    assert shown == printable(text)


def test_parse_resolve_accepts_the_documented_shapes() -> None:
    """IPv4 with and without PORT2, IPv6 bracketed with PORT2, and bare IPv6."""
    assert (("a.test", 443), ("127.0.0.1", 443)) == parse_resolve("A.test.:443:127.0.0.1")
    assert (("a.test", 443), ("127.0.0.1", 8443)) == parse_resolve("a.test:443:127.0.0.1:8443")
    assert (("a.test", 443), ("::1", 8443)) == parse_resolve("a.test:443:[::1]:8443")
    assert (("a.test", 443), ("::1", 443)) == parse_resolve("a.test:443:[::1]")
    assert (("a.test", 443), ("::1", 443)) == parse_resolve("a.test:443:::1")


def test_demo_help_is_plain_text(capsys: pytest.CaptureFixture[str]) -> None:
    """`autodiscover demo --help` shows a description without reST markup."""
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    assert "``" not in out
    assert "throwaway CA" in out


def test_batch_shares_the_checks(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`autodiscover batch` refuses the same mistakes: empty --methods, empty password, closed stdin."""
    for argv in (
        ["list.txt", "--anonymous", "--methods", ","],
        ["list.txt", "--anonymous", "--timeout", "nan"],
        ["list.txt", "--anonymous", "--patience", "-1"],
    ):
        with pytest.raises(SystemExit) as caught:
            run_batch(argv)
        assert 2 == caught.value.code
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(SystemExit) as caught:
        run_batch(["-", "--anonymous"])
    assert 2 == caught.value.code
    assert "standard input is closed" in capsys.readouterr().err


def test_a_bad_address_is_an_address_error_before_any_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mailto:ann@…`` is refused as an address (exit 2), not as a user name with a ':' in it."""
    monkeypatch.setenv("AUTODISCOVER_PASSWORD", "pw")
    assert 2 == main(["mailto:ann@example.test", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert "InvalidEmailError" == data["kind"]
    assert "BasicCredentials" not in data["error"]


def test_a_batch_without_any_password_source_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no --password-stdin, no $AUTODISCOVER_PASSWORD and no terminal, batch says so instead of going anonymous."""
    listing = tmp_path / "list.txt"
    listing.write_text("ann@example.test\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(SystemExit) as caught:
        run_batch([str(listing)])
    assert 2 == caught.value.code
    assert "--anonymous" in capsys.readouterr().err


def test_resuming_an_output_of_the_other_format_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--resume`` on a CSV file read as JSON Lines would append every row again: it is a usage error."""
    listing = tmp_path / "list.txt"
    listing.write_text("ann@example.test\n")
    output = tmp_path / "results.txt"
    output.write_text("address,status\nann@example.test,found\n")
    with pytest.raises(SystemExit) as caught:
        run_batch([str(listing), "--anonymous", "-o", str(output), "--resume"])
    assert 2 == caught.value.code
    assert "holds CSV" in capsys.readouterr().err
    assert "address,status\nann@example.test,found\n" == output.read_text()


def test_a_cache_directory_writable_by_others_is_a_clear_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``batch --cache`` with a world-writable cache directory exits 2 with one line, not a traceback."""
    cache_home = tmp_path / "cache"
    (cache_home / "autodiscover-client").mkdir(parents=True)
    (cache_home / "autodiscover-client").chmod(0o777)
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache_home))
    listing = tmp_path / "list.txt"
    listing.write_text("ann@example.test\n")
    assert 2 == run_batch([str(listing), "--anonymous", "--cache"])
    err = capsys.readouterr().err
    assert "writable by others" in err
    assert "Traceback" not in err


def test_the_progress_bar_fits_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each redraw is narrower than the terminal, so a narrow terminal does not fill with wrapped lines."""
    import os
    import shutil

    from autodiscover_client._batch import BatchProgress
    from autodiscover_client._batch_cli import _ProgressBar

    monkeypatch.setattr(shutil, "get_terminal_size", lambda fallback=(80, 24): os.terminal_size((20, 24)))
    out = io.StringIO()
    _ProgressBar(out, 0)(BatchProgress(done=3, total=10, found=2, failed=1))
    assert all(len(piece) < 20 for piece in out.getvalue().split("\r") if piece)


def test_the_output_may_not_be_the_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``-o`` naming the input file is refused: results would be appended to the addresses."""
    listing = tmp_path / "list.txt"
    listing.write_text("ann@example.test\n")
    with pytest.raises(SystemExit) as caught:
        run_batch([str(listing), "--anonymous", "-o", str(listing)])
    assert 2 == caught.value.code
    assert "ann@example.test\n" == listing.read_text()


def test_csv_cells_that_a_spreadsheet_would_run_are_defused() -> None:
    """A server value or address starting with ``=``/``+``/``-``/``@`` is written with a leading apostrophe."""
    from autodiscover_client import DiscoveryError
    from autodiscover_client._batch import BatchResult
    from autodiscover_client._batch_cli import csv_row, written_address

    result = BatchResult(index=0, address="-x@example.test", error=DiscoveryError('=HYPERLINK("http://x.invalid")'))
    row = csv_row(result)
    assert "'-x@example.test" == row["address"]
    assert row["error"].startswith("'=HYPERLINK")
    assert written_address("-x@example.test", "csv") == row["address"]  # what --resume matches the input with


@pytest.mark.parametrize("mark", [",", ";", "\t"])
def test_batch_csv_input_may_use_comma_semicolon_or_tab(mark: str) -> None:
    """Excel in many locales writes ';'; exports are often tab-separated: each reads as columns."""
    from autodiscover_client._batch_cli import read_addresses

    text = f"Name{mark}E-Mail{mark}Password\nAnn{mark}ann@example.com{mark}pw1\nBob{mark}bob@example.com{mark}\n"
    assert (["ann@example.com", "bob@example.com"], ["pw1", None]) == read_addresses(text, csv_hint=False)


def test_batch_plain_lines_stay_plain_and_a_one_column_csv_reads() -> None:
    from autodiscover_client._batch_cli import read_addresses

    assert (["a@example.com", "b@example.com"], None) == read_addresses(
        "# wave 1\na@example.com\n\nb@example.com\n", csv_hint=False
    )
    assert (["a@example.com"], None) == read_addresses("email\na@example.com\n", csv_hint=True)


# --- batch: mistakes found before any request (the second break session) ---------------------------


def _usage_error(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run ``batch argv``: it must exit 2 with a message and no traceback; return the message."""
    code: object
    try:
        code = run_batch(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert 2 == code, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("username", "password", "message"),
    [
        ("svc:ops@example.test", "pw", "':'"),
        ("svc\x07@example.test", "pw", "control character"),
        (None, "p\x07ssw0rd-secret", "control character"),
    ],
)
def test_batch_credentials_basic_cannot_carry_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    username: str | None,
    password: str,
    message: str,
) -> None:
    """Every address would fail alike (and --resume would then skip them all): exit 2 before any I/O."""
    listing = tmp_path / "list.txt"
    listing.write_text("ann@example.test\nbob@example.test\n")
    monkeypatch.setenv("AUTODISCOVER_PASSWORD", password)
    out = tmp_path / "out.jsonl"
    err = _usage_error(capsys, [str(listing), "-o", str(out), *(["--username", username] if username else [])])
    assert message in err
    assert "ssw0rd-secret" not in err
    assert not out.exists()


def test_batch_a_password_cell_basic_cannot_carry_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    table = tmp_path / "in.csv"
    table.write_text('email,password\nann@example.test,good\nbob@example.test,"bad\nsecret-cell"\n')
    err = _usage_error(capsys, [str(table), "--allow-password-column", "--anonymous"])
    assert "address 2" in err
    assert "secret-cell" not in err


def test_batch_an_empty_password_cell_without_a_shared_password_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The docs promise no silent anonymous runs: an empty cell needs a shared password or --anonymous."""
    table = tmp_path / "in.csv"
    table.write_text("email,password\nann@example.test,s1\nbob@example.test,\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert "empty password cell" in _usage_error(capsys, [str(table), "--allow-password-column"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--workers", "257"], "--workers"),
        (["--workers", "0"], "--workers"),
        (["--allow-redirect", "a b"], "not a host name"),
    ],
)
def test_batch_options_the_library_refuses_are_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, options: list[str], message: str
) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("ann@example.test\n")
    assert message in _usage_error(capsys, [str(listing), "--anonymous", *options])


@pytest.mark.parametrize("target", ["a-directory", "missing-folder/out.jsonl"])
def test_batch_an_output_that_cannot_be_opened_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, target: str
) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("ann@example.test\n")
    (tmp_path / "a-directory").mkdir()
    assert "cannot write" in _usage_error(capsys, [str(listing), "--anonymous", "-o", str(tmp_path / target)])


def test_batch_resume_on_a_pipe_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("ann@example.test\n")
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # so that opening it for writing does not block
    try:
        assert "--resume" in _usage_error(capsys, [str(listing), "--anonymous", "-o", str(fifo), "--resume"])
    finally:
        os.close(reader)


def test_a_batch_with_bad_credentials_fails_at_once_in_the_library() -> None:
    from autodiscover_client import InvalidCredentialsError, discover_many

    with pytest.raises(InvalidCredentialsError, match="control character"):
        discover_many(["ann@example.test"], password="p\x00w")
    with pytest.raises(InvalidCredentialsError, match="':'"):
        discover_many(["ann@example.test"], password="pw", username="a:b")


def test_ctrl_c_at_the_password_prompt_exits_130_without_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*_args: object, **_kwargs: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("autodiscover_client._cli._main", interrupted)
    assert 130 == main(["ann@example.test"])
    assert "interrupted" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ann,ann@example.com\nBob,bob@example.com\n", ["ann@example.com", "bob@example.com"]),
        ("# exported 2026-12-01\nname,email\nAnn,ann@example.com\n", ["ann@example.com"]),
        ("ann@example.com,Ann\n", ["ann@example.com"]),
    ],
    ids=["headerless-address-second", "comment-before-header", "headerless-address-first"],
)
def test_batch_csv_header_detection(text: str, expected: list[str]) -> None:
    """A first row holding an address is data; comment lines before a header are skipped."""
    from autodiscover_client._batch_cli import read_addresses

    assert (expected, None) == read_addresses(text, csv_hint=True)


@pytest.mark.parametrize("address", ["", "'-x@example.test", "-x@example.test", "a  b@example.test", "a\nb@x.test"])
def test_csv_resume_matches_every_address_it_wrote(tmp_path: Path, address: str) -> None:
    """Whatever the CSV writer does to an address (formula guard, one line), --resume finds it again."""
    from autodiscover_client import DiscoveryError
    from autodiscover_client._batch import BatchResult
    from autodiscover_client._batch_cli import _Output, completed_addresses, written_address

    path = tmp_path / "out.csv"
    output = _Output(str(path), "csv")
    output.write(BatchResult(index=0, address=address, error=DiscoveryError("no")))
    output.close()
    assert 1 == completed_addresses(str(path), "csv")[written_address(address, "csv")]


def test_batch_methods_take_the_v2_alias_and_never_offer_scp(capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from autodiscover_client import Method
    from autodiscover_client._batch_cli import _methods

    args = argparse.Namespace(methods="v2,https_root", order="mission")
    assert (Method.V2_JSON, Method.HTTPS_ROOT) == _methods(args)
    with pytest.raises(ValueError, match="choose from") as caught:
        _methods(argparse.Namespace(methods="nope", order="mission"))
    assert "scp" not in str(caught.value)


def test_batch_csv_rows_commented_out_are_never_run() -> None:
    """'#' starts a comment in CSV as in a plain list, anywhere: the row's password is never sent."""
    from autodiscover_client._batch_cli import read_addresses

    text = "email,password\nann@example.com,pw-ann\n#ann@example.com,old-secret\nbob@example.com,pw-bob\n"
    assert (["ann@example.com", "bob@example.com"], ["pw-ann", "pw-bob"]) == read_addresses(text, csv_hint=True)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_batch_resume_only_reads_a_regular_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, device: str
) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("ann@example.test\n")
    assert "not a regular file" in _usage_error(capsys, [str(listing), "--anonymous", "-o", device, "--resume"])


def test_discover_many_takes_a_secret_per_row() -> None:
    """(address, password) pairs: each row its own password, in row order, whatever the concurrency."""
    from autodiscover_client import Method, discover_many
    from autodiscover_client.testing import FakeResolver, FakeTransport, require_basic_auth, settings_body, xml_response

    url = "https://autodiscover.example.test/autodiscover/autodiscover.xml"
    ok = xml_response(settings_body(ews_url="https://mail.example.test/EWS/Exchange.asmx"))
    transport = FakeTransport({url: require_basic_auth(ok, username="ann@example.test", password="right")})
    rows = [("ann@example.test", "wrong"), ("ann@example.test", "right"), ("ann@example.test", None), (1, "x")]
    results = list(
        discover_many(
            rows, password="right", resolver=FakeResolver(), transport=transport, workers=4,  # type: ignore[arg-type]
            methods=[Method.HTTPS_AUTODISCOVER],
        )
    )  # fmt: skip
    assert ["credentials_rejected", "found", "found", "invalid_address"] == [r.status for r in results]
