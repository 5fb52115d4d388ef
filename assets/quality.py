"""Quality: Great Expectations suites from ``expectations/`` run as Dagster asset checks.

One JSON suite per table; a suite named after a mart checks that mart. GX reads a pandas frame
taken through a read-only DuckDB connection (GX's SQL datasource does not work on DuckDB files).
"""

import json
from pathlib import Path

import dagster as dg
import duckdb

from pipelines.home import warehouse_path

EXPECTATIONS_DIR = Path(__file__).resolve().parent.parent / "expectations"
MARTS_SCHEMA = "marts"


def read_table(schema: str, table: str):
    """The whole table as a pandas frame, through a read-only connection closed at once."""
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        return con.execute(f'select * from "{schema}"."{table}"').df()


def validate(suite_path: Path, frame) -> dict:
    """Run a suite on a frame; return pass/fail and what failed, as check metadata."""
    import great_expectations as gx  # heavy import, only when a check runs

    context = gx.get_context(mode="ephemeral")
    batch = (
        context.data_sources.add_pandas("deskpulse")
        .add_dataframe_asset(suite_path.stem)
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(**json.loads(suite_path.read_text(encoding="utf-8")))
    result = batch.validate(suite)
    failed = [
        f"{r.expectation_config.type}({r.expectation_config.kwargs.get('column', '')})"
        for r in result.results
        if not r.success
    ]
    return {
        "success": bool(result.success),
        "metadata": {
            "rows": len(frame),
            "expectations": len(result.results),
            "failed": ", ".join(failed) or "none",
        },
    }


def mart_suite_check(suite_path: Path) -> dg.AssetChecksDefinition:
    table = suite_path.stem

    @dg.asset_check(
        asset=dg.AssetKey([MARTS_SCHEMA, table]),
        name=f"gx_{table}",
        blocking=True,
        description=f"Great Expectations suite expectations/{suite_path.name}.",
    )
    def check() -> dg.AssetCheckResult:
        outcome = validate(suite_path, read_table(MARTS_SCHEMA, table))
        return dg.AssetCheckResult(passed=outcome["success"], metadata=outcome["metadata"])

    return check


gx_checks = [mart_suite_check(path) for path in sorted(EXPECTATIONS_DIR.glob("*.json"))]
