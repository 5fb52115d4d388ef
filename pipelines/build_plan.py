"""What a marts build must run: the dbt nodes fed by the raw tables that changed since the last build.

An incremental dbt build reads only the changed rows, but dbt still visits every node, about 150
models and tests with their own queries, and each incremental model still looks for its changes;
when little changed, that is most of the build. Before a build, ``plan_build`` compares what raw
holds with what it held at the last successful build (a fingerprint per raw table: its columns
and its content, which ``record_build`` keeps in the warehouse) and leaves out every model and
seed that no changed raw table feeds, with their tests: a tenant's reference data (schedules,
groups, brands, fields) rarely changes, and a build after a load that brought nothing has
nothing to do. A view fed by changed rows is not re-created either, unless its raw tables'
columns changed (its definition follows them); it already shows the new rows, and its tests
run on them. A mart whose last build was not followed by passing checks and a publish builds
again, with its tests, until it is (the caller names them: that record is Dagster's).

Why not dbt alone: with nothing changed at 100,000 tickets, `dbt build` runs all 41 models and
108 data tests, its incremental models looking for changes (and recomputing the 8 tickets with
events in the last second already seen, 3,495 agent days), in 129 s on a loaded machine (11.9 s
of CPU); on this plan nothing runs, in 5.6 s (0.7 s of CPU), measured on the transform
benchmark's warehouse (`deskpulse bench transform --tickets 100000 --without-plan` builds the same
way without the plan). dbt's own selection does not see data: `state:modified` follows the
project's code (here the project identity, below, makes everything build), and
`source_status:fresher` needs `dbt source freshness` over a `loaded_at_field` of one schema per
source, while each tenant has a schema of its own, and a timestamp misses deleted rows (erasure,
retention).

Whatever it cannot vouch for builds in full: no record of a build, another dbt project or other
vars, a full refresh. Every writer of raw shows in the fingerprint: small tables are compared row
by row, on their own columns (a full list dlt loads again on every run gets new ``_dlt_load_id``
and ``_dlt_id`` values, not new content); a big one by its row count (the privacy commands delete
rows) and the latest dlt load that wrote one of its rows, so a load that brought none of a big
table's rows leaves it as it was. A rerun that finds nothing new builds nothing: the sources do
not load again what an export serves twice (``pipelines/sources/zendesk``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.ingest.home import BUILD_INPUTS_TABLE, raw_dataset
from pipelines.privacy.warehouse import has_table, quoted

SMALL_TABLE_ROWS = 50_000  # raw tables up to this size are compared by content, not by load id
DLT_COLUMNS = "_dlt_"  # the prefix of the columns dlt adds to every row: the load, the row's id
LOAD_ID = "_dlt_load_id"
BUILT = ("model", "seed", "snapshot")  # the node types a build writes to the warehouse
# A data build (the marts job, the benchmark) leaves dbt's unit tests to CI, as dbt advises:
# they check the models' logic on fixed rows, which no load changes.
DATA_BUILD_ARGS = ("--exclude-resource-type", "unit_test")


@dataclass(frozen=True)
class BuildPlan:
    """The nodes a build leaves out, why, and the inputs to record once it succeeded."""

    exclude: tuple[str, ...]  # the names of the models, seeds and data tests left out
    reason: str
    inputs: str
    selectors: tuple[str, ...] = ()  # dbt selectors for exactly those nodes
    # nothing runs: callers skip dbt, whose start, parse check and selection alone took 8.7 s of a
    # build with nothing to do at 100,000 tickets (`deskpulse bench transform --tickets 100000`)
    idle: bool = False

    def args(self) -> list[str]:
        """dbt arguments: ``--exclude`` with the nodes left out, if any. The plan names every
        test it leaves out itself, so dbt's indirect selection is off: the tests of a view that
        is not re-created (its definition is as it was) still check what it now shows."""
        if not self.selectors:
            return []
        return ["--indirect-selection", "empty", "--exclude", " ".join(self.selectors)]


def plan_build(warehouse: Path, manifest: dict[str, Any], dbt_vars: dict[str, Any], *,
               full_refresh: bool = False, unsettled: Collection[str] = (),
               together: Collection[Collection[str]] = ()) -> BuildPlan:
    """The plan of the next `dbt build` on ``warehouse`` with ``dbt_vars`` (tenants and the rest).
    ``unsettled`` names models built since their checks last passed or since they were last
    published: they build again, with their tests, whatever changed, so their checks run again
    and what passes is published. ``together`` groups the marts one serving file reads: the file
    is published only by a run that built every one of them, so a plan that builds one of a
    group builds all of it, with their tests (a mart fed by reference data alone, such as the
    groups' names, builds with the ticket marts beside it)."""
    tenants = dbt_vars.get("tenants") or {}
    # read-write like dbt's own connection: a process that ran dbt in process may still hold the
    # file, and DuckDB shares it only with connections of the same configuration
    with duckdb.connect(str(warehouse)) as con:
        raw = raw_fingerprints(con, tenants)
        recorded = _recorded_inputs(con)
    inputs = {"project": project_identity(manifest, dbt_vars), "raw": raw}
    serialized = json.dumps(inputs, sort_keys=True)
    if full_refresh:
        return BuildPlan((), "a full refresh builds everything", serialized)
    if recorded is None:
        return BuildPlan((), "no earlier build recorded in this warehouse: everything builds", serialized)
    if recorded.get("project") != inputs["project"]:
        return BuildPlan((), "the dbt project or its vars changed: everything builds", serialized)

    before = recorded.get("raw", {})
    changed = sorted(table for table in before.keys() | raw.keys() if before.get(table) != raw.get(table))
    reshaped = [table for table in changed
                if (before.get(table) or {}).get("shape") != (raw.get(table) or {}).get("shape")]
    platforms = set(tenants.values())
    fed = _fed_by(manifest, {(platform, table) for table in changed for platform in platforms})
    # a view's definition follows its raw tables' columns (staging unions what each tenant has)
    redefined = _fed_by(manifest, {(platform, table) for table in reshaped for platform in platforms})
    nodes = manifest["nodes"]
    models = {uid for uid, node in nodes.items() if node["resource_type"] in BUILT}
    views = {uid for uid in models if nodes[uid]["config"].get("materialized") == "view"}
    tests = {uid for uid, node in nodes.items() if node["resource_type"] == "test"}
    again = {uid for uid in models if nodes[uid]["name"] in set(unsettled)}
    built = ((models & fed) - (views - redefined)) | again
    companions = set()  # marts built because a mart published beside them is
    for names in together:
        group = {uid for uid in models if nodes[uid]["name"] in set(names)}
        if built & group:
            companions |= group - built
    built |= companions
    tested = tests & (fed | {uid for uid in tests if nodes[uid].get("attached_node") in again | companions})
    left_out = (models - built) | (tests - tested)
    exclude = tuple(sorted(nodes[uid]["name"] for uid in left_out))
    selectors = _selectors(manifest, built | tested, left_out)
    unsettled_reason = (f"{', '.join(sorted(nodes[uid]['name'] for uid in again))} build again: "
                        "built since their checks last passed or since they were last published")
    if not changed:
        reason = unsettled_reason if again else "raw unchanged since the last build: nothing to build"
        return BuildPlan(exclude, reason, serialized, selectors, idle=not (built or tested))
    kept_views = len((views & fed) - built)
    reason = (f"raw tables changed since the last build: {', '.join(changed)}; "
              f"{len(built)} of {len(models)} models and seeds build"
              + (f" ({kept_views} views stay as they are: their definitions did not change)"
                 if kept_views else "")
              + f", {len(tested)} of {len(tests)} data tests run"
              + (f"; {unsettled_reason}" if again else "")
              + (f"; {', '.join(sorted(nodes[uid]['name'] for uid in companions))} build with the marts "
                 "published beside them" if companions else ""))
    return BuildPlan(exclude, reason, serialized, selectors)


def record_build(warehouse: Path, plan: BuildPlan) -> None:
    """Keep the inputs of a build that succeeded, for the next plan."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"create or replace table {BUILD_INPUTS_TABLE} as select ?::varchar as inputs",
                    [plan.inputs])


def project_identity(manifest: dict[str, Any], dbt_vars: dict[str, Any]) -> str:
    """A digest of everything in the dbt project that shapes a build's output, and of its vars."""
    parts = {
        "nodes": sorted((uid, node.get("checksum", {}).get("checksum"),
                         json.dumps(node.get("config"), sort_keys=True, default=str))
                        for uid, node in manifest["nodes"].items()),
        "sources": sorted((uid, json.dumps({name: column.get("data_type")
                                            for name, column in source.get("columns", {}).items()},
                                           sort_keys=True))
                          for uid, source in manifest["sources"].items()),
        "macros": sorted((uid, macro.get("macro_sql")) for uid, macro in manifest["macros"].items()
                         if macro.get("package_name") == manifest["metadata"].get("project_name")),
        "vars": json.dumps(dbt_vars, sort_keys=True, default=str),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def raw_fingerprints(con: duckdb.DuckDBPyConnection, tenants: dict[str, Any]) -> dict[str, Any]:
    """Per raw table name, over every tenant: its columns, and its content as a row count with
    either a hash of every row's own columns (small tables) or the latest dlt load id among its
    rows (big ones)."""
    schemas = sorted(raw_dataset(tenant_id) for tenant_id in tenants)
    if not schemas:
        return {}
    marks = ", ".join("?" for _ in schemas)
    tables = con.execute(
        f"select schema_name, table_name, estimated_size from duckdb_tables() where schema_name in ({marks})"
        " and table_name not like '\\_dlt\\_%' escape '\\' order by all", schemas).fetchall()
    columns: dict[tuple[str, str], list[list[str]]] = {}
    for schema, table, column, data_type in con.execute(
            f"select schema_name, table_name, column_name, data_type from duckdb_columns()"
            f" where schema_name in ({marks}) order by schema_name, table_name, column_index",
            schemas).fetchall():
        columns.setdefault((schema, table), []).append([column, data_type])
    fingerprints: dict[str, Any] = {}
    for schema, table, size in tables:
        names = [name for name, _ in columns.get((schema, table), [])]
        own = [_identifier(name) for name in names if not name.startswith(DLT_COLUMNS)]
        if size <= SMALL_TABLE_ROWS and own:  # every row's hash
            rows, digest = con.execute(f"select count(*), sum(hash({', '.join(own)}))::varchar"
                                       f" from {quoted(schema, table)}").fetchall()[0]
        elif LOAD_ID in names:
            rows, digest = con.execute(f"select count(*), max({_identifier(LOAD_ID)})"
                                       f" from {quoted(schema, table)}").fetchall()[0]
        else:  # not written by dlt: every row's hash
            rows, digest = con.execute(
                f"select count(*), sum(hash(t))::varchar from {quoted(schema, table)} as t").fetchall()[0]
        entry = fingerprints.setdefault(table, {"shape": {}, "content": {}})
        entry["shape"][schema] = columns.get((schema, table), [])
        entry["content"][schema] = [rows, digest]
    return fingerprints


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _recorded_inputs(con: duckdb.DuckDBPyConnection) -> dict[str, Any] | None:
    if not has_table(con, *BUILD_INPUTS_TABLE.split(".")):
        return None
    rows = con.execute(f"select inputs from {BUILD_INPUTS_TABLE}").fetchall()
    return json.loads(rows[0][0]) if rows else None


def _selectors(manifest: dict[str, Any], runs: set[str], left_out: set[str]) -> tuple[str, ...]:
    """dbt selectors for the nodes ``left_out``: ``fqn:<folder>.*`` for a folder where nothing
    runs, a node's name elsewhere. dbt matches every selector against every node, a few
    milliseconds each, so a build that leaves out much is named in a few terms, not one a node."""
    nodes = manifest["nodes"]
    busy = {tuple(nodes[uid]["fqn"][:depth]) for uid in runs for depth in range(1, len(nodes[uid]["fqn"]))}
    selectors = set()
    for uid in left_out:
        fqn = nodes[uid]["fqn"]
        idle = next((fqn[:depth] for depth in range(1, len(fqn)) if tuple(fqn[:depth]) not in busy), None)
        selectors.add(f"fqn:{'.'.join(idle)}.*" if idle else nodes[uid]["name"])
    return tuple(sorted(selectors))


def _fed_by(manifest: dict[str, Any], tables: set[tuple[str, str]]) -> set[str]:
    """Every node downstream of the sources (platform, table name) given."""
    start = [uid for uid, source in manifest["sources"].items()
             if (source["source_name"], source["identifier"]) in tables]
    seen: set[str] = set()
    while start:
        for child in manifest["child_map"].get(start.pop(), []):
            if child not in seen:
                seen.add(child)
                start.append(child)
    return seen
