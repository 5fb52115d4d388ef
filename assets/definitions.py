"""The one ``Definitions`` of the code location: ``dagster dev -w workspace.yaml`` loads it."""

from __future__ import annotations

import dagster as dg
from dagster_dlt import DagsterDltResource

from assets.ingest import endpoint_specs, ingest_assets, ingest_job
from assets.project import dbt_cli
from assets.quality import gx_checks
from assets.schedules import daily_ingest, daily_transform, tenant_partitions_sensor
from assets.tenants import TenantsResource
from assets.transform import dbt_models, transform_job

defs = dg.Definitions(
    assets=[*endpoint_specs, *ingest_assets, dbt_models],
    asset_checks=gx_checks,
    jobs=[ingest_job, transform_job],
    schedules=[daily_ingest, daily_transform],
    sensors=[tenant_partitions_sensor],
    resources={
        "dlt": DagsterDltResource(),
        "dbt": dbt_cli(),
        "tenants": TenantsResource(),
    },
)
