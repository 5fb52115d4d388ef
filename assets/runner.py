"""Run the asset graph in process, through Dagster, for all or some tenants of a tenant file.

Each tenant's ingest is its own partitioned run (optionally a date-range backfill), so one
tenant's failure (bad credentials, API down) is reported and the others still load; then one
``marts`` run builds, checks and publishes. ``progress`` hears what each run does as it happens.
"""

from __future__ import annotations

import contextlib
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from assets.project import WAREHOUSE_POOL
from assets.tenants import sync_tenant_partitions
from pipelines.config import ConfigError, TenantConfig, load_tenants
from pipelines.home import home
from pipelines.load import date_ranges

Progress = Callable[[str], None]
INSTANCE_CONFIG = """\
# Written by deskpulse when it created this Dagster instance; edit freely, it is not rewritten.
# The warehouse pool's limit (1) lives in the instance's storage: `dagster instance concurrency`.
telemetry:
  enabled: false  # no usage statistics leave the machine
"""


@dataclass
class GraphOutcome:
    """What a run of the graph did: per-tenant ingest results and the marts result."""

    ingested: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)
    transformed: bool = False  # marts built, checked and published

    @property
    def ok(self) -> bool:
        return self.transformed and not self.failures


def dagster_instance() -> dg.DagsterInstance:
    """``DAGSTER_HOME`` if set, else a persistent instance under ``$DESKPULSE_HOME/dagster``; either
    way its ``warehouse`` pool admits one step at a time (DuckDB has one writer, then no reader)."""
    path = Path(os.environ.get("DAGSTER_HOME") or home() / "dagster")
    path.mkdir(parents=True, exist_ok=True)
    config = path / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG, encoding="utf-8")
    instance = dg.DagsterInstance.from_config(str(path))
    storage = instance.event_log_storage
    if storage.get_concurrency_info(WAREHOUSE_POOL).slot_count != 1:
        storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
    return instance


def first_failure(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step's error message, on one line."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and "Error occurred while" in error.message:
                error = error.cause
            return " ".join(error.message.split())
    return "run failed"


def describe(entry: dg.EventLogEntry) -> str | None:
    """One line for people about a run event worth showing, or None."""
    event = entry.dagster_event
    if event is None:
        return None
    if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
        materialization = event.event_specific_data.materialization
        metadata = {key: value.value for key, value in materialization.metadata.items()}
        rows = metadata.get("dagster/partition_row_count", metadata.get("dagster/row_count"))
        new = metadata.get("new_or_changed_rows")
        where = f" [{materialization.partition}]" if materialization.partition else ""
        counts = f": {rows:,} rows" if rows is not None else ""
        counts += f", {new:,} new or changed" if new is not None else ""
        return f"      built {materialization.asset_key.to_user_string()}{where}{counts}"
    if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        from assets.quality import offending  # the graph's modules load with the run, not before

        evaluation = event.event_specific_data
        if evaluation.passed:
            return None
        found = [value.value for value in map(evaluation.metadata.get, ("errors", "warnings"))
                 if value is not None and value.value != "none"]
        return (f"      check {evaluation.asset_check_key.to_user_string()} failed "
                f"({evaluation.severity.value}){': ' + '; '.join(found) if found else ''}"
                + "".join(f"\n        {line}" for line in offending(evaluation.metadata)))
    if event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY:
        return f"      step {event.step_key} hit a transient error; retrying"
    if event.event_type == dg.DagsterEventType.STEP_FAILURE:
        return f"      step {event.step_key} failed"
    return None


@contextlib.contextmanager
def watch(instance: dg.DagsterInstance, run_id: str, progress: Progress) -> Iterator[None]:
    """Report a run's events through ``progress`` while it executes (polling its event log)."""
    done, cursor = threading.Event(), None

    def drain() -> None:
        nonlocal cursor
        while True:
            batch = instance.get_records_for_run(run_id, cursor=cursor, limit=500)
            for record in batch.records:
                line = describe(record.event_log_entry)
                if line:
                    progress(line)
            cursor = batch.cursor
            if not batch.has_more:
                return

    def poll() -> None:
        while not done.wait(0.5):
            drain()

    thread = threading.Thread(target=poll, name=f"watch-{run_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        drain()


def execute(job: dg.JobDefinition, instance: dg.DagsterInstance, progress: Progress,
            run_config: dict | None = None, **kwargs) -> dg.ExecuteInProcessResult:
    """Run a job in process, reporting its progress as it goes; Dagster's own console log shows
    warnings and errors only (everything stays in the instance's event log)."""
    run_id = str(uuid.uuid4())
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    with watch(instance, run_id, progress):
        return job.execute_in_process(run_config={**quiet, **(run_config or {})}, instance=instance,
                                      run_id=run_id, raise_on_error=False, **kwargs)


def chosen_tenants(tenants: list[TenantConfig], only: Sequence[str]) -> list[TenantConfig]:
    """The tenants named in ``only`` (all when empty); an unknown name is a config error."""
    unknown = sorted(set(only) - {t.id for t in tenants})
    if unknown:
        raise ConfigError(f"tenant(s) {', '.join(unknown)} not in the tenant file")
    return [t for t in tenants if not only or t.id in only]


def ingest_runs(tenant: TenantConfig, window: tuple[date, date] | None) -> Iterator[tuple[str, dict]]:
    """One tenant's ingest runs as (label, run config): one incremental run, or a backfill of
    ``window`` cut into ``pipelines.load.BACKFILL_STEP`` pieces, one run each."""
    if window is None:
        yield "", {}
        return
    start, end = (datetime.combine(day, datetime.min.time(), tzinfo=UTC) for day in window)
    for piece in date_ranges(start, end):
        bounds = {"start": piece.start.date().isoformat(), "end": piece.end.date().isoformat()}
        yield (f" {bounds['start']} to {bounds['end']}",
               {"ops": {f"{tenant.platform}_ingest": {"config": bounds}}})


def run_graph(tenants_file: Path, progress: Progress = lambda _: None, *, only: Sequence[str] = (),
              window: tuple[date, date] | None = None) -> GraphOutcome:
    """Ingest every tenant of the file, or those in ``only``, incrementally or, given ``window``
    (start, end), as a backfill of that date range; then build, check and publish all marts."""
    tenants = load_tenants(tenants_file)  # fail fast on a bad file, before Dagster loads
    targets = chosen_tenants(tenants, only)
    os.environ["DESKPULSE_TENANTS"] = str(Path(tenants_file).resolve())
    from assets.definitions import defs  # heavy: dbt manifest, dlt sources

    outcome = GraphOutcome()
    with dagster_instance() as instance:
        sync_tenant_partitions(instance, tenants)
        ingest = defs.resolve_job_def("ingest")
        for index, tenant in enumerate(targets, start=1):
            for span, run_config in ingest_runs(tenant, window):
                progress(f"[{index}/{len(targets)}] ingest {tenant.id} ({tenant.platform}){span}")
                result = execute(ingest, instance, progress, run_config=run_config, partition_key=tenant.id)
                if not result.success:
                    outcome.failures[tenant.id] = first_failure(result)
                    progress(f"      tenant {tenant.id}: ingest failed: {outcome.failures[tenant.id]}")
                    break
            else:
                outcome.ingested.append(tenant.id)
        progress("marts: dbt build (models, tests), quality checks, publish")
        result = execute(defs.resolve_job_def("marts"), instance, progress)
        outcome.transformed = result.success
        if not result.success:
            outcome.failures["marts"] = first_failure(result)
            progress(f"      marts failed: {outcome.failures['marts']}")
    return outcome
