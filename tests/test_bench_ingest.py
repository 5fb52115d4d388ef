"""``deskpulse bench ingest`` on a small world: what it loaded and asked for, against what the fake
API holds, and the CPU split it reports. The times are the machine's; the test holds the counts."""

from __future__ import annotations

import pytest

from deskpulse.benchmarks.ingest import (
    BENCH_TENANT,
    bench_environment,
    format_report,
    minimum_requests,
    run_ingest_benchmark,
)
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.load import ROW_LOAD_IDS
from pipelines.sources.zendesk import exports
from pipelines.world import World, WorldConfig

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_small_world_loads_whole_with_the_fewest_requests_and_says_what_bounds_it(tmp_path, monkeypatch):
    for name in [*bench_environment(tmp_path), *ROW_LOAD_IDS]:  # what the load sets: put back after
        monkeypatch.setenv(name, "")
    monkeypatch.setattr(exports, "INLINE_PAGES", 1)  # a small world's exports in worker processes too
    report = run_ingest_benchmark(300, seed=1, workdir=tmp_path)

    api = FakeZendesk(World(WorldConfig(tenant_id=BENCH_TENANT, seed=1, tickets=300)))
    held = api.sizes()
    expected = {"tickets": held["tickets"], "ticket_metrics": held["tickets"],
                "ticket_metric_events": held["ticket_metric_events"], "users": held["users"],
                "satisfaction_ratings": held["satisfaction_ratings"], "groups": held["groups"]}
    assert {table: report.rows[table] for table in expected} == expected
    assert report.minimum_requests == minimum_requests(held)
    assert all(report.requests[name] >= least for name, least in report.minimum_requests.items())
    assert set(report.steps) == {"extract", "normalize", "load"}
    assert 0 < report.extract_thread_cpu_seconds <= report.pipeline_cpu_seconds
    assert report.worker_cpu_seconds > 0
    assert "of which the thread running dlt" in format_report(report)
    assert "worker processes CPU" in format_report(report)
