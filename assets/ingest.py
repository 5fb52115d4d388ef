"""Ingest: one set of dlt assets per helpdesk platform, partitioned by tenant.

Asset keys are ``<platform>/<table>``, the keys the dbt sources use, and each hangs off an
``<platform>/api/<table>`` endpoint spec, so lineage reads from the API to the marts without a gap.
A run is the usual incremental load, or, with ``IngestWindow`` configured, a backfill of what
changed in a date range, which the source reads without moving its incremental state.
"""

import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import dlt
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from assets.project import WAREHOUSE_POOL
from assets.retries import retry_only_transient
from assets.tenants import TenantsResource, tenant_partitions
from pipelines.ingest.config import Credentials, TenantConfig
from pipelines.ingest.memory import few_collections
from pipelines.ingest.report import IngestReport
from pipelines.ingest.window import DateRange
from pipelines.load import drop_loaded_packages, repairing_resumed_loads, tenant_pipeline
from pipelines.platforms import PLATFORMS
from pipelines.sources.zendesk.tables import QUARANTINE


class IngestWindow(dg.Config):
    """Leave both empty for the usual incremental run; give both, ISO dates, to backfill what
    changed in [start, end). Launchpad: ops.<platform>_ingest.config.start / .end."""

    start: str | None = None
    end: str | None = None

    def date_range(self) -> DateRange | None:
        """The window in UTC, or None for an incremental run; bad input fails without retries."""
        if self.start is None and self.end is None:
            return None
        try:
            start, end = (datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
                          for value in (self.start or "", self.end or ""))
            return DateRange(start, end)
        except ValueError:
            raise dg.Failure(f"ingest window: start {self.start!r} and end {self.end!r} must be ISO "
                             "dates with start before end, e.g. 2024-01-01 and 2024-02-01",
                             allow_retries=False) from None


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


# dlt wipes and re-creates the folder of a pipeline that never ran each time it opens it, so the
# stand-in's folder is this process's own: two processes loading the definitions at once (two
# ingest runs) would otherwise race on it
_STAND_IN_PIPELINES = tempfile.TemporaryDirectory(prefix="deskpulse-definitions-")


def _definition_tenant(platform: str) -> TenantConfig:
    """A stand-in tenant to shape the assets at load time; runs use the partition's tenant."""
    return TenantConfig(
        id="definitions", platform=platform, base_url="http://127.0.0.1:1",
        credentials=Credentials("UNUSED", "UNUSED"), secret_env="UNUSED",
    )


def table_rows(pipeline: dlt.Pipeline, load_ids: list[str]) -> dict[str, tuple[int, int | None]]:
    """Per data table of the pipeline's raw schema: rows now, and rows these loads wrote (merges
    rewrite a changed row with the new load id; None where rows carry no load id)."""
    with pipeline.sql_client() as client:
        columns = client.execute_sql(
            "select table_name, column_name from information_schema.columns where table_schema = %s",
            pipeline.dataset_name)
        stamped = {table for table, column in columns if column == "_dlt_load_id"}
        loads = ", ".join(f"'{load_id}'" for load_id in load_ids) or "null"
        counts = {}
        for table in sorted({table for table, _ in columns if not table.startswith("_dlt")}):
            written = f"count(*) filter (where _dlt_load_id in ({loads}))" if table in stamped else "null"
            counts[table] = tuple(client.execute_sql(
                f"select count(*), {written} from {client.make_qualified_table_name(table)}")[0])
        return counts


