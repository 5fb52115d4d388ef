"""The jobs schedules, sensors and the CLI launch: ingest, marts, publish and retention.

Every job retries transient step failures with backoff (``retries.TRANSIENT_RETRY``); freshness
checks stay out of jobs, their own sensor runs them.
"""

from __future__ import annotations

import dagster as dg

from assets.ingest import ingest_assets
from assets.publish import REPUBLISH_TAG, publish_assets
from assets.quality import freshness_check_keys, mart_gx_checks
from assets.retention import retention_purge
from assets.retries import TRANSIENT_RETRY
from assets.transform import dbt_models

FRESHNESS = dg.AssetSelection.checks(*freshness_check_keys)

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.assets(*ingest_assets) - FRESHNESS,
    op_retry_policy=TRANSIENT_RETRY,
    description="Load one tenant (the partition) into its raw schema and check it; configure "
                "ops.<platform>_ingest.config.start/end to backfill a date range.",
)

marts_job = dg.define_asset_job(
    "marts",
    selection=dg.AssetSelection.assets(dbt_models, *publish_assets) - FRESHNESS,
    op_retry_policy=TRANSIENT_RETRY,
    description="Build and test every dbt model for all tenants, run the GX suites of the marts, "
                "then publish the serving files if no ERROR check failed.",
)

publish_job = dg.define_asset_job(
    "publish",
    selection=dg.AssetSelection.checks(*mart_gx_checks) | dg.AssetSelection.assets(*publish_assets),
    op_retry_policy=TRANSIENT_RETRY,
    description="Re-audit the marts as built (GX suites) and publish the serving files again.",
)

retention_job = dg.define_asset_job(
    "retention",
    selection=dg.AssetSelection.assets(retention_purge, *publish_assets) - FRESHNESS,
    op_retry_policy=TRANSIENT_RETRY,
    tags={REPUBLISH_TAG: "retention purge"},  # purged rows leave every file, stale ones too
    description="Purge each tenant's raw event data past its retention_days, then publish the serving "
                "files again without it.",
)

jobs = [ingest_job, marts_job, publish_job, retention_job]
