"""Great Expectations the deskpulse way: one JSON suite per table, run on a pandas frame.

Suites live in ``expectations/<schema>/<table>.json``. Every expectation has a GX ``severity``:
a failed ``critical`` one is an error (it blocks publishing), a failed ``warning`` one is not.
Each suite also gets a PII scan of every text column (``assets.pii``), as a critical expectation.
Suite parameters (``{"$PARAMETER": "name"}``) are scalar SQL queries named in the suite's
``meta.parameters``, run on the warehouse, so a suite can reconcile its table with staging.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from assets.pii import PATTERNS

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
SYSTEM_COLUMNS = "_dlt_"  # dlt's own load and row ids: random strings, not data


@dataclass
class SuiteOutcome:
    """What a suite found: failed expectations split by severity, and how much was checked."""

    rows: int
    evaluated: int
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.errors and not self.warnings

    def metadata(self) -> dict[str, Any]:
        """Counts and names of failed expectations; never the offending values."""
        return {
            "rows": self.rows,
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


def pii_expectations(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A critical no-e-mail, no-phone expectation for every text column of the frame."""
    text = frame.select_dtypes(include=["object", "string"]).columns
    return [
        {"type": "expect_column_values_to_not_match_regex_list",
         "kwargs": {"column": column, "regex_list": list(PATTERNS.values())},
         "meta": {"rule": "no e-mail or phone pattern"}, "severity": "critical"}
        for column in text if not column.startswith(SYSTEM_COLUMNS)
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


def validate(
    suite: dict[str, Any], frame: pd.DataFrame, scalar: Callable[[str], Any], given: dict[str, Any]
) -> SuiteOutcome:
    """Run ``suite`` (plus the PII scan) on ``frame``. ``scalar`` answers the suite's SQL parameters;
    ``given`` holds the ones the caller knows (``tenant_ids``: the tenants the table may hold)."""
    import great_expectations as gx

    context = _context()
    name = suite["name"]
    batch = (
        context.data_sources.add_or_update_pandas(name)
        .add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    expectations = [*suite["expectations"], *pii_expectations(frame)]
    parameters = {**given, **{key: scalar(sql) for key, sql in parameter_queries(suite).items()}}
    result = batch.validate(gx.ExpectationSuite(name=name, expectations=expectations),
                            expectation_parameters=parameters)
    outcome = SuiteOutcome(rows=len(frame), evaluated=len(result.results))
    for item in result.results:
        if item.success:
            continue
        config = item.expectation_config
        label = f"{config.type}({_target(config.kwargs)})"
        unexpected = (item.result or {}).get("unexpected_count")
        label += f" [{unexpected} rows]" if unexpected else ""
        (outcome.errors if config.severity.value == "critical" else outcome.warnings).append(label)
    return outcome


def _target(kwargs: dict[str, Any]) -> str:
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    return ",".join(kwargs["column_list"]) if "column_list" in kwargs else kwargs.get("column", "")
