"""Quality gates: GX suites and freshness as asset checks, and the verdict that gates publishing.

``expectations/<platform>/<table>.json`` checks a raw table per tenant partition, right after its
load: its row-wise rules on the rows of the loads since the check last passed with the same suite
(the whole table the first time), so an hourly check costs what the hour loaded, not what the
table holds. ``expectations/marts/<mart>.json`` checks a whole mart after every build. A failed
critical expectation is an ERROR (it blocks publishing), a failed warning a WARN (it does not). Freshness
checks warn when raw data or marts fall behind their schedules. ``verdict`` reads the latest
outcome of every check upstream of what is about to be published, so a publish that runs on its
own is gated exactly like one that follows a build.
"""

import hashlib
import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from assets.gx import Failure, SuiteOutcome, load_suite, suite_paths, validate
from assets.gx_metrics import quote
from assets.ingest import raw_keys
from assets.marts import MARTS_SCHEMA, marts
from assets.pii import PATTERNS
from assets.project import WAREHOUSE_POOL
from assets.tenants import TenantsResource, tenant_partitions
from assets.warehouse import read_only
from pipelines.ingest.home import raw_dataset

FINISHED = {AssetCheckExecutionRecordStatus.SUCCEEDED, AssetCheckExecutionRecordStatus.FAILED}
RAW_FRESH_WITHIN = timedelta(hours=3)  # ingestion runs hourly
MARTS_FRESH_WITHIN = timedelta(hours=26)  # marts build daily, and when new raw data lands
OFFENDING = "offending"  # check metadata: one line per failed expectation, who and what to look at
SUITE = "suite"  # raw check metadata: the digest of what it checked for
CHECKED_THROUGH = "loads_checked_through"  # raw check metadata: when the newest load it covered finished


def suite_result(outcome: SuiteOutcome, table: str, tenant_ids: list[str], check: dg.AssetCheckKey,
                 **metadata: str) -> dg.AssetCheckResult:
    """A suite's outcome on one warehouse table as a check result: failures carry names, counts
    and the keys of the first offending rows, never values."""
    severity = dg.AssetCheckSeverity.ERROR if outcome.errors else dg.AssetCheckSeverity.WARN
    offending = "\n".join(blame(outcome.failures, check.name, table, tenant_ids))
    return dg.AssetCheckResult(asset_key=check.asset_key, check_name=check.name, passed=outcome.passed,
                               severity=severity,
                               metadata={**outcome.metadata(), **metadata, OFFENDING: offending or "none"})


def suite_digest(suite: dict) -> str:
    """What a check checks for: the suite and the PII patterns every suite adds."""
    return hashlib.sha256(json.dumps([suite, PATTERNS], sort_keys=True).encode()).hexdigest()[:16]


def loads_through(con: duckdb.DuckDBPyConnection, schema: str) -> datetime | None:
    """When the newest finished dlt load of ``schema`` (which has dlt's ``_dlt_loads``) finished."""
    return con.execute(
        f"select max(inserted_at) from {quote(schema)}._dlt_loads where status = 0").fetchall()[0][0]


def loaded_after(schema: str, through: datetime) -> str:
    """SQL: the rows of loads not finished by ``through`` (later loads, and one left unfinished)."""
    return (f"_dlt_load_id not in (select load_id from {quote(schema)}._dlt_loads where status = 0 "
            f"and inserted_at <= timestamptz '{through.isoformat()}')")


def last_pass(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, partition: str) -> dict[str, str]:
    """The metadata of the check's latest passing execution on ``partition`` ({} if none)."""
    passed = instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=1, status={AssetCheckExecutionRecordStatus.SUCCEEDED},
        partition_filter=PartitionKeyFilter(key=partition))
    if not passed or passed[0].event is None:
        return {}
    evaluation = passed[0].event.dagster_event.event_specific_data
    return {name: entry.value for name, entry in evaluation.metadata.items() if isinstance(entry.value, str)}


def blame(failures: list[Failure], check: str, table: str, tenant_ids: list[str]) -> list[str]:
    """One line per failed expectation naming tenant, table, check and the first offending keys."""
    lines = []
    for failure in failures:
        tenants = failure.tenants or (tenant_ids if len(tenant_ids) == 1 else [])
        who = f"tenant {', '.join(tenants)}" if tenants else "all tenants"
        lines.append(f"{who}, table {table}, check {check} ({failure.severity}): {failure.describe()}")
    return lines


def offending(metadata: dict) -> list[str]:
    """The offending lines a failed suite check recorded (none for other checks)."""
    entry = metadata.get(OFFENDING)
    return [] if entry is None or entry.value == "none" else entry.value.splitlines()


