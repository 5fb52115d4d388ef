"""A run can target one tenant: on a fresh home, a run of globex alone loads, builds and publishes
globex only; northwind has no raw schema, no mart rows and no serving file until the full run. The
first run's ingest builds the time-based exports' tables in worker processes, as a large load does."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.runner import dagster_instance, run_graph
from assets.serving import tenant_file
from pipelines.ingest.home import warehouse_path
from pipelines.sources.zendesk import exports
from tests.test_orchestration import query, serving_rows

TICKETS = 150
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def schemas() -> set[str]:
    return {row[0] for row in query(warehouse_path(), "select schema_name from information_schema.schemata")}


@pytest.fixture(scope="module")
def runs(demo_world):
    demo = demo_world
    with pytest.MonkeyPatch.context() as patch:  # the ingest builds the event tables in worker processes
        patch.setattr(exports, "INLINE_PAGES", 0)
        one = run_graph(demo.tenant_file, only=["globex"])
    after_one = {
        "schemas": schemas(),
        "mart_tenants": {row[0] for row in query(warehouse_path(),
                                                  "select distinct tenant_id from marts.fct_tickets")},
        "serving": {t: serving_rows(tenant_file(t)) if tenant_file(t).exists() else None
                    for t in demo.worlds},
    }
    full = run_graph(demo.tenant_file)
    return {"demo": demo, "one": one, "after_one": after_one, "full": full}


def test_a_run_can_target_one_tenant_partition(runs):
    assert runs["one"].ok and runs["one"].ingested == ["globex"]
    after = runs["after_one"]
    assert "raw_globex" in after["schemas"] and "raw_northwind" not in after["schemas"]
    assert after["mart_tenants"] == {"globex"}
    assert all(rows > 0 for rows in after["serving"]["globex"].values())
    assert after["serving"]["northwind"] is None  # never loaded: nothing to publish
    with dagster_instance() as instance:
        globex_runs = instance.get_run_records(dg.RunsFilter(job_name="ingest",
                                                             tags={"dagster/partition": "globex"}))
        assert len(globex_runs) == 2  # the one-tenant run, then the full run


