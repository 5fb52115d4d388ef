"""Every place deskpulse keeps data under ``DESKPULSE_HOME``, and a scan of all of them for a person.

Erasure's final check, the subject access report and the lineage report's storage inventory read
this one list, so none of them can forget a place the others know: the warehouse (raw, quarantine,
staging, intermediate, marts, restricted), the serving files, dlt's folder (state, schemas, load
packages), the logs, the Dagster storage (run and event history, compute logs), and the privacy
records (audit log, suppression lists), which keep pseudonyms by design.
"""

from __future__ import annotations

import getpass
import gzip
import os
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.ingest.home import dlt_pipelines_dir, home, logs_dir, serving_dir, warehouse_path
from pipelines.privacy.register import PERSON_ID_COLUMNS
from pipelines.privacy.warehouse import (
    INTEGER_TYPES,
    TEXT_TYPES,
    columns,
    connect,
    dlt_folders,
    quoted,
    raw_schemas,
    serving_files,
    tables,
)

PENDING = ("normalize/extracted", "load/new", "load/normalized")  # dlt packages not loaded yet
LOADED = "load/loaded"  # dlt packages loaded (copies of rows the warehouse holds)


@dataclass(frozen=True)
class Place:
    """One kind of storage: what it is, where, what it holds, and whether it may hold people's data."""

    name: str
    where: str
    holds: str
    personal: str  # what of a person it may hold


def place_list() -> list[Place]:
    """The places, for the reports: one line each."""
    return [
        Place("warehouse", "warehouse.duckdb", "raw_<tenant> (raw API data, quarantine, dlt state tables), "
              "raw_<tenant>_staging (dlt's merge copy), staging views, intermediate, marts, restricted",
              "platform ids and keyed tokens (raw, intermediate), keys (marts), the agent key mapping "
              "(restricted)"),
        Place("serving files", "serving/tenants/<tenant>.duckdb, serving/benchmark.duckdb",
              "published marts per tenant; the cross-tenant benchmark",
              "keys (per-tenant files); none (benchmark)"),
        Place("dlt folder", "dlt/<platform>_<tenant>/", "state (cursors), schemas, traces; load packages "
              "only while a load runs (deleted once loaded)", "the rows of a load in progress"),
        Place("logs", "logs/", "command and run logs", "none by rule (counts, ids of runs, never values)"),
        Place("Dagster storage", "dagster/ (or DAGSTER_HOME)",
              "run history, event logs, compute logs, schedules",
              "none by rule (metadata is counts and names)"),
        Place("privacy records", "audit/privacy.jsonl, privacy/<tenant>/suppression.json",
              "the audit log; erased people's and unlinked agents' pseudonyms and erased ticket ids",
              "pseudonyms of erased people, by design: how erasure is honoured and proven"),
    ]


def dagster_dir() -> Path:
    """The Dagster instance folder deskpulse uses (``DAGSTER_HOME`` if set)."""
    return Path(os.environ["DAGSTER_HOME"]) if os.environ.get("DAGSTER_HOME") else home() / "dagster"


def privacy_records() -> list[Path]:
    """The files that keep erased people's pseudonyms on purpose."""
    found = [home() / "audit" / "privacy.jsonl", *sorted((home() / "privacy").glob("*/suppression.json"))]
    return [path for path in found if path.exists()]


def dlt_packages(tenant_id: str, *, pending: bool = False) -> list[Path]:
    """The tenant's dlt load packages: loaded (copies of rows), or ``pending`` (not loaded yet)."""
    found = []
    for folder in dlt_folders(tenant_id):
        for stage in PENDING if pending else (LOADED,):
            if (folder / stage).exists():
                found += sorted((folder / stage).iterdir())
    return found


