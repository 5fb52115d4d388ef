"""Transform: the dbt project as Dagster assets, with dbt tests as asset checks.

The tenant list reaches dbt as the ``tenants`` var, so staging unions exactly the configured
tenants' raw schemas. The marts themselves are discovered from the manifest (``assets.marts``).
"""

import json
import os
from collections.abc import Iterator

import dagster as dg
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from assets.check_names import readable_manifest
from assets.marts import manifest, models
from assets.project import WAREHOUSE_POOL, run_target
from assets.quality import published_together, unsettled_marts
from assets.recovery import record_dbt_process
from assets.retries import one_line, retry_only_transient
from assets.tenants import TenantsResource
from assets.warehouse import row_counts
from pipelines.build_plan import DATA_BUILD_ARGS, BuildPlan, plan_build, record_build
from pipelines.ingest import stop
from pipelines.ingest.config import TenantConfig
from pipelines.ingest.home import warehouse_path
from pipelines.privacy.retention import purged_before

OUT_OF_MEMORY = "Out of Memory Error"  # how DuckDB's message starts, also inside dbt's
MEMORY_LIMIT_VARIABLE = "DESKPULSE_DBT_MEMORY_LIMIT"  # read by dbt_project/profiles.yml
DEFAULT_MEMORY_LIMIT = "512MB"  # the profile's default


class LayeredTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts, seeds) for a readable graph."""

    def get_group_name(self, dbt_resource_props: dict) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else super().get_group_name(dbt_resource_props)


def dbt_vars(tenants: list[TenantConfig]) -> dict:
    """The tenants to build, and where retention purged their raw data (aggregates before stay)."""
    return {"tenants": {t.id: t.platform for t in tenants},
            "purged_before": purged_before([t.id for t in tenants])}


def memory_advice(failure: BaseException) -> str:
    """What an operator does when dbt's DuckDB ran out of its bound: a query's join hash tables
    must fit in it (they do not spill), and the client's data outgrew it. Then dbt's own words."""
    bound = os.environ.get(MEMORY_LIMIT_VARIABLE) or f"{DEFAULT_MEMORY_LIMIT}, the default"
    return (f"dbt ran out of DuckDB's memory bound ({MEMORY_LIMIT_VARIABLE}: {bound}); the joins of "
            f"one of its queries need more for this data: set {MEMORY_LIMIT_VARIABLE} larger (say, twice "
            f"that) and run again. dbt said: {one_line(failure)}")


def build_plan(context: dg.AssetExecutionContext, graph: BaseAssetGraph,
               build_vars: dict) -> BuildPlan | None:
    """The plan of a build of the whole project (``pipelines.build_plan``), the marts whose checks
    have not passed or which were not published since their last build included, and every mart
    a serving file reads beside a mart that builds; a run that selects some models builds those,
    as asked, and leaves the record of the last whole build alone."""
    if not set(context.assets_def.keys) <= set(context.selected_asset_keys):
        return None
    plan = plan_build(warehouse_path(), manifest(), build_vars,
                      unsettled=unsettled_marts(context.instance, graph),
                      together=published_together(graph))
    context.log.info(f"Build plan: {plan.reason}")
    return plan


def with_row_counts(context: dg.AssetExecutionContext, events: list) -> Iterator:
    """The build's events, each table's materialisation carrying its rows and the change since the
    previous build. Counted once dbt has finished: DuckDB admits no reader while dbt writes."""
    tables: dict[str, list[str]] = {}
    for node in models():
        if node["config"].get("materialized") != "view":
            tables.setdefault(node["config"].get("schema"), []).append(node["name"])
    counts = {(schema, table): rows for schema, names in tables.items()
              for table, rows in row_counts(schema, names).items()}
    for event in events:
        key = context.asset_key_for_output(event.output_name) if isinstance(event, dg.Output) else None
        rows = counts.get(tuple(key.path)) if key else None
        if rows is None:
            yield event
            continue
        yield event.with_metadata({**event.metadata, "dagster/row_count": rows,
                                   **_row_change(context, key, rows)})


def _row_change(context: dg.AssetExecutionContext, key: dg.AssetKey, rows: int) -> dict[str, int]:
    previous = context.instance.get_latest_materialization_event(key)
    before = previous and previous.asset_materialization.metadata.get("dagster/row_count")
    return {"row_count_change": rows - before.value} if before else {}


@dbt_assets(manifest=readable_manifest(manifest()), dagster_dbt_translator=LayeredTranslator(),
            pool=WAREHOUSE_POOL)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, tenants: TenantsResource,
               asset_graph: dg.ResourceParam[BaseAssetGraph]):
    os.environ["DESKPULSE_WAREHOUSE"] = str(warehouse_path())  # the dbt subprocess inherits it
    build_vars = dbt_vars(tenants.load())
    plan = build_plan(context, asset_graph, build_vars)
    if plan and plan.idle:
        record_build(warehouse_path(), plan)
        return
    with retry_only_transient():
        invocation = dbt.cli(["build", "--vars", json.dumps(build_vars), *DATA_BUILD_ARGS,
                              *(plan.args() if plan else [])], context=context,
                             target_path=run_target())  # not the checkout's target/
        record_dbt_process(context.instance, context.run.run_id, invocation.process.pid)
        events, failure = [], None
        try:
            with stop.terminating(invocation.process):  # a stop request interrupts the build
                events.extend(invocation.stream())
        except Exception as error:
            failure = error
        if invocation.process.poll() is None:  # never leave dbt holding the warehouse
            invocation.process.terminate()
            invocation.process.wait()
        if failure is not None:
            yield from events  # what was built and tested before the failure, then the failure
            if OUT_OF_MEMORY in str(failure):
                raise dg.Failure(description=memory_advice(failure), allow_retries=False) from failure
            raise failure
        if plan:
            record_build(warehouse_path(), plan)
        yield from with_row_counts(context, events)
