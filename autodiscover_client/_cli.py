"""The ``autodiscover`` command (also ``python -m autodiscover_client``). DESIGN §6 is its contract.

Exit codes: 0 found, 1 not found, 2 bad usage or bad address, 3 credentials rejected.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import ipaddress
import json
import math
import os
import ssl
import sys
import unicodedata
from collections.abc import Callable, Sequence
from typing import TextIO

from ._address import parse_email
from ._errors import (
    AuthenticationError,
    DiscoveryError,
    InvalidArgumentError,
    InvalidEmailError,
    RedirectDeniedError,
)
from ._models import DEFAULT_ORDER, MICROSOFT_ORDER, Attempt, Method, Settings
from ._pox import Schema
from ._seams import BasicCredentials, BearerCredentials, Credentials, NtlmCredentials, ScpSource
from ._v2 import V2Protocol
from ._version import __version__

EXIT_FOUND, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_CREDENTIALS = 0, 1, 2, 3
PASSWORD_VARIABLE = "AUTODISCOVER_PASSWORD"  # noqa: S105 - the variable's name, not a secret
TOKEN_VARIABLE = "AUTODISCOVER_TOKEN"  # noqa: S105 - the variable's name, not a secret
METHOD_ALIASES = {"v2": Method.V2_JSON}
AUTH_CHOICES = ("basic", "ntlm", "negotiate", "bearer")
MIN_SECONDS, MAX_SECONDS = 0.001, 86400.0  # below a millisecond nothing can answer; above a day is a typo
# Characters that could forge or hide output on a terminal (RFC 9839 §4 / UTS #39 "bidi" tricks): C0, DEL
# and C1 (Cc), format characters such as U+202E (Cf), line and paragraph separators, and the unprintable.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Cn", "Zl", "Zp"})
_DASH_HINT = "an address starting with '-' goes after '--', e.g. autodiscover -- -user@example.com"


class UsageError(ValueError):
    """A command-line mistake found after parsing: reported like argparse's own errors, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with exit code 2 and, when ``--json`` was given, a JSON report on stdout as well."""

    json_errors = False

    def error(self, message: str) -> None:  # type: ignore[override]
        unrecognized = message.partition("unrecognized arguments: ")[2].split()
        if "the following arguments are required" in message or any(
            word.startswith("-") and "@" in word for word in unrecognized
        ):
            message += f" ({_DASH_HINT})"
        if self.json_errors:
            json.dump({"error": message, "kind": "UsageError"}, sys.stdout, indent=2)
            sys.stdout.write("\n")
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def wants_json(arguments: Sequence[str]) -> bool:
    """Whether ``--json`` is among the options (not after ``--``), so even a usage error is reported as JSON."""
    options = arguments[: arguments.index("--")] if "--" in arguments else arguments
    # argparse also accepts an unambiguous prefix ("--js"); only --json starts with "--j".
    return any(len(option) >= 3 and "--json".startswith(option) for option in options)


def printable(text: str) -> str:
    """``text`` with every control, format or separator character escaped (``\\x0a``, ``\\u202e``).

    Server-supplied strings reach a terminal here: an ``&#10;`` in a DisplayName would otherwise print a
    forged "EWS: https://attacker.example/" line, and U+202E would reverse what follows it.
    """
    return "".join(_escape(ch) if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _build_parser() -> _Parser:
    parser = _Parser(
        prog="autodiscover",
        description="Find a mail account's server settings the way Outlook does (Autodiscover).",
        epilog=(
            "The password comes from --password-stdin, else $AUTODISCOVER_PASSWORD, else a prompt on a terminal; "
            "with --auth bearer the token comes from --password-stdin, else $AUTODISCOVER_TOKEN, else a prompt; "
            "never from an argument; an empty one is an error (use --anonymous to send none). "
            "An address starting with '-' goes after '--'. With --json every report, failures included, is one "
            "JSON object on stdout; otherwise failures go to stderr. "
            "'autodiscover demo' runs a self-contained demonstration; "
            "'autodiscover batch FILE' discovers many addresses (see 'autodiscover batch --help'). "
            "Exit codes: 0 found, 1 not found, 2 bad usage or address, 3 credentials rejected, 130 interrupted, "
            "141 output pipe closed."
        ),
    )
    parser.add_argument("email", help="the mailbox address, e.g. user@example.com")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")
    parser.add_argument("--trace", action="store_true", help="print the trail of every attempt")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--password-stdin", action="store_true", help="read the password (or, with --auth bearer, the token) from stdin"
    )
    auth.add_argument("--anonymous", action="store_true", help="send no credentials")
    parser.add_argument("--username", help="the user name to authenticate as (default: the address)")
    parser.add_argument(
        "--methods",
        help="comma-separated methods in order: "
        + ",".join(m.value for m in Method)
        + " ('v2' for v2_json; v2_json and scp always go first; default: the four classic methods)",
    )
    add_discovery_options(parser, timeout_help="overall deadline in seconds (0.001-86400)")
    _add_protocol_options(parser)
    return parser