def raw_suite_checks(platform: str, suites: dict[dg.AssetKey, Path]) -> dg.AssetChecksDefinition:
    """The suites of a platform's raw tables on a tenant partition, right after its load, in one
    step (one connection; a step per table cost more than most of their scans). Each covers the
    rows of the loads since it last passed with the same suite (``loaded_after``), the whole table
    the first time; its metadata says which rows it covered."""
    with warnings.catch_warnings():  # partitioned checks are a Dagster preview; we rely on them
        warnings.simplefilter("ignore", dg.PreviewWarning)
        specs = [dg.AssetCheckSpec(
            f"gx_{path.stem}", asset=key, blocking=True, partitions_def=tenant_partitions,
            description=f"Great Expectations suite expectations/{platform}/{path.name}.")
            for key, path in suites.items()]
    paths = {spec.key: path for spec, path in zip(specs, suites.values(), strict=True)}

    @dg.multi_asset_check(specs=specs, name=f"{platform}_raw_suites", can_subset=True,
                          pool=WAREHOUSE_POOL, description=f"The GX suites of {platform}'s raw tables.")
    def checks(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        tenant_id = context.partition_key
        schema = raw_dataset(tenant_id)
        with read_only() as con:
            present = {name for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = ?", [schema]
            ).fetchall()}
            through = loads_through(con, schema) if "_dlt_loads" in present else None
            for key in sorted(context.selected_asset_check_keys, key=lambda k: k.to_user_string()):
                if paths[key].stem not in present:  # dlt creates a table with its first row
                    yield dg.AssetCheckResult(asset_key=key.asset_key, check_name=key.name, passed=True,
                                              metadata={"rows": 0, "note": "nothing loaded yet"})
                else:
                    yield raw_suite_result(context.instance, con, key, paths[key], tenant_id, through)

    return checks


def raw_suite_result(instance: dg.DagsterInstance, con: duckdb.DuckDBPyConnection,
                     key: dg.AssetCheckKey, path: Path, tenant_id: str,
                     through: datetime | None) -> dg.AssetCheckResult:
    """One raw table's suite on the rows loaded since its check last passed (``raw_suite_checks``)."""
    schema, suite = raw_dataset(tenant_id), load_suite(path)
    digest, earlier = suite_digest(suite), last_pass(instance, key, tenant_id)
    since = earlier.get(CHECKED_THROUGH) if earlier.get(SUITE) == digest else None
    rows = loaded_after(schema, datetime.fromisoformat(since)) if since and through else None
    outcome = validate(suite, con, schema, path.stem, {"tenant_ids": [tenant_id]}, rows)
    covered = {SUITE: digest,
               "rows_checked_from": f"loads finished after {since}" if rows else "every row"}
    if through:
        covered[CHECKED_THROUGH] = through.isoformat()
    return suite_result(outcome, f"{schema}.{path.stem}", [tenant_id], key, **covered)


def mart_suite_check(key: dg.AssetKey, path: Path) -> dg.AssetChecksDefinition:
    """The suite of a mart; blocking, so a failure stops the publish step of the same run."""

    @dg.asset_check(asset=key, name=f"gx_{path.stem}", blocking=True, pool=WAREHOUSE_POOL,
                    description=f"Great Expectations suite expectations/{MARTS_SCHEMA}/{path.name}.")
    def check(context: dg.AssetCheckExecutionContext, tenants: TenantsResource) -> dg.AssetCheckResult:
        tenant_ids = [t.id for t in tenants.load()]
        with read_only() as con:
            outcome = validate(load_suite(path), con, MARTS_SCHEMA, path.stem, {"tenant_ids": tenant_ids})
        return suite_result(outcome, f"{MARTS_SCHEMA}.{path.stem}", tenant_ids, context.check_specs[0].key)

    return check


def _suites_of_assets() -> tuple[list[dg.AssetChecksDefinition], list[dg.AssetChecksDefinition]]:
    """The checks of every suite whose table is an asset here (suites of marts not built yet wait):
    one step per platform for the raw tables, one per mart."""
    raw = {(key.path[0], key.path[-1]): key for key in raw_keys}
    mart_keys = {mart.name: mart.key for mart in marts()}
    platforms = sorted({platform for platform, _ in raw})
    raw_checks = [raw_suite_checks(platform, {raw[(platform, p.stem)]: p for p in suite_paths(platform)
                                              if (platform, p.stem) in raw}) for platform in platforms]
    mart_checks = [mart_suite_check(mart_keys[path.stem], path)
                   for path in suite_paths(MARTS_SCHEMA) if path.stem in mart_keys]
    return raw_checks, mart_checks


