"""`deskpulse run` hands back what each load held before the next load, and before dbt starts.

The order is what is checked, on a graph of two tiny jobs named as the real ones: the process's
memory itself is the run benchmark's to measure (`deskpulse bench run`, "run process" during the
dbt build).
"""

from __future__ import annotations

import platform

import dagster as dg
import pytest

from assets import runner
from pipelines.ingest.config import Credentials, TenantConfig
from pipelines.ingest.memory import release_memory

TENANTS = ("acme", "globex")


def tenant(tenant_id: str) -> TenantConfig:
    return TenantConfig(id=tenant_id, platform="zendesk", base_url="http://127.0.0.1:1",
                        credentials=Credentials("UNUSED", "UNUSED"), secret_env="UNUSED")


def test_memory_is_released_after_every_load_and_before_the_marts_run(monkeypatch, tmp_path):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    calls: list[str] = []

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(list(TENANTS)))
    def raw_tickets(context) -> None:
        calls.append(f"ingest {context.partition_key}")

    @dg.asset(deps=[raw_tickets])
    def fct_tickets() -> None:
        calls.append("marts")

    defs = dg.Definitions(assets=[raw_tickets, fct_tickets],
                          jobs=[dg.define_asset_job("ingest", selection=[raw_tickets]),
                                dg.define_asset_job("marts", selection=[fct_tickets])])
    monkeypatch.setattr(runner, "release_memory", lambda: calls.append("release"))
    outcome = runner.GraphOutcome()
    with dg.DagsterInstance.ephemeral() as instance:
        runner._ingest_then_build(defs, instance, [tenant(t) for t in TENANTS], None, lambda _: None, outcome)
    assert outcome.ingested == list(TENANTS) and outcome.transformed
    assert calls == ["ingest acme", "release", "ingest globex", "release", "marts"]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_release_trims_malloc_where_the_c_library_is_glibc():
    assert release_memory() is True
