"""Ingest: one set of dlt assets per helpdesk platform, partitioned by tenant.

Asset keys are ``<platform>/<table>``, the keys the dbt sources use, and each hangs off an
``<platform>/api/<table>`` endpoint spec, so lineage reads from the API to the marts without a gap.
"""

import dagster as dg
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from assets.project import WAREHOUSE_POOL
from assets.tenants import TenantsResource, tenant_partitions
from pipelines.config import Credentials, TenantConfig
from pipelines.load import tenant_pipeline
from pipelines.platforms import PLATFORMS


def endpoint_key(platform: str, path: str) -> dg.AssetKey:
    """``zendesk/api/incremental_tickets_cursor`` for ``/api/v2/incremental/tickets/cursor.json``."""
    slug = path.removeprefix("/api/v2/").removesuffix(".json").replace("{", "").replace("}", "")
    return dg.AssetKey([platform, "api", slug.replace("/", "_")])


class RawTableTranslator(DagsterDltTranslator):
    """``zendesk/tickets`` for the table, fed by the API endpoint it is extracted from."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        platform, table = data.resource.source_name, data.resource.name
        path = PLATFORMS[platform].endpoints.get(table)
        return super().get_asset_spec(data).replace_attributes(
            key=dg.AssetKey([platform, table]),
            deps=[endpoint_key(platform, path)] if path else [],
            group_name=f"{platform}_raw",
            description=f"Raw {platform} {table}, pseudonymised, one schema per tenant (raw_<tenant>).",
        )


def _definition_tenant(platform: str) -> TenantConfig:
    """A stand-in tenant to shape the assets at load time; runs use the partition's tenant."""
    return TenantConfig(
        id="definitions", platform=platform, base_url="http://127.0.0.1:1",
        credentials=Credentials("UNUSED", "UNUSED"), secret_env="UNUSED",
    )


def platform_assets(platform: str) -> tuple[dg.AssetsDefinition, list[dg.AssetSpec]]:
    """The partitioned dlt assets of one platform and the API endpoint specs they read."""
    source = PLATFORMS[platform].source
    stand_in = _definition_tenant(platform)

    @dlt_assets(
        dlt_source=source(stand_in),
        dlt_pipeline=tenant_pipeline(stand_in),
        name=f"{platform}_ingest",
        dagster_dlt_translator=RawTableTranslator(),
        partitions_def=tenant_partitions,
        pool=WAREHOUSE_POOL,
    )
    def ingest(context: dg.AssetExecutionContext, dlt: DagsterDltResource, tenants: TenantsResource):
        tenant = tenants.get(context.partition_key)
        if tenant.platform != platform:
            raise dg.Failure(f"tenant {tenant.id!r} is on {tenant.platform}, not {platform}")
        yield from dlt.run(
            context=context,
            dlt_source=source(tenant),
            dlt_pipeline=tenant_pipeline(tenant),
            loader_file_format="parquet",
        )

    endpoints = [
        dg.AssetSpec(
            endpoint_key(platform, path),
            description=f"{platform} API: GET {path}",
            group_name=f"{platform}_api",
            kinds={platform},
        )
        for path in sorted(set(PLATFORMS[platform].endpoints.values()))
    ]
    return ingest, endpoints


ingest_assets, endpoint_specs = [], []
for _platform in PLATFORMS:
    _assets, _endpoints = platform_assets(_platform)
    ingest_assets.append(_assets)
    endpoint_specs.extend(_endpoints)

ingest_job = dg.define_asset_job(
    "ingest",
    selection=dg.AssetSelection.assets(*ingest_assets),
    description="Extract and load one tenant's helpdesk data into its raw schema.",
)
