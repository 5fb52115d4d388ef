"""Serving files: the read-only DuckDB files BI tools query, replaced whole and atomically.

``$DESKPULSE_HOME/serving/tenants/<tenant>.duckdb`` holds one tenant's rows of every per-tenant
mart; ``serving/benchmark.duckdb`` holds the cross-tenant marts. Tables sit in schema ``main`` under
the mart's name, beside ``_publish`` (one row per table: publish id, time, run, row count and,
for a tenant, when its data was last loaded; a single row without a table when there is none).
A file is written under a temporary name next to its target, checkpointed, closed, made
read-only and moved over the old one with ``os.replace``: a reader holds either the old file or
the new one, never a mix, and never takes a lock the pipeline waits for. Nothing here writes the
warehouse.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.ingest.file_modes import seal_serving_file
from pipelines.ingest.home import serving_dir, warehouse_path

PUBLISH_TABLE = "_publish"
SOURCE_SCHEMA = "marts"  # the only warehouse schema a serving file is ever filled from


@dataclass(frozen=True)
class Publish:
    """One publish of one file: which run, when, and the rows of each table written."""

    path: Path
    publish_id: str
    published_at: datetime
    rows: dict[str, int]
    run_id: str | None = None
    loaded_at: datetime | None = None  # the tenant's last successful load: how fresh the rows are


def tenant_file(tenant_id: str) -> Path:
    return serving_dir() / "tenants" / f"{tenant_id}.duckdb"


def benchmark_file() -> Path:
    return serving_dir() / "benchmark.duckdb"


def publish_file(target: Path, marts: list[str], run_id: str, tenant_id: str | None = None,
                 loaded_at: datetime | None = None) -> Publish:
    """Copy ``marts`` from the warehouse into ``target`` (only ``tenant_id``'s rows when given),
    then swap the new file in atomically. The previous file stays if anything fails.
    ``loaded_at``: when the tenant's data was last loaded, recorded beside the publish time."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    publish_id, published_at = uuid.uuid4().hex, datetime.now(UTC)
    try:
        with duckdb.connect(str(temporary)) as con:
            con.execute(f"attach '{_literal(warehouse_path())}' as warehouse (read_only)")
            rows = {mart: _copy(con, mart, tenant_id) for mart in marts}
            con.execute("detach warehouse")
            con.execute(f"create table {PUBLISH_TABLE} (publish_id varchar, published_at timestamptz, "
                        "run_id varchar, table_name varchar, row_count bigint, loaded_at timestamptz)")
            entries = list(rows.items()) or [(None, None)]
            con.executemany(f"insert into {PUBLISH_TABLE} values (?, ?, ?, ?, ?, ?)",
                            [[publish_id, published_at, run_id, mart, count, loaded_at]
                             for mart, count in entries])
            con.execute("checkpoint")
        seal_serving_file(temporary)  # read-only: the owner's, or a BI group's too (file_modes)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return Publish(target, publish_id, published_at, rows)


def _copy(con: duckdb.DuckDBPyConnection, mart: str, tenant_id: str | None) -> int:
    source = f'warehouse.{SOURCE_SCHEMA}."{mart}"'
    where, parameters = ("where tenant_id = ?", [tenant_id]) if tenant_id else ("", [])
    con.execute(f'create table main."{mart}" as select * from {source} {where}', parameters)
    return con.execute(f'select count(*) from main."{mart}"').fetchone()[0]


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")


def read_publish(path: Path) -> Publish | None:
    """What a serving file holds, as its ``_publish`` table says; None if it was never published."""
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        cursor = con.execute(f"select * from {PUBLISH_TABLE}")
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    tables = {row["table_name"]: row["row_count"] for row in rows if row["table_name"] is not None}
    first = rows[0]
    return Publish(path, first["publish_id"], first["published_at"], tables, first["run_id"],
                   first.get("loaded_at"))
