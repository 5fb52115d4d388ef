"""Transform: the dbt project as Dagster assets, with dbt tests as asset checks.

The tenant list reaches dbt as the ``tenants`` var, so staging unions exactly the configured
tenants' raw schemas.
"""

import json
import os

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from assets.project import DBT_PROJECT, WAREHOUSE_POOL
from assets.tenants import TenantsResource
from pipelines.config import TenantConfig
from pipelines.home import warehouse_path


class LayeredTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts, seeds) for a readable graph."""

    def get_group_name(self, dbt_resource_props: dict) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


def dbt_vars(tenants: list[TenantConfig]) -> str:
    return json.dumps({"tenants": {t.id: t.platform for t in tenants}})


@dbt_assets(manifest=DBT_PROJECT.manifest_path, dagster_dbt_translator=LayeredTranslator(),
            pool=WAREHOUSE_POOL)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, tenants: TenantsResource):
    os.environ["DESKPULSE_WAREHOUSE"] = str(warehouse_path())  # the dbt subprocess inherits it
    yield from dbt.cli(["build", "--vars", dbt_vars(tenants.load())], context=context).stream()


transform_job = dg.define_asset_job(
    "transform",
    selection=dg.AssetSelection.assets(dbt_models),
    description="Build and test every dbt model for all configured tenants.",
)
