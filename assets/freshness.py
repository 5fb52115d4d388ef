"""How fresh each tenant's data is and what its serving file holds: what publishing, the run's
summary and ``deskpulse status`` all go by.

A tenant's data is as fresh as its last successful load (the latest materialisation of its raw
partition). An ingest run that failed, or was canceled, after that load leaves the tenant stale
since then: its serving file stays as it was, publish id and time included, so no reader takes
old rows for new ones. A tenant that never loaded has nothing to publish, not an empty file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
from dagster._core.storage.dagster_run import FINISHED_STATUSES

from assets.ingest import raw_keys
from assets.marts import marts
from assets.serving import Publish, read_publish, tenant_file

INGEST_JOB = "ingest"


@dataclass(frozen=True)
class Freshness:
    """One tenant: its last successful load, a failed load since, and what its file holds."""

    tenant_id: str
    loaded_at: float | None  # the last successful load (unix time); None: never loaded
    failed_at: float | None  # the end of an ingest run that failed after it, if one did
    failure: str | None  # why that run failed, on one line
    served: Publish | None  # the tenant's serving file as its ``_publish`` table says

    @property
    def stale(self) -> bool:
        return self.failed_at is not None


@dataclass(frozen=True)
class Served:
    """What a run of the graph left in one tenant's serving file, said for people."""

    tenant_id: str
    state: str  # published | up to date | kept | not loaded | NOT published
    detail: str

    @property
    def ok(self) -> bool:
        """Whether the file is what it should be: published, current, or rightly left alone."""
        return self.state != "NOT published"

    def line(self) -> str:
        return f"{self.tenant_id}: {self.state}{': ' + self.detail if self.detail else ''}"


def when(timestamp: float | datetime | None) -> str:
    """A time for people, in UTC to the minute."""
    if timestamp is None:
        return "never"
    moment = timestamp if isinstance(timestamp, datetime) else datetime.fromtimestamp(timestamp, UTC)
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def last_built(instance: dg.DagsterInstance, keys: Iterable[dg.AssetKey],
               partition: str | None = None) -> float | None:
    """When any of ``keys`` (of ``partition``) was last materialised; None if never."""
    times = [record.timestamp for key in keys for record in instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[partition] if partition else None),
        limit=1).records]
    return max(times, default=None)


def tenant_freshness(instance: dg.DagsterInstance, tenant_id: str) -> Freshness:
    """The freshness of ``tenant_id``'s data and serving file."""
    loaded_at = last_built(instance, raw_keys, tenant_id)
    failed_at, failure = None, None
    latest = instance.get_run_records(dg.RunsFilter(job_name=INGEST_JOB, statuses=FINISHED_STATUSES,
                                                    tags={"dagster/partition": tenant_id}), limit=1)
    if latest and latest[0].dagster_run.status != dg.DagsterRunStatus.SUCCESS:
        run = latest[0]
        ended = run.end_time or run.create_timestamp.timestamp()
        if loaded_at is None or ended > loaded_at:
            failed_at = ended
            failures = instance.all_logs(run.dagster_run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
            failure = (step_failure(entry.dagster_event for entry in failures)
                       or f"run {run.dagster_run.status.value.lower()}")
    return Freshness(tenant_id, loaded_at, failed_at, failure, read_publish(tenant_file(tenant_id)))


def serving_outcome(instance: dg.DagsterInstance, tenant_ids: list[str], run_id: str,
                    errors: dict[str, list[str]], run_failure: str | None = None) -> list[Served]:
    """What the marts run ``run_id`` left in each tenant's serving file, and why; ``errors`` are
    the checks that block each tenant's publication (``quality.verdict``), ``run_failure`` why
    the run failed, if it did. A file published before the marts it reads were last built is
    not up to date; a load that brought nothing new builds nothing."""
    built = last_built(instance, [mart.key for mart in marts() if mart.per_tenant])
    outcome = []
    for tenant_id in tenant_ids:
        fresh = tenant_freshness(instance, tenant_id)
        served = fresh.served
        held = f"file of {when(served.published_at)} kept" if served else "no file"
        if served and served.run_id == run_id:
            rows = sum(served.rows.values())
            outcome.append(Served(tenant_id, "published", f"{rows:,} rows, publish {served.publish_id[:12]}"))
        elif fresh.loaded_at is None:
            outcome.append(Served(tenant_id, "not loaded", "never loaded, nothing to publish"
                                  + (f" (last load failed: {fresh.failure})" if fresh.failure else "")))
        elif fresh.stale:
            outcome.append(Served(tenant_id, "kept", f"{held}, stale since its last good load of "
                                  f"{when(fresh.loaded_at)}: last load failed: {fresh.failure}"))
        elif served and not run_failure and served.published_at.timestamp() >= (built or 0):
            outcome.append(Served(tenant_id, "up to date", f"nothing new since its publish of "
                                  f"{when(served.published_at)}"))
        else:
            why = (", ".join(errors.get(tenant_id, [])) or run_failure or "the publish step did not run")
            outcome.append(Served(tenant_id, "NOT published", f"{held}; blocked by {why}"))
    return outcome


def step_failure(events: Iterable[dg.DagsterEvent]) -> str | None:
    """The error message of the first step failure among ``events``, on one line."""
    for event in events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            while error.cause is not None and "Error occurred while" in error.message:
                error = error.cause
            return " ".join(error.message.split())
    return None
