"""Warehouse access for the privacy operations: a tenant's raw schemas, tables, and reference scans.

A tenant's raw data sits in ``raw_<tenant>`` and in dlt's merge staging copy ``raw_<tenant>_staging``;
both are edited together. Published serving files under ``$DESKPULSE_HOME/serving/`` are DuckDB
files too and are scanned the same way. Callers hold the warehouse's only writer while they edit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.ingest.home import dlt_pipelines_dir, raw_dataset, serving_dir, warehouse_path
from pipelines.privacy.classification import QUARANTINE, QUARANTINED_IDS

TEXT_TYPES = ("VARCHAR",)
INTEGER_TYPES = ("BIGINT", "INTEGER", "HUGEINT", "SMALLINT", "UBIGINT", "UINTEGER")


@contextlib.contextmanager
def connect(path: Path | None = None, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the warehouse (or another DuckDB file), closed on exit."""
    con = duckdb.connect(str(path or warehouse_path()), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def quoted(schema: str, table: str) -> str:
    return f'"{schema}"."{table}"'


def raw_schemas(con: duckdb.DuckDBPyConnection, tenant_id: str) -> list[str]:
    """The tenant's raw schema and dlt's merge staging copy of it, those that exist."""
    wanted = [raw_dataset(tenant_id), f"{raw_dataset(tenant_id)}_staging"]
    present = {row[0] for row in con.execute("select schema_name from information_schema.schemata")
               .fetchall()}
    return [schema for schema in wanted if schema in present]


def tables(con: duckdb.DuckDBPyConnection, *, views: bool = False) -> list[tuple[str, str]]:
    """Every (schema, table) of the database, views included only if asked."""
    kinds = ("BASE TABLE", "VIEW") if views else ("BASE TABLE",)
    return [(schema, table) for schema, table, kind in con.execute(
        "select table_schema, table_name, table_type from information_schema.tables"
        " where table_catalog = current_database() order by 1, 2").fetchall() if kind in kinds]


def columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Column name → data type, in table order."""
    return dict(con.execute(
        "select column_name, data_type from information_schema.columns"
        " where table_catalog = current_database() and table_schema = ? and table_name = ?"
        " order by ordinal_position", [schema, table]).fetchall())


def row_count(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> int:
    return con.execute(f"select count(*) from {quoted(schema, table)}").fetchone()[0]


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(columns(con, schema, table))


def drop_raw(con: duckdb.DuckDBPyConnection, tenant_id: str) -> dict[str, int]:
    """Drop the tenant's raw schemas (dlt's state tables with them): schema → rows it held."""
    dropped = {}
    for schema in raw_schemas(con, tenant_id):
        dropped[schema] = sum(row_count(con, owner, table) for owner, table in tables(con) if owner == schema)
        con.execute(f'drop schema "{schema}" cascade')
    return dropped


def dlt_folders(tenant_id: str) -> list[Path]:
    """dlt's local working folders (state, pending packages) of the tenant's pipelines, those that
    exist: each is named ``<platform>_<tenant>``, and a platform's name has no underscore."""
    folders = dlt_pipelines_dir()
    if not folders.is_dir():
        return []
    return sorted(folder for folder in folders.iterdir()
                  if folder.is_dir() and folder.name.partition("_")[2] == tenant_id)


@dataclass(frozen=True)
class Step:
    """One statement of a privacy edit: delete the rows of ``schema.table`` matching ``where``, or,
    with ``assign``, update them. ``count`` says how many rows it would touch, changing nothing
    (what a dry run prints)."""

    schema: str
    table: str
    where: str
    params: tuple = ()
    assign: str | None = None
    assign_params: tuple = ()

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    def count(self, con: duckdb.DuckDBPyConnection) -> int:
        return con.execute(f"select count(*) from {quoted(self.schema, self.table)} where {self.where}",
                           list(self.params)).fetchall()[0][0]

    def apply(self, con: duckdb.DuckDBPyConnection) -> int:
        if self.assign is None:
            sql, params = f"delete from {quoted(self.schema, self.table)} where {self.where}", self.params
        else:
            sql = f"update {quoted(self.schema, self.table)} set {self.assign} where {self.where}"
            params = (*self.assign_params, *self.params)
        return con.execute(sql, list(params)).fetchall()[0][0]


