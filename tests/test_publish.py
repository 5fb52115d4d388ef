"""Write-audit-publish on a copy of the shared world (tests/conftest.py): a bad row fails its check
and the serving file keeps its previous good content; a warning does not block; and 4 reader
processes querying a serving file while 5 pipeline runs publish see zero errors and always one
complete publish."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.publish import SERVING_TENANTS
from assets.runner import dagster_instance, execute, first_failure
from assets.serving import PUBLISH_TABLE, read_publish, tenant_file
from pipelines.ingest.home import warehouse_path

READERS = 4
PUBLISHES = 5
pytestmark = [pytest.mark.integration, pytest.mark.slow]  # runs jobs on a copy of the shared world


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tamper(sql: str) -> None:
    """Change the warehouse behind the pipeline's back, as a bug in a model would."""
    with duckdb.connect(str(warehouse_path())) as con:
        con.execute(sql)


@pytest.fixture(scope="module")
def published(shared_world_copy):
    """The Definitions, on a home whose runs published every tenant."""
    from assets.definitions import defs

    return defs


def publish(defs: dg.Definitions, **subset) -> dg.ExecuteInProcessResult:
    """The ``publish`` job: the GX suites of the marts, then the publish step."""
    with dagster_instance() as instance:
        return execute(defs.resolve_job_def("publish"), instance, lambda _: None, **subset)


def check_outcome(result: dg.ExecuteInProcessResult, name: str) -> dg.AssetCheckEvaluation:
    return next(e for e in result.get_asset_check_evaluations() if e.check_name == name)


@pytest.mark.parametrize(("bad_row", "undo", "check"), [
    ("update marts.agent_daily_performance set csat_pct = 1.3 where rowid = 0",
     "update marts.agent_daily_performance set csat_pct = 0.5 where rowid = 0", "gx_agent_daily_performance"),
    ("update marts.fct_tickets set via_channel = 'jane.doe@example.com' where rowid = 0",
     "update marts.fct_tickets set via_channel = 'web' where rowid = 0", "gx_fct_tickets"),
])
def test_a_bad_row_fails_its_check_and_the_serving_file_keeps_its_good_content(
        published, bad_row, undo, check):
    served = tenant_file("northwind")
    before, publish_before = digest(served), read_publish(served).publish_id
    tamper(bad_row)
    try:
        result = publish(published)
        assert not result.success
        evaluation = check_outcome(result, check)
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert "[1 rows]" in evaluation.metadata["errors"].value
        assert "jane" not in str(evaluation.metadata)
        assert digest(served) == before and read_publish(served).publish_id == publish_before

        alone = publish(published, asset_selection=[SERVING_TENANTS])  # no checks in this run
        assert "not published" in first_failure(alone)
        assert digest(served) == before
    finally:
        tamper(undo)
    assert publish(published).success and read_publish(served).publish_id != publish_before


def test_a_failed_warning_does_not_block_publishing(published):
    tamper("update marts.fct_tickets set first_reply_minutes = 1e7 where rowid = 0")
    try:
        result = publish(published)
        assert result.success
        evaluation = check_outcome(result, "gx_fct_tickets")
        assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
        built = result.asset_materializations_for_node("serving__tenant_files")[0]
        assert "gx_fct_tickets" in built.metadata["check_warnings"].value
    finally:
        tamper("update marts.fct_tickets set first_reply_minutes = 5 where rowid = 0")


# A BI reader in its own process (only duckdb imported): open the serving file read-only, check it
# holds exactly one complete publish, again and again until told to stop; then print what it saw.
READER = """
import json, os, sys, time, duckdb
path, stop, publish_table = sys.argv[1:4]
reads, errors, publishes = 0, [], set()
while not os.path.exists(stop):
    try:
        with duckdb.connect(path, read_only=True) as con:
            recorded = con.sql(f"select publish_id, table_name, row_count from {publish_table}").fetchall()
            counts = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for _, t, _ in recorded}
        if len({r[0] for r in recorded}) != 1 or counts != {t: n for _, t, n in recorded}:
            errors.append(f"torn read: {recorded} {counts}")
        publishes |= {r[0] for r in recorded}
        reads += 1
    except Exception as error:
        errors.append(f"{error.__class__.__name__}: {error}")
    time.sleep(0.02)
print(json.dumps({"reads": reads, "errors": errors, "publishes": sorted(publishes)}))
"""


def test_readers_always_see_one_complete_publish_while_runs_publish(published, tmp_path):
    served, stop = tenant_file("globex"), tmp_path / "stop"
    command = [sys.executable, "-c", READER, str(served), str(stop), PUBLISH_TABLE]
    readers = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(READERS)]
    time.sleep(1)  # let the readers get going; then the publish step alone, five times
    runs = [publish(published, asset_selection=[SERVING_TENANTS]) for _ in range(PUBLISHES)]
    stop.touch()
    seen = [json.loads(reader.communicate(timeout=60)[0]) for reader in readers]
    assert all(run.success for run in runs)
    assert [error for reader in seen for error in reader["errors"]] == []
    assert all(reader["reads"] > PUBLISHES for reader in seen)
    publishes = {publish_id for reader in seen for publish_id in reader["publishes"]}
    assert len(publishes) >= 3  # the readers saw the file replaced under them, each time whole
