"""Column-level lineage of the marts, for reviewers: from each mart column back to the API fields.

Read from the compiled dbt SQL with sqlglot, model by model down to the dbt sources (the raw
tables), then to the API field each raw column is made from (``classification.RAW_FIELDS``). Each
path carries the PII class at both ends and its transformation: passed through, derived (computed
per row), pseudonymised (keyed at extraction) or aggregated. Paths by which a ``personal`` value
could reach a published mart are flagged. Lineage follows values; rows counted by ``count(*)`` are
reported as the relations counted, and join or filter columns are not listed as sources.

The SQL is compiled against an empty stand-in warehouse (``stand_in_warehouse``) holding one
tenant per platform, so the report never depends on, or reads, any tenant's data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp
from sqlglot.lineage import Node, lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope

from pipelines.ingest.columns import PASSED_THROUGH, PERSONAL, PII_CLASSES, PSEUDONYMISED
from pipelines.privacy import PrivacyError
from pipelines.privacy.register import raw_field

DIALECT = "duckdb"
PUBLISHED_SCHEMAS = ("marts",)  # what publishing copies to serving files; `restricted` is not
AGGREGATED, DERIVED = "aggregated", "derived"
STRENGTH = (PASSED_THROUGH, DERIVED, PSEUDONYMISED, AGGREGATED)  # a path reports its strongest step


class LineageError(PrivacyError):
    """The compiled SQL of a model cannot be traced."""


def stand_in_tenant(platform: str) -> str:
    return f"lineage_{platform}"


def stand_in_warehouse(manifest: dict[str, Any], path: Path) -> str:
    """Create at ``path`` an empty DuckDB holding every declared dbt source table as one stand-in
    tenant's raw table; return the dbt ``--vars`` to compile the project against it."""
    tenants = {}
    with duckdb.connect(str(path)) as con:
        for source in manifest["sources"].values():
            platform = source["source_name"]
            schema = f"raw_{stand_in_tenant(platform)}"
            tenants[stand_in_tenant(platform)] = platform
            declared = ", ".join(f'"{c["name"]}" {c["data_type"]}' for c in source["columns"].values())
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create or replace table "{schema}"."{source["identifier"]}" ({declared})')
    return json.dumps({"tenants": tenants})


@dataclass(frozen=True)
class Trace:
    """One path from a model column down to what it is made of: a raw column, a seed column, the rows
    of some relations (``count(*)``) or a constant, with the model columns it passes."""

    kind: str  # raw | seed | rows | constant
    ref: tuple[str, ...]  # raw, seed: (dbt node id, column); rows: the relations counted
    hops: tuple[str, ...] = ()
    aggregated: bool = False
    derived: bool = False


@dataclass
class ColumnLineage:
    """A mart column, its declared class and every path to what it is made of."""

    column: str
    pii: str | None
    sources: list[dict[str, Any]] = field(default_factory=list)
    counts_rows_of: list[str] = field(default_factory=list)
    rows_from: list[str] = field(default_factory=list)  # the raw tables behind the rows counted
    constants: int = 0
    flags: list[str] = field(default_factory=list)