def run_steps(con: duckdb.DuckDBPyConnection, steps: Iterable[Step], *, dry_run: bool = False
              ) -> tuple[dict[str, int], dict[str, int]]:
    """Apply (or, in a dry run, count) the steps: (rows deleted, rows rewritten) per table."""
    deleted: dict[str, int] = {}
    rewritten: dict[str, int] = {}
    for step in steps:
        rows = step.count(con) if dry_run else step.apply(con)
        into = deleted if step.assign is None else rewritten
        into[step.name] = into.get(step.name, 0) + rows
    return deleted, rewritten


def quarantine_step(con: duckdb.DuckDBPyConnection, schema: str, platform: str, *, people: str,
                    tickets: str) -> Step | None:
    """The quarantined records whose own id is a person in temp table ``people`` or a ticket in
    temp table ``tickets`` (each with one ``id`` column), or that belong to such a ticket, if the
    schema has a quarantine."""
    if not has_table(con, schema, QUARANTINE):
        return None
    sources = {"person": people, "ticket": tickets}
    conditions = [f"(table_name = '{table}' and record_id in (select id from {sources[kind]}))"
                  for table, kind in QUARANTINED_IDS.get(platform, {}).items()]
    if conditions and "ticket_id" in columns(con, schema, QUARANTINE):
        conditions.append(f"ticket_id in (select id from {tickets})")
    return Step(schema, QUARANTINE, " or ".join(conditions)) if conditions else None


def delete_quarantined(con: duckdb.DuckDBPyConnection, schema: str, platform: str, *, people: str,
                       tickets: str) -> int:
    """Delete quarantined records whose own id is a person in temp table ``people`` or a ticket in
    temp table ``tickets`` (each with one ``id`` column), or that belong to such a ticket."""
    step = quarantine_step(con, schema, platform, people=people, tickets=tickets)
    return step.apply(con) if step else 0


def derived_tables(con: duckdb.DuckDBPyConnection, tenant_id: str, keep: Collection[str] = ()
                   ) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Every non-raw table keyed by tenant but those in ``keep`` (``schema.table``), with its columns."""
    for schema, table in tables(con):
        names = columns(con, schema, table)
        if not schema.startswith("raw_") and "tenant_id" in names and f"{schema}.{table}" not in keep:
            yield schema, table, names


def derived_steps(con: duckdb.DuckDBPyConnection, tenant_id: str, *, tickets: str,
                  keys: Collection[str] = (), keep: Collection[str] = ()) -> list[Step]:
    """In every non-raw table keyed by tenant but those in ``keep``: the tenant's rows of the
    tickets in temp table ``tickets`` and rows whose text columns hold one of ``keys``."""
    found = []
    for schema, table, names in derived_tables(con, tenant_id, keep):
        conditions = [f"ticket_id in (select id from {tickets})"] if "ticket_id" in names else []
        texts = [name for name, data_type in names.items() if data_type in TEXT_TYPES] if keys else []
        conditions += [f'"{name}" in ({", ".join("?" * len(keys))})' for name in texts]
        if conditions:
            found.append(Step(schema, table, f"tenant_id = ? and ({' or '.join(conditions)})",
                              (tenant_id, *[key for _ in texts for key in keys])))
    return found


def delete_derived(con: duckdb.DuckDBPyConnection, tenant_id: str, *, tickets: str,
                   keys: Collection[str] = (), keep: Collection[str] = ()) -> dict[str, int]:
    """In every non-raw table keyed by tenant but those in ``keep`` (``schema.table``), delete the
    tenant's rows of the tickets in temp table ``tickets`` and rows whose text columns hold one of
    ``keys`` (pseudonyms). Tables dbt rebuilds whole lose nothing by it; incremental ones would
    otherwise keep those rows."""
    return run_steps(con, derived_steps(con, tenant_id, tickets=tickets, keys=keys, keep=keep))[0]


def serving_files() -> list[Path]:
    """Every published file under ``$DESKPULSE_HOME/serving/``."""
    folder = serving_dir()
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


def tenant_serving_paths(tenant_id: str) -> list[Path]:
    """A tenant's published files and folders, at any depth under ``serving/``: named ``<tenant>``
    or ``<tenant>.*`` (a publish's leftover ``.<tenant>.*.tmp`` too)."""
    folder = serving_dir()
    found = [p for p in (folder.rglob("*") if folder.exists() else [])
             if p.name.lstrip(".").split(".")[0] == tenant_id]
    return sorted(p for p in found if not any(parent in found for parent in p.parents))


def deleted_lines(deleted: dict[str, int]) -> list[str]:
    """``  schema.table    rows deleted`` lines for people, tables with deletions only."""
    return [f"  {table:<50} {rows:>8,} rows deleted" for table, rows in deleted.items() if rows]
