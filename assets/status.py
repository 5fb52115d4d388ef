"""``deskpulse status``: the last run per tenant, check outcomes and how fresh the data is.

Read from the Dagster instance and the serving files only, never the warehouse, so it answers
while a run holds the DuckDB file.
"""

from __future__ import annotations

import time

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter

from assets.definitions import defs
from assets.freshness import last_built as _last_built
from assets.freshness import tenant_freshness, when
from assets.ingest import raw_keys
from assets.marts import marts
from assets.publish import SERVING_BENCHMARK, SERVING_TENANTS
from assets.quality import (
    FINISHED,
    MARTS_FRESH_WITHIN,
    RAW_FRESH_WITHIN,
    Verdict,
    freshness_check_keys,
    freshness_sensor,
    mart_gx_checks,
    offending,
    raw_gx_checks,
    verdict,
)
from assets.serving import benchmark_file, read_publish, tenant_file
from pipelines.ingest.config import TenantConfig


def ago(timestamp: float | None) -> str:
    """How long ago, for people: ``45 s``, ``12 min``, ``5.0 h``, ``3.2 d``; ``never`` for None."""
    if timestamp is None:
        return "never"
    seconds = max(0.0, time.time() - timestamp)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.1f} d"


def _last_run(instance: dg.DagsterInstance, job: str, tenant_id: str | None = None) -> str:
    tags = {"dagster/partition": tenant_id} if tenant_id else None
    records = instance.get_run_records(dg.RunsFilter(job_name=job, tags=tags), limit=1)
    if not records:
        return "no run yet"
    record = records[0]
    took = (f", took {record.end_time - record.start_time:.0f} s"
            if record.start_time and record.end_time else "")
    return f"{record.dagster_run.status.value} {ago(record.create_timestamp.timestamp())} ago{took}"


def _freshness(instance: dg.DagsterInstance) -> tuple[int, list[str], int]:
    """Freshness checks: how many passed, which assets failed, and how many were last evaluated
    before their asset was built again (their verdict is out of date until the sensor re-runs)."""
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(freshness_check_keys)
    fresh, stale, outdated = 0, [], 0
    for key, record in latest.items():
        if not (record.event and record.event.dagster_event):
            continue
        if (_last_built(instance, [key.asset_key]) or 0) > record.event.timestamp:
            outdated += 1
        elif record.event.dagster_event.event_specific_data.passed:
            fresh += 1
        else:
            stale.append(key.asset_key.to_user_string())
    return fresh, stale, outdated


def _checks_summary(passed: int, errors: list[str], warnings: list[str]) -> str:
    if passed or errors or warnings:
        return f"{passed} passed, {len(errors)} blocking publication, {len(warnings)} warning(s)"
    return ("none to judge yet: the checks of what is published are judged once its assets have been "
            "built, and none of these tenants' has")


def _freshness_summary(fresh: int, stale: list[str], outdated: int) -> str:
    if fresh or stale or outdated:
        return (f"freshness: {fresh} fresh, {len(stale)} stale, {outdated} built again since their "
                "last evaluation")
    hours = [f"{limit.total_seconds() / 3600:.0f} h" for limit in (RAW_FRESH_WITHIN, MARTS_FRESH_WITHIN)]
    return (f"freshness: not judged yet: none of the {len(freshness_check_keys)} freshness checks (raw "
            f"tables within {hours[0]}, marts within {hours[1]}) has been evaluated; sensor "
            f"{freshness_sensor.name} evaluates them every {freshness_sensor.minimum_interval_seconds // 60} "
            "minutes while a Dagster daemon runs (deskpulse dev, or dagster-daemon in a deployment)")
def ingest_notes(instance: dg.DagsterInstance, tenants: list[TenantConfig]) -> list[str]:
    """Per tenant, from the metadata of its latest raw materialisations: the endpoints its account
    does not offer (skipped, with what that means), and the records its quarantine holds, per
    table (counts only; ``deskpulse quarantine list`` shows the reasons)."""
    lines = []
    for tenant in tenants:
        skipped: dict[str, None] = {}
        held: dict[str, int] = {}
        for key in raw_keys:
            latest = instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=[tenant.id]), limit=1).records
            metadata = latest[0].asset_materialization.metadata if latest else {}
            if "skipped" in metadata:
                skipped[metadata["skipped"].value] = None
            if metadata.get("quarantined_now") and metadata["quarantined_now"].value:
                held[key.path[-1]] = metadata["quarantined_now"].value
        lines += [f"  SKIPPED     {tenant.id}: {text}" for text in skipped]
        if held:
            lines.append(f"  QUARANTINE  {tenant.id}: {sum(held.values())} record(s): "
                         + ", ".join(f"{table} {count}" for table, count in sorted(held.items()))
                         + f" (deskpulse quarantine list --tenant {tenant.id})")
    return lines
