"""`import autodiscover_client` stays light: dnspython and requests load only when first used."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

_PROBE = """
import json, sys
import autodiscover_client
before = {name: name in sys.modules for name in ("dns", "requests", "autodiscover_client._batch")}
autodiscover_client.DnspythonResolver
autodiscover_client.RequestsTransport
autodiscover_client.discover_many
after = {name: name in sys.modules for name in ("dns", "requests", "autodiscover_client._batch")}
print(json.dumps([before, after]))
"""


def test_adapters_load_on_first_use() -> None:
    """The import leaves dnspython, requests and the thread pool out; naming what needs them brings them in."""
    output = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60)
    before, after = json.loads(output.stdout)
    assert {"dns": False, "requests": False, "autodiscover_client._batch": False} == before
    assert {"dns": True, "requests": True, "autodiscover_client._batch": True} == after


def test_unknown_attribute_is_an_attribute_error() -> None:
    """The lazy loader does not swallow typos."""
    import autodiscover_client

    with pytest.raises(AttributeError, match="NoSuchThing"):
        getattr(autodiscover_client, "NoSuchThing")  # noqa: B009
