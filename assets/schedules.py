"""Schedules and sensors: when the graph runs, and how the tenant partitions follow the tenant file."""

import dagster as dg

from assets.ingest import ingest_job
from assets.tenants import TenantsResource, sync_tenant_partitions, tenant_partitions
from assets.transform import transform_job


@dg.schedule(job=ingest_job, cron_schedule="0 2 * * *", execution_timezone="UTC")
def daily_ingest(context: dg.ScheduleEvaluationContext):
    """Every night, one incremental load per tenant."""
    for tenant_id in context.instance.get_dynamic_partitions(tenant_partitions.name):
        yield dg.RunRequest(run_key=f"{tenant_id}-{context.scheduled_execution_time:%Y%m%d}",
                            partition_key=tenant_id)


daily_transform = dg.ScheduleDefinition(
    name="daily_transform", job=transform_job, cron_schedule="0 4 * * *", execution_timezone="UTC"
)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def tenant_partitions_sensor(context: dg.SensorEvaluationContext, tenants: TenantsResource):
    """Keep one partition per tenant of the tenant file."""
    added, removed = sync_tenant_partitions(context.instance, tenants.load())
    return dg.SkipReason(f"tenants added: {added or 'none'}, removed: {removed or 'none'}")
