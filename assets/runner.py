"""Run the whole asset graph in process, through Dagster, for every tenant of a tenant file.

Each tenant's ingest is its own partitioned run, so one tenant's failure (bad credentials, API
down) is reported and the others still load; then one transform run builds and checks the marts.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from assets.tenants import sync_tenant_partitions
from pipelines.config import load_tenants
from pipelines.home import home


@dataclass
class GraphOutcome:
    """What a run of the graph did: per-tenant ingest results and the transform result."""

    ingested: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    transformed: bool = False

    @property
    def ok(self) -> bool:
        return self.transformed and not self.failures


def dagster_instance() -> dg.DagsterInstance:
    """``DAGSTER_HOME`` if set, else a persistent instance under ``$DESKPULSE_HOME/dagster``."""
    path = Path(os.environ.get("DAGSTER_HOME") or home() / "dagster")
    path.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.from_config(str(path))


def first_failure(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step's error message, on one line."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and "Error occurred while" in error.message:
                error = error.cause
            return " ".join(error.message.split())
    return "run failed"


def run_graph(tenants_file: Path, progress: Callable[[str], None] = lambda _: None) -> GraphOutcome:
    """Ingest every tenant of the file, then build and check all marts."""
    tenants = load_tenants(tenants_file)  # fail fast on a bad file, before Dagster loads
    os.environ["DESKPULSE_TENANTS"] = str(Path(tenants_file).resolve())
    from assets.definitions import defs  # heavy: dbt manifest, dlt sources

    outcome = GraphOutcome()
    with dagster_instance() as instance:
        sync_tenant_partitions(instance, tenants)
        ingest = defs.resolve_job_def("ingest")
        for index, tenant in enumerate(tenants, start=1):
            progress(f"[{index}/{len(tenants)}] ingest {tenant.id} ({tenant.platform})")
            result = ingest.execute_in_process(
                partition_key=tenant.id, instance=instance, raise_on_error=False
            )
            if result.success:
                outcome.ingested.append(tenant.id)
            else:
                outcome.failures[tenant.id] = first_failure(result)
                progress(f"      tenant {tenant.id}: ingest failed: {outcome.failures[tenant.id]}")
        progress("transform: dbt build (models, tests) and quality checks")
        result = defs.resolve_job_def("transform").execute_in_process(
            instance=instance, raise_on_error=False
        )
        outcome.transformed = result.success
        if not result.success:
            outcome.failures["transform"] = first_failure(result)
            progress(f"      transform failed: {outcome.failures['transform']}")
    return outcome
