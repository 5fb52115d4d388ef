"""Build and run one tenant's dlt pipeline: its platform's source into the tenant's raw schema.

The one place that turns a TenantConfig into a dlt pipeline, so the CLI, Dagster, the benchmark
and the tests load the same way (parquet files into the DuckDB warehouse under DESKPULSE_HOME).
A regular load resumes every incremental resource from its state; a backfill loads a past date
range window by window, each window its own load, without moving that state. A load ends with its
rows in the warehouse file itself, not only in DuckDB's write-ahead log, and a load a crash left
unfinished holds no row twice once it is finished (``repairing_resumed_loads``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import dlt
import duckdb
from dlt.common.pipeline import LoadInfo
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

from pipelines.ingest import home
from pipelines.ingest.columns import RawTable
from pipelines.ingest.config import TenantConfig
from pipelines.ingest.memory import few_collections
from pipelines.ingest.report import IngestReport
from pipelines.ingest.window import BACKFILL_STEP, DateRange, date_ranges
from pipelines.platforms import platform

logger = logging.getLogger(__name__)

# DuckDB would take up to 80% of the machine's memory for a large merge; past this it spills to disk.
DUCKDB_SETTINGS = {"memory_limit": "512MB", "preserve_insertion_order": False}


# dlt's setting: every raw row carries the id of the load that wrote it (dlt leaves the column out
# of arrow tables by default), so the build plan tells a big table a load wrote to from one it
# left alone by the latest id among its rows (pipelines/build_plan.py)
ROW_LOAD_IDS = {"NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true"}


def tenant_pipeline(tenant: TenantConfig, pipelines_dir: Path | None = None) -> dlt.Pipeline:
    """The dlt pipeline of one tenant: its own name, state folder (under ``pipelines_dir``, by
    default deskpulse's) and warehouse schema. Its rows carry their load's id (``ROW_LOAD_IDS``,
    read by dlt when it extracts, in this process)."""
    os.environ.update(ROW_LOAD_IDS)
    return dlt.pipeline(
        pipeline_name=f"{tenant.platform}_{tenant.id}",
        destination=dlt.destinations.duckdb(
            DuckDbCredentials(str(home.warehouse_path()), global_config=DUCKDB_SETTINGS)),
        dataset_name=home.raw_dataset(tenant.id),
        pipelines_dir=str(pipelines_dir or home.dlt_pipelines_dir()),
    )


def load_tenant(tenant: TenantConfig, window: DateRange | None = None,
                report: IngestReport | None = None) -> LoadInfo:
    """Extract, normalise and load one tenant's data: everything new since the last load, or only
    what changed within ``window``. Parquet keeps time and memory low. A load left unfinished by a
    crash is completed first, then extraction resumes from the last committed state. ``report``
    (given by callers who want it) hears what was skipped and quarantined; it is logged too."""
    what = f"{window.start:%Y-%m-%d} to {window.end:%Y-%m-%d}" if window else "changes since the last load"
    logger.info("tenant %s: loading %s (%s) into %s", tenant.id, tenant.platform, what,
                home.raw_dataset(tenant.id))
    report = report or IngestReport(tenant.id)
    source = platform(tenant.platform).source(tenant, window, report)
    pipeline = tenant_pipeline(tenant)
    with few_collections(), repairing_resumed_loads(pipeline, platform(tenant.platform).tables):
        info = pipeline.run(source, loader_file_format="parquet")
    checkpoint(home.warehouse_path())
    drop_loaded_packages(Path(pipeline.working_dir))
    logger.info("tenant %s: loaded packages %s", tenant.id, ", ".join(info.loads_ids))
    for line in report.count_lines():
        logger.info("%s", line)
    return info


RESUMED_LOADS = "resumed_loads.json"  # in a pipeline's folder: loads whose rows may need repair


@contextlib.contextmanager
def repairing_resumed_loads(pipeline: dlt.Pipeline, tables: Sequence[RawTable]) -> Iterator[None]:
    """Around a pipeline's run: deduplicate the rows of loads the run finished for an earlier,
    interrupted one. dlt copies each file of a load into a staging table, and a crash between a
    copy's commit and dlt noting it makes the resumed load copy that file again; the tables dlt
    merges without deduplicating (``RawTable.deduplicated``) would then hold those rows twice.
    The loads are written down before the run, so a crash before the repair leaves it to the next
    run. A run with nothing left from a crash does nothing here."""
    marker = Path(pipeline.working_dir) / RESUMED_LOADS
    resumed = set(json.loads(marker.read_text())) if marker.exists() else set()
    resumed |= set(pipeline.list_normalized_load_packages())
    if resumed:
        written = marker.with_suffix(".tmp")
        written.write_text(json.dumps(sorted(resumed)))
        written.replace(marker)  # whole or not at all
    yield
    if resumed:
        deduplicate_loads(pipeline.dataset_name, [table for table in tables if table.deduplicated],
                          sorted(resumed))
        marker.unlink(missing_ok=True)  # dlt empties the folder when a first load never landed


def deduplicate_loads(dataset: str, tables: Sequence[RawTable], load_ids: Sequence[str]) -> None:
    """Keep one of the rows with the same primary key among the rows of ``load_ids`` (copies of
    one file: the same rows)."""
    with duckdb.connect(str(home.warehouse_path())) as con:
        known = {name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [dataset]).fetchall()}
        for table in (table for table in tables if table.name in known):
            qualified, keys = f'"{dataset}"."{table.name}"', ", ".join(table.primary_key)
            removed = con.execute(
                f"delete from {qualified} where rowid in (select rowid from ("
                f" select rowid, row_number() over (partition by {keys}) as copy from {qualified}"
                f" where _dlt_load_id in (select unnest(?::varchar[]))) where copy > 1)",
                [list(load_ids)]).fetchall()[0][0]
            if removed:
                logger.warning("%s.%s: removed %d row(s) a resumed load had copied twice",
                               dataset, table.name, removed)


def drop_loaded_packages(working_dir: Path) -> None:
    """Delete dlt's completed load packages: each keeps the parquet files of every row it loaded,
    a copy outside the warehouse that erasure and retention would otherwise have to chase. Run
    after each load, so a package a crash left behind goes with the next one."""
    loaded = working_dir / "load" / "loaded"
    for package in sorted(loaded.iterdir()) if loaded.exists() else []:
        shutil.rmtree(package)


def checkpoint(warehouse: Path) -> None:
    """Write what DuckDB's write-ahead log holds into the warehouse file. DuckDB does it when the
    last connection closes; in a process that keeps the warehouse open (the in-process runner, the
    benchmark) a load's hundreds of megabytes of merged rows would otherwise wait in the log and be
    written by whichever commit of the next writer (a dbt model) first finds the log over its
    threshold, and a crash before that would leave the next process to replay them on opening."""
    with duckdb.connect(str(warehouse)) as con:
        con.execute("checkpoint")


def backfill_tenant(tenant: TenantConfig, start: datetime, end: datetime,
                    step: timedelta = BACKFILL_STEP) -> list[LoadInfo]:
    """Load a past date range window by window, each its own load, so a long history never builds
    one huge load and a crash costs one window. Rerunning after a crash reloads the windows (merges
    make that harmless); the regular load's resume positions are not touched."""
    loads = []
    for window in date_ranges(start, end, step):
        loads.append(load_tenant(tenant, window))
        logger.info("tenant %s: backfilled %s to %s", tenant.id, window.start, window.end)
    return loads
