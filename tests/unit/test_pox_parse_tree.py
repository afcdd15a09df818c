"""``_pox.parse_tree``: defusedxml's parser with its element events wired to the C tree builder.

The fast path must mean exactly what defusedxml's own ``fromstring`` means, keep every defusedxml
defence, and fall back to ``fromstring`` when defusedxml does not look like the version it was written
against. Each test here fails if one of those three breaks.
"""

from __future__ import annotations

import os
from pathlib import Path

import defusedxml.ElementTree
import pytest
from test_xml_hardening import BOMBS  # tests/unit is on sys.path (pytest rootdir mode)

from autodiscover_client import InvalidResponseError, parse_response
from autodiscover_client._pox import BASE_NS, MOBILESYNC_NS, OUTLOOK_NS, parse_tree
from autodiscover_client._pox_tree import clark, split
from autodiscover_client.testing import (
    error_body,
    exchange_xml,
    mail_xml,
    mobilesync_body,
    protocol_xml,
    redirect_addr_body,
    redirect_url_body,
    settings_body,
    web_xml,
)

CORPUS = Path(os.environ.get("AUTODISCOVER_CORPUS") or Path(__file__).parents[2].parent / "shared" / "corpus")
LEARN = "https://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"


class _UnknownDefusedParser(defusedxml.ElementTree.DefusedXMLParser):  # type: ignore[misc]  # untyped
    """A defusedxml whose parser installs no doctype handler where this one does."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.parser.StartDoctypeDeclHandler = None


def _bodies() -> dict[str, bytes]:
    built = {
        "exchange": settings_body(
            protocols=[
                exchange_xml("EXCH", server="mail.example.com", ews_url="https://mail.example.com/EWS/Exchange.asmx"),
                web_xml(external_owa="https://mail.example.com/owa/", internal_as_url="https://m.example.com/as"),
                mail_xml("IMAP", "imap.example.com", 993, login_name="zoë@example.com"),
            ],
            display_name="Zoë <Example> & Co",
            smtp=("smtp.example.com", 587),
        ),
        "attributes": settings_body(protocols=[protocol_xml("EXHTTP", Server="x.example.com")]).replace(
            b"<Protocol>", b'<Protocol Type="mapiHttp" Version="1">', 1
        ),
        "comments-and-pi": settings_body(protocols=[protocol_xml("IMAP", Server="imap.example.com")]).replace(
            b"<Protocol>", b"<!-- note --><?php echo 1; ?><Protocol>", 1
        ),
        "redirect-addr": redirect_addr_body("other@example.net"),
        "redirect-url": redirect_url_body("https://autodiscover.example.net/autodiscover/autodiscover.xml"),
        "error": error_body(),
        "mobilesync": mobilesync_body("https://eas.example.com/Microsoft-Server-ActiveSync"),
        "learn-https-namespace": settings_body(protocols=[protocol_xml("IMAP", Server="i.example.com")]).replace(
            BASE_NS.encode(), LEARN.encode()
        ),
        "namespace-starting-with-a-brace": settings_body(protocols=[protocol_xml("IMAP", Server="i.example.com")])
        .replace(BASE_NS.encode(), b"{" + BASE_NS.encode())
        .replace(OUTLOOK_NS.encode(), b"{" + OUTLOOK_NS.encode()),
        "prefixed": (
            f'<a:Autodiscover xmlns:a="{BASE_NS}"><o:Response xmlns:o="{OUTLOOK_NS}"><o:Account>'
            "<o:Action>settings</o:Action><o:Protocol><o:Type>IMAP</o:Type><o:Server>i.example.com</o:Server>"
            f'</o:Protocol></o:Account></o:Response><m:Unused xmlns:m="{MOBILESYNC_NS}"/></a:Autodiscover>'
        ).encode(),
    }
    if CORPUS.is_dir():
        built.update({p.name: p.read_bytes() for p in sorted(CORPUS.glob("*.xml"))})
    return built


BODIES = _bodies()


def _parsed(body: bytes) -> object:
    try:
        return parse_response(body)
    except InvalidResponseError as exc:
        return f"InvalidResponseError: {exc}"


@pytest.mark.parametrize("name", list(BODIES))
def test_the_fast_path_means_what_defusedxml_fromstring_means(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every body (the corpus's when present, and built ones) parses to the same document both ways."""
    fast = _parsed(BODIES[name])
    monkeypatch.setattr(defusedxml.ElementTree, "DefusedXMLParser", _UnknownDefusedParser)
    assert _parsed(BODIES[name]) == fast


