"""Publish: the audited marts copied to the serving files BI tools read (write-audit-publish).

Write and audit happen upstream: dbt builds the marts, dbt tests and GX suites check them, and the
blocking checks stop this step in the same run. The step then asks ``quality.verdict`` for the
latest outcome of every check upstream of what it publishes, so it can also run on its own (the
``publish`` job) and still never publishes data that failed an ERROR check. A tenant whose raw
data failed its checks keeps its previous serving file; so does a tenant whose last load failed
(``assets.freshness``: its rows are as old as they were); a tenant that never loaded gets none.
The other tenants are published.
"""

import time
from datetime import UTC, datetime

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

from assets.freshness import Freshness, tenant_freshness, when
from assets.marts import marts
from assets.project import WAREHOUSE_POOL
from assets.quality import Verdict, verdict
from assets.retention import RETENTION_PURGE
from assets.retries import retry_only_transient
from assets.serving import Publish, benchmark_file, publish_file, tenant_file
from assets.tenants import TenantsResource

# A run tag: the run changed tenants' data on purpose (an erasure, a retention purge), so their
# files must follow even where the last load failed; its value says what was done.
REPUBLISH_TAG = "deskpulse/republish"
TENANT_MARTS = [mart for mart in marts() if mart.per_tenant]
BENCHMARK_MARTS = [mart for mart in marts() if not mart.per_tenant]
SERVING_TENANTS = dg.AssetKey(["serving", "tenant_files"])
SERVING_BENCHMARK = dg.AssetKey(["serving", "benchmark_file"])


def blocked(errors: list[str], what: str) -> dg.Failure:
    return dg.Failure(description=f"{what} not published, ERROR checks failed or not run: "
                                  f"{', '.join(errors)}", allow_retries=False)


def publish_metadata(publishes: list[Publish], checks: list[Verdict], started: float,
                     kept: dict[str, str] | None = None) -> dict[str, object]:
    warnings = [warning for verdict_ in checks for warning in verdict_.warnings]
    return {
        **({"not_published": "\n".join(f"{tenant_id}: {why}" for tenant_id, why in kept.items())}
           if kept else {}),
        "files": "\n".join(str(p.path) for p in publishes),
        "rows": {p.path.stem: sum(p.rows.values()) for p in publishes},
        "publish_ids": ", ".join(p.publish_id for p in publishes),
        "duration_s": round(time.monotonic() - started, 2),
        "checks_passed": sum(verdict_.passed for verdict_ in checks),
        "check_warnings": ", ".join(warnings) or "none",
    }


@dg.asset(key=SERVING_TENANTS, deps=[*(m.key for m in TENANT_MARTS), RETENTION_PURGE],
          pool=WAREHOUSE_POOL, group_name="serving", kinds={"duckdb"},
          description="serving/tenants/<tenant>.duckdb: each tenant's rows of every per-tenant mart.")
def tenant_files(context: dg.AssetExecutionContext, tenants: TenantsResource,
                 asset_graph: dg.ResourceParam[BaseAssetGraph]) -> dg.MaterializeResult:
    started, configured = time.monotonic(), tenants.load()
    shared, per_tenant = verdict(context.instance, asset_graph, [m.key for m in TENANT_MARTS],
                                 [t.id for t in configured])
    if shared.errors:
        raise blocked(shared.errors, "no tenant file")
    freshness = {t.id: tenant_freshness(context.instance, t.id) for t in configured}
    kept = left_alone(freshness, context.run.tags.get(REPUBLISH_TAG))
    publishable = [t.id for t in configured if not per_tenant[t.id].errors and t.id not in kept]
    with retry_only_transient():
        published = [publish_file(tenant_file(tenant_id), [m.name for m in TENANT_MARTS], context.run.run_id,
                                  tenant_id, loaded_at(freshness[tenant_id])) for tenant_id in publishable]
    refused = [error for result in per_tenant.values() for error in result.errors]
    if refused:
        raise blocked(refused, "these tenants' files (the others were published)")
    return dg.MaterializeResult(metadata=publish_metadata(published, [shared, *per_tenant.values()], started,
                                                          kept))


def left_alone(freshness: dict[str, Freshness], republish: str | None) -> dict[str, str]:
    """The tenants whose files this publish leaves as they are, and why: one that never loaded has
    nothing to publish; a stale one (its last load failed) keeps its file, publish id and time,
    unless the run changed its data on purpose (``REPUBLISH_TAG``: an erasure, a purge)."""
    kept = {}
    for tenant_id, fresh in freshness.items():
        if fresh.loaded_at is None:
            kept[tenant_id] = "never loaded"
        elif fresh.stale and not republish:
            kept[tenant_id] = f"stale since {when(fresh.loaded_at)}, last load failed: {fresh.failure}"
    return kept


def loaded_at(fresh: Freshness) -> datetime | None:
    return datetime.fromtimestamp(fresh.loaded_at, UTC) if fresh.loaded_at is not None else None


@dg.asset(key=SERVING_BENCHMARK, deps=[*(m.key for m in BENCHMARK_MARTS), RETENTION_PURGE],
          pool=WAREHOUSE_POOL, group_name="serving", kinds={"duckdb"},
          description="serving/benchmark.duckdb: the cross-tenant marts (no tenant_id column).")
def benchmark_file_asset(context: dg.AssetExecutionContext, tenants: TenantsResource,
                         asset_graph: dg.ResourceParam[BaseAssetGraph]) -> dg.MaterializeResult:
    started, tenant_ids = time.monotonic(), [t.id for t in tenants.load()]
    shared, per_tenant = verdict(context.instance, asset_graph, [m.key for m in BENCHMARK_MARTS], tenant_ids)
    errors = [error for result in [shared, *per_tenant.values()] for error in result.errors]
    if errors:
        raise blocked(errors, "benchmark")
    with retry_only_transient():
        publish = publish_file(benchmark_file(), [m.name for m in BENCHMARK_MARTS], context.run.run_id)
    return dg.MaterializeResult(metadata=publish_metadata([publish], [shared, *per_tenant.values()], started))


publish_assets = [tenant_files, benchmark_file_asset]
