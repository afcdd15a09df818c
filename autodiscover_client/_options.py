"""Checks of the caller's arguments to :class:`Discoverer` and :func:`discover`, before any I/O.

Bad input gets a clear :class:`InvalidArgumentError` naming the argument, never a bare ``KeyError`` or
``AttributeError`` from deep inside (DESIGN §3 "Input"). A few forgiving spellings are accepted because
their meaning is unambiguous: one :class:`Method` (or its value) for ``methods``, a :class:`Schema`'s
value for ``schema``, and one host name for ``allowed_hosts``.
"""

from __future__ import annotations

import math
import threading
import unicodedata
from collections.abc import Iterable

from ._errors import InvalidArgumentError, InvalidCredentialsError
from ._models import Method
from ._pox import Schema
from ._seams import BasicCredentials, BearerCredentials, NtlmCredentials

_CREDENTIAL_TYPES = (BasicCredentials, BearerCredentials, NtlmCredentials)
# Longer waits overflow the timeouts of threading and sockets; nobody means a wait this long.
_MAX_SECONDS = threading.TIMEOUT_MAX


def checked_methods(methods: object) -> tuple[Method, ...]:
    """``methods`` as a non-empty tuple: one ``Method``, a method's value, or an iterable of either."""
    items: Iterable[object]
    if isinstance(methods, (Method, str)):
        items = (methods,)  # a str is iterable, but "srv" means the method, not 's', 'r', 'v'
    elif isinstance(methods, Iterable):
        items = methods
    else:
        raise InvalidArgumentError(f"methods must be an iterable of Method, not {type(methods).__name__}")
    result = []
    for item in items:
        if isinstance(item, Method):
            result.append(item)
            continue
        match = next((m for m in Method if isinstance(item, str) and m.value == item.strip().lower()), None)
        if match is None:
            choices = ", ".join(m.value for m in Method)
            raise InvalidArgumentError(f"methods: {item!r} is not a Method (choose from {choices})")
        result.append(match)
    if not result:
        raise InvalidArgumentError("methods must name at least one Method")
    return tuple(result)


def checked_schema(schema: object) -> Schema:
    """``schema`` as a :class:`Schema`: the member itself or its value (``"outlook"``, ``"mobilesync"``)."""
    if isinstance(schema, Schema):
        return schema
    match = next((s for s in Schema if isinstance(schema, str) and s.value == schema.strip().lower()), None)
    if match is None:
        choices = ", ".join(s.value for s in Schema)
        raise InvalidArgumentError(f"schema: {schema!r} is not a Schema (choose from {choices})")
    return match


def checked_seconds(value: object, name: str) -> float:
    """A finite, positive number of seconds (``bool`` is refused: ``True`` is not a duration)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidArgumentError(f"{name} must be a number of seconds, not {type(value).__name__}")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0 or seconds > _MAX_SECONDS:
        raise InvalidArgumentError(f"{name} must be a finite number of seconds above 0, not {value!r}")
    return seconds


_NOT_IN_HOSTS = ("/", "@", "?", "#", "\\")


def checked_hosts(allowed_hosts: object) -> tuple[str, ...]:
    """``allowed_hosts`` as a tuple of host names; a bare str is one host (not a list of its characters)."""
    items: Iterable[object]
    if isinstance(allowed_hosts, str):
        items = (allowed_hosts,)
    elif isinstance(allowed_hosts, Iterable):
        items = allowed_hosts
    else:
        raise InvalidArgumentError(f"allowed_hosts must be host names, not {type(allowed_hosts).__name__}")
    hosts = []
    for host in items:
        if not isinstance(host, str) or not host.strip(".") or _has_control(host) or any(c.isspace() for c in host):
            raise InvalidArgumentError(f"allowed_hosts: {host!r} is not a host name")
        if any(mark in host for mark in _NOT_IN_HOSTS):
            # A URL or an address would never equal a host, so the approval would silently do nothing.
            raise InvalidArgumentError(
                f"allowed_hosts: {host!r} is not a host name; give the host alone, e.g. mail.example.net"
            )
        hosts.append(host)
    return tuple(hosts)


# The methods each seam must have; a missing one would otherwise surface mid-discovery as a failed attempt.
_SEAM_METHODS = {
    "resolver": ("resolve_srv", "resolve_addresses"),
    "transport": ("send",),
    "clock": ("monotonic",),
    "scp_source": ("search",),
    "cache": ("get", "put", "drop"),
}


def checked_options(
    *, methods: object, schema: object, allowed_hosts: object, timeout: object, request_timeout: object,
    user_agent: object, approve_redirect: object, ad_site: object, **seams: object,
) -> tuple[tuple[Method, ...], Schema, tuple[str, ...]]:  # fmt: skip
    """Check :class:`Discoverer`'s arguments; return ``methods``, ``schema`` and ``allowed_hosts`` normalised.

    Args:
        seams: The resolver, transport, clock, scp_source and cache; ``None`` (the default) always passes.

    Raises:
        InvalidArgumentError: An argument has the wrong type or value.
    """
    normalised = checked_methods(methods), checked_schema(schema), checked_hosts(allowed_hosts)
    checked_seconds(timeout, "timeout")
    checked_seconds(request_timeout, "request_timeout")
    # The User-Agent is a header value: CR/LF in it would inject headers (RFC 9110 §5.5).
    if not isinstance(user_agent, str) or not user_agent or _has_control(user_agent):
        raise InvalidArgumentError("user_agent must be a non-empty str without control characters")
    if approve_redirect is not None and not callable(approve_redirect):
        raise InvalidArgumentError(f"approve_redirect must be callable, not {type(approve_redirect).__name__}")
    if ad_site is not None and (not isinstance(ad_site, str) or _has_control(ad_site)):
        raise InvalidArgumentError("ad_site must be a str without control characters, or None")
    for name, seam in seams.items():
        missing = [method for method in _SEAM_METHODS[name] if not callable(getattr(seam, method, None))]
        if seam is not None and missing:
            raise InvalidArgumentError(f"{name} must have a {missing[0]}() method ({type(seam).__name__} has not)")
    return normalised


def check_discover_arguments(password: object, username: object, credentials: object) -> None:
    """Refuse a password, user name or credentials object that could not be sent as meant."""
    if password is not None and not isinstance(password, str):
        # bytes would be sent as their repr ("b'secret'"): refuse rather than guess an encoding.
        raise InvalidCredentialsError(f"password must be a str or None, not {type(password).__name__}")
    if username is not None and not isinstance(username, str):
        raise InvalidCredentialsError(f"username must be a str or None, not {type(username).__name__}")
    if credentials is not None and not isinstance(credentials, _CREDENTIAL_TYPES):
        raise InvalidCredentialsError(
            "credentials must be BasicCredentials, BearerCredentials or NtlmCredentials, "
            f"not {type(credentials).__name__}"
        )


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs") for ch in text)
