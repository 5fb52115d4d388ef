"""Build and run one tenant's dlt pipeline: its platform's source into the tenant's raw schema.

The one place that turns a TenantConfig into a dlt pipeline, so the CLI, Dagster and the tests
load the same way (parquet files into the DuckDB warehouse under DESKPULSE_HOME).
"""

from __future__ import annotations

import logging

import dlt
from dlt.common.pipeline import LoadInfo

from pipelines import home
from pipelines.config import TenantConfig
from pipelines.platforms import platform

logger = logging.getLogger(__name__)


def tenant_pipeline(tenant: TenantConfig) -> dlt.Pipeline:
    """The dlt pipeline of one tenant: its own name, state folder and warehouse schema."""
    return dlt.pipeline(
        pipeline_name=f"{tenant.platform}_{tenant.id}",
        destination=dlt.destinations.duckdb(str(home.warehouse_path())),
        dataset_name=home.raw_dataset(tenant.id),
        pipelines_dir=str(home.dlt_pipelines_dir()),
    )


def load_tenant(tenant: TenantConfig) -> LoadInfo:
    """Extract, normalise and load one tenant's data; parquet keeps time and memory low."""
    logger.info("tenant %s: loading %s into %s", tenant.id, tenant.platform, home.raw_dataset(tenant.id))
    info = tenant_pipeline(tenant).run(platform(tenant.platform).source(tenant), loader_file_format="parquet")
    logger.info("tenant %s: loaded packages %s", tenant.id, ", ".join(info.loads_ids))
    return info