def add_discovery_options(parser: argparse.ArgumentParser, *, timeout_help: str) -> None:
    """The options that steer one discovery, shared by ``autodiscover`` and ``autodiscover batch``."""
    parser.add_argument("--order", choices=("mission", "microsoft"), default="mission", help="the method order preset")
    parser.add_argument("--sequential", action="store_true", help="try candidates one at a time, not concurrently")
    parser.add_argument(
        "--patience",
        type=_patience,
        default=0.5,
        metavar="SECONDS",
        help="once a lower-priority candidate answers, how long higher-priority ones still get "
        "('none': wait for each until its own timeout, the sequential answer; 0: first answer wins; default 0.5)",
    )
    parser.add_argument("--timeout", type=_positive, default=30.0, help=timeout_help)
    parser.add_argument(
        "--request-timeout", type=_positive, default=10.0, help="per DNS query / HTTP exchange, seconds"
    )
    parser.add_argument(
        "--nameserver", action="append", default=[], metavar="ADDR[:PORT]", help="DNS server to ask (repeatable)"
    )
    parser.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="HOST:PORT:ADDR[:PORT2]",
        help="connect to ADDR (port PORT2, default PORT) for HOST:PORT, verifying TLS for HOST (repeatable)",
    )
    parser.add_argument("--ca-bundle", metavar="PATH", help="PEM file of CA certificates to trust")
    parser.add_argument("--allow-redirect", action="append", default=[], metavar="HOST", help="allow redirects to HOST")
    parser.add_argument(
        "--no-microsoft365",
        action="store_true",
        help="do not trust the built-in list of Microsoft 365 Autodiscover hosts; treat them like any other host",
    )


def _add_protocol_options(parser: argparse.ArgumentParser) -> None:
    """Schema, V2, authentication scheme and SCP options (docs/protocols.md says when to use each)."""
    group = parser.add_argument_group("protocols", "see docs/protocols.md")
    group.add_argument(
        "--schema", choices=[s.value for s in Schema], default="outlook",
        help="response schema: outlook (default) or mobilesync (ActiveSync)",
    )  # fmt: skip
    group.add_argument(
        "--auth", choices=AUTH_CHOICES, default="basic",
        help="authentication scheme; the server cannot change it (default: basic; ntlm/negotiate need the ntlm extra)",
    )  # fmt: skip
    group.add_argument(
        "--v2-protocol", choices=[p.value.lower() for p in V2Protocol], default=None,
        help="what Autodiscover V2 asks for (default: autodiscoverv1, or activesync with --schema mobilesync)",
    )  # fmt: skip
    group.add_argument(
        "--v2-office365", action="store_true",
        help="let V2 ask outlook.office365.com first (tells Microsoft the address; no credentials)",
    )  # fmt: skip
    group.add_argument(
        "--scp", metavar="LDAP_HOST[:PORT]",
        help="enable the Active Directory SCP look-up against this domain controller (LDAPS; needs the ad extra)",
    )  # fmt: skip
    group.add_argument("--ad-site", metavar="SITE", help="this machine's AD site, to order SCP URLs")


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    # nan compares false with everything, and inf or 1e-300 would hang or fail at once: refuse them here.
    if not math.isfinite(value) or not MIN_SECONDS <= value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a number of seconds from {MIN_SECONDS:g} to {MAX_SECONDS:g}"
        )
    return value


def _patience(text: str) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds or 'none'") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError("must be 0 or more seconds, or 'none'")
    return value


