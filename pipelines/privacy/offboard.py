"""Offboarding: delete every row, file and state deskpulse holds for one tenant, and say what went.

Gone: the raw schemas (with dlt's state tables in them), the tenant's rows in every other table,
dlt's local pipeline folders, the tenant's serving files and its suppression list. The audit log
keeps its entries (pseudonyms and counts) and gains one for the offboarding. Take the tenant out
of the tenant file first, or the next scheduled run loads it again; the caller then rebuilds the
marts so cross-tenant aggregates forget it (``deskpulse offboard`` does both checks).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.ingest.config import TENANT_ID
from pipelines.ingest.home import home
from pipelines.privacy import audit
from pipelines.privacy.suppression import privacy_dir
from pipelines.privacy.warehouse import (
    columns,
    connect,
    deleted_lines,
    dlt_folders,
    drop_raw,
    quoted,
    tables,
    tenant_serving_paths,
)

logger = logging.getLogger(__name__)


@dataclass
class Offboarding:
    """What offboarding deleted: schemas (with their row counts), rows per table, files and folders."""

    tenant_id: str
    schemas: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [f"tenant {self.tenant_id}: offboarded",
                *(f"  dropped schema {schema} ({rows:,} rows)" for schema, rows in self.schemas.items()),
                *deleted_lines(self.rows),
                *(f"  removed {path}" for path in self.paths)]


def offboard_tenant(tenant_id: str) -> Offboarding:
    """Delete all of one tenant's data and state (the tenant need not be configured any more)."""
    if not TENANT_ID.fullmatch(tenant_id):
        raise ValueError(f"{tenant_id!r} is not a tenant id")
    done = Offboarding(tenant_id)
    with connect() as con:
        con.begin()
        done.schemas = drop_raw(con, tenant_id)
        for schema, table in tables(con):
            if not schema.startswith("raw_") and "tenant_id" in columns(con, schema, table):
                done.rows[f"{schema}.{table}"] = con.execute(
                    f"delete from {quoted(schema, table)} where tenant_id = ?", [tenant_id]).fetchone()[0]
        con.commit()
    for path in _tenant_paths(tenant_id):
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        done.paths.append(str(path.relative_to(home())))
    audit.append("offboard", tenant_id, schemas=done.schemas,
                 rows={table: rows for table, rows in done.rows.items() if rows}, paths=done.paths)
    logger.info("tenant %s: offboarded", tenant_id)
    return done


def _tenant_paths(tenant_id: str) -> list[Path]:
    """dlt's pipeline folders, serving files and the private folder of the tenant, those that exist."""
    paths = [*dlt_folders(tenant_id), *tenant_serving_paths(tenant_id), privacy_dir(tenant_id)]
    return [path for path in paths if path.exists()]
