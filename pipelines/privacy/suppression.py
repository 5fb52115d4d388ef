"""The per-tenant suppression list: erased people and tickets that no later load may bring back.

It holds pseudonyms only (``user_key``: HMAC of the platform user id under the tenant secret, with
the fingerprint of that secret) and the ids of erased tickets, in
``$DESKPULSE_HOME/privacy/<tenant>/suppression.json`` (mode 0600). The platform sources call
``suppression_filter`` on every page of rows they build; a list keyed with another secret fails
the load rather than letting an erased person back in (``deskpulse rotate-key`` re-keys it).

Agents erased with ``--agent-mode unlink`` are listed apart: their user keys in one unordered set
(to recognise their platform id when a load brings it), and per erasure a random stand-in (key
and surrogate id) with the tickets it stands in on. Nothing ties an entry to a user key: a row
naming an unlinked person gets the stand-in of the newest entry that holds the row's ticket
(docs/privacy.md says why, and what that costs).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pipelines.ingest.columns import RawTable
from pipelines.ingest.config import TenantConfig
from pipelines.ingest.home import home
from pipelines.ingest.keys import key_id, pseudonym
from pipelines.privacy import PrivacyError
from pipelines.privacy.classification import (
    AUTHORED,
    AUTHORED_VALUES,
    PERSON_FIELDS,
    Authored,
    PersonColumns,
    person_columns,
)

Row = dict[str, Any]
RowFilter = Callable[[list[Row]], list[Row]]


class SuppressionError(PrivacyError):
    """The suppression list cannot be applied (keyed with another secret)."""


@dataclass(frozen=True)
class StandIn:
    """What an unlinked agent's rows name instead of them, from one erasure: a random key no
    secret derives, a surrogate platform id (negative, so no platform's), the tickets it stands in
    on, the (ticket, field) values they wrote (blanked), and their user versions without identity
    (role history, group), re-loaded when a reload (rotate-key) meets them."""

    key: str
    surrogate: int
    tickets: frozenset[int]
    fields: frozenset[tuple[int, int]] = frozenset()
    versions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Suppression:
    """Pseudonyms of erased people (keyed with the secret ``key_id`` names), erased ticket ids,
    and the unlinked agents: their pseudonyms and, apart, the stand-ins of their erasures."""

    key_id: str | None = None
    user_keys: frozenset[str] = frozenset()
    ticket_ids: frozenset[int] = frozenset()
    unlinked_keys: frozenset[str] = frozenset()
    stand_ins: tuple[StandIn, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.user_keys or self.ticket_ids or self.unlinked_keys)

    @property
    def keyed(self) -> bool:
        """Whether it holds pseudonyms (which only the secret in ``key_id`` matches)."""
        return bool(self.user_keys or self.unlinked_keys)

    def stand_in_for(self, ticket_id: object) -> StandIn | None:
        """The stand-in of the newest erasure that holds this ticket."""
        return next((s for s in reversed(self.stand_ins) if ticket_id in s.tickets), None)


@dataclass
class _Rekeying:
    previous: bytes
    found: set[str] = field(default_factory=set)  # new keys of erased people met
    found_unlinked: set[str] = field(default_factory=set)  # new keys of unlinked agents met


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
    stand_ins = tuple(StandIn(entry["key"], entry["surrogate"], frozenset(entry["tickets"]),
                              frozenset(tuple(pair) for pair in entry.get("fields", [])),
                              tuple(_typed(version) for version in entry.get("versions", [])))
                      for entry in data.get("stand_ins", []))
    return Suppression(data["key_id"], frozenset(data["user_keys"]), frozenset(data["ticket_ids"]),
                       frozenset(data.get("unlinked_keys", [])), stand_ins)


def _typed(version: dict[str, Any]) -> dict[str, Any]:
    """A stored user version with its instants as datetimes again (JSON keeps them as text)."""
    return {name: datetime.fromisoformat(value) if name.endswith("_at") and isinstance(value, str) else value
            for name, value in version.items()}


def save(tenant_id: str, suppression: Suppression) -> None:
    """Replace the list atomically, readable by its owner only."""
    path = _path(tenant_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_suffix(".tmp")
    staged.write_text(json.dumps({
        "key_id": suppression.key_id,
        "user_keys": sorted(suppression.user_keys),
        "ticket_ids": sorted(suppression.ticket_ids),
        "unlinked_keys": sorted(suppression.unlinked_keys),
        "stand_ins": [{"key": s.key, "surrogate": s.surrogate, "tickets": sorted(s.tickets),
                       "fields": sorted(s.fields), "versions": list(s.versions)}
                      for s in suppression.stand_ins],
    }, default=str), encoding="utf-8")
    staged.chmod(0o600)
    os.replace(staged, path)


def add(tenant: TenantConfig, user_keys: set[str], ticket_ids: set[int]) -> Suppression:
    """Add erased people (keyed with the tenant's current secret) and tickets to the list."""
    listed = _writable(tenant)
    updated = replace(listed, key_id=key_id(tenant.secret()), user_keys=listed.user_keys | user_keys,
                      ticket_ids=listed.ticket_ids | ticket_ids)
    save(tenant.id, updated)
    return updated


def add_unlinked(tenant: TenantConfig, user_keys: set[str], stand_in: StandIn) -> Suppression:
    """Add an unlinked agent: their user keys to the unordered set, their stand-in to the entries."""
    listed = _writable(tenant)
    updated = replace(listed, key_id=key_id(tenant.secret()), unlinked_keys=listed.unlinked_keys | user_keys,
                      stand_ins=(*listed.stand_ins, stand_in))
    save(tenant.id, updated)
    return updated


def _writable(tenant: TenantConfig) -> Suppression:
    listed = load(tenant.id)
    if listed.keyed and listed.key_id != key_id(tenant.secret()):
        raise SuppressionError(f"tenant {tenant.id!r}: the suppression list was keyed with another secret;"
                               " run deskpulse rotate-key before erasing")
    return listed


@contextlib.contextmanager
def rekeying(tenant_id: str, previous: bytes) -> Iterator[_Rekeying]:
    """While a rotate-key reload runs in this process, match the list with the ``previous`` secret
    and collect the new-secret pseudonyms of every suppressed person the reload meets (``found``,
    and ``found_unlinked`` for unlinked agents)."""
    state = _rekeying[tenant_id] = _Rekeying(previous)
    try:
        yield state
    finally:
        del _rekeying[tenant_id]


def suppression_filter(tenant: TenantConfig, raw: RawTable) -> RowFilter:
    """The hook a platform source calls on each page of rows of its table ``raw``: drops every row
    of an erased ticket and every row naming an erased person (where, ``raw``'s columns declare);
    in rows naming an unlinked agent, puts their stand-in in their place. Reads the list once per
    call."""
    listed, table = load(tenant.id), raw.name
    columns, blanked = person_columns(raw), _blanked_values(tenant.platform, table, listed)
    if not listed or (columns is None and blanked is None):
        return lambda rows: rows
    if columns is None:
        return lambda rows: [blanked(row) for row in rows]
    is_erased, is_unlinked = _matcher(tenant, listed, "found"), _matcher(tenant, listed, "found_unlinked")
    authored = AUTHORED.get(tenant.platform, {}).get(table)

    def keep(rows: list[Row]) -> list[Row]:
        kept = []
        for row in rows:
            if _names_suppressed(row, columns, is_erased, listed):
                continue
            named = _named(row, columns, is_unlinked)
            if not named:
                kept.append(row)
            elif columns.ticket is None:  # their own record (users): its stand-in versions instead
                kept += [dict(version, **{"__row": row.get("__row")}) for s in listed.stand_ins
                         for version in s.versions]
            elif (stand_in := listed.stand_in_for(row.get(columns.ticket))) is not None:
                kept.append(_stood_in(row, columns, named, stand_in, authored))
            # else: a ticket they take part in after the erasure; its rows naming them stay out
        return [blanked(row) for row in kept] if blanked else kept

    return keep


def _names_suppressed(
    row: Row, columns: PersonColumns, is_suppressed: Callable[[object], bool], listed: Suppression
) -> bool:
    if columns.ticket and row.get(columns.ticket) in listed.ticket_ids:
        return True
    return bool(_named(row, columns, is_suppressed))


def _named(row: Row, columns: PersonColumns, matches: Callable[[object], bool]) -> list[str]:
    """The columns of ``row`` that name a person ``matches`` recognises."""
    found = [name for name in columns.people if matches(row.get(name))]
    if row.get("field_name") in PERSON_FIELDS:
        found += [name for name in columns.field_values if matches(row.get(name))]
    return found


def _stood_in(row: Row, columns: PersonColumns, named: list[str], stand_in: StandIn,
              authored: Authored | None) -> Row:
    """The row with the stand-in in every column naming the unlinked agent, and what they wrote blanked."""
    changed = dict(row)
    for name in named:
        changed[name] = stand_in.surrogate if name in columns.people else str(stand_in.surrogate)
        if name in columns.keys:
            changed[columns.keys[name]] = stand_in.key
    if authored and authored.applies(row) and any(name in named for name in authored.by):
        changed.update(dict.fromkeys(authored.values))
    return changed


def _blanked_values(platform: str, table: str, listed: Suppression) -> RowFilter | None:
    """For a table of values keyed by (ticket, field): blanks the values unlinked agents wrote."""
    spec = AUTHORED_VALUES.get(platform, {}).get(table)
    fields = frozenset(pair for s in listed.stand_ins for pair in s.fields)
    if spec is None or not fields:
        return None
    ticket, field_id, value = spec
    return lambda row: dict(row, **{value: None}) if (row.get(ticket), row.get(field_id)) in fields else row


def _matcher(tenant: TenantConfig, listed: Suppression, kind: str) -> Callable[[object], bool]:
    """Whether a platform user id is suppressed (``kind`` ``found``: erased; ``found_unlinked``:
    unlinked), keyed with the secret the list was made with."""
    listed_keys = listed.user_keys if kind == "found" else listed.unlinked_keys
    if not listed_keys:
        return lambda user_id: False
    current = tenant.secret()
    rekey = _rekeying.get(tenant.id)
    if listed.key_id == key_id(current):
        secret, found = current, None
    elif rekey is not None and listed.key_id == key_id(rekey.previous):
        secret, found = rekey.previous, getattr(rekey, kind)
    else:
        raise SuppressionError(f"tenant {tenant.id!r}: the suppression list was keyed with another secret;"
                               " run deskpulse rotate-key with the previous secret")
    keys: dict[object, bool] = {}

    def is_suppressed(user_id: object) -> bool:
        if user_id is None or user_id == "":
            return False
        if user_id not in keys:
            keys[user_id] = pseudonym(secret, "user", user_id) in listed_keys
            if keys[user_id] and found is not None:
                found.add(pseudonym(current, "user", user_id))
        return keys[user_id]

    return is_suppressed