def offending_rows(instance: dg.DagsterInstance, tenants: list[TenantConfig]) -> list[str]:
    """Each suite check whose latest run failed, per tenant for raw tables: the tenant, table, check
    and keys of the first offending rows it recorded, one line per failed expectation."""
    checks = [(key, tenant.id) for suite in raw_gx_checks for key in suite.check_keys for tenant in tenants]
    checks += [(key, None) for suite in mart_gx_checks for key in suite.check_keys]
    lines = []
    for key, partition in checks:
        latest = instance.event_log_storage.get_asset_check_execution_history(
            key, limit=1, status=FINISHED,
            partition_filter=PartitionKeyFilter(key=partition) if partition else None)
        evaluation = latest[0].event.dagster_event.event_specific_data if latest and latest[0].event else None
        if evaluation is not None and not evaluation.passed:
            lines += offending(evaluation.metadata)
    return ["", "Failed checks, what to look at (keys of the first offending rows):",
            *[f"  {line}" for line in lines]] if lines else []


def status_report(instance: dg.DagsterInstance, tenants: list[TenantConfig]) -> str:
    """The report ``deskpulse status`` prints."""
    lines = ["Tenants", f"  {'tenant':<16} {'last ingest run':<36} {'raw data':>12}  serving file"]
    for tenant in tenants:
        served = read_publish(tenant_file(tenant.id))
        lines.append(f"  {tenant.id:<16} {_last_run(instance, 'ingest', tenant.id):<36} "
                     f"{ago(_last_built(instance, raw_keys, tenant.id)) + ' old':>12}  "
                     f"{'published ' + ago(served.published_at.timestamp()) + ' ago' if served else 'none'}")
    notes = ingest_notes(instance, tenants)
    lines += ["", "Ingest notes" + ("" if notes else ": none (every endpoint answered, nothing quarantined)"),
              *notes]
    lines += stale_tenants(instance, tenants)
    benchmark = read_publish(benchmark_file())
    lines += [
        "",
        f"Marts: last marts run {_last_run(instance, 'marts')}; last built "
        f"{ago(_last_built(instance, [m.key for m in marts()]))} ago; benchmark file "
        f"{'published ' + ago(benchmark.published_at.timestamp()) + ' ago' if benchmark else 'none'}",
    ]
    shared, per_tenant = verdict(instance, defs.resolve_asset_graph(), [SERVING_TENANTS, SERVING_BENCHMARK],
                                 [t.id for t in tenants])
    results: list[Verdict] = [shared, *per_tenant.values()]
    errors = [error for result in results for error in result.errors]
    warnings = [warning for result in results for warning in result.warnings]
    fresh, stale, outdated = _freshness(instance)
    lines += [
        "",
        f"Checks: {_checks_summary(sum(r.passed for r in results), errors, warnings)}; "
        f"{_freshness_summary(fresh, stale, outdated)}",
        *[f"  ERROR   {error}" for error in errors],
        *[f"  WARN    {warning}" for warning in warnings],
        *[f"  STALE   {key}" for key in stale],
    ]
    lines += offending_rows(instance, tenants)
    return "\n".join(lines)


def stale_tenants(instance: dg.DagsterInstance, tenants: list[TenantConfig]) -> list[str]:
    """For each tenant whose data is stale (its last load failed) or that never loaded: since when,
    why, and what its serving file holds meanwhile."""
    lines = []
    for tenant in tenants:
        fresh = tenant_freshness(instance, tenant.id)
        failed = f"last load failed {ago(fresh.failed_at)} ago: {fresh.failure}" if fresh.failure else ""
        if fresh.loaded_at is None:
            lines.append(f"  NEVER LOADED {tenant.id}: nothing published{'; ' + failed if failed else ''}")
        elif fresh.stale:
            served = (f"its serving file kept as published {ago(fresh.served.published_at.timestamp())} ago"
                      if fresh.served else "no serving file")
            lines.append(f"  STALE   {tenant.id} since {when(fresh.loaded_at)} ({ago(fresh.loaded_at)} ago, "
                         f"its last good load); {failed}; {served}")
    return ["", "Stale data", *lines] if lines else []
