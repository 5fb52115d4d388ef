"""A tenant whose plan lacks SLA policies and business-hours schedules, run end to end beside a
tenant whose helpdesk is down: the first loads, is checked and published, its calendar figures
equal the world's truth and every business-minute figure is NULL, and the skips show in the
Dagster materialisations and in ``deskpulse status``; the second fails at once, naming its host
and the cause, without retries, and blocks nothing."""

from __future__ import annotations

import math
import socket

import dagster as dg
import duckdb
import pytest
import yaml

from assets.runner import dagster_instance, run_graph
from assets.serving import tenant_file
from assets.status import status_report
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.ingest.home import warehouse_path
from pipelines.platforms import load_tenants
from pipelines.sources.zendesk import settings
from pipelines.world import World, WorldConfig
from pipelines.world.truth import truth_of
from tests.ingest_support import use_environment

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a world of its own through the whole graph

NO_SLAS_NO_HOURS = ("slas/policies", "business_hours/schedules")
CALENDAR = ("first_reply_minutes", "first_resolution_minutes", "full_resolution_minutes")
BUSINESS = ("first_reply_business_minutes", "first_resolution_business_minutes",
            "full_resolution_business_minutes")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ingest_runs(instance: dg.DagsterInstance, tenant_id: str) -> list[str]:
    records = instance.get_run_records(dg.RunsFilter(job_name="ingest",
                                                     tags={"dagster/partition": tenant_id}))
    return [record.dagster_run.run_id for record in records]


def latest_metadata(instance: dg.DagsterInstance, table: str, tenant_id: str) -> dict:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(
        asset_key=dg.AssetKey(["zendesk", table]), asset_partitions=[tenant_id]), limit=1).records
    return dict(records[0].asset_materialization.metadata)


def marts(sql: str) -> list[dict]:
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        cursor = con.execute(sql)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: None):
    folder = tmp_path_factory.mktemp("plan")
    world = World(WorldConfig(tenant_id="acme", seed=9, tickets=60))
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_environment(monkeypatch, folder)
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        with FakeZendesk(world, forbid=NO_SLAS_NO_HOURS) as api:
            entries = [{"id": "acme", "base_url": api.base_url, "timezone": world.config.timezone,
                        "start_date": world.start.date().isoformat()},
                       {"id": "beta", "base_url": f"http://127.0.0.1:{closed_port()}"}]
            path = folder / "tenants.yaml"
            path.write_text(yaml.safe_dump({"tenants": [
                {**entry, "platform": "zendesk", "secret_env": f"{entry['id'].upper()}_SECRET",
                 "credentials": {"email_env": "ZENDESK_EMAIL", "token_env": "ZENDESK_TOKEN"}}
                for entry in entries]}))
            progress: list[str] = []
            outcome = run_graph(path, progress=progress.append)
            with dagster_instance() as instance:
                status = status_report(instance, load_tenants(path))
                runs = {tenant_id: ingest_runs(instance, tenant_id) for tenant_id in ("acme", "beta")}
                retried = [record for record in instance.get_records_for_run(runs["beta"][0]).records
                           if record.event_log_entry.dagster_event_type
                           == dg.DagsterEventType.STEP_UP_FOR_RETRY]
                skipped = {table: latest_metadata(instance, table, "acme").get("skipped")
                           for table in ("sla_policies", "schedules")}
            yield {"world": world, "as_of": api.as_of, "outcome": outcome, "status": status, "runs": runs,
                   "retried": retried, "skipped": skipped, "progress": progress,
                   "tickets": {row["ticket_id"]: row for row in marts(
                       "select * from marts.fct_tickets where tenant_id = 'acme'")}}


def test_the_tenant_without_slas_and_schedules_loads_and_is_published(run):
    outcome = run["outcome"]
    assert outcome.ingested == ["acme"] and outcome.transformed, outcome.failures
    assert set(outcome.failures) == {"beta"}
    assert tenant_file("acme").exists()


def test_its_calendar_figures_equal_the_truth_and_its_business_figures_are_null(run):
    world = run["world"]
    want = truth_of(world.tickets(), run["as_of"], world.config.timezone, world.agent_ids, schedule=None)
    assert set(run["tickets"]) == set(want.tickets)
    for ticket_id, expected in want.tickets.items():
        got = run["tickets"][ticket_id]
        for column in CALENDAR:
            wanted = getattr(expected, column)
            same = got[column] is None if wanted is None else math.isclose(got[column], wanted, abs_tol=0.01)
            assert same, (ticket_id, column, got[column], wanted)
        assert (got["status"], got["agent_replies"], got["reopens"]) == (
            expected.status, expected.agent_replies, expected.reopens), ticket_id
        assert all(got[column] is None for column in BUSINESS) and got["schedule_id"] is None, ticket_id
    assert any(row["first_reply_minutes"] for row in run["tickets"].values())
    days = marts("select median_first_reply_minutes, median_first_reply_business_minutes"
                 " from marts.agent_daily_performance where tenant_id = 'acme'")
    assert any(day["median_first_reply_minutes"] is not None for day in days)
    assert all(day["median_first_reply_business_minutes"] is None for day in days)


def test_the_skips_show_in_dagster_and_in_status(run):
    assert run["skipped"]["sla_policies"].value == (
        f"GET {settings.SLA_POLICIES} answered HTTP 403: plan lacks SLA policies")
    assert run["skipped"]["schedules"].value.startswith(f"GET {settings.SCHEDULES} answered HTTP 403: plan "
                                                        "lacks business-hours schedules")
    assert f"  SKIPPED     acme: GET {settings.SLA_POLICIES} answered HTTP 403: plan lacks SLA policies" \
        in run["status"].splitlines()
    assert any(line.startswith(f"  SKIPPED     acme: GET {settings.SCHEDULES} answered HTTP 403")
               for line in run["status"].splitlines())
    assert any("zendesk/sla_policies [acme]" in line and "skipped: GET" in line for line in run["progress"])


def test_the_tenant_whose_api_is_down_fails_at_once_naming_host_and_cause(run):
    message = run["outcome"].failures["beta"]
    assert "tenant 'beta': cannot reach 127.0.0.1: connection refused" in message and "\n" not in message
    assert len(run["runs"]["beta"]) == 1 and run["retried"] == []  # neither the client nor Dagster retried
