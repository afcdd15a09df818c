"""How the public API types for a user. Type-checked by ``mypy --strict`` (see pyproject ``files``), never run.

Each line is something a user writes; ``assert_type`` pins what the type checker infers, so a change of a
public signature or attribute type fails ``mypy`` even when every test still passes. pytest does not collect
this file (its name does not match ``test_*.py``, and pyproject's ``addopts`` ignore ``tests/typing``).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

from typing_extensions import assert_type

import autodiscover_client
from autodiscover_client import (
    DEFAULT_ORDER,
    MICROSOFT_ORDER,
    Attempt,
    AuthenticationError,
    AutodiscoverError,
    BasicCredentials,
    Clock,
    DeadlineExceededError,
    Discoverer,
    DiscoveryError,
    DnspythonResolver,
    EmailAddress,
    HttpRequest,
    HttpResponse,
    InvalidEmailError,
    Method,
    Outcome,
    ProtocolSettings,
    RedirectApprover,
    RedirectDeniedError,
    RedirectProposal,
    RedirectReason,
    RequestsTransport,
    Resolver,
    Schema,
    Security,
    Settings,
    Source,
    SrvRecord,
    Transport,
    User,
    deny_all,
    discover,
    parse_email,
)
from autodiscover_client.testing import (
    FakeClock,
    FakeResolver,
    FakeTransport,
    LocalAutodiscoverServer,
    LocalDnsServer,
    RecordingApprover,
    SentRequest,
    settings_body,
    unauthorized_response,
    xml_response,
)

# --- The one call -------------------------------------------------------------------------------------------

settings = discover("jane@example.com", "her-password")
assert_type(settings, Settings)
assert_type(discover("jane@example.com"), Settings)  # anonymous
assert_type(discover("jane@example.com", None, username="EXAMPLE\\jane"), Settings)
assert_type(discover("jane@example.com", credentials=BasicCredentials("jane", "pw")), Settings)
discover(
    "jane@example.com",
    "pw",
    methods=MICROSOFT_ORDER,
    timeout=10,  # an int is a float
    request_timeout=2.5,
    resolver=DnspythonResolver(nameservers=[("127.0.0.1", 53)]),
    transport=RequestsTransport(
        ca_bundle="ca.pem", connect_to={("autodiscover.example.com", 443): ("127.0.0.1", 8443)}
    ),
    approve_redirect=lambda proposal: proposal.host.endswith(".example.net"),
    allowed_hosts=["mail.example.net"],
    schema=Schema.MOBILESYNC,
    user_agent="my-tool/1.0",
    clock=FakeClock(),
)
discover("jane@example.com", methods=[Method.SRV, Method.HTTPS_AUTODISCOVER])
discover("jane@example.com", methods={Method.SRV})  # any iterable of methods
assert_type(DEFAULT_ORDER, tuple[Method, ...])
assert_type(autodiscover_client.__version__, str)

# --- Results ------------------------------------------------------------------------------------------------

assert_type(settings.email, str)
assert_type(settings.ews_url, str | None)
assert_type(settings.activesync_url, str | None)
assert_type(settings.imap, ProtocolSettings | None)
assert_type(settings.smtp, ProtocolSettings | None)
assert_type(settings.pop3, ProtocolSettings | None)
assert_type(settings.exchange, ProtocolSettings | None)
assert_type(settings.protocol("IMAP"), ProtocolSettings | None)
assert_type(settings.protocols, tuple[ProtocolSettings, ...])
assert_type(settings.user, User | None)
assert_type(settings.source, Source)
assert_type(settings.source.method, Method)
assert_type(settings.attempts, tuple[Attempt, ...])
assert_type(settings.to_dict(), dict[str, Any])

if settings.imap is not None:
    assert_type(settings.imap.server, str | None)
    assert_type(settings.imap.port, int | None)
    assert_type(settings.imap.security, Security | None)
    assert_type(settings.imap.security_conflict, bool)
    assert_type(settings.imap.server_version_info, tuple[int, int, int] | None)

attempt = settings.attempts[0]
assert_type(attempt.method, Method)
assert_type(attempt.outcome, Outcome)
assert_type(attempt.status, int | None)
assert_type(attempt.error, str | None)
assert_type(attempt.elapsed, float)
assert_type(attempt.authenticated, bool)
assert_type(attempt.describe(), str)
if attempt.outcome is Outcome.TLS_ERROR:
    pass

restored: Settings = pickle.loads(pickle.dumps(settings))

# --- Errors -------------------------------------------------------------------------------------------------

try:
    discover("jane@example.com", "pw")
except InvalidEmailError as bad:
    as_value_error: ValueError = bad  # also a ValueError
except AuthenticationError as rejected:
    assert_type(rejected.attempts, tuple[Attempt, ...])
except (RedirectDeniedError, DeadlineExceededError) as other:
    as_discovery_error: DiscoveryError = other
except DiscoveryError as error:
    assert_type(error.email, str)
    assert_type(error.message, str)
    assert_type(error.attempts, tuple[Attempt, ...])
    assert_type(error.to_dict(), dict[str, object])
except AutodiscoverError:
    pass

# --- Reuse --------------------------------------------------------------------------------------------------

with Discoverer(timeout=15.0, allowed_hosts=("mail.example.net",)) as discoverer:
    assert_type(discoverer, Discoverer)
    assert_type(discoverer.discover("jane@example.com", "pw"), Settings)
    assert_type(discoverer.discover("jane@example.com", username="jane"), Settings)
Discoverer().close()

# --- Addresses ----------------------------------------------------------------------------------------------

address = parse_email("Jane@Bücher.example")
assert_type(address, EmailAddress)
assert_type(address.domain, str)
assert_type(str(address), str)

# --- Seams: users satisfy the Protocols with their own classes, no subclassing ------------------------------


class TableResolver:
    def resolve_srv(self, name: str, *, timeout: float) -> Sequence[SrvRecord]:
        return [SrvRecord(priority=0, weight=0, port=443, target="mail.example.com")]

    def resolve_addresses(self, host: str, *, timeout: float) -> Sequence[str]:
        return ["127.0.0.1"]


class CannedTransport:
    def send(self, request: HttpRequest, *, timeout: float) -> HttpResponse:
        assert_type(request.url, str)
        assert_type(request.headers, tuple[tuple[str, str], ...])
        return HttpResponse(status=404)


class FrozenClock:
    def monotonic(self) -> float:
        return 0.0


resolver: Resolver = TableResolver()
transport: Transport = CannedTransport()
clock: Clock = FrozenClock()
discover("jane@example.com", resolver=resolver, transport=transport, clock=clock)

# The shipped adapters and fakes satisfy the seams too.
resolvers: list[Resolver] = [DnspythonResolver(), FakeResolver()]
transports: list[Transport] = [RequestsTransport(), FakeTransport()]
clocks: list[Clock] = [FakeClock()]


def approve(proposal: RedirectProposal, /) -> bool:
    assert_type(proposal.reason, RedirectReason)
    return proposal.reason is RedirectReason.URL_REDIRECT


approvers: list[RedirectApprover] = [approve, deny_all, RecordingApprover(allow=["mail.example.net"])]
assert_type(HttpResponse(status=200).header("Location"), str | None)
assert_type(BasicCredentials("jane", "pw").authorization(), str)

# --- testing ------------------------------------------------------------------------------------------------

fake = FakeTransport(
    {"https://example.com/autodiscover/autodiscover.xml": [unauthorized_response(), xml_response(settings_body())]},
)
assert_type(fake.requests, tuple[SentRequest, ...])
assert_type(fake.credentials_sent_to(), tuple[str, ...])
assert_type(settings_body(ews_url="https://mail.example.com/EWS/Exchange.asmx"), bytes)

with LocalDnsServer() as dns_server, LocalAutodiscoverServer() as web:
    assert_type(dns_server.address, tuple[str, int])
    assert_type(web.ca_bundle, str)
    assert_type(web.connect_overrides, dict[tuple[str, int], tuple[str, int]])

# --- What must NOT type-check: with warn_unused_ignores (strict), each ignore fails mypy once it is unneeded --

discover("jane@example.com", "pw", "EXAMPLE\\jane")  # type: ignore[call-arg]  # options are keyword-only
Discoverer(DEFAULT_ORDER)  # type: ignore[call-arg]  # so are Discoverer's
settings.email = "other@example.com"  # type: ignore[misc]  # results are frozen
Source(Method.SRV, "https://x.example/")  # type: ignore[call-arg]  # and keyword-only
discover(b"jane@example.com")  # type: ignore[arg-type]  # the address is text
