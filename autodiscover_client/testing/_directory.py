"""A fake Active Directory for ``Method.SCP``: SCP objects per server, failures on demand, a log of searches."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence

from autodiscover_client._errors import ResolverError
from autodiscover_client._scp import POINTER_KEYWORD, URL_KEYWORD
from autodiscover_client._seams import ScpRecord


class FakeScpSource:
    """An :class:`~autodiscover_client.ScpSource` answering from fixed data.

    Args:
        directories: ``{server: [ScpRecord, ...]}``; the key ``None`` is the machine's own directory.
        failures: Servers whose searches raise :class:`ResolverError`.
    """

    def __init__(
        self,
        directories: Mapping[str | None, Iterable[ScpRecord]] | None = None,
        *,
        failures: Iterable[str | None] = (),
    ) -> None:
        self.directories = {key: tuple(records) for key, records in (directories or {}).items()}
        self.failures = set(failures)
        self._searches: list[str | None] = []
        self._lock = threading.Lock()

    @property
    def searches(self) -> tuple[str | None, ...]:
        """The servers searched, in order (``None``: the machine's own directory)."""
        with self._lock:
            return tuple(self._searches)

    def search(self, server: str | None, *, timeout: float) -> Sequence[ScpRecord]:
        """Return the configured objects of ``server``."""
        with self._lock:
            self._searches.append(server)
        if server in self.failures:
            raise ResolverError(f"LDAP {server or 'default'}: server down")
        return self.directories.get(server, ())


def scp_url(url: str, *keywords: str, dn: str = "") -> ScpRecord:
    """An SCP URL object (keyword ``77378F46-…``) with extra keywords such as ``"Site=Default"``."""
    return ScpRecord(binding=url, keywords=(URL_KEYWORD, *keywords), dn=dn)


def scp_pointer(ldap_url: str, *keywords: str, dn: str = "") -> ScpRecord:
    """An SCP pointer object (keyword ``67661D7F-…``), e.g. ``scp_pointer("LDAP://dc2", "Domain=example.com")``."""
    return ScpRecord(binding=ldap_url, keywords=(POINTER_KEYWORD, *keywords), dn=dn)