class Tracer:
    """Traces model columns through compiled SQL; remembers every (model, column) it has traced."""

    def __init__(self, manifest: dict[str, Any]):
        self.nodes = {**manifest["sources"], **{k: v for k, v in manifest["nodes"].items()
                                                  if v["resource_type"] in ("model", "seed")}}
        self.relations = {(_schema_of(node), _name_of(node)): node_id for node_id, node in self.nodes.items()}
        self.schema: dict[str, dict[str, dict[str, str]]] = {}
        self.parsed: dict[str, tuple[exp.Expression, Any]] = {}
        self.memo: dict[tuple[str, str], list[Trace]] = {}
        for node_id in self._in_dependency_order():
            self._register(node_id)

    # -- the schema sqlglot needs to expand `select *` ----------------------------------------
    def _in_dependency_order(self) -> list[str]:
        done: list[str] = []
        seen: set[str] = set()

        def visit(node_id: str) -> None:
            if node_id in seen or node_id not in self.nodes:
                return
            seen.add(node_id)
            for upstream in self.nodes[node_id].get("depends_on", {}).get("nodes", []):
                visit(upstream)
            done.append(node_id)

        for node_id in self.nodes:
            visit(node_id)
        return done

    def _register(self, node_id: str) -> None:
        node = self.nodes[node_id]
        if node["resource_type"] == "model":
            query = qualify(sqlglot.parse_one(node["compiled_code"], dialect=DIALECT), schema=self.schema,
                            dialect=DIALECT)
            self.parsed[node_id] = (query, build_scope(query))
            names = [select.alias_or_name for select in query.selects]
        else:
            names = list(node["columns"])
        self.schema.setdefault(node["database"], {}).setdefault(_schema_of(node), {})[_name_of(node)] = {
            name: "unknown" for name in names}

    def columns(self, node_id: str) -> list[str]:
        node = self.nodes[node_id]
        return list(self.schema[node["database"]][_schema_of(node)][_name_of(node)])

    # -- tracing ------------------------------------------------------------------------------
    def trace(self, node_id: str, column: str) -> list[Trace]:
        key = (node_id, column)
        if key not in self.memo:
            node = self.nodes[node_id]
            here = f"{_display_schema(node)}.{_name_of(node)}.{column}"
            if node["resource_type"] in ("source", "seed"):
                found = [Trace("raw" if node["resource_type"] == "source" else "seed", (node_id, column))]
            else:
                query, scope = self.parsed[node_id]
                try:
                    root = lineage(column, query, schema=self.schema, dialect=DIALECT, scope=scope)
                except Exception as exc:  # sqlglot raises bare errors; name the column
                    raise LineageError(f"{here}: {exc}") from exc
                found = list(self._walk(node_id, root, root, False, False))
            self.memo[key] = [replace(t, hops=(here, *t.hops)) for t in found]
        return self.memo[key]

    def _walk(self, node_id: str, root: Node, step: Node, aggregated: bool, derived: bool):
        expression = step.expression
        if isinstance(expression, exp.Table):
            upstream = self.relations.get((expression.db, expression.name))
            if upstream is None:
                raise LineageError(f"{node_id}: reads {expression.db}.{expression.name}, not a dbt node")
            for found in self.trace(upstream, _column_name(step)):
                yield replace(found, aggregated=found.aggregated or aggregated,
                              derived=found.derived or derived)
            return
        if not step.downstream:
            yield self._terminal(node_id, root, step, aggregated, derived)
            return
        is_aggregate, is_computed = _step_kind(expression)
        for child in step.downstream:
            yield from self._walk(node_id, root, child, aggregated or is_aggregate, derived or is_computed)

    def _terminal(self, node_id: str, root: Node, step: Node, aggregated: bool, derived: bool) -> Trace:
        """A step reading no column: a row count, or a constant (a staging model's tenant id is the
        raw table's ``tenant_id``: the union macro writes it from the schema it reads)."""
        if step.expression.find(exp.Count):
            return Trace("rows", tuple(sorted(self._counted(root, step.source))), (), True, derived)
        node = self.nodes[node_id]
        sources = [d for d in node["depends_on"]["nodes"] if d.startswith("source.")]
        literal = step.expression.find(exp.Literal)
        if len(sources) == 1 and literal is not None and literal.this.startswith("lineage_"):
            return Trace("raw", (sources[0], _column_name(step)), (), aggregated, derived)
        return Trace("constant", (), (), aggregated, derived or _step_kind(step.expression)[1])

    def raw_tables(self, relation: str) -> set[str]:
        """The dbt sources (``platform.table``) a relation is built from, at table level."""
        pending, found = [self.relations[tuple(relation.split(".", 1))]], set()
        while pending:
            node = self.nodes[pending.pop()]
            if node["resource_type"] == "source":
                found.add(f"{node['source_name']}.{node['name']}")
            pending += [d for d in node.get("depends_on", {}).get("nodes", []) if d in self.nodes]
        return found

    def _counted(self, root: Node, select: exp.Expression) -> set[str]:
        """The dbt relations whose rows a select counts, through the query's CTEs."""
        ctes = {cte.alias: cte.this for cte in root.source.find_all(exp.CTE)}
        found, pending = set(), [select]
        while pending:
            for table in pending.pop().find_all(exp.Table):
                if not table.db and table.name in ctes:
                    pending.append(ctes.pop(table.name))
                elif (table.db, table.name) in self.relations:
                    found.add(f"{table.db}.{table.name}")
        return found


def _step_kind(expression: exp.Expression) -> tuple[bool, bool]:
    """(aggregates rows, computes something) for one select expression of a CTE or model."""
    inner = expression.this if isinstance(expression, exp.Alias) else expression
    aggregated = any(f.find_ancestor(exp.Window) is None for f in inner.find_all(exp.AggFunc))
    while isinstance(inner, exp.Cast | exp.TryCast | exp.Paren):
        inner = inner.this
    if isinstance(inner, exp.Coalesce) and all(isinstance(e, exp.Literal) for e in inner.expressions):
        inner = inner.this
    return aggregated, not aggregated and not isinstance(inner, exp.Column)


def _column_name(step: Node) -> str:
    """The column a lineage step names (``cte."column"`` → ``column``)."""
    return step.name.rsplit(".", 1)[-1].strip('"')


def _display_schema(node: dict[str, Any]) -> str:
    return "raw_<tenant>" if node["resource_type"] == "source" else node["schema"]


def _schema_of(node: dict[str, Any]) -> str:
    if node["resource_type"] == "source":
        return f"raw_{stand_in_tenant(node['source_name'])}"
    return node["schema"]


