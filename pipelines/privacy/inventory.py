"""Where data lives, column by column, with its PII class: the storage half of the lineage report.

Every table deskpulse writes is listed from what declares it (the raw register for dlt's tables,
dlt's own bookkeeping tables, the dbt manifest for staging, intermediate, marts, restricted and
reference data), and, when a warehouse exists, from the warehouse's catalogue too (names and
types only, never rows), so a table or column that nothing declares shows up. Files come from
``places``. A column is flagged when it has no class, or holds ``personal`` data where only the
raw register may hold it (allow-listed custom field values).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.ingest.columns import NONE, PERSONAL, PII_CLASSES
from pipelines.ingest.home import BUILD_INPUTS_TABLE
from pipelines.privacy.classification import DLT_COLUMNS
from pipelines.privacy.lineage import PUBLISHED_SCHEMAS
from pipelines.privacy.places import place_list
from pipelines.privacy.register import RAW_FIELDS
from pipelines.privacy.warehouse import columns, connect, tables

RAW = "raw_<tenant>"
# dlt's own tables in each raw schema: load ids, state (cursors), stored schema versions
DLT_TABLES = {"_dlt_loads": "dlt: one row per load (ids, status, times)",
              "_dlt_pipeline_state": "dlt: the pipeline's state (incremental cursors), compressed",
              "_dlt_version": "dlt: the stored schema versions (tables, columns, hints)"}


def declared_tables(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """Every table or view deskpulse writes, with each column's class and where it is published."""
    found = []
    for platform, raw_tables in RAW_FIELDS.items():
        for table, fields in raw_tables.items():
            found.append(_table(RAW, table, f"raw {platform} data (dlt)", False,
                                {name: field.pii for name, field in fields.items()}, raw=True))
            found.append(_table(f"{RAW}_staging", table, "dlt's merge copy of the last load's rows", False,
                                {name: field.pii for name, field in fields.items()}, raw=True))
    found += [_table(RAW, table, what, False, {}, raw=True) for table, what in DLT_TABLES.items()]
    schema, table = BUILD_INPUTS_TABLE.split(".")
    found.append(_table(schema, table, "the marts build's record of its raw inputs (fingerprints)", False,
                        {"inputs": NONE}))
    for node in sorted(manifest["nodes"].values(), key=lambda n: (n["schema"], n["name"])):
        if node["resource_type"] not in ("model", "seed"):
            continue
        kind = "seed" if node["resource_type"] == "seed" else node["config"].get("materialized")
        schema = node["schema"]
        published = schema in PUBLISHED_SCHEMAS
        what = f"dbt {kind}" + (f"; published to {_serving(node)}" if published else "")
        classes = {name: column.get("meta", {}).get("pii") for name, column in node["columns"].items()}
        found.append(_table(schema, node.get("alias") or node["name"], what, published, classes))
    return found


def _serving(node: dict[str, Any]) -> str:
    return "serving/tenants/<tenant>.duckdb" if "tenant_id" in node["columns"] else "serving/benchmark.duckdb"


def _table(schema: str, table: str, what: str, published: bool, classes: dict[str, str | None], *,
           raw: bool = False) -> dict[str, Any]:
    """One table's entry; ``raw``: a raw table, which may hold personal values."""
    flags = []
    for name, pii in classes.items():
        if pii not in PII_CLASSES:
            flags.append(f"{name}: no PII class")
        elif pii == PERSONAL and not raw:
            flags.append(f"{name}: personal data stored outside raw (only allow-listed raw values may be)")
    return {"schema": schema, "table": table, "what": what, "published": published,
            "columns": [{"name": name, "pii": pii} for name, pii in classes.items()], "flags": flags}


def warehouse_tables(path: Path, declared: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The warehouse's own catalogue (names only): every table nothing declares, and every column
    nothing declares (flagged, unless dlt's own). A tenant's raw schemas compare with the register."""
    known = {(_generic(t["schema"]), t["table"]): {c["name"]: c["pii"] for c in t["columns"]}
             for t in declared}
    found = []
    dlt_own = {name: field.pii for name, field in DLT_COLUMNS.items()}
    with connect(path, read_only=True) as con:
        for schema, table in tables(con, views=True):
            raw = _generic(schema).startswith(RAW)
            if raw and table in DLT_TABLES:
                continue
            declared_columns = known.get((_generic(schema), table))
            unknown = {name: dlt_own.get(name) for name in columns(con, schema, table)
                       if name not in (declared_columns or {})}
            what = "in the warehouse, declared nowhere" if declared_columns is None else "in the warehouse"
            entry = _table(schema, table, what, False, unknown, raw=raw)
            if entry["flags"] or declared_columns is None:
                found.append(entry)
    return found


def _generic(schema: str) -> str:
    """``raw_<tenant>`` for any tenant's raw schema (and its dlt staging copy)."""
    if schema.startswith("raw_"):
        return f"{RAW}_staging" if schema.endswith("_staging") else RAW
    return schema


def inventory(manifest: dict[str, Any], warehouse: Path | None) -> dict[str, Any]:
    """Places, declared tables, and (if given an existing warehouse) what it holds beyond them."""
    declared = declared_tables(manifest)
    undeclared = warehouse_tables(warehouse, declared) if warehouse is not None and warehouse.exists() else []
    return {"places": [vars(place) for place in place_list()], "tables": declared, "undeclared": undeclared}


def inventory_flags(found: dict[str, Any]) -> list[str]:
    """``schema.table.column: reason`` for every flagged column, declared or found."""
    return [f"{t['schema']}.{t['table']}.{flag}" for t in [*found["tables"], *found["undeclared"]]
            for flag in t["flags"]]
