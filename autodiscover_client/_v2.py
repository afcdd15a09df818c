"""Autodiscover V2 (JSON): request URLs, bounded body decoding, and the response parser (PROTOCOL.md §7).

V2 has no open specification. What is known from Exchange Online captures and from the servers that
mirror it (gromox, mailcow) is collected in PROTOCOL.md §7 and the corpus samples 25-30:

- ``GET https://<host>/autodiscover/autodiscover.json/v1.0/<address>?Protocol=<P>``, or the query form
  ``…/autodiscover.json?Email=<address>&Protocol=<P>&RedirectCount=<n>`` that Exchange Online redirects to;
- success is ``{"Protocol": "<P>", "Url": "<https URL>"}``, *whatever the status code*;
- errors are ``{"ErrorCode": "…", "ErrorMessage": "…"}`` with HTTP 200 (gromox, Exchange Online) or 4xx
  (mailcow), so "success = the object has ``Url``".

This module does no I/O and parses JSON only; it never sees credentials (V2 is unauthenticated).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import zlib
from urllib.parse import parse_qs, quote, urlsplit

from ._errors import InvalidResponseError, ResponseTooLargeError

V2_PATH = "/autodiscover/autodiscover.json"
OFFICE365_HOST = "outlook.office365.com"
"""The Exchange Online V2 host Microsoft 365 apps ask first; only used when the caller opts in."""
DEFAULT_MAX_DECODED = 1024 * 1024  # the same 1 MiB cap as a raw body (DESIGN §4 rule 6)


class V2Protocol(enum.Enum):
    """The V2 ``Protocol`` values this package knows how to use (the server compares case-insensitively)."""

    AUTODISCOVER_V1 = "AutodiscoverV1"
    """Ask for the POX endpoint, then POST the classic request there: the full settings."""
    EWS = "Ews"
    """Ask for the EWS URL alone."""
    ACTIVESYNC = "ActiveSync"
    """Ask for the ActiveSync URL alone."""


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class V2Endpoint:
    """A V2 success: ``{"Protocol": …, "Url": …}``. ``protocol`` keeps the server's casing."""

    protocol: str
    url: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class V2Error:
    """A V2 error object: ``{"ErrorCode": …, "ErrorMessage": …}``."""

    code: str
    message: str | None = None

    def describe(self) -> str:
        """One line for the trail."""
        return f"Autodiscover V2 error {self.code}: {self.message or 'no message'}"


def request_url(host: str, address: str, protocol: V2Protocol) -> str:
    """The path form ``https://<host>/autodiscover/autodiscover.json/v1.0/<address>?Protocol=<P>``.

    The address is percent-encoded (keeping ``@``), so a local part with ``/``, ``?`` or ``#`` stays
    inside the path segment.
    """
    return f"https://{host}{V2_PATH}/v1.0/{quote(address, safe='@')}?Protocol={protocol.value}"


def query_url(host: str, address: str, protocol: V2Protocol, redirect_count: int = 0) -> str:
    """The query form ``…/autodiscover.json?Email=<address>&Protocol=<P>&RedirectCount=<n>``."""
    email = quote(address, safe="")
    return f"https://{host}{V2_PATH}?Email={email}&Protocol={protocol.value}&RedirectCount={redirect_count}"


def redirect_count(url: str) -> int | None:
    """The ``RedirectCount`` query parameter of a V2 URL (any case), or ``None`` if absent or not a number."""
    try:
        query = parse_qs(urlsplit(url).query)
    except ValueError:  # a malformed URL has no count; the redirect rules refuse it later
        return None
    for name, values in query.items():
        if name.lower() == "redirectcount" and values:
            text = values[0].strip()
            return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else None
    return None


def decode_body(body: bytes, content_encoding: str | None, *, max_size: int = DEFAULT_MAX_DECODED) -> bytes:
    """Undo ``Content-Encoding: gzip`` / ``deflate``, never producing more than ``max_size`` bytes.

    A gzip bomb (a small body that inflates to gigabytes) stops at the cap: decompression is asked for
    at most ``max_size + 1`` bytes, so memory stays bounded whatever the ratio.

    Raises:
        ResponseTooLargeError: The decoded body exceeds ``max_size``.
        InvalidResponseError: The encoding is unknown, or the compressed data is corrupt.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    if not codings and body[:2] == b"\x1f\x8b":
        codings = ["gzip"]  # some servers compress without saying so
    for coding in reversed(codings):  # RFC 9110 §8.4: listed in the order they were applied
        if coding == "identity":
            continue
        if coding in ("gzip", "x-gzip"):
            wbits = 16 + zlib.MAX_WBITS
        elif coding == "deflate":
            wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS
        else:
            raise InvalidResponseError(f"unsupported Content-Encoding {coding!r}")
        body = _inflate(body, wbits, max_size)
    return body


def _inflate(data: bytes, wbits: int, max_size: int) -> bytes:
    inflater = zlib.decompressobj(wbits)
    try:
        # max_length bounds the output; input left over lands in unconsumed_tail, unread.
        out = inflater.decompress(data, max_size + 1)
    except zlib.error as exc:
        raise InvalidResponseError(f"corrupt compressed body: {exc}") from exc
    if len(out) > max_size or inflater.unconsumed_tail:
        raise ResponseTooLargeError(f"the decompressed body exceeds the {max_size}-byte cap")
    if not inflater.eof:
        raise InvalidResponseError("truncated compressed body")
    return out


def parse_v2_response(body: bytes) -> V2Endpoint | V2Error:
    """Parse a V2 body. Success is an object with a string ``Url``, whatever the HTTP status was.

    Raises:
        InvalidResponseError: Not JSON, not an object, or neither ``Url`` nor ``ErrorCode`` as a string.
    """
    if not body.strip():
        raise InvalidResponseError("the V2 body is empty")
    try:
        data = json.loads(body.removeprefix(b"\xef\xbb\xbf"))
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidResponseError(f"not a V2 JSON answer: {type(exc).__name__}: {_short(str(exc))}") from None
    if not isinstance(data, dict):
        raise InvalidResponseError(f"not a V2 JSON answer: a JSON {type(data).__name__}, not an object")
    url = data.get("Url")
    if isinstance(url, str) and url.strip():
        protocol = data.get("Protocol")
        return V2Endpoint(protocol=protocol if isinstance(protocol, str) else "", url=url.strip())
    code = data.get("ErrorCode")
    if isinstance(code, str) and code:
        message = data.get("ErrorMessage")
        return V2Error(code=code, message=message if isinstance(message, str) else None)
    raise InvalidResponseError("not a V2 JSON answer: the object has neither Url nor ErrorCode")


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
