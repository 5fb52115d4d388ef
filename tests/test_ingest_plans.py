"""Accounts whose plan lacks an endpoint: optional ones are skipped with one warning and recorded,
lists of a feature the account lost are emptied, histories are kept, and a required endpoint the
account refuses still fails the tenant, saying why. Against the fake API's per-endpoint switch."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from dlt.pipeline.exceptions import PipelineStepFailed

from assets.retries import root_cause
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.ingest.report import IngestReport, Skip
from pipelines.load import load_tenant
from pipelines.sources.zendesk import settings
from pipelines.world import World, WorldConfig
from tests.ingest_support import query, tenant, use_environment

pytestmark = pytest.mark.integration

NO_SLAS_NO_HOURS = ("slas/policies", "business_hours/schedules")
SLAS_AND_HOURS = ("sla_policies", "sla_policy_metrics", "schedules", "schedule_intervals",
                  "schedule_holidays")


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(tenant_id="acme", seed=5, tickets=80))


def rows(table: str) -> int:
    found = query("select count(*) from information_schema.tables where table_schema = 'raw_acme'"
                  f" and table_name = '{table}'")[0][0]
    return query(f"select count(*) from raw_acme.{table}")[0][0] if found else 0


def test_a_plan_without_slas_and_schedules_loads_the_rest_and_says_what_it_skipped(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    use_environment(monkeypatch, tmp_path)
    report = IngestReport("acme")
    with FakeZendesk(world, forbid=NO_SLAS_NO_HOURS) as api, caplog.at_level(logging.WARNING):
        load_tenant(tenant(api), report=report)
        served = api.stats
    assert report.skipped == {
        settings.SLA_POLICIES: Skip(settings.SLA_POLICIES, 403, "plan lacks SLA policies"),
        settings.SCHEDULES: Skip(settings.SCHEDULES, 403, "plan lacks business-hours schedules and "
                                 "holidays: every *_business_minutes is NULL"),
    }
    assert set(report.skipped_tables) == set(SLAS_AND_HOURS)
    # one warning per endpoint, naming tenant, endpoint, status and meaning; each asked for once
    warned = [r.getMessage() for r in caplog.records if "skipped for this run" in r.getMessage()]
    assert warned == [f"tenant acme: GET {settings.SLA_POLICIES} answered HTTP 403: plan lacks SLA policies;"
                      " skipped for this run",
                      f"tenant acme: GET {settings.SCHEDULES} answered HTTP 403: plan lacks business-hours "
                      "schedules and holidays: every *_business_minutes is NULL; skipped for this run"]
    assert served["sla_policies"]["requests"] == served["schedules"]["requests"] == 1
    assert "holidays" not in served
    assert all(rows(table) == 0 for table in SLAS_AND_HOURS)
    assert rows("tickets") == sum(1 for t in world.tickets() if t.state_at(api.as_of) is not None)
    assert rows("ticket_metric_events") > 0 and rows("satisfaction_ratings") > 0 and rows("groups") > 0


def test_a_plan_that_loses_endpoints_empties_their_lists_and_keeps_their_histories(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(monkeypatch, tmp_path)
    with FakeZendesk(world, as_of=world.end - timedelta(days=30)) as api:
        load_tenant(tenant(api))
        before = {table: rows(table) for table in (*SLAS_AND_HOURS, "satisfaction_ratings",
                                                   "ticket_metric_events")}
        assert all(before.values()), before
        api.forbid = (*NO_SLAS_NO_HOURS, "satisfaction_ratings", "incremental/ticket_metric_events")
        api.as_of = world.end
        report = IngestReport("acme")
        load_tenant(tenant(api), report=report)
        assert len(report.skipped) == 4
        # the account no longer has these: nothing of them may look current
        assert {table: rows(table) for table in SLAS_AND_HOURS} == dict.fromkeys(SLAS_AND_HOURS, 0)
        # what happened stays; the histories resume where they stopped once the plan has them again
        assert rows("satisfaction_ratings") == before["satisfaction_ratings"]
        assert rows("ticket_metric_events") == before["ticket_metric_events"]
        api.forbid = ()
        load_tenant(tenant(api))
    assert all(rows(table) > 0 for table in SLAS_AND_HOURS)
    assert rows("satisfaction_ratings") > before["satisfaction_ratings"]
    assert rows("ticket_metric_events") > before["ticket_metric_events"]


@pytest.mark.parametrize(("endpoint", "path", "what"), [
    ("incremental/tickets/cursor", settings.TICKETS_EXPORT, "tickets"),
    ("incremental/users/cursor", settings.USERS_EXPORT, "users"),
    ("incremental/ticket_events", settings.TICKET_EVENTS_EXPORT, "ticket events"),
])
def test_a_required_endpoint_the_account_refuses_fails_the_tenant_saying_why(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, endpoint: str, path: str, what: str
) -> None:
    use_environment(monkeypatch, tmp_path)
    with FakeZendesk(world, forbid=[endpoint]) as api, pytest.raises(PipelineStepFailed) as failure:
        load_tenant(tenant(api))
    assert str(root_cause(failure.value)) == (
        f"tenant 'acme': GET {path} returned HTTP 403: {what} are required, so the tenant's load stops "
        "(check that the API token's user is an admin and that the account's plan offers this endpoint)")
