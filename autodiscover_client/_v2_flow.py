"""The Autodiscover V2 method flow (PROTOCOL.md §7): GET the JSON endpoints, follow redirects, use the answer.

Like every method flow it does no I/O: it yields :class:`~autodiscover_client._flow.HttpCall` operations.
The JSON itself is ``_v2``'s business.
"""

from __future__ import annotations

from ._address import EmailAddress
from ._errors import InvalidResponseError, ResponseTooLargeError
from ._flow import (
    MAX_HOPS,
    REDIRECT_STATUSES,
    Flow,
    Found,
    HttpCall,
    MethodResult,
    Run,
    _follow,
    _post_flow,
    _record_failure,
    _status_text,
    bearer_authorization_uri,
    join_location,
    normalise_url,
)
from ._models import Method, Outcome, is_web_url
from ._pox import SettingsDocument
from ._seams import HttpRequest
from ._v2 import (
    OFFICE365_HOST,
    V2Endpoint,
    V2Error,
    V2Protocol,
    decode_body,
    parse_v2_response,
    query_url,
    redirect_count,
    request_url,
)


def v2_hosts(run: Run, address: EmailAddress) -> tuple[str, ...]:
    """The hosts V2 asks: ``outlook.office365.com`` only if the caller opted in, then the mail domain's.

    V2 sends no credentials, so asking Exchange Online leaks no secret; but it tells Microsoft the
    address, and its 200/302 difference reveals whether the mailbox exists (PROTOCOL.md §7).
    """
    own = (f"autodiscover.{address.domain}", address.domain)
    return ((OFFICE365_HOST,) if run.v2_office365 else ()) + own


def v2_flow(run: Run, address: EmailAddress) -> Flow[MethodResult]:
    """Ask each V2 host; a 404 on the path form is retried once in the query form on the same host.

    gromox serves both forms; other servers route only ``autodiscover.json?Email=…`` (PROTOCOL.md §7).
    """
    for host in v2_hosts(run, address):
        url = request_url(host, str(address), run.v2_protocol)
        result = yield from _v2_get(run, address, url)
        if result is None and run.attempts and (run.attempts[-1].url, run.attempts[-1].status) == (url, 404):
            result = yield from _v2_get(run, address, query_url(host, str(address), run.v2_protocol))
        if result is not None:
            return result
    return None


def _v2_get(run: Run, address: EmailAddress, url: str) -> Flow[MethodResult]:
    """GET a V2 URL without credentials, following https redirects within the shared budget."""
    method = Method.V2_JSON
    while True:
        key = (str(address).casefold(), normalise_url(url))
        if run.seen(key):
            run.record(method, url, Outcome.REDIRECT_LOOP, address, error="already tried in this run")
            return None
        run.mark(key)
        headers = (("Accept", "application/json"), ("User-Agent", run.user_agent))
        reply = yield HttpCall(HttpRequest(method="GET", url=url, headers=headers), method)
        response = reply.response
        if response is None:
            _record_failure(run, method, url, address, reply)
            return None
        common: dict[str, object] = {"status": response.status, "elapsed": reply.elapsed}
        if response.status in REDIRECT_STATUSES:
            location = response.header("Location")
            if not location:
                run.record(method, url, Outcome.HTTP_ERROR, address, error="a redirect without Location", **common)
                return None
            target = join_location(url, location)
            count = redirect_count(target)
            if count is not None and count > MAX_HOPS:
                # Exchange Online counts its own hops in RedirectCount (PROTOCOL.md §7): obey it too.
                run.record(
                    method, url, Outcome.REDIRECT_LIMIT, address,
                    error=f"redirect to {target} refused: RedirectCount {count} exceeds {MAX_HOPS}", **common,
                )  # fmt: skip
                return None
            next_url = _follow(run, method, address, url, target, common)
            if next_url is None:
                return None
            url = next_url
            continue
        if response.status == 401:
            # V2 is unauthenticated by design; a challenge here is a dead end, never answered.
            run.record(
                method, url, Outcome.UNAUTHORIZED, address, error="V2 asked for credentials; V2 never sends them",
                authorization_uri=bearer_authorization_uri(response.header("WWW-Authenticate")), **common,
            )  # fmt: skip
            return None
        try:
            document = parse_v2_response(decode_body(response.body, response.header("Content-Encoding")))
        except (InvalidResponseError, ResponseTooLargeError) as exc:
            outcome = Outcome.TOO_LARGE if isinstance(exc, ResponseTooLargeError) else Outcome.INVALID_RESPONSE
            if not 200 <= response.status < 300 and outcome is Outcome.INVALID_RESPONSE:
                outcome, exc = Outcome.HTTP_ERROR, InvalidResponseError(_status_text(response.status))
            run.record(method, url, outcome, address, error=str(exc), **common)
            return None
        if isinstance(document, V2Error):
            # Errors come with HTTP 200 (gromox, Exchange Online) or 4xx (mailcow): the body decides.
            run.record(method, url, Outcome.SERVER_ERROR, address, error=document.describe(), **common)
            return None
        return (yield from _v2_answer(run, address, url, document, common))


def _v2_answer(
    run: Run, address: EmailAddress, url: str, answer: V2Endpoint, common: dict[str, object]
) -> Flow[MethodResult]:
    method = Method.V2_JSON
    wanted = run.v2_protocol.value
    if answer.protocol and answer.protocol.casefold() != wanted.casefold():
        run.record(
            method, url, Outcome.INVALID_RESPONSE, address,
            error=f"asked for Protocol={wanted}, the answer is for {answer.protocol!r}", **common,
        )  # fmt: skip
        return None
    if not (is_web_url(answer.url) and answer.url.lower().startswith("https://")):
        # Never used silently: an http URL would carry credentials in clear later (DESIGN §4 rule 2).
        run.record(
            method, url, Outcome.INVALID_RESPONSE, address,
            error=f"the V2 answer {answer.url!r} is not an https URL; it is not used", **common,
        )  # fmt: skip
        return None
    if run.v2_protocol is V2Protocol.AUTODISCOVER_V1:
        # The POX endpoint named by V2 is a redirect target like any other: same policy, same budget.
        next_url = _follow(run, method, address, url, answer.url, common)
        if next_url is None:
            return None
        return (yield from _post_flow(run, address, method, next_url))
    run.record(method, url, Outcome.SETTINGS, address, **common)
    return Found(document=SettingsDocument(schema=run.schema), method=method, url=url, email=str(address), v2=answer)
