"""RequestsTransport refuses options that would weaken it, and URLs parsers could read differently."""

from __future__ import annotations

from pathlib import Path

import pytest

from autodiscover_client import HttpRequest, RequestsTransport, TransportError


@pytest.mark.parametrize("bundle", ["", "/nonexistent/ca.pem"])
def test_an_empty_or_missing_ca_bundle_is_refused_rather_than_verification_turned_off(bundle: str) -> None:
    """``ca_bundle=""`` would be ``verify=""`` to requests, i.e. no verification: it is refused up front."""
    with pytest.raises(ValueError, match="ca_bundle"):
        RequestsTransport(ca_bundle=bundle)


def test_a_directory_is_not_a_ca_bundle(tmp_path: Path) -> None:
    """A directory is refused with the same clear error."""
    with pytest.raises(ValueError, match="is not a file"):
        RequestsTransport(ca_bundle=tmp_path)


def test_the_transport_refuses_a_url_with_a_backslash_before_connecting() -> None:
    """Even if a caller's core hands it one, the transport never sends to an ambiguous URL."""
    with RequestsTransport() as transport, pytest.raises(TransportError, match="characters"):
        transport.send(HttpRequest(method="GET", url="https://127.0.0.1\\@example.com/"), timeout=1.0)


def test_transport_errors_read_without_urllib3_reprs() -> None:
    """The trail gets the innermost message, not ``('Connection aborted.', BadStatusLine(...))`` or pool reprs."""
    import http.client

    import requests  # noqa: TID251 -- the test builds the exceptions requests raises, to check their mapping
    import urllib3.exceptions

    from autodiscover_client._http import _translate

    aborted = requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", http.client.BadStatusLine("HELLO WORLD"))
    )
    assert "BadStatusLine: HELLO WORLD" == str(_translate(aborted, "https://x.example/"))
    refused = requests.exceptions.ConnectionError(
        "_HTTPSConnection(host='127.0.0.1', port=443): Failed to establish a new connection: [Errno 111] refused"
    )
    assert "Failed to establish a new connection: [Errno 111] refused" == str(_translate(refused, "https://x.example/"))
