"""The ``autodiscover`` command (also ``python -m autodiscover_client``). DESIGN §6 is its contract.

Exit codes: 0 found, 1 not found, 2 bad usage or bad address, 3 credentials rejected.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from ._errors import AuthenticationError, DiscoveryError, InvalidEmailError, RedirectDeniedError
from ._models import DEFAULT_ORDER, MICROSOFT_ORDER, Attempt, Method, Outcome, Settings
from ._pox import Schema
from ._seams import BasicCredentials, BearerCredentials, Credentials, NtlmCredentials, ScpSource
from ._v2 import V2Protocol
from ._version import __version__

EXIT_FOUND, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_CREDENTIALS = 0, 1, 2, 3
PASSWORD_VARIABLE = "AUTODISCOVER_PASSWORD"  # noqa: S105 - the variable's name, not a secret
TOKEN_VARIABLE = "AUTODISCOVER_TOKEN"  # noqa: S105 - the variable's name, not a secret
METHOD_ALIASES = {"v2": Method.V2_JSON}
AUTH_CHOICES = ("basic", "ntlm", "negotiate", "bearer")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="autodiscover",
        description="Find a mail account's server settings the way Outlook does (Autodiscover).",
        epilog=(
            "The password comes from --password-stdin, $AUTODISCOVER_PASSWORD, or a prompt on a terminal; "
            "with --auth bearer the token comes from $AUTODISCOVER_TOKEN, --password-stdin or a prompt; "
            "never from an argument. 'autodiscover demo' runs a self-contained demonstration; "
            "'autodiscover batch FILE' discovers many addresses (see 'autodiscover batch --help'). "
            "Exit codes: 0 found, 1 not found, 2 bad usage or address, 3 credentials rejected."
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
    parser.add_argument("--timeout", type=_positive, default=30.0, help="overall deadline in seconds")
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
    _add_protocol_options(parser)
    return parser


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
    """Parse ``HOST:PORT:ADDR[:PORT2]`` (``ADDR`` may be ``[v6]`` or a bare IPv6 address).

    Raises:
        ValueError: The text has the wrong shape.
    """
    try:
        host, port_text, rest = text.split(":", 2)
        port = int(port_text)
    except ValueError:
        raise ValueError(f"--resolve {text!r}: expected HOST:PORT:ADDR[:PORT2]") from None
    target_port = port
    if rest.startswith("["):
        address, _, tail = rest[1:].partition("]")
        if tail:
            target_port = int(tail.lstrip(":"))
    elif rest.count(":") == 1:
        address, _, tail = rest.partition(":")
        target_port = int(tail)
    else:
        address = rest
    if not host or not address or not (0 < port < 65536 and 0 < target_port < 65536):
        raise ValueError(f"--resolve {text!r}: expected HOST:PORT:ADDR[:PORT2]")
    return (host.lower().rstrip("."), port), (address, target_port)


def _methods(args: argparse.Namespace) -> tuple[Method, ...]:
    methods: tuple[Method, ...] = MICROSOFT_ORDER if args.order == "microsoft" else DEFAULT_ORDER
    if args.methods:
        names = [name.strip().lower() for name in args.methods.split(",") if name.strip()]
        try:
            methods = tuple(METHOD_ALIASES.get(name) or Method(name) for name in names)
        except ValueError:
            choices = ", ".join([m.value for m in Method] + list(METHOD_ALIASES))
            raise ValueError(f"--methods {args.methods!r}: choose from {choices}") from None
    if args.scp and Method.SCP not in methods:
        methods = (Method.SCP, *methods)
    return methods


def _secret(args: argparse.Namespace, stdin: TextIO) -> str | None:
    """The password, or with ``--auth bearer`` the token: never from an argument (DESIGN §4 rule 7)."""
    if args.auth != "bearer":
        return _password(args, stdin)
    if args.anonymous:
        return None
    from_env = os.environ.get(TOKEN_VARIABLE)
    if from_env:
        return from_env.strip()
    if args.password_stdin:
        return stdin.readline().strip()
    if stdin.isatty():
        return getpass.getpass("Bearer token: ").strip()
    return None


def _credentials(args: argparse.Namespace, secret: str | None) -> Credentials | None:
    if secret is None:
        return None
    if args.auth == "bearer":
        return BearerCredentials(secret, username=args.username)
    user = args.username or args.email
    if args.auth in ("ntlm", "negotiate"):
        return NtlmCredentials(user, secret, protocol=args.auth)
    return BasicCredentials(user, secret)


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


def _password(args: argparse.Namespace, stdin: TextIO) -> str | None:
    if args.anonymous:
        return None
    if args.password_stdin:
        return stdin.readline().rstrip("\r\n")
    from_env = os.environ.get(PASSWORD_VARIABLE)
    if from_env is not None:
        return from_env
    if stdin.isatty():
        return getpass.getpass(f"Password for {args.username or args.email}: ")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["demo"]:
        from ._demo import run_demo

        return run_demo(arguments[1:])
    if arguments[:1] == ["batch"]:
        from ._batch_cli import run_batch

        return run_batch(arguments[1:])
    parser = _build_parser()
    args = parser.parse_args(arguments)
    try:
        methods = _methods(args)
        overrides = dict(parse_resolve(item) for item in args.resolve)
        from ._dns import parse_nameserver

        nameservers = [parse_nameserver(item) for item in args.nameserver]
    except ValueError as exc:
        parser.error(str(exc))
    from ._api import Discoverer
    from ._dns import DnspythonResolver
    from ._http import RequestsTransport

    resolver = DnspythonResolver(nameservers=nameservers or None, timeout=args.request_timeout)
    transport = RequestsTransport(
        ca_bundle=args.ca_bundle, connect_to=overrides, resolver=resolver if nameservers else None
    )
    credentials = _credentials(args, _secret(args, sys.stdin))
    scp_source = _scp_source(args, credentials)

    def attempt(approved: Sequence[str]) -> Settings:
        with Discoverer(
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
        ) as discoverer:
            return discoverer.discover(args.email, credentials=credentials)

    from ._redirect_prompt import run_asking

    interactive = not args.json and sys.stdin.isatty() and sys.stdout.isatty()
    with transport:
        return _report(lambda: run_asking(attempt, args.email, interactive=interactive), args)


def _v2_protocol(name: str | None) -> V2Protocol | None:
    return next((p for p in V2Protocol if p.value.lower() == name), None) if name else None


def _report(run: Callable[[], Settings], args: argparse.Namespace) -> int:
    out = sys.stdout
    try:
        settings = run()
    except InvalidEmailError as exc:
        _emit_failure(out, args.json, str(exc), type(exc).__name__, ())
        return EXIT_USAGE
    except DiscoveryError as exc:
        if args.json:
            json.dump(exc.to_dict(), out, indent=2)
            out.write("\n")
        else:
            out.write(exc.message + "\n")
            _print_trail(out, exc.attempts)
            if isinstance(exc, RedirectDeniedError):
                hosts = sorted({_denied_host(a) for a in exc.attempts if a.outcome is Outcome.REDIRECT_DENIED} - {""})
                if hosts:
                    flags = " ".join(f"--allow-redirect {host}" for host in hosts)
                    out.write(
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
            _print_trail(out, settings.attempts)
    return EXIT_FOUND


def _denied_host(attempt: Attempt) -> str:
    text = attempt.error or ""
    marker = " denied: "
    if marker not in text:
        return ""
    return text.split(marker, 1)[1].split(" ", 1)[0]


def _emit_failure(out: TextIO, as_json: bool, message: str, kind: str, attempts: Sequence[Attempt]) -> None:
    if as_json:
        json.dump({"error": message, "kind": kind, "attempts": [a.to_dict() for a in attempts]}, out, indent=2)
        out.write("\n")
    else:
        sys.stderr.write(f"autodiscover: {message}\n")


def print_summary(out: TextIO, settings: Settings) -> None:
    """Write a human-readable summary of ``settings``."""
    out.write(f"Settings for {settings.email}\n")
    out.write(f"  found by {settings.source.method.name} at {settings.source.url}\n")
    if settings.user and settings.user.display_name:
        out.write(f"  user: {settings.user.display_name}\n")
    if settings.ews_url:
        out.write(f"  EWS: {settings.ews_url}\n")
    if settings.activesync_url:
        out.write(f"  ActiveSync: {settings.activesync_url}\n")
    if settings.v2_protocol and settings.v2_url:
        out.write(f"  V2 {settings.v2_protocol}: {settings.v2_url}\n")
    for url in settings.insecure_urls:
        out.write(f"  WARNING: plain-http URL in the answer, not used: {url}\n")
    for protocol in settings.protocols:
        where = protocol.server or ""
        if protocol.port is not None:
            where += f":{protocol.port}"
        security = protocol.security.value if protocol.security else "?"
        note = "  (SSL/Encryption contradict the port)" if protocol.security_conflict else ""
        login = f"  login {protocol.login_name}" if protocol.login_name else ""
        out.write(f"  {protocol.type:<8} {where or '-'}  {security}{login}{note}\n")


def _print_trail(out: TextIO, attempts: Sequence[Attempt]) -> None:
    out.write("Trail:\n")
    for number, attempt in enumerate(attempts, 1):
        out.write(f"  {number:>2}. {attempt.describe()} [{attempt.elapsed:.3f}s]\n")
