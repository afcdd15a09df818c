"""`import autodiscover_client` stays light: dnspython and requests load only when first used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_PROBE = """
import json, sys
import autodiscover_client
names = ("dns", "requests", "autodiscover_client._batch", "defusedxml", "publicsuffixlist", "autodiscover_client._ldap")
before = {name: name in sys.modules for name in names}
autodiscover_client.DnspythonResolver
autodiscover_client.RequestsTransport
autodiscover_client.discover_many
autodiscover_client.Ldap3ScpSource
from autodiscover_client.testing import settings_body
autodiscover_client.parse_response(settings_body(imap=("imap.example.com", 993)))
autodiscover_client.parse_email("user@example.com")
from autodiscover_client._policy import registrable_domain
registrable_domain("mail.example.co.uk")
after = {name: name in sys.modules for name in names}
print(json.dumps([before, after]))
"""


def test_adapters_load_on_first_use() -> None:
    """The import leaves dnspython, requests, the thread pool, defusedxml, the Public Suffix List and the
    LDAP source out; using what needs them brings them in."""
    output = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60)
    before, after = json.loads(output.stdout)
    assert before == dict.fromkeys(after, False)
    assert after == dict.fromkeys(before, True)


def test_unknown_attribute_is_an_attribute_error() -> None:
    """The lazy loader does not swallow typos."""
    import autodiscover_client

    with pytest.raises(AttributeError, match="NoSuchThing"):
        getattr(autodiscover_client, "NoSuchThing")  # noqa: B009