def test_the_corpus_took_part() -> None:
    """The comparison above covers real responses whenever the corpus is there."""
    if not CORPUS.is_dir():
        pytest.skip(f"corpus folder {CORPUS} is absent (set AUTODISCOVER_CORPUS to its path to run this test)")
    assert sum(name.endswith(".xml") for name in BODIES) >= 10


def test_the_fast_path_really_is_taken() -> None:
    """The fast path hands expat's ``uri}local`` tags through; the fallback's are ``{uri}local``."""
    root = parse_tree(BODIES["exchange"])
    assert root.tag == f"{BASE_NS}}}Autodiscover"
    assert clark(root.tag) == f"{{{BASE_NS}}}Autodiscover"


def test_the_fallback_really_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fallback parses with defusedxml's fromstring and respells its tags as expat's."""
    calls: list[bytes] = []
    original = defusedxml.ElementTree.fromstring

    def counting(body: bytes, **kwargs: object) -> object:
        calls.append(body)
        return original(body, **kwargs)

    monkeypatch.setattr(defusedxml.ElementTree, "DefusedXMLParser", _UnknownDefusedParser)
    monkeypatch.setattr(defusedxml.ElementTree, "fromstring", counting)
    assert parse_tree(BODIES["exchange"]).tag == f"{BASE_NS}}}Autodiscover"
    assert [BODIES["exchange"]] == calls


def test_attributes_reach_the_tree_as_a_dict() -> None:
    protocol = next(e for e in parse_tree(BODIES["attributes"]).iter() if split(e.tag)[1] == "Protocol")
    assert dict(protocol.attrib) == {"Type": "mapiHttp", "Version": "1"}


@pytest.mark.parametrize("spelling", ["fast", "fallback"])
@pytest.mark.parametrize("bomb", list(BOMBS))
def test_every_defence_holds_on_both_paths(bomb: str, spelling: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if spelling == "fallback":
        monkeypatch.setattr(defusedxml.ElementTree, "DefusedXMLParser", _UnknownDefusedParser)
    with pytest.raises(InvalidResponseError, match="forbidden XML construct"):
        parse_response(BOMBS[bomb].encode())


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        (f"{BASE_NS}}}Autodiscover", (BASE_NS, "Autodiscover")),
        (f"{LEARN}}}Autodiscover", (BASE_NS, "Autodiscover")),
        ("Autodiscover", ("", "Autodiscover")),
        ("urn:a}b}Local", ("urn:a}b", "Local")),  # the last brace ends the namespace: names hold none
        (f"{{{BASE_NS}}}Autodiscover", ("{" + BASE_NS, "Autodiscover")),  # a namespace that starts with "{"
    ],
)
def test_split_reads_expat_spelling(tag: str, expected: tuple[str, str]) -> None:
    assert split(tag) == expected


def test_messages_name_the_root_as_sent() -> None:
    body = b'<Other xmlns="https://schemas.microsoft.com/x"/>'
    with pytest.raises(InvalidResponseError, match=r"root element '\{https://schemas.microsoft.com/x\}Other'"):
        parse_response(body)


def test_bytes_like_bodies_parse_and_a_str_is_a_clear_type_error() -> None:
    body = BODIES["exchange"]
    assert parse_response(bytearray(body)) == parse_response(memoryview(body)) == parse_response(body)
    with pytest.raises(TypeError, match="takes the body as bytes, not str"):
        parse_response(body.decode())  # type: ignore[arg-type]


def test_a_gzip_body_is_named_as_such() -> None:
    import gzip

    with pytest.raises(InvalidResponseError, match="gzip-compressed"):
        parse_response(gzip.compress(BODIES["exchange"]))
