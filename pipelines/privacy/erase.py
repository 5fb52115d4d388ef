"""Erasure (right to be forgotten): remove one person from a tenant's raw data, for good.

The person is found by e-mail (through its keyed token) or platform user id. Removed: every
version of their user record, and every ticket they appear in, in any role (requester, submitter,
assignee, comment author, updater, named in a field change or a rating), whole: the ticket, all its
events and all its ratings. The marts then equal a build from a world in which those tickets and
that user never existed. The suppression list keeps their pseudonym and those ticket ids so no
later load brings them back; the audit log records pseudonyms and counts only. The caller
rebuilds the marts afterwards (``deskpulse erase`` does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import duckdb

from pipelines.config import TenantConfig
from pipelines.home import raw_dataset
from pipelines.keys import pseudonym
from pipelines.privacy import audit, suppression
from pipelines.privacy.classification import (
    PEOPLE,
    PERSON_FIELDS,
    PSEUDONYMISED,
    QUARANTINE,
    RAW_FIELDS,
    PersonColumns,
)
from pipelines.privacy.warehouse import (
    connect,
    delete_derived,
    delete_quarantined,
    deleted_lines,
    has_table,
    quoted,
    raw_schemas,
)

logger = logging.getLogger(__name__)
# dbt's record of the tickets it has built (ids and timestamps, nobody's identity): kept, so the
# next build sees the erased tickets leave raw and recomputes the aggregate cells that held them
CHANGES_LEDGER = "intermediate.int_ticket_changes__ticket"


@dataclass
class Erasure:
    """What one erasure did: the pseudonyms erased, tickets removed and rows deleted per raw table."""

    tenant_id: str
    matched_by: str
    user_keys: list[str]
    tickets: int = 0
    deleted: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """For people: what was erased, by pseudonym."""
        if not self.user_keys:
            return [f"tenant {self.tenant_id}: no user with that {self.matched_by} in "
                    f"{raw_dataset(self.tenant_id)}; nothing erased"]
        head = [f"tenant {self.tenant_id}: erased user key {key}" for key in self.user_keys]
        return [*head, f"  tickets removed whole: {self.tickets}",
                *deleted_lines(self.deleted)]


def erase_person(tenant: TenantConfig, *, email: str | None = None, user_id: int | None = None) -> Erasure:
    """Erase the person with this e-mail or platform user id from the tenant's raw schemas."""
    if (email is None) == (user_id is None):
        raise ValueError("give exactly one of email and user_id")
    secret = tenant.secret()
    with connect() as con:
        schema = raw_dataset(tenant.id)
        if user_id is not None:
            ids = {user_id}
        else:
            ids = _ids_with_email(con, schema, pseudonym(secret, "email", email))
        erasure = Erasure(tenant.id, "e-mail" if email is not None else "user id",
                          sorted(pseudonym(secret, "user", i) for i in ids))
        if not ids:
            return erasure
        _id_table(con, "erased_people", ids)
        tickets = _tickets_naming(con, schema, tenant.platform)
        _id_table(con, "erased_tickets", tickets)
        erasure.tickets = len(tickets)
        keys = _pseudonyms(con, schema, tenant.platform, erasure.user_keys)
        suppression.add(tenant, set(erasure.user_keys), tickets)  # first: a crash below cannot let them back
        con.begin()
        erasure.deleted = _delete(con, raw_schemas(con, tenant.id), tenant.platform)
        erasure.deleted |= delete_derived(con, tenant.id, tickets="erased_tickets", keys=keys,
                                          keep=[CHANGES_LEDGER])
        con.commit()
    audit.append("erase", tenant.id, subjects=erasure.user_keys, matched_by=erasure.matched_by,
                 tickets=erasure.tickets, rows=erasure.deleted)
    logger.info("tenant %s: erased %d user key(s), %d tickets", tenant.id, len(ids), erasure.tickets)
    return erasure


def _pseudonyms(
    con: duckdb.DuckDBPyConnection, schema: str, platform: str, user_keys: list[str]
) -> list[str]:
    """Every pseudonym of the ``erased_people``: their user keys and the tokens their user versions
    carry (the keyed columns of the users table), to find them in derived tables."""
    keyed = [name for name, f in RAW_FIELDS[platform]["users"].items() if f.extraction == PSEUDONYMISED]
    found = set(user_keys)
    if has_table(con, schema, "users"):
        for row in con.execute(f"select {', '.join(keyed)} from {quoted(schema, 'users')}"
                               " where id in (select id from erased_people)").fetchall():
            found |= {value for value in row if value}
    return sorted(found)


def _ids_with_email(con: duckdb.DuckDBPyConnection, schema: str, email_token: str) -> set[int]:
    if not has_table(con, schema, "users"):
        return set()
    rows = con.execute(f"select distinct id from {quoted(schema, 'users')} where email_token = ?",
                       [email_token]).fetchall()
    return {row[0] for row in rows}


def _naming(columns: PersonColumns) -> str:
    """SQL condition: the row names a person of the temp table ``erased_people``."""
    conditions = [f'"{name}" in (select id from erased_people)' for name in columns.people]
    if columns.field_values:
        fields = ", ".join(f"'{name}'" for name in PERSON_FIELDS)
        values = " or ".join(f'"{name}" in (select cast(id as varchar) from erased_people)'
                             for name in columns.field_values)
        conditions.append(f"(field_name in ({fields}) and ({values}))")
    return " or ".join(conditions) or "false"


def _id_table(con: duckdb.DuckDBPyConnection, name: str, ids: set[int]) -> None:
    """A temp table ``name`` with one ``id`` column holding ``ids``."""
    con.execute(f"create or replace temp table {name} (id bigint)")
    con.executemany(f"insert into {name} values (?)", [[i] for i in ids])


def _tickets_naming(con: duckdb.DuckDBPyConnection, schema: str, platform: str) -> set[int]:
    """Ids of the tickets any row of which names a person of ``erased_people``."""
    found: set[int] = set()
    for table, columns in PEOPLE[platform].items():
        if columns.ticket and has_table(con, schema, table):
            found |= {row[0] for row in con.execute(
                f'select distinct "{columns.ticket}" from {quoted(schema, table)} where {_naming(columns)}'
            ).fetchall()}
    return found


def _delete(con: duckdb.DuckDBPyConnection, schemas: list[str], platform: str) -> dict[str, int]:
    """Delete every row of ``erased_tickets`` and every row naming a person of ``erased_people``."""
    deleted: dict[str, int] = {}
    for schema in schemas:
        for table, columns in PEOPLE[platform].items():
            if not has_table(con, schema, table):
                continue
            condition = _naming(columns)
            if columns.ticket:
                condition = f'"{columns.ticket}" in (select id from erased_tickets) or {condition}'
            rows = con.execute(f"delete from {quoted(schema, table)} where {condition}").fetchone()[0]
            deleted[f"{schema}.{table}"] = rows
        deleted[f"{schema}.{QUARANTINE}"] = delete_quarantined(con, schema, platform, people="erased_people",
                                                               tickets="erased_tickets")
    return deleted
