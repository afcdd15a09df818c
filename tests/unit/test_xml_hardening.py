"""XML bombs are refused quickly, with bounded memory, as typed errors (DESIGN §4 rule 6, issue 3 item 5)."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from autodiscover_client import InvalidResponseError, parse_response
from autodiscover_client._pox import BASE_NS, OUTLOOK_NS

ACCOUNT = (
    f'<Autodiscover xmlns="{BASE_NS}"><Response xmlns="{OUTLOOK_NS}"><Account><Action>settings</Action>'
    "<Protocol><Type>IMAP</Type><Server>&x;</Server></Protocol></Account></Response></Autodiscover>"
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE Autodiscover [<!ENTITY x0 "ha">'
    + "".join(f'<!ENTITY x{i} "{f"&x{i - 1};" * 10}">' for i in range(1, 12))
    + '<!ENTITY x "&x11;">]>'
    + ACCOUNT
)  # 10**11 "ha" if expanded
BOMBS = {
    "billion-laughs": LAUGHS,
    "quadratic-blowup": '<!DOCTYPE Autodiscover [<!ENTITY x "'
    + "A" * 100_000
    + '">]>'
    + ACCOUNT.replace("&x;", "&x;" * 5_000),  # 500 MB if expanded, from a 130 kB body
    "external-entity": '<!DOCTYPE Autodiscover [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + ACCOUNT,
    "external-parameter-entity": '<!DOCTYPE Autodiscover [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]>'
    + ACCOUNT.replace("&x;", "x"),
    "external-dtd": '<!DOCTYPE Autodiscover SYSTEM "http://127.0.0.1:9/autodiscover.dtd">'
    + ACCOUNT.replace("&x;", "x"),
    "internal-dtd-only": "<!DOCTYPE Autodiscover []>" + ACCOUNT.replace("&x;", "x"),
}
MEMORY_BOUND = 16 * 1024 * 1024  # generous next to the bodies, tiny next to any expansion


@pytest.mark.parametrize("body", list(BOMBS.values()), ids=list(BOMBS))
def test_bombs_are_refused_fast_with_bounded_memory(body: str) -> None:
    """Each bomb raises InvalidResponseError within 0.5 s, allocating well under 16 MiB on the way."""
    data = body.encode()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(InvalidResponseError) as info:
            parse_response(data)
        elapsed = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 0.5
    assert peak < MEMORY_BOUND, f"peak {peak} bytes"
    assert "forbidden XML construct" in str(info.value)


def test_the_entity_is_never_resolved() -> None:
    """An external entity naming a local file is refused, so the file's content can never reach a result."""
    with pytest.raises(InvalidResponseError) as info:
        parse_response(BOMBS["external-entity"].encode())
    assert "root:" not in str(info.value)
