"""The per-tenant suppression list: erased people and tickets that no later load may bring back.

It holds pseudonyms only (``user_key``: HMAC of the platform user id under the tenant secret, with
the fingerprint of that secret) and the ids of erased tickets, in
``$DESKPULSE_HOME/privacy/<tenant>/suppression.json`` (mode 0600). The platform sources call
``suppression_filter`` on every page of rows they build; a list keyed with another secret fails
the load rather than letting an erased person back in (``deskpulse rotate-key`` re-keys it).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.config import TenantConfig
from pipelines.home import home
from pipelines.keys import key_id, pseudonym
from pipelines.privacy import PrivacyError
from pipelines.privacy.classification import PEOPLE, PERSON_FIELDS, PersonColumns

Row = dict[str, Any]
RowFilter = Callable[[list[Row]], list[Row]]


class SuppressionError(PrivacyError):
    """The suppression list cannot be applied (keyed with another secret)."""


@dataclass(frozen=True)
class Suppression:
    """Pseudonyms of erased people (keyed with the secret ``key_id`` names) and erased ticket ids."""

    key_id: str | None = None
    user_keys: frozenset[str] = frozenset()
    ticket_ids: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.user_keys or self.ticket_ids)


@dataclass
class _Rekeying:
    previous: bytes
    found: set[str] = field(default_factory=set)


_rekeying: dict[str, _Rekeying] = {}  # tenant id → an in-progress rotate-key reload


def privacy_dir(tenant_id: str) -> Path:
    """The tenant's private folder under ``DESKPULSE_HOME`` (suppression list)."""
    return home() / "privacy" / tenant_id


def _path(tenant_id: str) -> Path:
    return privacy_dir(tenant_id) / "suppression.json"


def load(tenant_id: str) -> Suppression:
    path = _path(tenant_id)
    if not path.exists():
        return Suppression()
    data = json.loads(path.read_text(encoding="utf-8"))
    return Suppression(data["key_id"], frozenset(data["user_keys"]), frozenset(data["ticket_ids"]))


def save(tenant_id: str, suppression: Suppression) -> None:
    """Replace the list atomically, readable by its owner only."""
    path = _path(tenant_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_suffix(".tmp")
    staged.write_text(json.dumps({
        "key_id": suppression.key_id,
        "user_keys": sorted(suppression.user_keys),
        "ticket_ids": sorted(suppression.ticket_ids),
    }), encoding="utf-8")
    staged.chmod(0o600)
    os.replace(staged, path)


def add(tenant: TenantConfig, user_keys: set[str], ticket_ids: set[int]) -> Suppression:
    """Add erased people (keyed with the tenant's current secret) and tickets to the list."""
    current = key_id(tenant.secret())
    listed = load(tenant.id)
    if listed.user_keys and listed.key_id != current:
        raise SuppressionError(f"tenant {tenant.id!r}: the suppression list was keyed with another secret;"
                               " run deskpulse rotate-key before erasing")
    updated = Suppression(current, listed.user_keys | user_keys, listed.ticket_ids | ticket_ids)
    save(tenant.id, updated)
    return updated


@contextlib.contextmanager
def rekeying(tenant_id: str, previous: bytes) -> Iterator[set[str]]:
    """While a rotate-key reload runs in this process, match the list with the ``previous`` secret
    and collect the new-secret pseudonyms of every suppressed person the reload meets."""
    state = _rekeying[tenant_id] = _Rekeying(previous)
    try:
        yield state.found
    finally:
        del _rekeying[tenant_id]


def suppression_filter(tenant: TenantConfig, table: str) -> RowFilter:
    """The hook a platform source calls on each page of ``table`` rows: drops every row of an
    erased ticket and every row naming an erased person. Reads the list once per call."""
    listed = load(tenant.id)
    columns = PEOPLE.get(tenant.platform, {}).get(table)
    if not listed or columns is None:
        return lambda rows: rows
    is_suppressed = _matcher(tenant, listed)
    return lambda rows: [row for row in rows if not _names_suppressed(row, columns, is_suppressed, listed)]


def _names_suppressed(
    row: Row, columns: PersonColumns, is_suppressed: Callable[[object], bool], listed: Suppression
) -> bool:
    if columns.ticket and row.get(columns.ticket) in listed.ticket_ids:
        return True
    if any(is_suppressed(row.get(name)) for name in columns.people):
        return True
    return row.get("field_name") in PERSON_FIELDS and any(
        is_suppressed(row.get(name)) for name in columns.field_values)


def _matcher(tenant: TenantConfig, listed: Suppression) -> Callable[[object], bool]:
    """Whether a platform user id is suppressed, keyed with the secret the list was made with."""
    current = tenant.secret()
    rekey = _rekeying.get(tenant.id)
    if listed.key_id == key_id(current):
        secret, found = current, None
    elif rekey is not None and listed.key_id == key_id(rekey.previous):
        secret, found = rekey.previous, rekey.found
    elif not listed.user_keys:
        secret, found = current, None
    else:
        raise SuppressionError(f"tenant {tenant.id!r}: the suppression list was keyed with another secret;"
                               " run deskpulse rotate-key with the previous secret")
    keys: dict[object, bool] = {}

    def is_suppressed(user_id: object) -> bool:
        if user_id is None or user_id == "":
            return False
        if user_id not in keys:
            keys[user_id] = pseudonym(secret, "user", user_id) in listed.user_keys
            if keys[user_id] and found is not None:
                found.add(pseudonym(current, "user", user_id))
        return keys[user_id]

    return is_suppressed