def operator() -> str:
    """Who runs a privacy command, for the audit log (the account, not a data subject)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


# -- the scan ------------------------------------------------------------------------------------
@dataclass
class Scan:
    """Where a person was found (``place: where`` → rows or matches) and what was scanned."""

    hits: dict[str, int] = field(default_factory=dict)
    scanned: dict[str, int] = field(default_factory=dict)  # place → tables or files read

    def lines(self) -> list[str]:
        unit = {"warehouse": "tables and views", "serving files": "tables and views"}
        return [f"  {place}: {count} {unit.get(place, 'files')}" for place, count in self.scanned.items()]


def scan(tenant_id: str, values: Collection[str], ids: Collection[int] = ()) -> Scan:
    """Look for ``values`` (keys and tokens: whole text values, and anywhere in files) and ``ids``
    (platform user ids: in person-id columns, as text values, and after a person-id field name in
    files) in every place but the privacy records."""
    found = Scan()
    for place, path in _files():
        if place in ("warehouse", "serving files"):
            with connect(path, read_only=True) as con:
                for where, count in _duckdb_hits(con, tenant_id, values, ids):
                    found.hits[f"{path.relative_to(home())}:{where}"] = count
                read = len(tables(con, views=True))
        elif path.suffix == ".parquet":
            read = 1
            for where, count in _parquet_hits(path, values, ids):
                found.hits[f"{path.relative_to(home())}:{where}"] = count
        else:
            read = 1
            if count := _text_hits(_read(path), values, ids):
                found.hits[str(path.relative_to(home()) if path.is_relative_to(home()) else path)] = count
        found.scanned[place] = found.scanned.get(place, 0) + read
    return found


def _files() -> Iterator[tuple[str, Path]]:
    skipped = {*privacy_records(), warehouse_path()}
    yield "warehouse", warehouse_path()
    for path in serving_files():
        yield ("serving files", path) if path.suffix == ".duckdb" else ("serving files (other)", path)
    folders = (("dlt folder", dlt_pipelines_dir()), ("logs", logs_dir()), ("Dagster storage", dagster_dir()),
               ("other files", home()))
    for place, folder in folders:
        for path in sorted(folder.rglob("*")) if folder.exists() else []:
            if path.is_file() and path not in skipped and (place != "other files" or not _elsewhere(path)):
                yield place, path


def _elsewhere(path: Path) -> bool:
    """Whether a file under the home is in a place scanned on its own (or the warehouse's WAL)."""
    inside = (dlt_pipelines_dir(), logs_dir(), dagster_dir(), serving_dir())
    return any(path.is_relative_to(folder) for folder in inside) or path.name.startswith("warehouse.duckdb")


def _read(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def _text_hits(text: str, values: Collection[str], ids: Collection[int]) -> int:
    count = sum(text.count(value) for value in values)
    if ids:
        names = "|".join(sorted(PERSON_ID_COLUMNS | {"id"}))
        pattern = re.compile(rf"\b(?:{names})\W{{1,4}}({'|'.join(map(str, ids))})\b")
        count += len(pattern.findall(text))
    return count


def _person_columns(table: str, typed: dict[str, str]) -> list[str]:
    return [name for name, data_type in typed.items() if data_type in INTEGER_TYPES
            and (name in PERSON_ID_COLUMNS or (name == "id" and table == "users"))]


def _duckdb_hits(con: duckdb.DuckDBPyConnection, tenant_id: str, values: Collection[str], ids: Collection[int]
                 ) -> Iterator[tuple[str, int]]:
    own = set(raw_schemas(con, tenant_id))
    for schema, table in tables(con, views=True):
        if schema.startswith("raw_") and schema not in own:
            continue
        typed = columns(con, schema, table)
        scope = ("tenant_id = ?", [tenant_id]) if "tenant_id" in typed else ("true", [])
        yield from ((f"{schema}.{table}.{column}", count) for column, count in
                    _column_hits(con, quoted(schema, table), table, typed, values, ids, scope))


def _parquet_hits(path: Path, values: Collection[str], ids: Collection[int]) -> Iterator[tuple[str, int]]:
    with duckdb.connect() as con:
        relation = f"read_parquet('{path}')"
        rows = con.sql(f"select * from {relation}")
        typed = dict(zip(rows.columns, map(str, rows.types), strict=True))
        yield from _column_hits(con, relation, path.name.split(".")[0], typed, values, ids, ("true", []))


def _column_hits(con: duckdb.DuckDBPyConnection, relation: str, table: str, typed: dict[str, str],
                 values: Collection[str], ids: Collection[int], scope: tuple[str, list]
                 ) -> Iterator[tuple[str, int]]:
    texts = [*values, *map(str, ids)]
    checks = [(name, texts) for name, data_type in typed.items() if data_type in TEXT_TYPES and texts]
    checks += [(name, list(ids)) for name in _person_columns(table, typed) if ids]
    if not checks:
        return
    selects = ", ".join(f'count(*) filter (where "{name}" in ({", ".join("?" * len(wanted))}))'
                        for name, wanted in checks)
    counts = con.execute(f"select {selects} from {relation} where {scope[0]}",
                         [value for _, wanted in checks for value in wanted] + scope[1]).fetchall()[0]
    yield from ((name, count) for (name, _), count in zip(checks, counts, strict=True) if count)
