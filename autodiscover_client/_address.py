"""Strict e-mail address parsing (DESIGN §3 "Input", PROTOCOL.md §1.4 and §8.1).

Ambiguous parsing of addresses such as ``a@b@evil.example`` let attackers pick the domain a client
sent credentials to in 2017 (PROTOCOL.md §8.1), so anything unusual is refused rather than guessed.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

import idna

from ._errors import InvalidEmailError

# RFC 5322 §3.2.3 atext, plus any non-ASCII character (RFC 6531 allows UTF-8 local parts).
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u0080-\U0010ffff]+")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# RFC 5322 §3.2.4: one quoted-string, i.e. no unescaped DQUOTE inside ('"a"b"@c"' is two, plus text).
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
# The full stop and the three dots UTS #46 maps to it (RFC 3490 §3.1): any of them may end the domain.
_DOTS = (".", "\u3002", "\uff0e", "\uff61")
_MAX_LOCAL_OCTETS = 64  # RFC 5321 §4.5.3.1.1
_MAX_DOMAIN_OCTETS = 253  # RFC 1035 §2.3.4, without the root label


@dataclasses.dataclass(frozen=True, slots=True)
class EmailAddress:
    """A validated address: the local part exactly as given, the domain as lower-case A-labels."""

    local: str
    domain: str

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


_SHOWN_CHARACTERS = 80  # an address is at most 254 octets (RFC 5321 §4.5.3.1.3); messages need no more


def _shown(text: str) -> str:
    """``text`` for an error message: its repr, cut short if it is long (a 5 MB line is no address)."""
    if len(text) <= _SHOWN_CHARACTERS:
        return repr(text)
    return f"{text[:_SHOWN_CHARACTERS]!r}… ({len(text):,} characters)"


def parse_email(text: str) -> EmailAddress:
    """Parse and validate an address for Autodiscover.

    Args:
        text: The address, e.g. ``"user@Example.COM"`` or ``"user@bücher.example"``.

    Returns:
        The address with its domain converted to lower-case A-labels (IDNA 2008).

    Raises:
        InvalidEmailError: The address does not have exactly one unquoted ``@``, the local part or
            the domain is invalid, or the domain is a public suffix.
    """
    if not isinstance(text, str):
        raise InvalidEmailError(f"an e-mail address must be a str, not {type(text).__name__}")
    if not text:
        raise InvalidEmailError("the e-mail address is empty")
    # Cc covers C0, DEL and C1; Cs (lone surrogates) is not text at all and cannot even be UTF-8 encoded.
    if any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cs") for ch in text if ch != " ") or (
        " " in text and not text.startswith('"')
    ):
        raise InvalidEmailError(f"{_shown(text)} contains white space, control characters or lone surrogates")
    at = _split_at(text)
    local, raw_domain = text[:at], text[at + 1 :]
    _check_local(local, text)
    domain = _normalise_domain(raw_domain, text)
    from ._policy import is_public_suffix  # late: loading the suffix list is not free

    if is_public_suffix(domain):
        raise InvalidEmailError(
            f"the domain of {_shown(text)} is a public suffix ({domain!r}): no organisation owns it, "
            "so there is nobody to ask for its settings"
        )
    return EmailAddress(local, domain)


def _split_at(text: str) -> int:
    """Return the index of the one unquoted ``@``, refusing zero or several."""
    positions: list[int] = []
    quoted = escaped = False
    for index, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "@" and not quoted:
            positions.append(index)
    if quoted:
        raise InvalidEmailError(f"{_shown(text)} has an unterminated quoted local part")
    if not positions:
        raise InvalidEmailError(f"{_shown(text)} has no '@'")
    if len(positions) > 1:
        raise InvalidEmailError(
            f"{_shown(text)} has {len(positions)} unquoted '@' characters; exactly one is allowed, "
            "because guessing which one starts the domain sends credentials to the wrong place"
        )
    return positions[0]


def _check_local(local: str, text: str) -> None:
    if not local:
        raise InvalidEmailError(f"{_shown(text)} has an empty local part")
    if len(local.encode("utf-8")) > _MAX_LOCAL_OCTETS:
        raise InvalidEmailError(f"the local part of {_shown(text)} is longer than {_MAX_LOCAL_OCTETS} octets")
    if local.startswith('"'):
        # RFC 5322 §3.2.4 quoted-string: the whole local part must be one quoted string.
        if not _QUOTED.fullmatch(local):
            raise InvalidEmailError(
                f"the quoted local part of {_shown(text)} is malformed: it must be exactly one quoted string"
            )
        return
    if '"' in local:
        raise InvalidEmailError(f"the local part of {_shown(text)} mixes quoted and unquoted text")
    for atom in local.split("."):
        if not atom:
            raise InvalidEmailError(f"the local part of {_shown(text)} has an empty dot-separated part")
        if not _ATEXT.fullmatch(atom):
            raise InvalidEmailError(f"the local part of {_shown(text)} contains characters that need quoting")


def _normalise_domain(raw: str, text: str) -> str:
    domain = raw[:-1] if raw.endswith(_DOTS) else raw
    if not domain:
        raise InvalidEmailError(f"{_shown(text)} has an empty domain")
    if domain.startswith("["):
        raise InvalidEmailError(f"{_shown(text)} uses a domain literal; Autodiscover needs a domain name")
    try:
        # UTS #46 mapping lower-cases and folds width; then IDNA 2008 proper (RFC 5891).
        ascii_domain = idna.encode(domain, uts46=True, transitional=False).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidEmailError(f"the domain of {_shown(text)} is not a valid IDNA 2008 name: {exc}") from exc
    ascii_domain = ascii_domain.lower()
    if len(ascii_domain) > _MAX_DOMAIN_OCTETS:
        raise InvalidEmailError(f"the domain of {_shown(text)} is longer than {_MAX_DOMAIN_OCTETS} octets")
    labels = ascii_domain.split(".")
    if len(labels) < 2:
        raise InvalidEmailError(f"the domain of {_shown(text)} has a single label; a mail domain needs two or more")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise InvalidEmailError(
                f"the domain of {_shown(text)} has an invalid label {label!r} (letters, digits and inner hyphens only)"
            )
    if labels[-1].isdigit():
        raise InvalidEmailError(f"{_shown(text)} ends in a numeric label; Autodiscover needs a domain name")
    return ascii_domain
