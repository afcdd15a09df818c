"""Malformed URLs from a server (bad IPv6 brackets, ports out of range) are refusals, never a ValueError."""

from __future__ import annotations

import json

import pytest

from autodiscover_client import DiscoveryError, HttpResponse, Method, Outcome, V2Protocol, discover
from autodiscover_client._flow import bearer_authorization_uri
from autodiscover_client._scp import ldap_server, plan
from autodiscover_client.testing import (
    FakeResolver,
    FakeScpSource,
    FakeTransport,
    redirect_response,
    redirect_url_body,
    scp_pointer,
    scp_url,
    xml_response,
)

BAD = ["https://[::1/x", "https://a.example.com:99999/x", "https://a.example.com:xx/", "https://[zz]/x"]
ROOT = "https://example.com/autodiscover/autodiscover.xml"
PROBE = "http://autodiscover.example.com/autodiscover/autodiscover.xml"
V2 = "https://autodiscover.example.com/autodiscover/autodiscover.json/v1.0/user@example.com?Protocol=Ews"


def refused(transport: FakeTransport, **kwargs: object) -> DiscoveryError:
    with pytest.raises(DiscoveryError) as info:
        discover("user@example.com", "pw", resolver=FakeResolver(), transport=transport, **kwargs)  # type: ignore[arg-type]
    return info.value


@pytest.mark.parametrize("bad", BAD)
def test_a_malformed_location_on_a_post_is_refused(bad: str) -> None:
    """HTTP 302 with a broken Location: REDIRECT_DENIED, discovery goes on."""
    error = refused(FakeTransport({ROOT: redirect_response(bad)}), methods=[Method.HTTPS_ROOT])
    assert Outcome.REDIRECT_DENIED == error.attempts[0].outcome
    assert "not a well-formed URL" in (error.attempts[0].error or "")


@pytest.mark.parametrize("bad", BAD)
def test_a_malformed_redirect_url_document_is_refused(bad: str) -> None:
    """Action=redirectUrl with a broken URL: REDIRECT_DENIED."""
    error = refused(FakeTransport({ROOT: xml_response(redirect_url_body(bad))}), methods=[Method.HTTPS_ROOT])
    assert Outcome.REDIRECT_DENIED == error.attempts[0].outcome


@pytest.mark.parametrize("bad", BAD)
def test_a_malformed_location_on_the_http_probe_is_refused(bad: str) -> None:
    """The http probe's redirect with a broken Location: REDIRECT_DENIED."""
    error = refused(FakeTransport({PROBE: redirect_response(bad)}), methods=[Method.HTTP_REDIRECT])
    assert Outcome.REDIRECT_DENIED == error.attempts[0].outcome


@pytest.mark.parametrize("bad", BAD)
def test_malformed_v2_locations_and_answers_are_refused(bad: str) -> None:
    """V2: a broken Location is REDIRECT_DENIED; a broken Url in the answer is INVALID_RESPONSE."""
    error = refused(FakeTransport({V2: redirect_response(bad)}), methods=[Method.V2_JSON], v2_protocol=V2Protocol.EWS)
    assert Outcome.REDIRECT_DENIED == error.attempts[0].outcome
    answer = HttpResponse(status=200, body=json.dumps({"Protocol": "Ews", "Url": bad}).encode())
    error = refused(FakeTransport({V2: answer}), methods=[Method.V2_JSON], v2_protocol=V2Protocol.EWS)
    assert Outcome.INVALID_RESPONSE == error.attempts[0].outcome


@pytest.mark.parametrize("bad", BAD)
def test_malformed_scp_bindings_are_skipped(bad: str) -> None:
    """SCP URLs and pointers that do not parse are skipped with a note, never raised."""
    assert () == plan([scp_url(bad)], domain="example.com", site=None).urls
    assert ldap_server(bad.replace("https", "ldap")) is None
    error = refused(
        FakeTransport(), methods=[Method.SCP], scp_source=FakeScpSource({None: [scp_url(bad), scp_pointer(bad)]})
    )
    assert Outcome.INVALID_RESPONSE == error.attempts[0].outcome


@pytest.mark.parametrize("bad", BAD)
def test_a_malformed_authorization_uri_is_dropped(bad: str) -> None:
    """A broken authorization_uri is not surfaced."""
    assert bearer_authorization_uri(f'Bearer authorization_uri="{bad}"') is None
