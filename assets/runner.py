"""Run the asset graph in process, through Dagster, for all or some tenants of a tenant file.

Each tenant's ingest is its own partitioned run (optionally a date-range backfill), so one
tenant's failure (bad credentials, API down) is reported and the others still load; then one
``marts`` run builds, checks and publishes. ``progress`` hears what each run does as it happens.
Asked to stop (``pipelines.ingest.stop``), it starts no further run.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from assets.freshness import Served, serving_outcome, step_failure
from assets.project import WAREHOUSE_POOL
from assets.recovery import release_dead_runs, worker_tags
from assets.tenants import sync_tenant_partitions
from pipelines.ingest import stop
from pipelines.ingest.config import ConfigError, TenantConfig
from pipelines.ingest.home import home
from pipelines.ingest.memory import release_memory
from pipelines.ingest.window import date_ranges
from pipelines.platforms import load_tenants

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
    transformed: bool = False  # the marts run succeeded
    stopped: str | None = None  # why the run stopped early (a signal), if it did
    marts_run: str | None = None  # the id of the marts run
    changed_rows: dict[str, int] = field(default_factory=dict)  # per tenant: raw rows new or changed
    built: list[str] = field(default_factory=list)  # dbt models and seeds the marts run rebuilt
    written: list[str] = field(default_factory=list)  # serving assets the marts run wrote
    served: list[Served] = field(default_factory=list)  # what it left in each tenant's file, and why

    @property
    def published(self) -> bool:
        """Whether every tenant's serving file is what it should be after the marts run."""
        return self.transformed and all(served.ok for served in self.served)

    @property
    def ok(self) -> bool:
        return self.published and not self.failures and not self.stopped


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


@contextlib.contextmanager
def taking_turns(instance: dg.DagsterInstance, progress: Progress) -> Iterator[None]:
    """Hold the instance's graph lock while running jobs: a second process waits for the first
    to finish whole. The pool alone lets their steps take turns one by one, so one process's load
    could land between the other's raw checks and its publish, which would then find raw data no
    check has passed and publish nothing. The lock ends with its process, however that ends."""
    with (Path(instance.root_directory) / "graph.lock").open("a+", encoding="utf-8") as lock:
        waiting = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    lock.seek(0)
                    holder = lock.read().strip() or "unknown"
                    progress(f"another deskpulse process (pid {holder}) is running jobs on this "
                             "home; waiting for it to finish")
                    waiting = True
                stop.sleep(1.0)
        lock.truncate(0)
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def first_failure(result: dg.ExecuteInProcessResult) -> str:
    """The first failed step's error message, on one line."""
    return step_failure(result.all_events) or "run failed"


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
        quarantined, skipped = metadata.get("records_quarantined"), metadata.get("skipped")
        counts += f", {quarantined:,} quarantined" if quarantined else ""
        counts += f" (skipped: {skipped})" if skipped else ""
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
    warnings and errors only (everything stays in the instance's event log). Runs left unfinished
    by a process that is gone are closed first (``assets.recovery``)."""
    release_dead_runs(instance, progress)  # or this run would wait for their slots forever
    run_id = str(uuid.uuid4())
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    tags = {**worker_tags(), **kwargs.pop("tags", {})}
    with watch(instance, run_id, progress):
        return job.execute_in_process(run_config={**quiet, **(run_config or {})}, instance=instance,
                                      run_id=run_id, raise_on_error=False, tags=tags, **kwargs)


def changed_rows(result: dg.ExecuteInProcessResult) -> int:
    """Raw rows an ingest run wrote that were new or changed, from its materialisations."""
    return sum(int(event.materialization.metadata["new_or_changed_rows"].value)
               for event in result.get_asset_materialization_events()
               if "new_or_changed_rows" in event.materialization.metadata)


def built_and_published(result: dg.ExecuteInProcessResult) -> tuple[list[str], list[str]]:
    """The warehouse assets a marts run materialised, and the serving files it wrote."""
    keys = [event.asset_key for event in result.get_asset_materialization_events()]
    return ([key.to_user_string() for key in keys if key.path[0] != "serving"],
            [key.to_user_string() for key in keys if key.path[0] == "serving"])


def chosen_tenants(tenants: list[TenantConfig], only: Sequence[str]) -> list[TenantConfig]:
    """The tenants named in ``only`` (all when empty); an unknown name is a config error."""
    unknown = sorted(set(only) - {t.id for t in tenants})
    if unknown:
        raise ConfigError(f"tenant(s) {', '.join(unknown)} not in the tenant file")
    return [t for t in tenants if not only or t.id in only]


def ingest_runs(tenant: TenantConfig, window: tuple[date, date] | None) -> Iterator[tuple[str, dict]]:
    """One tenant's ingest runs as (label, run config): one incremental run, or a backfill of
    ``window`` cut into ``pipelines.ingest.window.BACKFILL_STEP`` pieces, one run each."""
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
        try:
            with taking_turns(instance, progress):
                sync_tenant_partitions(instance, tenants)
                _ingest_then_build(defs, instance, targets, window, progress, outcome)
        except stop.Stopped as stopped:
            outcome.stopped = stopped.reason
        if outcome.marts_run and not outcome.stopped:
            outcome.served = served_tenants(instance, [t.id for t in tenants], outcome.marts_run,
                                            outcome.failures.get("marts"))
    return outcome


def served_tenants(instance: dg.DagsterInstance, tenant_ids: list[str], run_id: str,
                   run_failure: str | None) -> list[Served]:
    """The verdict of a marts run is what it left in the serving files: per tenant, published,
    up to date, kept (why) or not published (what blocks it)."""
    from assets.definitions import defs
    from assets.publish import TENANT_MARTS
    from assets.quality import verdict

    graph = defs.resolve_asset_graph()
    shared, per_tenant = verdict(instance, graph, [mart.key for mart in TENANT_MARTS], tenant_ids)
    errors = {tenant_id: shared.errors + result.errors for tenant_id, result in per_tenant.items()}
    return serving_outcome(instance, tenant_ids, run_id, errors, run_failure)


def _ingest_then_build(defs: dg.Definitions, instance: dg.DagsterInstance, targets: list[TenantConfig],
                       window: tuple[date, date] | None, progress: Progress, outcome: GraphOutcome) -> None:
    """The runs of ``run_graph``, recorded in ``outcome``; raises ``Stopped`` as soon as the process
    is asked to stop, starting no further run."""
    ingest = defs.resolve_job_def("ingest")
    for index, tenant in enumerate(targets, start=1):
        for span, run_config in ingest_runs(tenant, window):
            stop.check()
            progress(f"[{index}/{len(targets)}] ingest {tenant.id} ({tenant.platform}){span}")
            result = execute(ingest, instance, progress, run_config=run_config, partition_key=tenant.id)
            release_memory()  # what the load held, before the next load and dbt's build
            stop.check()
            outcome.changed_rows[tenant.id] = outcome.changed_rows.get(tenant.id, 0) + changed_rows(result)
            if not result.success:
                outcome.failures[tenant.id] = first_failure(result)
                progress(f"      tenant {tenant.id}: ingest failed: {outcome.failures[tenant.id]}")
                break
        else:
            outcome.ingested.append(tenant.id)
    stop.check()
    progress("marts: dbt build (models, tests), quality checks, publish")
    result = execute(defs.resolve_job_def("marts"), instance, progress)
    stop.check()
    outcome.transformed, outcome.marts_run = result.success, result.run_id
    outcome.built, outcome.written = built_and_published(result)
    if not result.success:
        outcome.failures["marts"] = first_failure(result)
        progress(f"      marts failed: {outcome.failures['marts']}")