def _name_of(node: dict[str, Any]) -> str:
    return node.get("identifier") or node.get("alias") or node["name"]


# -- the report ------------------------------------------------------------------------------
LINEAGE_FOLDERS = ("marts", "restricted")  # the model folders whose columns are traced


def mart_lineage(manifest: dict[str, Any], endpoints: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """For every model under ``models/marts`` and ``models/restricted``: each column's paths to raw
    and API fields, and flags. ``endpoints`` maps platform → raw table → the API path that feeds it."""
    tracer = Tracer(manifest)
    marts = []
    for node_id, node in sorted(tracer.nodes.items()):
        if node["resource_type"] != "model" or node["fqn"][1] not in LINEAGE_FOLDERS:
            continue
        published = node["schema"] in PUBLISHED_SCHEMAS
        columns = [_column(tracer, node_id, name, endpoints, published) for name in tracer.columns(node_id)]
        marts.append({"model": node["name"], "schema": node["schema"], "published": published,
                      "columns": [asdict(c) for c in columns]})
    return marts


def _column(tracer: Tracer, node_id: str, name: str, endpoints: dict[str, dict[str, str]],
            published: bool) -> ColumnLineage:
    declared = tracer.nodes[node_id]["columns"].get(name, {}).get("meta", {}).get("pii")
    column = ColumnLineage(name, declared)
    for trace in tracer.trace(node_id, name):
        if trace.kind == "rows":
            column.counts_rows_of = sorted({*column.counts_rows_of, *trace.ref})
            raw = {table for relation in trace.ref for table in tracer.raw_tables(relation)}
            column.rows_from = sorted({*column.rows_from, *raw})
        elif trace.kind == "constant":
            column.constants += 1
        else:
            column.sources.append(_source(tracer.nodes[trace.ref[0]], trace, endpoints))
    column.sources = _merged(column.sources)
    column.flags = _flags(column, published)
    return column


def _merged(sources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per raw field: its strongest transformation over every path, and the distinct paths."""
    merged: dict[str, dict[str, Any]] = {}
    for source in sorted(sources, key=lambda s: STRENGTH.index(s["transformation"]), reverse=True):
        first = {key: value for key, value in source.items() if key != "path"}
        entry = merged.setdefault(source["field"], {**first, "paths": []})
        if source["path"] not in entry["paths"]:
            entry["paths"].append(source["path"])
    return [merged[name] for name in sorted(merged)]


def _source(node: dict[str, Any], trace: Trace, endpoints: dict[str, dict[str, str]]) -> dict[str, Any]:
    """One path as the report shows it: the raw (or seed) field with its dbt class, the API field or
    config entry it is made from (the register), and the path's transformation."""
    name = trace.ref[1]
    declared = node["columns"].get(name, {}).get("meta", {}).get("pii")
    if trace.kind == "seed":
        entry = {"field": f"seed {node['name']}.{name}", "pii": declared,
                 "origin": "reference data in the repository", "origin_pii": declared,
                 "extraction": PASSED_THROUGH}
    else:
        platform, table = node["source_name"], node["name"]
        registered = raw_field(platform, table, name)
        endpoint = endpoints.get(platform, {}).get(table)
        origin = registered.origin if registered else f"{table}[].{name} (not in the register)"
        entry = {
            "field": f"{platform}.{table}.{name}",
            "pii": declared,
            "origin": f"GET {endpoint} {origin}" if endpoint and "[]" in origin else origin,
            "origin_pii": registered.source_pii if registered else declared,
            "extraction": registered.extraction if registered else PASSED_THROUGH,
        }
    steps = [PASSED_THROUGH, entry["extraction"]]
    steps += [DERIVED] if trace.derived else []
    steps += [AGGREGATED] if trace.aggregated else []
    return {**entry, "transformation": max(steps, key=STRENGTH.index), "path": list(trace.hops)}


def _flags(column: ColumnLineage, published: bool) -> list[str]:
    """Why a column could put a ``personal`` value, or an unclassified one, into a published mart."""
    if not published:
        return []
    flags = []
    if column.pii not in PII_CLASSES:
        flags.append("no PII class in meta.pii")
    elif column.pii == PERSONAL:
        flags.append("classified personal in a published mart")
    for source in column.sources:
        if source["pii"] not in PII_CLASSES:
            flags.append(f"derives from {source['field']}, which has no PII class")
        elif source["pii"] == PERSONAL:
            flags.append(f"derives from personal {source['field']} ({source['transformation']})")
    return flags


def violations(report: dict[str, Any]) -> list[str]:
    """``mart.column: reason`` for every flag of the report; empty when no personal path exists."""
    return [f"{mart['model']}.{column['column']}: {flag}"
            for mart in report["marts"] for column in mart["columns"] for flag in column["flags"]]
