"""Reading the DuckDB warehouse from a Dagster step: short-lived read-only connections.

Only steps in the ``warehouse`` pool call these, so no other process holds the file meanwhile;
BI tools never come here, they read the serving files. The connections keep to the loads' memory
limit: what a check scans or groups beyond it spills to disk rather than grow the process.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb

from pipelines.ingest.home import warehouse_path
from pipelines.load import DUCKDB_SETTINGS


@contextlib.contextmanager
def read_only() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(warehouse_path()), read_only=True, config=DUCKDB_SETTINGS) as con:
        yield con


def row_counts(schema: str, tables: list[str]) -> dict[str, int]:
    """Rows per existing table of ``schema``; tables not (yet) in the warehouse are left out."""
    with read_only() as con:
        present = {row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()}
        return {table: con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
                for table in tables if table in present}
