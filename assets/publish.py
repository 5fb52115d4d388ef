"""Publish: the audited marts copied to the serving files BI tools read (write-audit-publish).

Write and audit happen upstream: dbt builds the marts, dbt tests and GX suites check them, and the
blocking checks stop this step in the same run. The step then asks ``quality.verdict`` for the
latest outcome of every check upstream of what it publishes, so it can also run on its own (the
``publish`` job) and still never publishes data that failed an ERROR check. A tenant whose raw
data failed keeps its previous serving file; the other tenants are published.
"""

import time

import dagster as dg

from assets.project import WAREHOUSE_POOL
from assets.quality import Verdict, verdict
from assets.retention import RETENTION_PURGE
from assets.retries import retry_only_transient
from assets.serving import Publish, benchmark_file, publish_file, tenant_file
from assets.tenants import TenantsResource
from assets.transform import marts

TENANT_MARTS = [mart for mart in marts() if mart.per_tenant]
BENCHMARK_MARTS = [mart for mart in marts() if not mart.per_tenant]
SERVING_TENANTS = dg.AssetKey(["serving", "tenant_files"])
SERVING_BENCHMARK = dg.AssetKey(["serving", "benchmark_file"])


def blocked(errors: list[str], what: str) -> dg.Failure:
    return dg.Failure(description=f"{what} not published, ERROR checks failed or not run: "
                                  f"{', '.join(errors)}", allow_retries=False)


def publish_metadata(publishes: list[Publish], checks: list[Verdict], started: float) -> dict[str, object]:
    warnings = [warning for verdict_ in checks for warning in verdict_.warnings]
    return {
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
def tenant_files(context: dg.AssetExecutionContext, tenants: TenantsResource) -> dg.MaterializeResult:
    started, configured = time.monotonic(), tenants.load()
    shared, per_tenant = verdict(context.instance, [m.key for m in TENANT_MARTS], [t.id for t in configured])
    if shared.errors:
        raise blocked(shared.errors, "no tenant file")
    publishable = [t.id for t in configured if not per_tenant[t.id].errors]
    with retry_only_transient():
        published = [publish_file(tenant_file(tenant_id), [m.name for m in TENANT_MARTS], context.run.run_id,
                                  tenant_id) for tenant_id in publishable]
    refused = [error for result in per_tenant.values() for error in result.errors]
    if refused:
        raise blocked(refused, "these tenants' files (the others were published)")
    return dg.MaterializeResult(metadata=publish_metadata(published, [shared, *per_tenant.values()], started))


@dg.asset(key=SERVING_BENCHMARK, deps=[*(m.key for m in BENCHMARK_MARTS), RETENTION_PURGE],
          pool=WAREHOUSE_POOL, group_name="serving", kinds={"duckdb"},
          description="serving/benchmark.duckdb: the cross-tenant marts (no tenant_id column).")
def benchmark_file_asset(context: dg.AssetExecutionContext, tenants: TenantsResource) -> dg.MaterializeResult:
    started, tenant_ids = time.monotonic(), [t.id for t in tenants.load()]
    shared, per_tenant = verdict(context.instance, [m.key for m in BENCHMARK_MARTS], tenant_ids)
    errors = [error for result in [shared, *per_tenant.values()] for error in result.errors]
    if errors:
        raise blocked(errors, "benchmark")
    with retry_only_transient():
        publish = publish_file(benchmark_file(), [m.name for m in BENCHMARK_MARTS], context.run.run_id)
    return dg.MaterializeResult(metadata=publish_metadata([publish], [shared, *per_tenant.values()], started))


publish_assets = [tenant_files, benchmark_file_asset]
