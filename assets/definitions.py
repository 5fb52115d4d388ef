"""The one ``Definitions`` of the code location: ``dagster dev -w workspace.yaml`` loads it.

Runs execute in one process: the warehouse pool lets one step at a time touch DuckDB anyway, so a
process per step would only add start-up time.
"""

from __future__ import annotations

import dagster as dg
from dagster_dlt import DagsterDltResource

from assets.alerts import AlertWebhook, alert_on_run_failure
from assets.ingest import ingest_assets, ingest_specs
from assets.jobs import jobs
from assets.project import dbt_cli
from assets.publish import publish_assets
from assets.quality import freshness_checks, mart_gx_checks, raw_gx_checks
from assets.retention import retention_purge
from assets.schedules import schedules, sensors
from assets.tenants import TenantsResource
from assets.transform import dbt_models
from pipelines.ingest.file_modes import make_private

make_private()  # the code location's entry: what its runs write under DESKPULSE_HOME is 0600/0700

defs = dg.Definitions(
    assets=[*ingest_specs, *ingest_assets, dbt_models, retention_purge, *publish_assets],
    asset_checks=[*raw_gx_checks, *mart_gx_checks, *freshness_checks],
    jobs=jobs,
    schedules=schedules,
    sensors=[*sensors, alert_on_run_failure],
    executor=dg.in_process_executor,
    resources={
        "dlt": DagsterDltResource(),
        "dbt": dbt_cli(),
        "tenants": TenantsResource(),
        "alert_webhook": AlertWebhook(),
        # the whole graph, for the steps that judge checks upstream of what they build
        "asset_graph": dg.ResourceDefinition(lambda _: defs.resolve_asset_graph()),
    },
)
