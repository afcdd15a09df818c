"""``Ldap3ScpSource``: the default :class:`~autodiscover_client.ScpSource`, on ldap3 (the ``ad`` extra).

This is the only module that imports ``ldap3``, and it imports it only when a source is used. It makes
the look-up MS-OXDISCO §2.2.1.2 describes: a subtree search of ``configurationNamingContext`` (from the
RootDSE) for ``serviceConnectionPoint`` objects with either keyword GUID, reading
``serviceBindingInformation`` and ``keywords``. Pointer chasing, site ordering and de-duplication are
not done here but in the core (``_scp.plan``), so they work for any source.
"""

from __future__ import annotations

import contextlib
import math
import os
import ssl
import struct
from collections.abc import Callable, Sequence
from typing import Any

from ._errors import ResolverError, ResolverTimeoutError
from ._scp import SCP_ATTRIBUTES, SCP_FILTER
from ._seams import ScpRecord

MAX_SCP_OBJECTS = 1000  # a directory has a handful; a hostile one must not grow the trail without bound
_AUTHENTICATIONS = ("anonymous", "simple", "ntlm")

Connect = Callable[[str, int | None, float], Any]
"""``(host, port, timeout) -> ldap3.Connection`` (unbound). Tests pass one built on ldap3's MOCK_SYNC."""


class Ldap3ScpSource:
    """Search Active Directory for Autodiscover SCP objects with ldap3.

    Args:
        host: The domain controller to ask (``host`` or ``host:port``), e.g. the one
            ``_ldap._tcp.dc._msdcs.<ad domain>`` names.
        user: The account to bind as (``DOMAIN\\\\user`` for NTLM, a DN or UPN for simple); ``None``
            binds anonymously (which AD usually refuses for the configuration partition).
        password: Its password; never in ``repr()``.
        authentication: ``"anonymous"``, ``"simple"`` or ``"ntlm"`` (default: ``"simple"`` with a
            user, else ``"anonymous"``).
        use_ssl: LDAPS with a verified certificate (the default). A simple bind sends the password
            itself, so it is refused without TLS (DESIGN §4 rule 2).
        ca_bundle: PEM file of CA certificates to verify the directory with (default: the system's).
        base: The search base; by default ``configurationNamingContext`` from the RootDSE.
        connect: Makes the (unbound) ldap3 connection; for tests and unusual set-ups.

    Raises:
        ValueError: A simple bind without TLS, or an unknown ``authentication``.
    """

    def __init__(
        self,
        host: str,
        *,
        user: str | None = None,
        password: str | None = None,
        authentication: str | None = None,
        use_ssl: bool = True,
        ca_bundle: str | os.PathLike[str] | None = None,
        base: str | None = None,
        connect: Connect | None = None,
    ) -> None:
        self.host = host
        self.user = user
        self._password = password
        self.authentication = authentication or ("simple" if user else "anonymous")
        if self.authentication not in _AUTHENTICATIONS:
            raise ValueError(f"authentication must be one of {', '.join(_AUTHENTICATIONS)}")
        if self.authentication == "simple" and not use_ssl and connect is None:
            raise ValueError("a simple LDAP bind sends the password in clear: use use_ssl=True or NTLM")
        self.use_ssl = use_ssl
        self.ca_bundle = os.fspath(ca_bundle) if ca_bundle is not None else None
        self.base = base
        self._connect = connect or self._default_connect

    def __repr__(self) -> str:
        return f"Ldap3ScpSource(host={self.host!r}, user={self.user!r}, authentication={self.authentication!r})"

    def search(self, server: str | None, *, timeout: float) -> Sequence[ScpRecord]:
        """Bind to ``server`` (default: ``host``), search, and return one record per binding value.

        Raises:
            ResolverError: The directory could not be reached, refused the bind, or the search failed.
        """
        target = server or self.host
        host, _, port_text = target.rpartition(":") if target.count(":") == 1 else (target, "", "")
        port = int(port_text) if port_text.isdigit() else None
        try:
            from ldap3.core.exceptions import LDAPException, LDAPSocketOpenError, LDAPSocketReceiveError
        except ImportError as exc:
            raise ResolverError(
                "Method.SCP with Ldap3ScpSource needs the ad extra: pip install 'autodiscover-client[ad]'"
            ) from exc
        try:
            connection = self._connect(host or target, port, timeout)
            try:
                if not connection.bind():
                    raise ResolverError(f"LDAP bind to {target} refused: {connection.result.get('description')}")
                base = self.base or _configuration_context(connection)
                if base is None:
                    raise ResolverError(f"{target} has no configurationNamingContext in its RootDSE")
                connection.search(
                    base, SCP_FILTER, search_scope="SUBTREE", attributes=list(SCP_ATTRIBUTES),
                    size_limit=MAX_SCP_OBJECTS, time_limit=max(1, int(timeout)),
                )  # fmt: skip
                return _records(connection.response or ())
            finally:
                _close(connection)
        except (LDAPSocketOpenError, LDAPSocketReceiveError) as exc:
            kind = ResolverTimeoutError if "timed out" in str(exc).lower() else ResolverError
            raise kind(f"LDAP {target}: {type(exc).__name__}") from exc
        except LDAPException as exc:
            raise ResolverError(f"LDAP {target}: {type(exc).__name__}: {exc}") from exc
        except (OSError, ValueError, struct.error) as exc:  # raw socket, TLS and packing errors inside ldap3
            raise ResolverError(f"LDAP {target}: {type(exc).__name__}: {exc}") from exc

    def _default_connect(self, host: str, port: int | None, timeout: float) -> Any:
        import ldap3

        tls = _verified_tls(self.ca_bundle) if self.use_ssl else None
        server = ldap3.Server(
            host, port=port, use_ssl=self.use_ssl, tls=tls, get_info=ldap3.DSA, connect_timeout=timeout,
        )  # fmt: skip
        return ldap3.Connection(
            # ldap3 packs receive_timeout into SO_RCVTIMEO as an integer of seconds: a float breaks it.
            server, user=self.user, password=self._password, receive_timeout=max(1, math.ceil(timeout)), read_only=True,
            authentication={"anonymous": ldap3.ANONYMOUS, "simple": ldap3.SIMPLE, "ntlm": ldap3.NTLM}[
                self.authentication
            ],
            auto_referrals=False,  # a referral would carry the bind to a server nobody chose
        )  # fmt: skip


