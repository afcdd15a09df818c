"""The discovery core: candidates, redirects, credential rules and results. It does no I/O.

Each method is a generator that yields operations (:class:`SrvLookup`, :class:`HttpCall`,
:class:`ScpLookup`) and is sent back a :class:`Reply`; a driver (``_driver``) performs the I/O. The same
generators can be driven one at a time (sequential) or side by side (concurrent), because all shared
bookkeeping goes through :class:`Run`'s methods, which a speculative fork logs for replay (see ``_run``).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Generator, Iterable
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

from ._address import EmailAddress, parse_email
from ._errors import (
    AutodiscoverError,
    ConnectError,
    InvalidEmailError,
    InvalidResponseError,
    ResolverTimeoutError,
    ResponseTooLargeError,
    TLSError,
    TransportTimeoutError,
)
from ._models import Method, Outcome, is_web_url
from ._policy import RedirectPolicy, RedirectProposal, RedirectReason, registrable_domain
from ._pox import (
    ErrorDocument,
    RedirectAddressDocument,
    RedirectUrlDocument,
    Schema,
    SettingsDocument,
    build_request,
    parse_response,
)
from ._run import MAX_HOPS as MAX_HOPS
from ._run import Run as Run
from ._seams import HttpRequest, HttpResponse, ScpRecord, SrvRecord
from ._urls import url_refusal
from ._v2 import V2Endpoint

AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
# Outlook's spelling (PROTOCOL.md §1.4 [GROMOX-AD4GX]). MS-OXDISCO says the path is not case sensitive, but
# some routes match one spelling only (automx2 404s this one; others 404 ours): see PATH_CASE_STATUSES.
OUTLOOK_PATH = "/Autodiscover/Autodiscover.xml"
PATH_CASE_STATUSES = frozenset({404, 405})
# MS-OXDSCLI §3.2.5 names 302; Learn handles 301/302 and the EWS Managed API 301/302/303/307.
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


@dataclasses.dataclass(frozen=True, slots=True)
class SrvLookup:
    """Operation: look up SRV records."""

    name: str
    method: Method = Method.SRV


@dataclasses.dataclass(frozen=True, slots=True)
class HttpCall:
    """Operation: make one HTTP request."""

    request: HttpRequest
    method: Method


@dataclasses.dataclass(frozen=True, slots=True)
class ScpLookup:
    """Operation: search Active Directory for SCP objects (``server=None``: the source's own DC)."""

    server: str | None = None
    method: Method = Method.SCP

    @property
    def name(self) -> str:
        """What the trail shows for this look-up."""
        return f"ldap://{self.server}" if self.server else "ldap (the directory of this machine)"


Operation = SrvLookup | HttpCall | ScpLookup


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """What the driver sends back for an operation: records or a response, or the error it raised."""

    records: tuple[SrvRecord, ...] = ()
    scp_records: tuple[ScpRecord, ...] = ()
    response: HttpResponse | None = None
    error: AutodiscoverError | None = None
    elapsed: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class Found:
    """A candidate produced settings."""

    document: SettingsDocument
    method: Method
    url: str
    email: str
    v2: V2Endpoint | None = None


T = TypeVar("T")
Flow = Generator[Operation, Reply, T]
MethodResult = Found | EmailAddress | None
"""Settings, an address to restart with, or nothing."""


def normalise_url(url: str) -> str:
    """Lower-case scheme and host and drop a default port, so loops are caught however the host is spelled.

    The path keeps its case (DESIGN §3): servers with case-sensitive routes redirect
    ``/autodiscover/autodiscover.xml`` to ``/Autodiscover/Autodiscover.xml`` (or 404 one of them), and
    that is a new URL, not a loop. Two spellings redirecting to each other are caught on the second round.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("https", 443), ("http", 80)) else f"{host}:{port}"
    return f"{scheme}://{netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


def endpoint_url(host: str, port: int = 443) -> str:
    """The POX URL on ``host``; a port other than 443 is kept (DESIGN §3: the SRV port is honoured)."""
    netloc = host if port == 443 else f"{host}:{port}"
    return f"https://{netloc}{AUTODISCOVER_PATH}"


def ordered_methods(methods: Iterable[Method]) -> tuple[Method, ...]:
    """The caller's order, except that V2 goes first and SCP next when enabled.

    Microsoft 365 apps try V2 before anything else (PROTOCOL.md §7), and SCP URLs come before the
    domain-derived candidates (MS-OXDISCO §3.1.5, PROTOCOL.md §1.3).
    """
    given = tuple(dict.fromkeys(methods))
    first = tuple(m for m in (Method.V2_JSON, Method.SCP) if m in given)
    return first + tuple(m for m in given if m not in first)


def discovery(run: Run, address: EmailAddress, methods: Iterable[Method]) -> Flow[Found | None]:
    """Try ``methods`` for ``address`` (see :func:`ordered_methods`), restarting on ``redirectAddr``."""
    ordered = ordered_methods(methods)
    current = address
    while True:
        restart: EmailAddress | None = None
        for method in ordered:
            result = yield from method_flow(run, current, method)
            if isinstance(result, Found):
                return result
            if isinstance(result, EmailAddress):
                restart = result
                break
        if restart is None:
            return None
        current = restart


def method_flow(run: Run, address: EmailAddress, method: Method) -> Flow[MethodResult]:
    """Run one method for one address."""
    domain = address.domain
    if method is Method.SRV:
        return (yield from _srv_flow(run, address))
    if method is Method.HTTPS_ROOT:
        return (yield from _post_flow(run, address, method, endpoint_url(domain)))
    if method is Method.HTTPS_AUTODISCOVER:
        return (yield from _post_flow(run, address, method, endpoint_url(f"autodiscover.{domain}")))
    if method is Method.V2_JSON:
        from ._v2_flow import v2_flow  # late: that module builds on this one's helpers

        return (yield from v2_flow(run, address))
    if method is Method.SCP:
        from ._scp_flow import scp_flow

        return (yield from scp_flow(run, address))
    return (yield from _probe_flow(run, address))


def _srv_flow(run: Run, address: EmailAddress) -> Flow[MethodResult]:
    name = f"_autodiscover._tcp.{address.domain}"
    reply = yield SrvLookup(name)
    if reply.error is not None:
        outcome = Outcome.TIMEOUT if isinstance(reply.error, ResolverTimeoutError) else Outcome.DNS_ERROR
        run.record(Method.SRV, name, outcome, address, error=str(reply.error), elapsed=reply.elapsed)
        return None
    # RFC 2782: a single record with target "." means the service is decidedly not available.
    usable = [record for record in reply.records if record.target.rstrip(".")]
    if not usable:
        why = "no SRV records" if not reply.records else "the SRV target is '.': no service at this domain"
        run.record(Method.SRV, name, Outcome.NO_RECORDS, address, error=why, elapsed=reply.elapsed)
        return None
    for record in usable:  # already in RFC 2782 order: lowest priority first, weighted within
        host = record.target.rstrip(".").lower()
        url = endpoint_url(host, record.port)
        if not run.trusts(host):
            # An SRV target outside the mail domain is a redirect in disguise (PROTOCOL.md §1.6).
            refusal = _admit(run, address, source=name, target=url, reason=RedirectReason.SRV_TARGET)
            if refusal is not None:
                outcome, why, denied = refusal
                run.record(Method.SRV, url, outcome, address, error=why, redirect_target=url, denied_host=denied)
                continue
        result = yield from _post_flow(run, address, Method.SRV, url)
        if result is not None:
            return result
    return None


def _probe_flow(run: Run, address: EmailAddress) -> Flow[MethodResult]:
    # MS-OXDISCO §3.1.5.4: plain http, never authenticated, redirects not followed automatically.
    url = f"http://autodiscover.{address.domain}{AUTODISCOVER_PATH}"
    request = HttpRequest(method="GET", url=url, headers=(("User-Agent", run.user_agent),))
    reply = yield HttpCall(request, Method.HTTP_REDIRECT)
    response = reply.response
    if response is None:
        _record_failure(run, Method.HTTP_REDIRECT, url, address, reply)
        return None
    location = response.header("Location")
    if response.status not in REDIRECT_STATUSES or not location:
        run.record(
            Method.HTTP_REDIRECT, url, Outcome.HTTP_ERROR, address, status=response.status,
            error="the http probe did not redirect to https", elapsed=reply.elapsed,
        )  # fmt: skip
        return None
    target = join_location(url, location)
    refusal: _Refusal | None = None
    if not is_web_url(target):
        refusal = (Outcome.REDIRECT_DENIED, f"redirect to {target!r} refused: not a well-formed URL", None)
    elif urlsplit(target).path.lower() != AUTODISCOVER_PATH:
        # The EWS Managed API accepts only redirects to the Autodiscover path (PROTOCOL.md §1.5).
        why = f"redirect to {target} refused: the path must be {AUTODISCOVER_PATH}"
        refusal = (Outcome.REDIRECT_DENIED, why, None)
    else:
        refusal = _admit(run, address, source=url, target=target, reason=RedirectReason.HTTP_PROBE)
    if refusal is not None:
        outcome, why, denied = refusal
        run.record(
            Method.HTTP_REDIRECT, url, outcome, address, status=response.status, error=why,
            elapsed=reply.elapsed, redirect_target=target, denied_host=denied,
        )  # fmt: skip
        return None
    run.record(
        Method.HTTP_REDIRECT, url, Outcome.REDIRECT_URL, address, status=response.status,
        error=f"redirected to {target}", elapsed=reply.elapsed, redirect_target=target,
    )  # fmt: skip
    return (yield from _post_flow(run, address, Method.HTTP_REDIRECT, target))


def _post_flow(run: Run, address: EmailAddress, method: Method, url: str) -> Flow[MethodResult]:
    """POST to ``url``, answering one 401 challenge and following URL redirects."""
    while True:
        refusal = url_refusal(url)
        if refusal is not None:
            # An SRV target is DNS data: "evil.test\\@mail.example.com" would pass the domain check on
            # urlsplit's reading and connect to evil.test on urllib3's (see _urls).
            run.record(method, url, Outcome.INVALID_RESPONSE, address, error=f"not contacted: {refusal}")
            return None
        key = (str(address).casefold(), normalise_url(url))
        if run.seen(key):
            run.record(method, url, Outcome.REDIRECT_LOOP, address, error="already tried in this run")
            return None
        run.mark(key)
        request = HttpRequest(
            method="POST",
            url=url,
            headers=(("Content-Type", "text/xml; charset=utf-8"), ("User-Agent", run.user_agent)),
            body=build_request(str(address), run.schema),
        )
        reply = yield HttpCall(request, method)
        authenticated = False
        if reply.response is not None and reply.response.status == 401:
            token_uri = bearer_authorization_uri(reply.response.header("WWW-Authenticate"))
            refusal = _credential_refusal(run, url, reply.response)
            if refusal is not None:
                run.record(
                    method, url, Outcome.UNAUTHORIZED, address, status=401, error=refusal, elapsed=reply.elapsed,
                    authorization_uri=token_uri,
                )  # fmt: skip
                return None
            run.record(
                method, url, Outcome.UNAUTHORIZED, address, status=401, elapsed=reply.elapsed,
                error=f"the server asked for credentials; answering its {run.credentials.scheme} challenge once"
                if run.credentials is not None else "", authorization_uri=token_uri,
            )  # fmt: skip
            reply = yield HttpCall(dataclasses.replace(request, credentials=run.credentials), method)
            authenticated = True
        response = reply.response
        if response is None:
            _record_failure(run, method, url, address, reply, authenticated=authenticated)
            return None
        common: dict[str, object] = {
            "status": response.status,
            "elapsed": reply.elapsed,
            "authenticated": authenticated,
        }
        if response.status == 401:
            run.reject_credentials()
            run.record(
                method, url, Outcome.UNAUTHORIZED, address, error="the credentials were rejected",
                authorization_uri=bearer_authorization_uri(response.header("WWW-Authenticate")), **common,
            )  # fmt: skip
            return None
        if response.status in REDIRECT_STATUSES:
            location = response.header("Location")
            if not location:
                run.record(method, url, Outcome.HTTP_ERROR, address, error="a redirect without Location", **common)
                return None
            next_url = _follow(run, method, address, url, join_location(url, location), common)
            if next_url is None:
                return None
            url = next_url
            continue
        if not 200 <= response.status < 300:
            retry = _outlook_spelling(url) if response.status in PATH_CASE_STATUSES else None
            why = _status_text(response.status) + _error_in(response.body)
            why += f"; trying Outlook's spelling {OUTLOOK_PATH}" if retry else ""
            run.record(method, url, Outcome.HTTP_ERROR, address, error=why, **common)
            if retry is None:
                return None
            url = retry  # the same endpoint spelled differently: not a redirect, so no hop is spent
            continue
        try:
            document = parse_response(response.body)
        except InvalidResponseError as exc:
            run.record(method, url, Outcome.INVALID_RESPONSE, address, error=str(exc), **common)
            return None
        if isinstance(document, SettingsDocument):
            problem = _unusable(document)
            if problem is not None:
                run.record(method, url, Outcome.INVALID_RESPONSE, address, error=problem, **common)
                return None
            note = None
            if document.schema is not run.schema:
                # mailcow answers mobilesync to Outlook requests (PROTOCOL.md §3.1, corpus 18): the answer is
                # kept for its ActiveSync URL, never read as empty Outlook settings, and the trail says so.
                note = f"the answer is in the {document.schema.value} schema; the request asked for {run.schema.value}"
            run.record(method, url, Outcome.SETTINGS, address, error=note, **common)
            return Found(document=document, method=method, url=url, email=str(address))
        if isinstance(document, ErrorDocument):
            run.record(method, url, Outcome.SERVER_ERROR, address, error=document.describe(), **common)
            return None
        if isinstance(document, RedirectUrlDocument):
            next_url = _follow(run, method, address, url, join_location(url, document.url), common)
            if next_url is None:
                return None
            url = next_url
            continue
        return _redirect_address(run, method, url, address, document, common)


def _error_in(body: bytes) -> str:
    """``": <Autodiscover error>"`` when an error status carries one in its body, for the trail; else ``""``."""
    if not body.strip():
        return ""
    try:
        document = parse_response(body)
    except InvalidResponseError:
        return ""
    return f": {document.describe()}" if isinstance(document, ErrorDocument) else ""


def _outlook_spelling(url: str) -> str | None:
    """``url`` with Outlook's path spelling, if it is our lower-case Autodiscover URL; else ``None``."""
    parts = urlsplit(url)
    if parts.path != AUTODISCOVER_PATH:
        return None
    return parts._replace(path=OUTLOOK_PATH).geturl()


def _unusable(document: SettingsDocument) -> str | None:
    """Why a settings answer gives nothing to connect to, or ``None`` if it is usable."""
    if document.schema is Schema.MOBILESYNC and not any(
        server.type.casefold() == "mobilesync" and server.url_is_valid for server in document.mobilesync_servers
    ):
        # Z-Push's template sends an empty <Url> (corpus 15): that is no usable endpoint, not a success.
        return "the mobilesync answer has no usable MobileSync URL"
    return None


def join_location(base: str, location: str) -> str:
    """Resolve a ``Location`` (or ``redirectUrl``) against ``base``; a malformed one is returned as sent,
    for :func:`_admit` to refuse."""
    try:
        return urljoin(base, location.strip())
    except ValueError:
        return location.strip()


def _follow(
    run: Run, method: Method, address: EmailAddress, url: str, target: str, common: dict[str, object]
) -> str | None:
    """Decide on a URL redirect and record the attempt that asked for it; return the URL to POST next."""
    refusal = _admit(run, address, source=url, target=target, reason=RedirectReason.URL_REDIRECT)
    if refusal is not None:
        outcome, why, denied = refusal
        run.record(method, url, outcome, address, error=why, redirect_target=target, denied_host=denied, **common)
        return None
    run.record(
        method, url, Outcome.REDIRECT_URL, address, error=f"redirected to {target}", redirect_target=target, **common
    )
    return target


# Why a redirect is not followed: the outcome, the explanation, and the host an approval could allow
# (None when no approval lifts the refusal).
_Refusal = tuple[Outcome, str, str | None]


def _admit(run: Run, address: EmailAddress, *, source: str, target: str, reason: RedirectReason) -> _Refusal | None:
    """Apply the redirect rules to a URL; return why it is refused, or ``None`` (and spend a hop)."""
    if not is_web_url(target):
        # A hostile Location ("https://[::1", a port of 99999) must be a refusal, never a ValueError.
        return Outcome.REDIRECT_DENIED, f"redirect to {target!r} refused: not a well-formed URL", None
    parts = urlsplit(target)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme.lower() != "https":
        # DESIGN §4 rule 2: credentials never travel over plain http, so neither does discovery.
        return Outcome.REDIRECT_DENIED, f"redirect to {target} refused: only https targets are followed", None
    if not host:
        return Outcome.REDIRECT_DENIED, f"redirect to {target!r} refused: no host", None
    if run.seen((str(address).casefold(), normalise_url(target))):
        return Outcome.REDIRECT_LOOP, f"redirect to {target} refused: already tried in this run", None
    if run.out_of_hops():
        why = f"redirect to {target} refused: the budget of {MAX_HOPS} hops is spent"
        return Outcome.REDIRECT_LIMIT, why, None
    if not run.trusts(host):
        proposal = RedirectProposal(email=str(address), source=source, target=target, host=host, reason=reason)
        if not run.ask(proposal):
            why = f"redirect to {target} denied: {host} is outside the mail domain; " + RedirectPolicy.how_to_allow(
                host
            )
            return Outcome.REDIRECT_DENIED, why, host
        run.approve(host)
    run.spend_hop()
    return None


def _redirect_address(
    run: Run,
    method: Method,
    url: str,
    address: EmailAddress,
    document: RedirectAddressDocument,
    common: dict[str, object],
) -> EmailAddress | None:
    try:
        new = parse_email(document.address)
    except InvalidEmailError as exc:
        run.record(method, url, Outcome.INVALID_RESPONSE, address, error=f"unusable redirectAddr: {exc}", **common)
        return None
    folded = str(new).casefold()
    if folded == str(address).casefold():
        # Learn: a redirectAddr to the address just sent means this URL is not a valid endpoint.
        run.record(
            method,
            url,
            Outcome.REDIRECT_LOOP,
            address,
            error=f"redirectAddr to the same address {new}",
            redirect_target=str(new),
            **common,
        )
        return None
    if run.knows_address(folded):
        run.record(
            method, url, Outcome.REDIRECT_LOOP, address, error=f"redirectAddr back to {new}", redirect_target=str(new),
            **common,
        )  # fmt: skip
        if method is Method.SCP:
            run.disable_scp()  # an SCP loop: the EWS Managed API stops using SCP (PROTOCOL.md §1.3)
        return None
    if run.out_of_hops():
        run.record(
            method, url, Outcome.REDIRECT_LIMIT, address,
            error=f"redirectAddr to {new} refused: the budget of {MAX_HOPS} hops is spent", redirect_target=str(new),
            **common,
        )  # fmt: skip
        return None
    site = registrable_domain(new.domain)
    if not run.trusts_site(site):
        proposal = RedirectProposal(
            email=str(address), source=url, target=str(new), host=new.domain, reason=RedirectReason.ADDRESS_REDIRECT
        )
        if not run.ask(proposal):
            run.record(
                method, url, Outcome.REDIRECT_DENIED, address,
                error=f"redirectAddr to {new} denied: {new.domain} is outside the mail domain; "
                + RedirectPolicy.how_to_allow(new.domain), redirect_target=str(new), denied_host=new.domain,
                **common,
            )  # fmt: skip
            return None
        if site:
            run.trust_site(site)
    run.spend_hop()
    run.visit_address(folded)
    run.record(
        method, url, Outcome.REDIRECT_ADDRESS, address, error=f"redirected to address {new}",
        redirect_target=str(new), **common,
    )  # fmt: skip
    return new


_CHALLENGE_SPLIT = re.compile(r',(?=(?:[^"]*"[^"]*")*[^"]*$)')
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def offered_schemes(challenge: str | None) -> tuple[str, ...]:
    """The auth schemes named in a ``WWW-Authenticate`` value (RFC 9110 §11.6.1), lower-cased."""
    schemes: list[str] = []
    for piece in _CHALLENGE_SPLIT.split(challenge or ""):
        head = piece.strip().split(" ", 1)[0]
        if head and "=" not in head and _TOKEN.fullmatch(head):
            schemes.append(head.lower())
    return tuple(schemes)


def _credential_refusal(run: Run, url: str, response: HttpResponse) -> str | None:
    """Why credentials may not answer this 401, or ``None`` if they may (DESIGN §4 rules 1, 3, 5)."""
    if run.credentials is None:
        return "the server wants credentials and none were given"
    parts = urlsplit(url)
    if parts.scheme.lower() != "https":
        return "credentials are never sent over plain http"
    host = (parts.hostname or "").lower()
    if not run.trusts(host):
        return f"credentials are not sent to {host}: it is outside the mail domain"
    offered = offered_schemes(response.header("WWW-Authenticate"))
    wanted = run.credentials.scheme.lower()
    if wanted not in offered:
        # Rule 5: the caller's credential type fixes the scheme; a server cannot pick another one.
        # Guardicore's "ol' switcheroo" answers an NTLM or OAuth client with a Basic-only 401 (PROTOCOL.md §5).
        listed = ", ".join(offered) or "no scheme"
        return f"the server offers {listed}; the credentials are for {run.credentials.scheme} (never downgraded)"
    return None


_AUTHORIZATION_URI = re.compile(r'(?:^|[\s,])authorization_uri\s*=\s*"([^"]{1,2048})"', re.IGNORECASE)


def bearer_authorization_uri(challenge: str | None) -> str | None:
    """The ``authorization_uri`` of a ``Bearer`` challenge, if it is an https URL (PROTOCOL.md §5).

    Exchange (hybrid modern auth) answers ``WWW-Authenticate: Bearer …, authorization_uri="https://…"``;
    the caller fetches a token there. Anything but an https URL is dropped: it is not ours to follow.
    """
    if not challenge or "bearer" not in offered_schemes(challenge):
        return None
    match = _AUTHORIZATION_URI.search(challenge)
    if match is None:
        return None
    uri = match.group(1).strip()
    return uri if is_web_url(uri) and uri.lower().startswith("https://") and uri.isprintable() else None


def _record_failure(
    run: Run, method: Method, url: str, address: EmailAddress, reply: Reply, *, authenticated: bool = False
) -> None:
    error = reply.error
    if isinstance(error, TLSError):
        outcome = Outcome.TLS_ERROR
    elif isinstance(error, TransportTimeoutError):
        outcome = Outcome.TIMEOUT
    elif isinstance(error, ResponseTooLargeError):
        outcome = Outcome.TOO_LARGE
    elif isinstance(error, ConnectError) or error is not None:
        outcome = Outcome.CONNECT_ERROR
    else:
        outcome = Outcome.CONNECT_ERROR
    run.record(
        method, url, outcome, address, error=str(error) if error else "no response", elapsed=reply.elapsed,
        authenticated=authenticated,
    )  # fmt: skip


_REASONS = {
    400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}  # fmt: skip


def _status_text(status: int) -> str:
    reason = _REASONS.get(status)
    return f"HTTP {status} {reason}" if reason else f"HTTP {status}: not an Autodiscover answer"
