"""Typed result detail: WEB and mapiHttp URLs, alternative mailboxes, public folders, ServerVersion, insecure URLs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from autodiscover_client import Method, MobileSyncServer, ProtocolSettings, Settings, Source, discover
from autodiscover_client.testing import FakeResolver, FakeTransport, protocol_xml, settings_body, xml_response

CORPUS = Path(os.environ.get("AUTODISCOVER_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
ROOT = "https://example.com/autodiscover/autodiscover.xml"


def corpus(name: str) -> bytes:
    matches = sorted(CORPUS.glob(f"{name}-*.xml")) if CORPUS.is_dir() else []
    if not matches:
        pytest.skip(f"corpus sample {name} not found under {CORPUS} (set AUTODISCOVER_CORPUS)")
    return matches[0].read_bytes()


def found(body: bytes) -> Settings:
    return discover(
        "user@example.com", resolver=FakeResolver(), transport=FakeTransport({ROOT: xml_response(body)}),
        methods=[Method.HTTPS_ROOT],
    )  # fmt: skip


def test_corpus_19_mapi_http_alternative_mailbox_public_folders_and_version() -> None:
    """gromox's answer: mapiHttp Internal/External URLs, a Delegate mailbox, the PF address, 15.0.847."""
    settings = found(corpus("19"))
    assert ["EXHTTP", "mapiHttp", "EXCH", "EXPR"] == [p.type for p in settings.protocols]
    mapi = settings.mapi_http
    assert mapi is not None
    assert mapi.mail_store is not None
    assert mapi.address_book is not None
    assert "1" == mapi.version
    assert (mapi.mail_store.internal_url or "").startswith("https://mail.example.com/mapi/emsmdb/")
    assert (mapi.address_book.external_url or "").startswith("https://mail.example.com/mapi/nspi/")
    exch = settings.protocol("EXCH")
    assert exch is not None
    assert (15, 0, 847) == exch.server_version_info
    (box,) = settings.alternative_mailboxes
    assert ("Delegate", "Boss User", "boss@example.com", "boss@example.com") == (
        box.type, box.display_name, box.smtp_address, box.owner_smtp_address,
    )  # fmt: skip
    assert "public.folder.root@example.com" == settings.public_folder_smtp_address
    assert () == settings.insecure_urls
    data = settings.to_dict()
    assert [15, 0, 847] == data["protocols"][2]["server_version_info"]
    json.dumps(data)


def test_corpus_02_web_internal_and_external_blocks() -> None:
    """MS-OXDSCLI §4.4: WEB External has one Fba OWA URL and a nested EXPR ASUrl; no EwsUrl anywhere."""
    settings = found(corpus("02"))
    web = settings.web
    assert web is not None
    assert web.external is not None
    assert web.internal is not None
    assert [("https://mail.Example.com/owa", "Fba")] == [
        (o.url, o.authentication_method) for o in web.external.owa_urls
    ]
    assert ("EXPR", "https://mail.Example.com/ews/exchange.asmx") == (web.external.protocol_type, web.external.as_url)
    assert 2 == len(web.internal.owa_urls)
    assert settings.ews_url is None


def test_http_urls_are_flagged_and_never_returned_by_the_accessors() -> None:
    """An http EwsUrl is listed in insecure_urls and skipped by ews_url, which falls back to EXCH's https one."""
    body = settings_body(
        protocols=[
            protocol_xml(
                "EXPR", EwsUrl="http://mail.example.com/EWS/Exchange.asmx", OABUrl="http://mail.example.com/OAB"
            ),
            protocol_xml("EXCH", EwsUrl="https://mail.example.com/EWS/Exchange.asmx"),
        ]
    )
    settings = found(body)
    assert "https://mail.example.com/EWS/Exchange.asmx" == settings.ews_url
    assert ("http://mail.example.com/EWS/Exchange.asmx", "http://mail.example.com/OAB") == settings.insecure_urls
    assert settings.protocols[0].ews_url == "http://mail.example.com/EWS/Exchange.asmx"  # kept as sent
    assert list(settings.insecure_urls) == settings.to_dict()["insecure_urls"]


def test_an_only_http_ews_url_gives_none() -> None:
    """With nothing but an http EwsUrl, ews_url is None rather than a URL that would leak credentials."""
    settings = found(settings_body(protocols=[protocol_xml("EXPR", EwsUrl="HTTP://mail.example.com/ews")]))
    assert settings.ews_url is None
    assert ("HTTP://mail.example.com/ews",) == settings.insecure_urls


def test_http_activesync_and_v2_urls_are_flagged() -> None:
    """activesync_url skips an http MobileSync server; an http V2 URL is flagged too."""
    settings = Settings(
        email="u@example.com", source=Source(method=Method.HTTPS_ROOT, url=ROOT),
        mobilesync_servers=(MobileSyncServer(type="MobileSync", url="http://eas.example.com/Microsoft-Server-ActiveSync"),),
        v2_protocol="Ews", v2_url="http://mail.example.com/ews",
    )  # fmt: skip
    assert settings.activesync_url is None
    assert settings.ews_url is None
    assert 2 == len(settings.insecure_urls)


def test_duplicates_are_listed_once_and_https_hosts_are_not_flagged() -> None:
    """The same http URL in two places is listed once; https and non-URL text never are."""
    protocol = ProtocolSettings(type="EXPR", ews_url="http://a.example.com/x", as_url="http://a.example.com/x",
                                server="mail.example.com", oab_url="https://a.example.com/oab")  # fmt: skip
    settings = Settings(email="u@example.com", source=Source(method=Method.SRV, url="x"), protocols=(protocol,))
    assert ("http://a.example.com/x",) == settings.insecure_urls
