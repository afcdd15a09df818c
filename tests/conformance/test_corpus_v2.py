"""Conformance of the Autodiscover V2 samples (25-30) with their sidecars (PROTOCOL.md §7).

Read at test time from ``../shared/corpus/`` (or ``AUTODISCOVER_CORPUS``), never copied here; skipped
with a reason when the corpus is absent. Each sidecar's typed expectation is encoded in :data:`TYPED`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from autodiscover_client import (
    DiscoveryError,
    HttpResponse,
    Method,
    Outcome,
    V2Endpoint,
    V2Error,
    V2Protocol,
    discover,
    parse_v2_response,
)
from autodiscover_client._v2 import redirect_count
from autodiscover_client.testing import FakeResolver, FakeTransport

pytestmark = pytest.mark.conformance

CORPUS = Path(os.environ.get("AUTODISCOVER_CORPUS") or Path(__file__).parents[2].parent / "shared" / "corpus")


def _v2_samples() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".json", ".http"))


def _decoded_json(sample: Path) -> object:
    text = sample.with_suffix(".md").read_text(encoding="utf-8")
    blocks = re.findall(r"```json\s*\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, f"{sample.name}: the sidecar has no Decoded JSON block"
    return json.loads(blocks[0])


def _http(sample: Path) -> tuple[int, dict[str, str], bytes]:
    head, _, body = sample.read_bytes().replace(b"\r\n", b"\n").partition(b"\n\n")
    lines = head.decode().splitlines()
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def _25(parsed: object) -> None:
    # - protocol="Autodiscoverv1", url="https://outlook.office365.com/autodiscover/autodiscover.xml"
    assert V2Endpoint(protocol="Autodiscoverv1", url="https://outlook.office365.com/autodiscover/autodiscover.xml") == (
        parsed
    )


def _27(parsed: object) -> None:
    # - protocol="ActiveSync", url="https://mail.example.com/Microsoft-Server-ActiveSync"
    assert V2Endpoint(protocol="ActiveSync", url="https://mail.example.com/Microsoft-Server-ActiveSync") == parsed


def _28(parsed: object) -> None:
    # - error_code="InvalidProtocol"; error_message="The given protocol value 'Ews' is invalid. ..."
    assert (
        V2Error(
            code="InvalidProtocol",
            message="The given protocol value 'Ews' is invalid. Supported values are 'ActiveSync,AutodiscoverV1'",
        )
        == parsed
    )


def _29(parsed: object) -> None:
    # - protocol="Ews", url="https://mail.example.com/EWS/Exchange.asmx"
    assert V2Endpoint(protocol="Ews", url="https://mail.example.com/EWS/Exchange.asmx") == parsed


def _30(parsed: object) -> None:
    # - error_code="ProtocolNotSupported"; status code is NOT a reliable success signal - check for "Url"
    assert isinstance(parsed, V2Error)
    assert "ProtocolNotSupported" == parsed.code


TYPED: dict[str, Callable[[object], None]] = {"25": _25, "27": _27, "28": _28, "29": _29, "30": _30}


@pytest.mark.parametrize("sample", [p for p in _v2_samples() if p.suffix == ".json"], ids=lambda p: p.name[:2])
def test_json_sample_meets_its_sidecar(sample: Path) -> None:
    """The parse of each V2 JSON sample equals its sidecar's Decoded JSON and typed expectations."""
    body = sample.read_bytes()
    assert _decoded_json(sample) == json.loads(body)
    check = TYPED.get(sample.name[:2])
    assert check is not None, f"no typed expectations encoded for {sample.name}"
    check(parse_v2_response(body))


def test_sample_26_is_a_v2_redirect_followed_within_the_budget() -> None:
    """26: status=302; location parsed; redirect_count=1; followed only as https, within the budget."""
    sample = next((p for p in _v2_samples() if p.name.startswith("26-")), None)
    if sample is None:
        pytest.skip(f"corpus sample 26 not found under {CORPUS} (set AUTODISCOVER_CORPUS)")
    status, headers, body = _http(sample)
    location = headers["location"]
    assert (302, 1) == (status, redirect_count(location))
    start = "https://autodiscover.example.com/autodiscover/autodiscover.json/v1.0/nonexistent@example.com?Protocol=Ews"
    transport = FakeTransport({
        start: HttpResponse(status=status, headers=tuple(headers.items()), body=body),
        location: HttpResponse(status=404, body=b""),
    })  # fmt: skip
    with pytest.raises(DiscoveryError) as info:
        discover(
            "nonexistent@example.com", methods=[Method.V2_JSON], v2_protocol=V2Protocol.EWS, resolver=FakeResolver(),
            transport=transport, allowed_hosts=["outlook.office365.com"],
        )  # fmt: skip
    first = info.value.attempts[0]
    assert (Outcome.REDIRECT_URL, 302) == (first.outcome, first.status)
    assert location in (first.error or "")
    assert all(not r.authenticated for r in transport.requests)


@pytest.mark.parametrize(("name", "status"), [("28", 400), ("30", 200)])
def test_error_samples_fail_whatever_the_status(name: str, status: int) -> None:
    """28 (mailcow, HTTP 400) and 30 (gromox, HTTP 200) are both a server error of that host."""
    sample = next((p for p in _v2_samples() if p.name.startswith(f"{name}-")), None)
    if sample is None:
        pytest.skip(f"corpus sample {name} not found under {CORPUS} (set AUTODISCOVER_CORPUS)")
    url = "https://autodiscover.example.com/autodiscover/autodiscover.json/v1.0/user@example.com?Protocol=Ews"
    transport = FakeTransport({url: HttpResponse(status=status, body=sample.read_bytes())})
    with pytest.raises(DiscoveryError) as info:
        discover("user@example.com", methods=[Method.V2_JSON], v2_protocol=V2Protocol.EWS, resolver=FakeResolver(),
                 transport=transport)  # fmt: skip
    assert (Outcome.SERVER_ERROR, status) == (info.value.attempts[0].outcome, info.value.attempts[0].status)


def test_the_corpus_is_present_or_the_v2_checks_say_why() -> None:
    """With no corpus the parametrised checks collect nothing: say so instead of passing silently."""
    if not _v2_samples():
        pytest.skip(f"no V2 samples under {CORPUS} (set AUTODISCOVER_CORPUS)")
    assert {"25", "26", "27", "28", "29", "30"} <= {p.name[:2] for p in _v2_samples()}
