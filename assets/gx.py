"""Great Expectations the deskpulse way: one JSON suite per table, checked where the table lives.

Suites live in ``expectations/<schema>/<table>.json``. Every expectation has a GX ``severity``:
a failed ``critical`` one is an error (it blocks publishing), a failed ``warning`` one is not.
Each suite also gets a PII scan of every text column (``assets.pii``), as a critical expectation.
Suite parameters (``{"$PARAMETER": "name"}``) are scalar SQL queries named in the suite's
``meta.parameters``, run on the warehouse, so a suite can reconcile its table with staging.

GX reads the suite, decides every expectation and records the result; the metrics it decides from
(rows, nulls, unexpected rows, sums) are computed by DuckDB in the warehouse (``assets.gx_metrics``),
so memory does not grow with the table. A check covers every row, or the rows a caller names (those
a load changed): row-wise rules look at those, uniqueness at the rows that may repeat their values,
row counts and sums at the whole table. A failed expectation names its first offending rows by the
suite's key columns (``meta.key``: platform ids, pseudonymous keys, dates), never by the offending
values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from assets.gx_metrics import TableMetrics, UnsupportedExpectation, repeating
from assets.pii import PATTERNS

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
SYSTEM_COLUMNS = "_dlt_"  # dlt's own load and row ids: random strings, not data
FIRST_KEYS = 5  # offending rows named per failed expectation
RESULT_FORMAT = {"result_format": "BASIC"}  # counts; the values GX would list are never collected
TENANT_COLUMN = "tenant_id"
UNIQUENESS = ("column_values.unique", "compound_columns.unique")  # map metrics of repeated values


@dataclass
class Failure:
    """A failed expectation: what it checks, how many rows broke it (or the table's figure, for a
    whole-table rule), the tenants of those rows and the keys of the first of them."""

    expectation: str  # type(columns)
    severity: str  # critical or warning
    unexpected: int | None = None  # rows, for row-wise rules
    observed: Any = None  # the figure a whole-table rule looked at (a sum, a row count)
    expected: str = ""  # the bounds it wanted, for a whole-table rule
    tenants: list[str] = field(default_factory=list)  # [] when the rows carry no tenant
    keys: list[dict[str, Any]] = field(default_factory=list)

    def label(self) -> str:
        return f"{self.expectation} [{self.unexpected} rows]" if self.unexpected else self.expectation

    def describe(self) -> str:
        """For people: counts, figures and keys, never a value of the offending rows."""
        if self.unexpected is None:
            found = f"observed {self.observed}, expected {self.expected}"
        else:
            found = f"{self.unexpected:,} row{'s' if self.unexpected != 1 else ''}"
        keys = "; ".join(", ".join(f"{name}={value}" for name, value in key.items()) for key in self.keys)
        return f"{self.expectation}: {found}" + (f"; first offending: {keys}" if keys else "")


@dataclass
class SuiteOutcome:
    """What a suite found: failed expectations split by severity, and how much was checked."""

    rows: int
    evaluated: int
    checked: int  # rows the row-wise expectations looked at (all, or those a load changed)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    result: Any = None  # GX's ExpectationSuiteValidationResult

    @property
    def passed(self) -> bool:
        return not self.errors and not self.warnings

    def metadata(self) -> dict[str, Any]:
        """Counts and names of failed expectations; never the offending values."""
        return {
            "rows": self.rows,
            "rows_checked": self.checked,
            "expectations": self.evaluated,
            "passed": self.evaluated - len(self.errors) - len(self.warnings),
            "errors": ", ".join(self.errors) or "none",
            "warnings": ", ".join(self.warnings) or "none",
        }


def suite_paths(schema: str) -> list[Path]:
    """The suites of one schema folder (``marts``, or a platform name for raw tables)."""
    return sorted((EXPECTATIONS_DIR / schema).glob("*.json"))


def load_suite(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def parameter_queries(suite: dict[str, Any]) -> dict[str, str]:
    """The suite's named scalar SQL queries (``meta.parameters``)."""
    return dict(suite.get("meta", {}).get("parameters", {}))


def key_columns(suite: dict[str, Any]) -> list[str]:
    """The columns that name a row of the suite's table (``meta.key``)."""
    return list(suite.get("meta", {}).get("key", []))


def pii_expectations(text_columns: list[str]) -> list[dict[str, Any]]:
    """A critical no-e-mail, no-phone expectation for every text column."""
    return [
        {"type": "expect_column_values_to_not_match_regex_list",
         "kwargs": {"column": column, "regex_list": list(PATTERNS.values())},
         "meta": {"rule": "no e-mail or phone pattern"}, "severity": "critical"}
        for column in text_columns if not column.startswith(SYSTEM_COLUMNS)
    ]


@cache
def _context():
    """One ephemeral GX context per process, with analytics and progress bars off."""
    import great_expectations as gx  # heavy import, only when a check runs
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    return gx.get_context(project_config=DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    ))


