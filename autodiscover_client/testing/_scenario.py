"""The fakes wired together (:class:`FakeKit`), and :class:`Scenario`: one mail domain's world in a line or two."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypedDict

from autodiscover_client._address import parse_email
from autodiscover_client._api import discover
from autodiscover_client._errors import AutodiscoverError
from autodiscover_client._models import Settings
from autodiscover_client._policy import RedirectApprover
from autodiscover_client._seams import Clock, HttpRequest, HttpResponse, Resolver, Transport
from autodiscover_client.testing._builders import redirect_response, require_basic_auth, xml_response
from autodiscover_client.testing._fakes import FakeClock, FakeResolver, FakeTransport, RecordingApprover

_PATH = "/autodiscover/autodiscover.xml"

Answer = HttpResponse | bytes | AutodiscoverError | Callable[[HttpRequest], HttpResponse]
"""What a candidate URL answers: a response, a body (sent as a 200 XML response), an error to raise
(e.g. :class:`~autodiscover_client.TLSError`) or a handler."""


class SeamKwargs(TypedDict):
    """``resolver`` and ``transport`` keyword arguments, for ``discover()`` or your own code that takes them."""

    resolver: Resolver
    transport: Transport


class DiscoverKwargs(SeamKwargs, total=False):
    """Keyword arguments for :func:`~autodiscover_client.discover` (and ``Discoverer``): ``discover(email, **kw)``."""

    clock: Clock
    approve_redirect: RedirectApprover


class FakeKit:
    """A fake resolver, transport, clock and recording approver sharing one fake time line.

    By default everything starts empty: no DNS records, and every URL refuses connections.

    Args:
        resolver, transport, clock, approver: Fakes to use instead of new ones. A new transport
            simulates its latency on ``clock``.
    """

    __slots__ = ("approver", "clock", "resolver", "transport")

    def __init__(
        self,
        *,
        resolver: FakeResolver | None = None,
        transport: FakeTransport | None = None,
        clock: FakeClock | None = None,
        approver: RecordingApprover | None = None,
    ) -> None:
        self.clock = clock if clock is not None else FakeClock()
        self.resolver = resolver if resolver is not None else FakeResolver()
        # The transport's simulated latency must move the same clock the deadline reads.
        self.transport = transport if transport is not None else FakeTransport(clock=self.clock)
        self.approver = approver if approver is not None else RecordingApprover()

    def __repr__(self) -> str:
        return f"FakeKit(resolver={self.resolver!r}, transport={self.transport!r}, clock={self.clock!r})"

    def discover_kwargs(self) -> DiscoverKwargs:
        """Return ``resolver``, ``transport``, ``clock`` and ``approve_redirect`` for ``discover(email, **kw)``."""
        return DiscoverKwargs(
            resolver=self.resolver, transport=self.transport, clock=self.clock, approve_redirect=self.approver
        )


def _as_route(answer: Answer) -> HttpResponse | AutodiscoverError | Callable[[HttpRequest], HttpResponse]:
    return xml_response(answer) if isinstance(answer, bytes) else answer


class Scenario:
    """What one mail domain's candidates answer, set up fluently on a :class:`FakeKit`.

    Every candidate not set up refuses connections, which is what dead hosts do. Methods return the
    scenario, so a set-up reads as one sentence::

        scenario = Scenario("example.com").srv("mail.example.com").root(html_response()).autodiscover(body)
        settings = discover("ann@example.com", "pw", **scenario.discover_kwargs())

    Args:
        domain: The mail domain (internationalised names are converted as ``discover()`` converts them).
        kit: The fakes to configure; new ones by default. Share a kit between domains with :meth:`for_domain`.
    """

    def __init__(self, domain: str = "example.com", *, kit: FakeKit | None = None) -> None:
        # The domain as discover() will see it (IDNA A-labels, lower case), so the URLs match.
        self.domain = parse_email(f"scenario@{domain.rstrip('.')}").domain
        self.kit = kit if kit is not None else FakeKit()

    def __repr__(self) -> str:
        return f"Scenario({self.domain!r})"

    @property
    def resolver(self) -> FakeResolver:
        """The fake resolver."""
        return self.kit.resolver

    @property
    def transport(self) -> FakeTransport:
        """The fake transport; its ``requests`` record every request, without secrets."""
        return self.kit.transport

    @property
    def clock(self) -> FakeClock:
        """The fake clock."""
        return self.kit.clock

    @property
    def approver(self) -> RecordingApprover:
        """The redirect approver; it records every proposal and denies all unless told otherwise."""
        return self.kit.approver

    # --- URLs of the candidates (DESIGN §3) ---------------------------------------------------------

    @property
    def root_url(self) -> str:
        """``https://<domain>/autodiscover/autodiscover.xml``."""
        return f"https://{self.domain}{_PATH}"

    @property
    def autodiscover_url(self) -> str:
        """``https://autodiscover.<domain>/autodiscover/autodiscover.xml``."""
        return f"https://autodiscover.{self.domain}{_PATH}"

    @property
    def probe_url(self) -> str:
        """``http://autodiscover.<domain>/autodiscover/autodiscover.xml``, the unauthenticated redirect probe."""
        return f"http://autodiscover.{self.domain}{_PATH}"

    # --- fluent set-up ------------------------------------------------------------------------------

    def for_domain(self, domain: str) -> Scenario:
        """Return a scenario for another domain on the same fakes (for address and URL redirects)."""
        return Scenario(domain, kit=self.kit)

    def srv(self, target: str, port: int = 443, *answers: Answer, priority: int = 0, weight: int = 0) -> Scenario:
        """Publish ``_autodiscover._tcp.<domain>`` pointing at ``target:port``; ``answers`` (if any) are its replies.

        The target's URL is ``https://target/…`` on port 443 and ``https://target:port/…`` otherwise.
        """
        self.resolver.add_srv(f"_autodiscover._tcp.{self.domain}", target, port, priority=priority, weight=weight)
        if answers:
            authority = target.rstrip(".").lower() + ("" if port == 443 else f":{port}")
            self.url(f"https://{authority}{_PATH}", *answers)
        return self

    def root(self, *answers: Answer) -> Scenario:
        """Set what ``https://<domain>/…`` answers; several answers are given in turn, the last repeating."""
        return self.url(self.root_url, *answers)

    def autodiscover(self, *answers: Answer) -> Scenario:
        """Set what ``https://autodiscover.<domain>/…`` answers."""
        return self.url(self.autodiscover_url, *answers)

    def http_redirect(self, location: str, status: int = 302) -> Scenario:
        """Make the plain-http probe answer an HTTP redirect to ``location``."""
        return self.url(self.probe_url, redirect_response(location, status), method="GET")

    def url(self, url: str, *answers: Answer, method: str = "*") -> Scenario:
        """Set what any URL answers (bodies become 200 XML responses)."""
        if not answers:
            raise ValueError("give at least one answer")
        routes = [_as_route(answer) for answer in answers]
        self.transport.add_route(url, routes[0] if len(routes) == 1 else routes, method=method)
        return self

    def challenge(self, *, username: str | None = None, password: str | None = None) -> Scenario:
        """Put the root and autodiscover URLs set so far behind Basic auth: 401 until credentials arrive.

        With ``username``/``password``, only those credentials are accepted (others get 401 again).
        Only single responses are wrapped; sequences and handlers you gave are left as they are.
        """
        for url in (self.root_url, self.autodiscover_url):
            route = self.transport.route_for(url)
            if isinstance(route, HttpResponse):
                self.transport.add_route(url, require_basic_auth(route, username=username, password=password))
        return self

    def allow_redirects_to(self, *hosts: str) -> Scenario:
        """Let the approver accept redirects to these hosts (it still records every proposal)."""
        self.approver.allow.update(host.lower() for host in hosts)
        return self

    # --- running ------------------------------------------------------------------------------------

    def discover_kwargs(self) -> DiscoverKwargs:
        """Return the fakes as keyword arguments: ``discover(email, password, **scenario.discover_kwargs())``."""
        return self.kit.discover_kwargs()

    def seams(self) -> SeamKwargs:
        """Return just ``resolver`` and ``transport``, for code of yours that takes those two."""
        return SeamKwargs(resolver=self.resolver, transport=self.transport)

    def discover(self, email: str, password: str | None = None, **options: object) -> Settings:
        """Run :func:`~autodiscover_client.discover` against this scenario; ``options`` go to it as well."""
        return discover(email, password, **self.discover_kwargs(), **options)  # type: ignore[arg-type]

    # --- one-liners ---------------------------------------------------------------------------------

    @classmethod
    def root_dead_autodiscover_answers(
        cls, domain: str, settings: Answer, *, username: str | None = None, password: str | None = None
    ) -> Scenario:
        """The root domain refuses connections; ``autodiscover.<domain>`` challenges, then answers ``settings``.

        This is the most common real-world layout (PROTOCOL.md §1).
        """
        return cls(domain).autodiscover(settings).challenge(username=username, password=password)

    @classmethod
    def root_answers(
        cls, domain: str, settings: Answer, *, username: str | None = None, password: str | None = None
    ) -> Scenario:
        """``https://<domain>/…`` challenges, then answers ``settings``."""
        return cls(domain).root(settings).challenge(username=username, password=password)

    @classmethod
    def srv_answers(
        cls, domain: str, target: str, settings: Answer, *, port: int = 443, username: str | None = None,
        password: str | None = None,
    ) -> Scenario:  # fmt: skip
        """SRV points at ``target:port``, which challenges and then answers ``settings``; nothing else answers."""
        scenario = cls(domain).srv(target, port)
        authority = target.rstrip(".").lower() + ("" if port == 443 else f":{port}")
        route = _as_route(settings)
        if isinstance(route, HttpResponse):
            route = require_basic_auth(route, username=username, password=password)
        return scenario.url(f"https://{authority}{_PATH}", route)
