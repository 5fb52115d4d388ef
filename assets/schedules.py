"""Schedules and sensors: when the graph runs, and how it reacts to tenants, new data and failure.

Hourly incremental ingestion per tenant, a daily marts build and publish, a weekly retention purge;
sensors keep the tenant partitions in step with the tenant file, build the marts once new raw
data has landed and no ingest run is still going, and run the freshness checks. The run-failure
alert sensor lives in ``alerts.py``.
"""

import dagster as dg

from assets.automation import automation_on
from assets.ingest import raw_keys
from assets.jobs import ingest_job, marts_job, retention_job
from assets.quality import freshness_sensor
from assets.tenants import TenantsResource, partition_changes, tenant_partitions

# what starts runs by itself is off unless DESKPULSE_AUTOMATION=on (assets/automation.py); the
# sensors that only keep partitions in step and judge freshness always run
AUTOMATED = dg.DefaultScheduleStatus.RUNNING if automation_on() else dg.DefaultScheduleStatus.STOPPED
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]


@dg.schedule(job=ingest_job, cron_schedule="5 * * * *", execution_timezone="UTC", default_status=AUTOMATED)
def hourly_ingest(context: dg.ScheduleEvaluationContext):
    """Every hour, one incremental load per tenant partition."""
    for tenant_id in context.instance.get_dynamic_partitions(tenant_partitions.name):
        yield dg.RunRequest(run_key=f"{tenant_id}-{context.scheduled_execution_time:%Y%m%d%H%M}",
                            partition_key=tenant_id)


daily_marts = dg.ScheduleDefinition(
    name="daily_marts", job=marts_job, cron_schedule="0 4 * * *", execution_timezone="UTC",
    default_status=AUTOMATED, description="Every night: build, check and publish all marts.",
)

weekly_retention = dg.ScheduleDefinition(
    name="weekly_retention", job=retention_job, cron_schedule="0 3 * * 0", execution_timezone="UTC",
    default_status=AUTOMATED, description="Sundays: enforce each tenant's retention_days.",
)


@dg.sensor(minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def tenant_partitions_sensor(context: dg.SensorEvaluationContext, tenants: TenantsResource):
    """Keep one partition per tenant of the tenant file."""
    added, removed = partition_changes(context.instance, tenants.load())
    if not added and not removed:
        return dg.SkipReason("tenant partitions match the tenant file")
    return dg.SensorResult(dynamic_partitions_requests=[
        tenant_partitions.build_add_request(added), tenant_partitions.build_delete_request(removed)
    ])


@dg.sensor(job=marts_job, minimum_interval_seconds=60,
           default_status=dg.DefaultSensorStatus(AUTOMATED.value))
def marts_on_new_raw_data(context: dg.SensorEvaluationContext):
    """Build the marts when raw data landed since the last request and no ingest run is going,
    so one build follows a batch of tenant loads. The cursor is the newest raw materialisation."""
    after = int(context.cursor or 0)
    newest = max((record.storage_id
                  for key in raw_keys
                  for record in context.instance.fetch_materializations(
                      dg.AssetRecordsFilter(asset_key=key, after_storage_id=after), limit=1).records),
                 default=after)
    if newest == after:
        return dg.SkipReason("no new raw data")
    if context.instance.get_run_records(dg.RunsFilter(job_name=ingest_job.name, statuses=IN_FLIGHT), limit=1):
        return dg.SkipReason("new raw data; waiting for the ingest runs in flight")
    context.update_cursor(str(newest))
    return dg.RunRequest(run_key=f"raw-{newest}")


schedules = [hourly_ingest, daily_marts, weekly_retention]
sensors = [tenant_partitions_sensor, marts_on_new_raw_data, freshness_sensor]
