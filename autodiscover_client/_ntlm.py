"""The client side of NTLM and Negotiate over HTTP (MS-NLMP, RFC 4559), on pyspnego: the ``ntlm`` extra.

This is the only module that imports ``spnego``. It builds tokens and nothing else; the transport sends
them, all legs over one kept-alive connection, because NTLM authenticates the connection, not the request.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ._errors import TransportError
from ._seams import NtlmCredentials

EXTRA_HINT = "NTLM and Negotiate need the ntlm extra: pip install 'autodiscover-client[ntlm]'"


class NtlmHandshake:
    """One authentication: the first token, then the answer to the server's challenge.

    Args:
        credentials: The account, and which scheme (``NTLM`` or ``Negotiate``) to speak.
        host: The server's host name (the SPN ``HTTP/<host>`` for Negotiate).

    Raises:
        TransportError: pyspnego is not installed, or the context cannot be made.
    """

    def __init__(self, credentials: NtlmCredentials, host: str) -> None:
        try:
            import spnego
            import spnego.exceptions
        except ImportError as exc:
            raise TransportError(EXTRA_HINT) from exc
        self.scheme = credentials.scheme
        self._errors: tuple[type[BaseException], ...] = (spnego.exceptions.SpnegoError, ValueError)
        try:
            self._context: Any = spnego.client(
                credentials.username, credentials.password, hostname=host, service="HTTP",
                protocol=credentials.protocol,
            )  # fmt: skip
        except self._errors as exc:
            raise TransportError(f"cannot start {self.scheme} authentication: {type(exc).__name__}") from None

    def first(self) -> str:
        """The ``Authorization`` value of the first leg (the NEGOTIATE message)."""
        return self._header(self._step(None))

    def answer(self, challenge: str | None) -> str | None:
        """The ``Authorization`` value answering a 401's ``WWW-Authenticate``; ``None`` if it has no token."""
        token = server_token(challenge, self.scheme)
        if token is None:
            return None
        produced = self._step(token)
        return self._header(produced) if produced else None

    def _step(self, token: bytes | None) -> bytes:
        try:
            produced = self._context.step(token)
        except self._errors as exc:
            # The message says which check failed, never the password; the type is enough for the trail.
            raise TransportError(f"{self.scheme} authentication failed: {type(exc).__name__}") from None
        return produced if isinstance(produced, bytes) else b""

    def _header(self, token: bytes) -> str:
        return f"{self.scheme} {base64.b64encode(token).decode('ascii')}"


def server_token(challenge: str | None, scheme: str) -> bytes | None:
    """The base64 token following ``scheme`` in a ``WWW-Authenticate`` value, decoded, or ``None``."""
    wanted = scheme.lower()
    for piece in (challenge or "").split(","):
        name, _, data = piece.strip().partition(" ")
        if name.lower() == wanted and data.strip():
            try:
                return base64.b64decode(data.strip(), validate=True)
            except (binascii.Error, ValueError):
                return None
    return None
