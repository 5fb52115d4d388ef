"""Retention: delete a tenant's raw event data older than its ``retention_days``.

A ticket is kept or purged whole, by its last activity: once its ``updated_at`` is older than the
cutoff, the ticket, all its events and all its ratings go (events and ratings of tickets the
warehouse never saw go by their own ``created_at``). A user goes once their latest version is
older than the cutoff and no kept ticket, event or rating names them. Row-level rows derived from
purged tickets (every non-raw table with ``tenant_id`` and ``ticket_id``, ``fct_tickets`` among
them) go too; aggregates (agent and team days, backlog) stay. The weekly retention job calls
``purge_tenant`` for each tenant; ``deskpulse purge --tenant T`` does it by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb

from pipelines.ingest.config import TenantConfig
from pipelines.ingest.home import raw_dataset
from pipelines.privacy import audit
from pipelines.privacy.classification import PERSON_FIELDS, QUARANTINE, PersonColumns
from pipelines.privacy.register import PEOPLE
from pipelines.privacy.warehouse import (
    columns,
    connect,
    delete_derived,
    delete_quarantined,
    deleted_lines,
    has_table,
    quoted,
    raw_schemas,
)

logger = logging.getLogger(__name__)


@dataclass
class Purge:
    """What one purge deleted: tickets past retention and rows per table."""

    tenant_id: str
    cutoff: datetime
    tickets: int = 0
    deleted: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        return [f"tenant {self.tenant_id}: purged data last active before {self.cutoff:%Y-%m-%d %H:%M} UTC,"
                f" {self.tickets} ticket(s)",
                *deleted_lines(self.deleted)]


def purged_before(tenant_ids: list[str]) -> dict[str, str]:
    """Per tenant that was ever purged, the latest purge's cutoff (naive UTC, as dbt's
    ``purged_before`` var takes it): incremental builds keep the aggregate cells before it."""
    latest: dict[str, datetime] = {}
    for entry in audit.entries():
        if entry["action"] == "purge" and entry["tenant"] in tenant_ids:
            cutoff = datetime.fromisoformat(entry["cutoff"])
            latest[entry["tenant"]] = max(cutoff, latest.get(entry["tenant"], cutoff))
    return {tenant_id: f"{cutoff.astimezone(UTC):%Y-%m-%d %H:%M:%S}" for tenant_id, cutoff in latest.items()}


def purge_tenant(tenant: TenantConfig, now: datetime | None = None) -> Purge:
    """Delete the tenant's raw event data, and row-level marts built from it, past retention."""
    purge = Purge(tenant.id, (now or datetime.now(UTC)) - timedelta(days=tenant.retention_days))
    people = PEOPLE[tenant.platform]
    with connect() as con:
        schemas, raw = raw_schemas(con, tenant.id), raw_dataset(tenant.id)
        if not has_table(con, raw, "tickets"):
            return purge
        con.execute("create or replace temp table purged_tickets as"
                    f" select id from {quoted(raw, 'tickets')} where updated_at < ?", [purge.cutoff])
        purge.tickets = con.execute("select count(*) from purged_tickets").fetchone()[0]
        con.begin()
        purge.deleted.update(_delete_users(con, schemas, raw, people, purge.cutoff))
        for schema in schemas:
            for table, owner in people.items():
                if owner.ticket and has_table(con, schema, table):
                    purge.deleted[f"{schema}.{table}"] = _delete_ticket_rows(con, schema, table, owner, raw,
                                                                            purge.cutoff)
            purge.deleted[f"{schema}.{QUARANTINE}"] = delete_quarantined(
                con, schema, tenant.platform, people="purged_users", tickets="purged_tickets")
        purge.deleted.update(delete_derived(con, tenant.id, tickets="purged_tickets"))
        con.commit()
    audit.append("purge", tenant.id, cutoff=purge.cutoff.isoformat(), tickets=purge.tickets,
                 rows={table: rows for table, rows in purge.deleted.items() if rows})
    logger.info("tenant %s: purged %d tickets last active before %s", tenant.id, purge.tickets, purge.cutoff)
    return purge


def _delete_ticket_rows(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, owner: PersonColumns, raw: str, cutoff: datetime
) -> int:
    """Rows of purged tickets; for events and ratings also old rows of tickets never loaded."""
    condition = f'"{owner.ticket}" in (select id from purged_tickets)'
    parameters: list[object] = []
    if table != "tickets" and "created_at" in columns(con, schema, table):
        condition += (f' or (created_at < ? and "{owner.ticket}" not in'
                      f" (select id from {quoted(raw, 'tickets')}))")
        parameters.append(cutoff)
    return con.execute(f"delete from {quoted(schema, table)} where {condition}", parameters).fetchone()[0]


def _delete_users(
    con: duckdb.DuckDBPyConnection, schemas: list[str], raw: str, people: dict[str, PersonColumns],
    cutoff: datetime,
) -> dict[str, int]:
    """Every version of users whose latest version is past retention and whom no kept row names."""
    if not has_table(con, raw, "users"):
        return {}
    named = " union all ".join(_named_ids(raw, table, owner) for table, owner in people.items()
                               if owner.ticket and owner.people and has_table(con, raw, table))
    named = named or "select null as id"
    con.execute(
        "create or replace temp table purged_users as"
        f" select id from {quoted(raw, 'users')} group by id having max(updated_at) < ?"
        f" except select id from ({named}) where id is not null", [cutoff])
    return {f"{schema}.users": con.execute(
        f"delete from {quoted(schema, 'users')} where id in (select id from purged_users)").fetchone()[0]
        for schema in schemas if has_table(con, schema, "users")}


def _named_ids(raw: str, table: str, owner: PersonColumns) -> str:
    """SQL: the user ids that the kept rows of one raw table name."""
    kept = f"""where "{owner.ticket}" not in (select id from purged_tickets)"""
    selects = [f'select "{name}" as id from {quoted(raw, table)} {kept}' for name in owner.people]
    fields = ", ".join(f"'{name}'" for name in PERSON_FIELDS)
    selects += [f'select try_cast("{name}" as bigint) as id from {quoted(raw, table)} {kept}'
                f" and field_name in ({fields})" for name in owner.field_values]
    return " union all ".join(selects)
