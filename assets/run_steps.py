"""Where a run of the graph spends its time: the steps of the runs on an instance, by stage.

A ``deskpulse run`` is one ingest run per tenant and one marts run; their steps fall into the
stages an operator asks about (ingest and raw checks per tenant, dbt build, mart checks, publish).
The run benchmark (``deskpulse/benchmarks/run.py``) measures wall time and memory per stage from these
spans, read from the instance's event log after the run.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from assets.ingest import ingest_assets
from assets.publish import publish_assets
from assets.quality import mart_gx_checks, raw_gx_checks
from assets.retention import retention_purge
from assets.transform import dbt_models

STEP_EVENTS = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS,
               dg.DagsterEventType.STEP_FAILURE}
_STAGES = {
    **{assets_def.op.name: "ingest" for assets_def in ingest_assets},
    **{check.node_def.name: "raw checks" for check in raw_gx_checks},
    dbt_models.op.name: "dbt build",
    **{check.node_def.name: "mart checks" for check in mart_gx_checks},
    retention_purge.op.name: "retention",
    **{assets_def.op.name: "publish" for assets_def in publish_assets},
}


def stage_of(step_key: str, partition: str | None) -> str:
    """The stage a step belongs to, with the tenant for the per-tenant ones."""
    stage = _STAGES.get(step_key, step_key)
    return f"{stage} {partition}" if partition else stage


def step_spans(dagster_home: Path, since: float) -> list[tuple[str, float, float]]:
    """(stage, start, end) in epoch seconds of every step of the runs begun on the instance at
    ``dagster_home`` since ``since``, in the order they ran; a step retried is one span per try."""
    spans = []
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_run_records(dg.RunsFilter(created_after=datetime.fromtimestamp(since, UTC)))
        for record in runs:
            partition = record.dagster_run.tags.get("dagster/partition")
            started: dict[str, float] = {}
            for entry in instance.all_logs(record.dagster_run.run_id, of_type=STEP_EVENTS):
                if entry.dagster_event.event_type == dg.DagsterEventType.STEP_START:
                    started[entry.step_key] = entry.timestamp
                elif entry.step_key in started:
                    spans.append((stage_of(entry.step_key, partition), started.pop(entry.step_key),
                                  entry.timestamp))
    return sorted(spans, key=lambda span: span[1])