def _verified_tls(ca_bundle: str | None) -> Any:
    """An ``ldap3.Tls`` that verifies like https: the standard library's own hostname check and SNI.

    ldap3 2.9 turns the context's ``check_hostname`` off and matches names itself with the deprecated
    ``ssl.match_hostname`` (removed in Python 3.12, where ldap3 falls back to a copy of it). This
    wrapper keeps the verification in the standard library's hands instead.
    """
    import ldap3

    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_bundle)  # verify + check_hostname

    class VerifiedTls(ldap3.Tls):  # type: ignore[misc]
        def wrap_socket(self, connection: Any, do_handshake: bool = False) -> None:
            connection.socket = context.wrap_socket(
                connection.socket, server_side=False, do_handshake_on_connect=do_handshake,
                server_hostname=connection.server.host,
            )  # fmt: skip

    return VerifiedTls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_bundle)


def _close(connection: Any) -> None:
    """Unbind, and close the socket too: ldap3 leaves it open when the connect itself failed."""
    with contextlib.suppress(Exception):  # best effort on the way out; the search's own error is what matters
        connection.unbind()
    sock = getattr(connection, "socket", None)
    if sock is not None:
        sock.close()


def _configuration_context(connection: Any) -> str | None:
    info = getattr(connection.server, "info", None)
    values = getattr(info, "other", {}).get("configurationNamingContext") if info is not None else None
    if isinstance(values, (list, tuple)) and values:
        return str(values[0])
    return str(values) if values else None


def _records(response: Sequence[Any]) -> tuple[ScpRecord, ...]:
    records: list[ScpRecord] = []
    for entry in response[:MAX_SCP_OBJECTS]:
        if not isinstance(entry, dict) or entry.get("type") != "searchResEntry":
            continue  # referrals (searchResRef) are not followed
        attributes = {str(k).casefold(): v for k, v in (entry.get("attributes") or {}).items()}
        keywords = tuple(str(k) for k in _values(attributes.get("keywords")))
        for binding in _values(attributes.get("servicebindinginformation")):
            records.append(ScpRecord(binding=str(binding), keywords=keywords, dn=str(entry.get("dn", ""))))
    return tuple(records)


def _values(value: object) -> list[object]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]
