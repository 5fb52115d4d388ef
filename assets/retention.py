"""Retention: the weekly purge of each tenant's raw event data past its ``retention_days``.

The purge itself (``pipelines.privacy.retention.purge_tenant``) deletes whole tickets last active
before the cutoff, their events and ratings, and the row-level mart rows built from them; the
aggregate marts keep their older cells. The serving files depend on this asset, so the
``retention`` job purges, then publishes the marts again through the same audited step as a build.
"""

import time

import dagster as dg

from assets.project import WAREHOUSE_POOL
from assets.tenants import TenantsResource
from pipelines.privacy.retention import purge_tenant

RETENTION_PURGE = dg.AssetKey(["privacy", "retention_purge"])


@dg.asset(key=RETENTION_PURGE, pool=WAREHOUSE_POOL, group_name="privacy", kinds={"duckdb"},
          description="Deletes each tenant's raw event data (and the row-level marts built from it) "
                      "last active before its retention_days; aggregates stay.")
def retention_purge(context: dg.AssetExecutionContext, tenants: TenantsResource) -> dg.MaterializeResult:
    started, tickets, failed = time.monotonic(), {}, []
    for tenant in tenants.load():
        try:
            purge = purge_tenant(tenant)
        except Exception as error:  # one tenant's failure must not keep the others' data past retention
            context.log.error(f"tenant {tenant.id}: retention purge failed ({type(error).__name__}); "
                              "its data is unchanged")
            failed.append(tenant.id)
            continue
        for line in purge.lines():
            context.log.info(line)
        tickets[tenant.id] = purge.tickets
    if failed:
        raise dg.Failure(description=f"retention purge failed for tenant(s) {', '.join(failed)}; "
                                     "the others were purged")
    return dg.MaterializeResult(metadata={"tickets_purged": tickets,
                                          "duration_s": round(time.monotonic() - started, 2)})
