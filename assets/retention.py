"""The weekly retention slot: a job and its schedule, wired now; the work comes with the privacy issue.

``apply_retention_placeholder`` deletes nothing yet. The privacy engineer replaces its body with
the per-tenant ``retention_days`` purge (raw event data older than that; marts keep aggregates).
"""

import dagster as dg

from assets.project import WAREHOUSE_POOL
from assets.retries import TRANSIENT_RETRY


@dg.op(pool=WAREHOUSE_POOL,
       description="PLACEHOLDER: will purge raw rows older than each tenant's retention_days.")
def apply_retention_placeholder(context: dg.OpExecutionContext) -> None:
    context.log.warning("retention is not implemented yet (privacy issue): nothing was deleted")


@dg.job(name="retention", op_retry_policy=TRANSIENT_RETRY,
        description="Weekly: enforce every tenant's retention_days (placeholder).")
def retention_job() -> None:
    apply_retention_placeholder()