raw_gx_checks, mart_gx_checks = _suites_of_assets()
# Freshness as asset checks, so it reads like every other check (severity WARN, in the UI, in
# `deskpulse status`). Dagster's FreshnessPolicy supersedes these builders (hence the warning
# filter) but is not an asset check.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.SupersessionWarning)
    freshness_checks = [
        *dg.build_last_update_freshness_checks(assets=raw_keys, lower_bound_delta=RAW_FRESH_WITHIN),
        *dg.build_last_update_freshness_checks(assets=[m.key for m in marts()],
                                               lower_bound_delta=MARTS_FRESH_WITHIN),
    ]
    freshness_sensor = dg.build_sensor_for_freshness_checks(
        freshness_checks=freshness_checks, minimum_interval_seconds=600,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
freshness_check_keys = [key for checks in freshness_checks for key in checks.check_keys]


@dataclass
class Verdict:
    """The latest outcome of the checks that guard one publish."""

    passed: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def verdict(instance: dg.DagsterInstance, graph: BaseAssetGraph, published: list[dg.AssetKey],
            tenant_ids: list[str]) -> tuple[Verdict, dict[str, Verdict]]:
    """The checks on the published marts and on everything upstream of them, freshness aside:
    those of unpartitioned assets, and per tenant those of its raw partitions. An ERROR failure,
    or a check that has not run since its asset was last built, is an error. ``graph`` is the
    code location's whole asset graph (a run's own sees only its part): the ``asset_graph``
    resource."""
    keys = {key for mart in published for key in graph.get_ancestor_asset_keys(mart, include_self=True)}
    shared, per_tenant = Verdict(), {tenant_id: Verdict() for tenant_id in tenant_ids}
    for check_key in sorted(graph.get_check_keys_for_assets(keys) - set(freshness_check_keys),
                            key=lambda k: k.to_user_string()):
        if graph.get_check_spec(check_key).partitions_def is None:
            _judge(instance, check_key, None, shared)
        else:
            for tenant_id, result in per_tenant.items():
                _judge(instance, check_key, tenant_id, result)
    return shared, per_tenant


def _judge(instance: dg.DagsterInstance, check_key: dg.AssetCheckKey, partition: str | None,
           result: Verdict) -> None:
    built = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=check_key.asset_key,
                              asset_partitions=[partition] if partition else None), limit=1).records
    if not built:
        return  # never built (a tenant not loaded yet): nothing to check
    label = check_key.to_user_string() + (f"[{partition}]" if partition else "")
    # the latest execution that finished: a run that left the asset as it was (nothing fed it
    # anything new, pipelines/build_plan.py) plans its checks without running them
    finished = instance.event_log_storage.get_asset_check_execution_history(
        check_key, limit=1, status=FINISHED,
        partition_filter=PartitionKeyFilter(key=partition) if partition else None)
    record = finished[0] if finished else None
    if record is None or record.event.timestamp < built[0].timestamp:
        result.errors.append(f"{label} not run since the last build")
    elif record.status == AssetCheckExecutionRecordStatus.SUCCEEDED:
        result.passed += 1
    elif record.event.dagster_event.event_specific_data.severity == dg.AssetCheckSeverity.ERROR:
        result.errors.append(label)
    else:
        result.warnings.append(label)


def published_together(graph: BaseAssetGraph) -> list[list[str]]:
    """The marts each serving file reads: its publish step runs only in a run that built all of
    them, so a build builds all of them or none (``pipelines.build_plan``)."""
    readers: dict[dg.AssetKey, list[str]] = {}  # serving file -> the marts it reads
    for mart in marts():
        for key in graph.get(mart.key).child_keys:
            if key.path[0] == "serving":
                readers.setdefault(key, []).append(mart.name)
    return list(readers.values())


def unsettled_marts(instance: dg.DagsterInstance, graph: BaseAssetGraph) -> list[str]:
    """The marts built since their checks last passed (an ERROR failed, or they did not run), or
    since the serving file they feed was last published, with every other mart that file reads
    (``published_together``). The next build builds them again (``pipelines.build_plan``), so
    their checks run again until they pass and what passes is published, even when nothing new
    was loaded. ``graph`` as in ``verdict``."""
    unsettled: set[str] = set()
    for mart in marts():
        served = [key for key in graph.get(mart.key).child_keys if key.path[0] == "serving"]
        built = instance.get_latest_materialization_event(mart.key)
        if built is None:
            continue  # never built: the next build builds it anyway
        checks = Verdict()
        for check_key in sorted(graph.get_check_keys_for_assets({mart.key}) - set(freshness_check_keys),
                                key=lambda k: k.to_user_string()):
            _judge(instance, check_key, None, checks)
        published = [instance.get_latest_materialization_event(key) for key in served]
        if checks.errors or any(event is None or event.timestamp < built.timestamp for event in published):
            unsettled.add(mart.name)
    for names in published_together(graph):
        if unsettled & set(names):
            unsettled |= set(names)
    return sorted(unsettled)
