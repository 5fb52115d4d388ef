"""One source run's access to a Zendesk account, shared by its resources (and by ``plans.py``,
which decides what a refusal means)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from pipelines.ingest.columns import RawTable
from pipelines.ingest.config import TenantConfig
from pipelines.ingest.report import IngestReport
from pipelines.privacy import suppression
from pipelines.privacy.suppression import suppression_filter
from pipelines.sources.zendesk import settings
from pipelines.sources.zendesk.client import ZendeskApiError, ZendeskClient
from pipelines.sources.zendesk.tables import suppressing


class Account:
    """One source run's access to the account, each part made on first use: a client (so its
    pacing sees every resource's requests), the tenant secret, the privacy hook per table, the
    short lists several resources read, fetched once (a refusal too, so an endpoint the account
    lacks is asked for and warned about once), and the load's report."""

    def __init__(self, tenant: TenantConfig, report: IngestReport):
        self.tenant, self.report = tenant, report
        self._filters: dict[str, Callable[[pa.Table], pa.Table]] = {}
        self._fetched: dict[str, Any] = {}

    @functools.cached_property
    def client(self) -> ZendeskClient:
        email, token = self.tenant.credentials.resolve(self.tenant.id)
        return ZendeskClient(self.tenant.base_url, email, token, tenant_id=self.tenant.id,
                             budget_seconds=self.tenant.retry_budget_minutes * 60)

    @functools.cached_property
    def secret(self) -> bytes:
        return self.tenant.secret()

    def keep(self, table: RawTable) -> Callable[[pa.Table], pa.Table]:
        """The privacy hook for ``table``: drops rows of erased people and tickets
        (``pipelines.privacy``); read once per run."""
        if table.name not in self._filters:
            listed = suppression.load(self.tenant.id)
            self._filters[table.name] = (suppressing(suppression_filter(self.tenant, table)) if listed
                                         else _unchanged)
        return self._filters[table.name]

    def once(self, name: str, fetch: Callable[[], Any]) -> Any:
        """``fetch()`` the first time, its result (or its refusal, raised again) after that."""
        if name not in self._fetched:
            try:
                self._fetched[name] = fetch()
            except ZendeskApiError as refusal:
                self._fetched[name] = refusal
        found = self._fetched[name]
        if isinstance(found, ZendeskApiError):
            raise found
        return found

    @property
    def business_hours(self) -> tuple[list[dict[str, Any]], list[Any]]:
        """The schedules and their holidays (each with its ``schedule_id``), read together: without
        either, business minutes cannot be right, so the three tables are loaded or skipped as one."""
        def fetch() -> tuple[list[dict[str, Any]], list[Any]]:
            schedules = objects(self.client.get(settings.SCHEDULES, envelope="schedules")["schedules"])
            holidays = []
            for schedule in schedules:
                if isinstance(schedule.get("id"), int):  # else quarantined by the schedules resource
                    path = settings.SCHEDULE_HOLIDAYS.format(schedule_id=schedule["id"])
                    holidays += [{**item, "schedule_id": schedule["id"]} if isinstance(item, dict) else item
                                 for item in self.client.get(path, envelope="holidays")["holidays"]]
            return schedules, holidays

        return self.once("business_hours", fetch)

    @property
    def sla_policies(self) -> list[Any]:
        return self.once("sla_policies", lambda: self.client.get(
            settings.SLA_POLICIES, envelope="sla_policies")["sla_policies"])


def _unchanged(table: pa.Table) -> pa.Table:
    return table


def objects(value: Any) -> list[dict[str, Any]]:
    """The entries of a JSON list; an entry that is not an object stands in as an empty one, so the
    row made of it misses its keys and is quarantined rather than dropped."""
    return [entry if isinstance(entry, dict) else {} for entry in value] if isinstance(value, list) else []