def quarantined_now(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Per raw table, the records its tenant's quarantine holds now (not loaded cleanly since)."""
    with pipeline.sql_client() as client:
        if not client.execute_sql("select 1 from information_schema.tables where table_schema = %s"
                                  " and table_name = %s", pipeline.dataset_name, QUARANTINE):
            return {}
        return dict(client.execute_sql(f"select table_name, count(*) from "
                                       f"{client.make_qualified_table_name(QUARANTINE)} group by 1"))


def with_load_metadata(events: Iterator, pipeline: dlt.Pipeline,
                       report: IngestReport) -> Iterator[dg.MaterializeResult]:
    """dagster-dlt's results plus what an operator asks first: the dlt load id, rows new or changed
    in this load (else the rows dlt loaded), rows in the tenant's table now, and the load's time;
    how the records read were accounted for (loaded + quarantined + suppressed), what the tenant's
    quarantine holds for the table now, and, for a table whose endpoint the account does not offer,
    why it was skipped."""
    counts: dict[str, tuple[int, int | None]] | None = None
    held: dict[str, int] | None = None
    for event in events:
        trace = pipeline.last_trace
        load_ids = trace.last_load_info.loads_ids
        counts = counts if counts is not None else table_rows(pipeline, load_ids)
        held = held if held is not None else quarantined_now(pipeline)
        table = event.asset_key.path[-1]
        rows, changed = counts.get(table, (0, None))
        loaded = event.metadata.get("rows_loaded")
        read = report.tables.get(table)
        endpoint = report.skipped_tables.get(table)
        yield event._replace(metadata={
            **event.metadata,
            "dagster/partition_row_count": rows,
            "new_or_changed_rows": changed if changed is not None else loaded.value if loaded else 0,
            "dlt_load_id": ", ".join(load_ids) or "none",
            "duration_s": round((trace.finished_at - trace.started_at).total_seconds(), 2),
            **({"records_read": read.read, "records_loaded": read.loaded,
                "records_quarantined": read.quarantined, "records_suppressed": read.suppressed}
               if read else {}),
            "quarantined_now": held.get(table, 0),
            **({"skipped": str(report.skipped[endpoint])} if endpoint else {}),
        })


def platform_assets(platform: str) -> tuple[dg.AssetsDefinition, list[dg.AssetSpec]]:
    """The partitioned dlt assets of one platform, and specs for the API endpoints they read and the
    quarantine table they write beside the raw tables."""
    stand_in = _definition_tenant(platform)

    @dlt_assets(
        dlt_source=PLATFORMS[platform].source(stand_in),
        dlt_pipeline=tenant_pipeline(stand_in, Path(_STAND_IN_PIPELINES.name)),
        name=f"{platform}_ingest",
        dagster_dlt_translator=RawTableTranslator(),
        partitions_def=tenant_partitions,
        pool=WAREHOUSE_POOL,
    )
    def ingest(context: dg.AssetExecutionContext, config: IngestWindow, dlt: DagsterDltResource,
               tenants: TenantsResource):
        tenant = tenants.get(context.partition_key)
        if tenant.platform != platform:
            raise dg.Failure(f"tenant {tenant.id!r} is on {tenant.platform}, not {platform}",
                             allow_retries=False)
        report = IngestReport(tenant.id)
        source = PLATFORMS[platform].source(tenant, config.date_range(), report)
        pipeline = tenant_pipeline(tenant)
        tables = PLATFORMS[platform].tables  # the same load as pipelines.load.load_tenant
        with retry_only_transient(), few_collections(), repairing_resumed_loads(pipeline, tables):
            events = dlt.run(context=context, dlt_source=source, dlt_pipeline=pipeline,
                             loader_file_format="parquet")
            yield from with_load_metadata(events, pipeline, report)
        drop_loaded_packages(Path(pipeline.working_dir))
        for line in report.skip_lines():
            context.log.warning(line)
        for line in report.count_lines():
            context.log.info(line)

    endpoints = [
        dg.AssetSpec(
            endpoint_key(platform, path),
            description=f"{platform} API: GET {path}",
            group_name=f"{platform}_api",
            kinds={platform},
        )
        for path in sorted(set(PLATFORMS[platform].endpoints.values()))
    ]
    quarantine = dg.AssetSpec(
        dg.AssetKey([platform, QUARANTINE]),
        deps=[spec.key for spec in endpoints],
        description=f"Records of any {platform} endpoint that could not be typed or held an implausible "
                    "value, with the reason and a keyed fingerprint instead of the record, until a version "
                    f"loads cleanly; written by {platform}_ingest beside the raw tables (counts per table: "
                    "the raw tables' quarantined_now metadata).",
        group_name=f"{platform}_raw",
        kinds={"duckdb"},
    )
    return ingest, [*endpoints, quarantine]


ingest_assets, ingest_specs = [], []  # specs: API endpoints and quarantine tables
for _platform in PLATFORMS:
    _assets, _endpoints = platform_assets(_platform)
    ingest_assets.append(_assets)
    ingest_specs.extend(_endpoints)

raw_keys: list[dg.AssetKey] = [key for assets_def in ingest_assets for key in assets_def.keys]