def parse_resolve(text: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """Parse ``HOST:PORT:ADDR[:PORT2]`` (``ADDR`` an IP address; IPv6 as ``[v6]`` or bare without ``PORT2``).

    Raises:
        ValueError: The text has the wrong shape; the message names ``--resolve`` and the expected shape.
    """
    shape = f"--resolve {text!r}: expected HOST:PORT:ADDR[:PORT2] (ADDR an IP address, IPv6 in [brackets] with PORT2)"
    host, _, after = text.partition(":")
    port_text, _, rest = after.partition(":")
    port = _port(port_text, shape)
    if rest.startswith("["):
        address, bracket, tail = rest[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise ValueError(shape)
        target_port = _port(tail[1:], shape) if tail else port
    elif rest.count(":") == 1:
        address, _, tail = rest.partition(":")
        target_port = _port(tail, shape)
    else:
        address, target_port = rest, port
    if not host or any(ch.isspace() for ch in host) or printable(host) != host:
        raise ValueError(shape)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(shape) from None
    return (host.lower().rstrip("."), port), (address, target_port)


def _port(text: str, shape: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) < 65536:
        raise ValueError(shape)
    return int(text)


def parse_nameservers(items: Sequence[str]) -> list[tuple[str, int]]:
    """Parse every ``--nameserver`` value; the error names the option and the expected shape."""
    from ._dns import parse_nameserver

    result = []
    for item in items:
        try:
            result.append(parse_nameserver(item))
        except ValueError:
            raise ValueError(
                f"--nameserver {item!r}: bad nameserver, expected ADDR, ADDR:PORT, [V6] or [V6]:PORT "
                "(an IP address, PORT 1-65535)"
            ) from None
    return result


def check_ca_bundle(path: str | None) -> None:
    """Refuse a ``--ca-bundle`` that is missing, unreadable or holds no PEM certificate, before any I/O."""
    if path is None:
        return
    if not path:
        raise UsageError("--ca-bundle '': expected the path of a PEM file of CA certificates")
    try:
        with open(path, "rb") as handle:
            pem = handle.read()
    except OSError as exc:
        raise UsageError(f"--ca-bundle {path!r}: {exc.strerror or 'cannot be read'}") from None
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise UsageError(f"--ca-bundle {path!r}: no PEM certificate ('-----BEGIN CERTIFICATE-----') in the file")
    try:
        ssl.create_default_context(cafile=path)  # the same parser the transport will use
    except (ssl.SSLError, ValueError):
        raise UsageError(f"--ca-bundle {path!r}: not a usable PEM file of CA certificates") from None


def _check_extras(args: argparse.Namespace, methods: Sequence[Method]) -> None:
    """Refuse combinations that could only fail later: an absent extra, or Method.SCP without a DC."""
    if Method.SCP in methods and not args.scp:
        raise UsageError("--methods scp needs --scp LDAP_HOST[:PORT] (the domain controller to ask)")
    if args.auth in ("ntlm", "negotiate") and not _importable("spnego"):
        raise UsageError(f"--auth {args.auth} needs the ntlm extra: pip install 'autodiscover-client[ntlm]'")
    if args.scp and not _importable("ldap3"):
        raise UsageError("--scp needs the ad extra: pip install 'autodiscover-client[ad]'")


def _importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _methods(args: argparse.Namespace) -> tuple[Method, ...]:
    methods: tuple[Method, ...] = MICROSOFT_ORDER if args.order == "microsoft" else DEFAULT_ORDER
    if args.methods is not None:
        names = [name.strip().lower() for name in args.methods.split(",") if name.strip()]
        if not names:
            raise UsageError(f"--methods {args.methods!r}: name at least one method, e.g. --methods srv")
        try:
            methods = tuple(METHOD_ALIASES.get(name) or Method(name) for name in names)
        except ValueError:
            choices = ", ".join([m.value for m in Method] + list(METHOD_ALIASES))
            raise ValueError(f"--methods {args.methods!r}: choose from {choices}") from None
    if args.scp and Method.SCP not in methods:
        methods = (Method.SCP, *methods)
    return methods


def read_secret(
    args: argparse.Namespace, stdin: TextIO | None, *, variable: str, prompt: str, what: str = "password",
    can_prompt: bool = True,
) -> str | None:  # fmt: skip
    """The password (or token): never from an argument (DESIGN §4 rule 7).

    One order for both: ``--anonymous`` (none), else ``--password-stdin``, else ``$variable``, else a
    prompt when standard input is a terminal, else none. ``stdin`` is ``None`` when the descriptor is
    closed (``0<&-``). A token loses surrounding white space; a password only the line break.

    Raises:
        UsageError: The secret is empty (``--anonymous`` is the way to send none), or stdin cannot be read.
    """
    if args.anonymous:
        return None
    clean: Callable[[str], str] = str.strip if what == "token" else (lambda text: text.rstrip("\r\n"))
    if args.password_stdin:
        if stdin is None:
            raise UsageError(f"--password-stdin: standard input is closed, so there is no {what} to read")
        try:
            secret = clean(stdin.readline())
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"--password-stdin: cannot read standard input ({type(exc).__name__})") from None
        source = "--password-stdin read"
    elif variable in os.environ:
        secret, source = clean(os.environ[variable]), f"${variable} is"
    elif can_prompt and stdin is not None and _isatty(stdin):
        try:
            secret = clean(getpass.getpass(prompt))
        except EOFError:
            secret = ""
        source = "the prompt got"
    else:
        return None
    if not secret:
        raise UsageError(f"{source} an empty {what}; use --anonymous to send no credentials")
    return secret


def _isatty(stream: TextIO | None) -> bool:
    if stream is None:  # the descriptor is closed (0<&-, 1>&-)
        return False
    try:
        return stream.isatty()
    except (OSError, ValueError):  # a closed or detached stream is no terminal
        return False


def _secret(args: argparse.Namespace, stdin: TextIO | None) -> str | None:
    """The password, or with ``--auth bearer`` the token."""
    if args.auth == "bearer":
        return read_secret(args, stdin, variable=TOKEN_VARIABLE, prompt="Bearer token: ", what="token")
    prompt = f"Password for {args.username or args.email}: "
    return read_secret(args, stdin, variable=PASSWORD_VARIABLE, prompt=prompt)


def _credentials(args: argparse.Namespace, secret: str | None) -> Credentials | None:
    """The credentials; :class:`InvalidCredentialsError` (never showing the secret) becomes a usage error."""
    if secret is None:
        return None
    try:
        if args.auth == "bearer":
            return BearerCredentials(secret, username=args.username)
        user = args.username or args.email
        if args.auth in ("ntlm", "negotiate"):
            return NtlmCredentials(user, secret, protocol=args.auth)
        return BasicCredentials(user, secret)
    except InvalidArgumentError as exc:
        raise UsageError(str(exc)) from None


def _scp_source(args: argparse.Namespace, credentials: Credentials | None) -> ScpSource | None:
    if not args.scp:
        return None
    from ._ldap import Ldap3ScpSource

    # The directory bind reuses the account, over LDAPS verified like https (or NTLM); a token cannot bind.
    if isinstance(credentials, (BasicCredentials, NtlmCredentials)):
        kind = "ntlm" if isinstance(credentials, NtlmCredentials) else "simple"
        return Ldap3ScpSource(
            args.scp, user=credentials.username, password=credentials.password, authentication=kind,
            ca_bundle=args.ca_bundle,
        )  # fmt: skip
    return Ldap3ScpSource(args.scp, ca_bundle=args.ca_bundle)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: the reader of standard output went away (``| head``)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C at a prompt or while reading standard input: no traceback
        sys.stderr.write("\nautodiscover: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Point standard output at /dev/null, so that the interpreter's last flush cannot fail again.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["demo"]:
        from ._demo import run_demo

        return run_demo(arguments[1:])
    if arguments[:1] == ["batch"]:
        from ._batch_cli import run_batch

        return run_batch(arguments[1:])
    parser = _build_parser()
    parser.json_errors = wants_json(arguments)
    args = parser.parse_args(arguments)
    try:
        # The address first: a bad one is an address error (exit 2), never a credentials error about the
        # user name that defaults to it, and no password is asked for it.
        parse_email(args.email)
    except InvalidEmailError as exc:
        _emit_failure(args.json, str(exc), type(exc).__name__, args.email)
        return EXIT_USAGE
    try:
        methods = _methods(args)
        overrides = dict(parse_resolve(item) for item in args.resolve)
        nameservers = parse_nameservers(args.nameserver)
        check_ca_bundle(args.ca_bundle)
        _check_extras(args, methods)
        credentials = _credentials(args, _secret(args, sys.stdin))
    except ValueError as exc:
        parser.error(str(exc))
    return _run(parser, args, methods, overrides, nameservers, credentials)


def _run(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    methods: tuple[Method, ...],
    overrides: dict[tuple[str, int], tuple[str, int]],
    nameservers: list[tuple[str, int]],
    credentials: Credentials | None,
) -> int:
    from ._api import Discoverer
    from ._dns import DnspythonResolver
    from ._http import RequestsTransport

    resolver = DnspythonResolver(nameservers=nameservers or None, timeout=args.request_timeout)
    transport = RequestsTransport(
        ca_bundle=args.ca_bundle, connect_to=overrides, resolver=resolver if nameservers else None
    )
    scp_source = _scp_source(args, credentials)

    def configured(approved: Sequence[str]) -> Discoverer:
        return Discoverer(
            methods=methods,
            timeout=args.timeout,
            request_timeout=args.request_timeout,
            resolver=resolver,
            transport=transport,
            allowed_hosts=[*args.allow_redirect, *approved],
            trust_microsoft365=not args.no_microsoft365,
            schema=Schema(args.schema),
            parallel=not args.sequential,
            patience=args.patience,
            v2_protocol=_v2_protocol(args.v2_protocol),
            v2_office365=args.v2_office365,
            scp_source=scp_source,
            ad_site=args.ad_site,
        )

    try:
        configured(()).close()  # the options are checked once, before any I/O: a mistake is a usage error
    except InvalidArgumentError as exc:
        transport.close()
        # Name the options the user typed, not the library's argument names.
        message = str(exc).replace("allowed_hosts: ", "--allow-redirect: ").replace("ad_site ", "--ad-site ")
        parser.error(message)

    def attempt(approved: Sequence[str]) -> Settings:
        with configured(approved) as discoverer:
            return discoverer.discover(args.email, credentials=credentials)

    from ._redirect_prompt import run_asking

    # A closed stdin (0<&-) is None, and a person can only answer at a terminal.
    interactive = not args.json and _isatty(sys.stdin) and _isatty(sys.stdout)
    with transport:
        return _report(lambda: run_asking(attempt, args.email, interactive=interactive), args)


def _v2_protocol(name: str | None) -> V2Protocol | None:
    return next((p for p in V2Protocol if p.value.lower() == name), None) if name else None


def _report(run: Callable[[], Settings], args: argparse.Namespace) -> int:
    """Print the result: success on stdout; a failure as JSON on stdout with --json, else on stderr."""
    out = sys.stdout
    try:
        settings = run()
    except InvalidEmailError as exc:
        _emit_failure(args.json, str(exc), type(exc).__name__, args.email)
        return EXIT_USAGE
    except DiscoveryError as exc:
        if args.json:
            json.dump(exc.to_dict(), out, indent=2)
            out.write("\n")
        else:
            err = sys.stderr
            err.write(printable(exc.message) + "\n")
            print_trail(err, exc.attempts)
            if isinstance(exc, RedirectDeniedError):
                hosts = sorted({a.denied_host for a in exc.attempts if a.denied_host})
                if hosts:
                    flags = printable(" ".join(f"--allow-redirect {host}" for host in hosts))
                    err.write(
                        f"\nRedirects outside the mail domain were denied. If you trust them, run again with: {flags}\n"
                    )
        return EXIT_CREDENTIALS if isinstance(exc, AuthenticationError) else EXIT_NOT_FOUND
    assert isinstance(settings, Settings)
    if args.json:
        json.dump(settings.to_dict(), out, indent=2)
        out.write("\n")
    else:
        print_summary(out, settings)
        if args.trace:
            print_trail(out, settings.attempts)
    return EXIT_FOUND


def _emit_failure(as_json: bool, message: str, kind: str, email: str) -> None:
    if as_json:
        json.dump({"error": message, "kind": kind, "email": email, "attempts": []}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stderr.write(f"autodiscover: {printable(message)}\n")


def print_summary(out: TextIO, settings: Settings) -> None:
    """Write a human-readable summary of ``settings``; server-supplied text is escaped (:func:`printable`)."""

    def line(text: str) -> None:
        out.write(printable(text) + "\n")

    line(f"Settings for {settings.email}")
    line(f"  found by {settings.source.method.name} at {settings.source.url}")
    if settings.user and settings.user.display_name:
        line(f"  user: {settings.user.display_name}")
    if settings.ews_url:
        line(f"  EWS: {settings.ews_url}")
    if settings.activesync_url:
        line(f"  ActiveSync: {settings.activesync_url}")
    if settings.v2_protocol and settings.v2_url:
        line(f"  V2 {settings.v2_protocol}: {settings.v2_url}")
    for url in settings.insecure_urls:
        line(f"  WARNING: plain-http URL in the answer, not used: {url}")
    for protocol in settings.protocols:
        where = protocol.server or ""
        if protocol.port is not None:
            where += f":{protocol.port}"
        security = protocol.security.value if protocol.security else "?"
        note = "  (SSL/Encryption contradict the port)" if protocol.security_conflict else ""
        login = f"  login {protocol.login_name}" if protocol.login_name else ""
        line(f"  {protocol.type:<8} {where or '-'}  {security}{login}{note}")


def print_trail(out: TextIO, attempts: Sequence[Attempt]) -> None:
    """Write the numbered trail; server-supplied text (URLs, errors) is escaped (:func:`printable`)."""
    out.write("Trail:\n")
    for number, attempt in enumerate(attempts, 1):
        out.write(f"  {number:>2}. {printable(attempt.describe())} [{attempt.elapsed:.3f}s]\n")