def validate(suite: dict[str, Any], con: duckdb.DuckDBPyConnection, schema: str, table: str,
             given: dict[str, Any], rows: str | None = None) -> SuiteOutcome:
    """Run ``suite`` (plus the PII scan) on the table ``schema.table``: its row-wise expectations
    on ``rows`` (SQL on its columns; None: every row) as if the table held only those (uniqueness
    as ``TableMetrics`` says), its whole-table ones (row counts, sums) on the whole table, and all
    on the whole table when an expectation speaks of a share of its rows. Its SQL parameters
    run on ``con``; ``given`` holds the ones the caller knows (``tenant_ids``: the tenants the
    table may hold)."""
    import great_expectations as gx
    from great_expectations.core import ExpectationSuiteValidationResult

    _context()
    if any("mostly" in e["kwargs"] for e in suite["expectations"]):
        rows = None  # a share of the table's rows is the whole table's to say
    whole = TableMetrics(con, schema, table)
    parameters = {**given, **{key: con.execute(sql).fetchall()[0][0]
                              for key, sql in parameter_queries(suite).items()}}
    documents = [*suite["expectations"], *pii_expectations(whole.text_columns())]
    expectations = gx.ExpectationSuite(
        name=suite["name"], expectations=[_with_parameters(e, parameters, suite["name"]) for e in documents],
    ).expectations
    looked_at = [_rows_of(e, rows, whole.relation) for e in expectations]
    tables = {where: TableMetrics(con, schema, table, where) if where else whole
              for where in dict.fromkeys([None, rows, *looked_at])}
    needed = [e.get_validation_dependencies(runtime_configuration=dict(RESULT_FORMAT))
              .get_metric_configurations() for e in expectations]
    values: dict[str | None, dict[Any, Any]] = {}
    for where, of in tables.items():
        wanted = {c.id: c for found, w in zip(needed, looked_at, strict=True) if w == where for c in found}
        values[where] = of.resolve(list(wanted.values()))
    results = [e.metrics_validate(values[where], runtime_configuration=dict(RESULT_FORMAT))
               for e, where in zip(expectations, looked_at, strict=True)]
    total = whole.row_count()
    outcome = SuiteOutcome(rows=total, evaluated=len(results),
                           checked=tables[rows].row_count() if rows else total)
    for expectation, result, found, where in zip(expectations, results, needed, looked_at, strict=True):
        if result.success:
            continue
        failure = _failure(expectation, result, found, tables[where], key_columns(suite))
        result.result.update(unexpected_index_column_names=key_columns(suite),
                             unexpected_index_list=failure.keys)
        (outcome.errors if failure.severity == "critical" else outcome.warnings).append(failure.label())
        outcome.failures.append(failure)
    outcome.result = ExpectationSuiteValidationResult(
        success=not outcome.errors and not outcome.warnings, results=results, suite_name=suite["name"],
        statistics={"evaluated_expectations": len(results),
                    "unsuccessful_expectations": len(outcome.failures)})
    return outcome


def _rows_of(expectation, rows: str | None, relation: str) -> str | None:
    """The rows an expectation looks at when a check covers ``rows``: those rows for a row-wise
    rule, the rows that may repeat their values for a uniqueness rule, all for a whole-table one."""
    map_metric = getattr(expectation, "map_metric", None)
    if rows is None or map_metric is None:
        return None
    if map_metric in UNIQUENESS:
        kwargs = expectation.configuration.kwargs
        return repeating(relation, rows, kwargs.get("column_list") or [kwargs["column"]])
    return rows


def _with_parameters(document: dict[str, Any], parameters: dict[str, Any], suite: str) -> dict[str, Any]:
    """The expectation with each ``{"$PARAMETER": name}`` replaced by the parameter's value."""

    def value(item: Any) -> Any:
        if isinstance(item, dict) and set(item) == {"$PARAMETER"}:
            if item["$PARAMETER"] not in parameters:
                raise UnsupportedExpectation(f"suite {suite}: no parameter {item['$PARAMETER']!r} "
                                             "(meta.parameters names the suite's own)")
            return parameters[item["$PARAMETER"]]
        return item

    return {**document, "kwargs": {key: value(item) for key, item in document["kwargs"].items()}}


def _failure(expectation, result, configurations: list, metrics: TableMetrics, keys: list[str]) -> Failure:
    kwargs = expectation.configuration.kwargs
    failure = Failure(f"{expectation.expectation_type}({_target(kwargs)})", expectation.severity.value)
    map_metric = getattr(expectation, "map_metric", None)
    if map_metric is None:  # a whole-table rule: the figure it looked at
        failure.observed = result.result.get("observed_value")
        failure.expected = _bounds(kwargs)
        return failure
    failure.unexpected = result.result.get("unexpected_count")
    counted = next(c for c in configurations if c.metric_name == f"{map_metric}.unexpected_count")
    condition = metrics.condition(counted)
    if keys:
        failure.keys = [dict(zip(keys, map(_plain, key), strict=True))
                        for key in metrics.offending(condition, keys, FIRST_KEYS)]
    if TENANT_COLUMN in metrics.types:
        failure.tenants = sorted({key[0] for key in metrics.offending(condition, [TENANT_COLUMN], None)})
    return failure


def _plain(value: Any) -> Any:
    """A key's value as JSON and people read it: ids and counts as numbers, dates as ISO text."""
    return value if isinstance(value, int | str) or value is None else str(value)


def _bounds(kwargs: dict[str, Any]) -> str:
    if "value" in kwargs:
        return str(kwargs["value"])
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    return f"{'-' if low is None else low} to {'-' if high is None else high}"


def _target(kwargs: dict[str, Any]) -> str:
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return ",".join(kwargs["column_list"]) if "column_list" in kwargs else kwargs.get("column", "")
