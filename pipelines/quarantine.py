"""A tenant's quarantine, read for people and for a retry: what is held, why, and from when to re-read.

Sources put every record they cannot load in ``raw_<tenant>.quarantine`` with the reason (never
the record), and take it out once a version of it loads cleanly (``pipelines.sources.zendesk.tables``).
``deskpulse quarantine list`` shows what is held; ``deskpulse quarantine retry`` re-reads it once
the cause is fixed: a backfill from the day of the earliest held record of a table read
incrementally (its export time; the tenant's start date when that time is unknown) to tomorrow,
which serves every held record again. Tables read whole are read again by every load anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pipelines.ingest.config import TenantConfig
from pipelines.ingest.home import raw_dataset
from pipelines.platforms import platform
from pipelines.privacy.classification import QUARANTINE
from pipelines.privacy.warehouse import connect, has_table, quoted


@dataclass(frozen=True)
class Held:
    """One quarantined record: where it was meant to go and why it did not, never its content."""

    table: str
    record_key: str
    record_id: int | None
    ticket_id: int | None
    reason: str
    record_time: datetime | None
    quarantined_at: datetime | None


def held(tenant_id: str) -> list[Held]:
    """The records the tenant's quarantine holds, by table, time and id (a read-only connection:
    it fails while a run is writing the warehouse)."""
    schema = raw_dataset(tenant_id)
    with connect(read_only=True) as con:
        if not has_table(con, schema, QUARANTINE):
            return []
        rows = con.execute(
            "select table_name, record_key, record_id, ticket_id, reason, record_time, quarantined_at"
            f" from {quoted(schema, QUARANTINE)} order by table_name, record_time nulls first, record_id,"
            " record_key").fetchall()
    return [Held(*row) for row in rows]


def retry_days(tenant: TenantConfig, records: list[Held], today: date) -> tuple[date, date] | None:
    """The days ``[start, end)`` a retry re-reads to meet every held record of a table read
    incrementally again, or None when only tables read whole hold any (every load re-reads those)."""
    incremental = platform(tenant.platform).incremental_tables
    starts = [(record.record_time or tenant.start_date).astimezone(UTC).date()
              for record in records if record.table in incremental]
    return (min(starts), today + timedelta(days=1)) if starts else None
