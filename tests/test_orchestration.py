"""The real Definitions on the shared world (tests/conftest.py): what the full graph's runs left in
Dagster and the serving files, ``deskpulse status``; then, on a copy of it, a date-range backfill,
two tenants loaded by two processes at once, schedules and sensors evaluated against the instance,
a failed run alerting a webhook on 127.0.0.1 and its own run log, a build out of memory naming the
bound to raise. (A run of one tenant on a fresh home: test_one_tenant_run.py.)"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from dagster._core.event_api import PartitionKeyFilter

from assets.alerts import AlertWebhook, alert_on_run_failure
from assets.ingest import raw_keys
from assets.marts import marts
from assets.runner import dagster_instance, execute, ingest_runs
from assets.serving import PUBLISH_TABLE, benchmark_file, tenant_file
from assets.tenants import TenantsResource
from pipelines.build_plan import BUILD_INPUTS_TABLE
from pipelines.ingest.home import warehouse_path
from pipelines.platforms import load_tenants

ATTEMPT_STARTS = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED}
pytestmark = pytest.mark.integration


def query(path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def serving_rows(path) -> dict[str, int]:
    tables = [row[0] for row in query(path, "select table_name from information_schema.tables "
                                            f"where table_name <> '{PUBLISH_TABLE}'")]
    return {table: query(path, f'select count(*) from "{table}"')[0][0] for table in tables}


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from assets.definitions import defs

    return defs


@pytest.fixture(scope="module")
def runs(shared_world):
    return {"demo": shared_world, "full": shared_world.outcomes["second"]}


def test_full_graph_run_loads_checks_and_publishes_every_tenant(runs, defs, in_shared_world):
    assert runs["full"].ok, runs["full"].failures
    tenants = sorted(runs["demo"].worlds)
    with dagster_instance() as instance:
        for key in raw_keys:
            for tenant_id in tenants:
                event = instance.fetch_materializations(
                    dg.AssetRecordsFilter(asset_key=key, asset_partitions=[tenant_id]), limit=1
                ).records[0].asset_materialization
                assert {"dagster/partition_row_count", "new_or_changed_rows", "dlt_load_id",
                        "duration_s"} <= set(event.metadata), key
        for mart in marts():
            assert "dagster/row_count" in instance.get_latest_materialization_event(
                mart.key).asset_materialization.metadata, mart
        graph = defs.resolve_asset_graph()
        gx = [key for key in graph.asset_check_keys if key.name.startswith("gx_")]
        assert len(gx) >= 11
        for check_key in gx:
            partitions = tenants if graph.get_check_spec(check_key).partitions_def else [None]
            for partition in partitions:
                latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(
                    [check_key], partition_filter=PartitionKeyFilter(key=partition) if partition else None)
                assert latest[check_key].status.value == "SUCCEEDED", (check_key, partition)

    per_tenant = {m.name for m in marts() if m.per_tenant}
    for tenant_id in tenants:
        path = tenant_file(tenant_id)
        rows = serving_rows(path)
        assert set(rows) == per_tenant and all(rows.values())
        for table in rows:
            assert query(path, f'select distinct tenant_id from "{table}"') == [(tenant_id,)]
        recorded = dict(query(path, f"select table_name, row_count from {PUBLISH_TABLE}"))
        assert recorded == rows
    assert set(serving_rows(benchmark_file())) == {m.name for m in marts() if not m.per_tenant}
    assert not any("agent_identity" in serving_rows(tenant_file(t)) for t in tenants)


def test_status_reports_runs_checks_and_freshness(runs, in_shared_world):
    from assets.status import status_report
    from pipelines.platforms import load_tenants

    with dagster_instance() as instance:
        report = status_report(instance, load_tenants(runs["demo"].tenant_file))
    assert "northwind" in report and "globex" in report and "SUCCESS" in report
    assert "0 blocking publication" in report and "published" in report


@pytest.mark.slow  # runs jobs on a copy of the shared world
def test_a_date_range_backfill_runs_in_pieces_and_loads_only_that_range(runs, shared_world_copy, defs):
    tenant = next(t for t in load_tenants(runs["demo"].tenant_file) if t.id == "northwind")
    pieces = list(ingest_runs(tenant, (date(2026, 2, 1), date(2026, 3, 15))))
    assert [config["ops"]["zendesk_ingest"]["config"] for _, config in pieces] == [
        {"start": "2026-02-01", "end": "2026-03-03"}, {"start": "2026-03-03", "end": "2026-03-15"}]
    events = dg.AssetKey(["zendesk", "ticket_events"])
    loaded = 0
    with dagster_instance() as instance:
        for _, run_config in pieces:
            result = execute(defs.resolve_job_def("ingest"), instance, lambda _: None, run_config=run_config,
                             partition_key="northwind")
            assert result.success
            built = result.asset_materializations_for_node("zendesk_ingest")
            loaded += next(m for m in built if m.asset_key == events).metadata["new_or_changed_rows"].value
    in_range, total = query(warehouse_path(), "select count(*) filter (where created_at >= '2026-02-01' "
                            "and created_at < '2026-03-15'), count(*) from raw_northwind.ticket_events")[0]
    assert in_range <= loaded <= in_range * 1.05 + 5 and loaded < total


@pytest.mark.slow  # runs jobs on a copy of the shared world
def test_two_processes_loading_tenants_at_once_take_turns_on_the_warehouse(runs, shared_world_copy):
    """Two tenants loaded by two OS processes at the same moment: the pool lets one load touch DuckDB
    at a time (should two claims race on a SQLite instance, the lock error is retried), so both
    runs succeed and their loads never overlap."""
    with dagster_instance() as instance:
        env = {**os.environ, "DAGSTER_HOME": instance.root_directory,
               "DESKPULSE_TENANTS": str(runs["demo"].tenant_file)}
        ingest = dg.RunsFilter(job_name="ingest")
        before = {record.dagster_run.run_id for record in instance.get_run_records(ingest)}
    dagster = Path(sys.executable).with_name("dagster")
    loads = [subprocess.Popen([str(dagster), "job", "execute", "-m", "assets.definitions", "-j", "ingest",
                               "--tags", json.dumps({"dagster/partition": tenant})], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for tenant in ("northwind", "globex")]
    errors = [load.communicate(timeout=600)[1] for load in loads]
    assert [load.returncode for load in loads] == [0, 0], [error[-3000:] for error in errors]
    with dagster_instance() as instance:
        spans = []
        for record in instance.get_run_records(ingest):
            if record.dagster_run.run_id in before:
                continue
            assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
            steps = [e for e in instance.all_logs(record.dagster_run.run_id)
                     if e.dagster_event and e.step_key == "zendesk_ingest"]
            started = max(e.timestamp for e in steps if e.dagster_event.event_type in ATTEMPT_STARTS)
            finished = next(e.timestamp for e in steps
                            if e.dagster_event.event_type == dg.DagsterEventType.STEP_SUCCESS)
            spans.append((started, finished))
    first, second = sorted(spans)
    assert first[1] <= second[0]  # the second successful load started after the first one finished


@pytest.mark.slow  # runs jobs on a copy of the shared world
def test_schedules_and_sensors_follow_tenants_and_new_data(runs, shared_world_copy, defs, tmp_path):
    demo = runs["demo"]
    with dagster_instance() as instance:
        hourly = defs.resolve_schedule_def("hourly_ingest")
        tick = hourly.evaluate_tick(dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 11, 1, 5, 5, tzinfo=UTC),
            repository_def=defs.get_repository_def()))
        assert sorted(r.partition_key for r in tick.run_requests) == ["globex", "northwind"]

        only_globex = tmp_path / "tenants.yaml"
        document = yaml.safe_load(demo.tenant_file.read_text())
        document["tenants"] = [t for t in document["tenants"] if t["id"] == "globex"]
        only_globex.write_text(yaml.safe_dump(document))
        sync = defs.resolve_sensor_def("tenant_partitions_sensor")
        result = sync(dg.build_sensor_context(instance=instance,
                                              resources={"tenants": TenantsResource(path=str(only_globex))}))
        assert [r.partition_keys for r in result.dynamic_partitions_requests] == [[], ["northwind"]]

        new_data = defs.resolve_sensor_def("marts_on_new_raw_data")
        first = new_data.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
        assert len(first.run_requests) == 1 and new_data.job_name == "marts"
        again = new_data.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor,
                                                               definitions=defs))
        assert not again.run_requests and "no new raw data" in again.skip_message

        retention = execute(defs.resolve_job_def("retention"), instance, lambda _: None)
        assert retention.success


class Receiver(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.mark.slow  # runs jobs on a copy of the shared world
def test_a_failed_run_alerts_the_webhook_and_its_run_log(runs, shared_world_copy, defs, monkeypatch):
    server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("DESKPULSE_DEMO_NORTHWIND_TOKEN", "wrong-token")  # the fake API answers 401
    try:
        with dagster_instance() as instance:
            ingest = defs.resolve_job_def("ingest")
            result = execute(ingest, instance, lambda _: None, partition_key="northwind")
            assert not result.success
            # a 401 is not retried: no step went up for a retry
            assert not instance.all_logs(result.run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
            run = instance.get_run_by_id(result.run_id)
            failure = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0]
            context = dg.build_run_status_sensor_context(
                sensor_name="alert_on_run_failure", dagster_event=failure.dagster_event,
                dagster_instance=instance, dagster_run=run,
                resources={"alert_webhook": AlertWebhook(url=f"http://127.0.0.1:{server.server_port}/hook")},
            ).for_run_failure()
            alert_on_run_failure(context)
            run_log = [e.message for e in instance.all_logs(result.run_id) if "ALERT" in (e.message or "")]
    finally:
        server.shutdown()
    alert = Receiver.received[-1]
    assert alert["job"] == "ingest" and alert["tenant"] == "northwind" and alert["failed_steps"]
    assert "401" in alert["error"]
    assert "wrong-token" not in json.dumps(alert) and "@" not in json.dumps(alert)
    assert run_log and "webhook answered HTTP 204" in run_log[0]


def test_a_build_out_of_memory_says_which_bound_to_raise(runs, shared_world_copy, defs, monkeypatch):
    monkeypatch.setenv("DESKPULSE_DBT_MEMORY_LIMIT", "1MB")  # below what the joins of any table need
    with duckdb.connect(str(warehouse_path())) as con:  # no build recorded: everything builds
        con.execute(f"drop table {BUILD_INPUTS_TABLE}")
    with dagster_instance() as instance:
        result = execute(defs.resolve_job_def("marts"), instance, lambda _: None)
        assert not result.success
        failure = next(event for event in result.all_events if event.is_step_failure)
        message = failure.step_failure_data.error.message
    assert "(DESKPULSE_DBT_MEMORY_LIMIT: 1MB)" in message
    assert "set DESKPULSE_DBT_MEMORY_LIMIT larger" in message
    assert "Out of Memory Error" in message  # dbt's own words follow
    retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    assert not retries  # the same data needs the same memory
