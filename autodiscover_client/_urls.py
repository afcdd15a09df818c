"""Which URLs discovery may contact: one strict reading, shared by the core and the transport.

Trust is decided on ``urllib.parse.urlsplit``'s reading of a URL, but requests and urllib3 parse
URLs their own way (WHATWG-style: a backslash ends the authority). A ``Location`` such as
``https://evil.example\\@mail.example.com/`` is ``mail.example.com`` to one and ``evil.example`` to the
other, which would hand the password to a host the policy never saw. So a URL is contacted only when
every reading agrees: RFC 3986 characters only, no user information, and a host that is a DNS name
or an IP literal.
"""

from __future__ import annotations

import ipaddress
import re
import string
from urllib.parse import urlsplit

# RFC 3986 §2: unreserved, reserved and '%' (for percent-encoding). Nothing else may appear.
_ALLOWED = frozenset(string.ascii_letters + string.digits + "-._~" + ":/?#[]@" + "!$&'()*+,;=" + "%")
# RFC 1123 §2.1 host names; '_' is tolerated because real SRV targets and internal hosts use it.
_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def url_refusal(url: str) -> str | None:
    """Why ``url`` must not be contacted, or ``None`` when it is a plain http(s) URL every parser reads alike."""
    bad = sorted({ch for ch in url if ch not in _ALLOWED})
    if bad:
        shown = ", ".join(repr(ch) for ch in bad[:5])
        return f"the URL contains characters a URL may not hold ({shown})"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"the URL is malformed: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http and https URLs are contacted"
    if "@" in parts.netloc:
        # RFC 9110 §4.2.4: user information in an http(s) URI is deprecated, and here it only confuses.
        return "the URL carries user information (user@host)"
    host = parts.hostname or ""
    if not host:
        return "the URL has no host"
    if port == 0:
        return "the URL's port is 0"
    if not _valid_host(host):
        return f"{host!r} is not a host name or IP address"
    return None


def _valid_host(host: str) -> bool:
    if ":" in host:  # only an IPv6 literal (urlsplit strips the brackets) may hold a colon
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    name = host[:-1] if host.endswith(".") else host
    return 0 < len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split("."))
