"""The whole ``Definitions`` loads, and its graph reads from each Zendesk endpoint through staging to
every mart, its checks and the serving files; jobs, schedules, sensors and the pool are wired."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable

import dagster as dg
import pytest

from assets.gx import EXPECTATIONS_DIR
from assets.marts import MARTS_SCHEMA, marts
from assets.project import WAREHOUSE_POOL
from assets.publish import SERVING_BENCHMARK, SERVING_TENANTS
from assets.retention import RETENTION_PURGE


@pytest.fixture(scope="module")
def defs(dbt_manifest):
    from assets.definitions import defs

    return defs


@pytest.fixture(scope="module")
def graph(defs):
    return defs.resolve_asset_graph()


def closure(start: dg.AssetKey, step: Callable[[dg.AssetKey], set]) -> set[dg.AssetKey]:
    seen, todo = set(), [start]
    while todo:
        for key in step(todo.pop()) - seen:
            seen.add(key)
            todo.append(key)
    return seen


def upstream(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    return closure(key, lambda k: graph.get(k).parent_keys)


def downstream(graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    return closure(key, lambda k: graph.get(k).child_keys)


def layer(keys: set[dg.AssetKey], *prefix: str) -> set[dg.AssetKey]:
    return {key for key in keys if key.path[: len(prefix)] == list(prefix)}


def test_lineage_from_each_zendesk_endpoint_through_staging_to_each_mart_and_its_checks(graph):
    keys = set(graph.get_all_asset_keys())
    endpoints = layer(keys, "zendesk", "api")
    mart_keys = {mart.key for mart in marts()}
    assert endpoints and {"fct_tickets", "agent_daily_performance"} <= {k.path[-1] for k in mart_keys}

    feeding = set()  # endpoints whose data reaches a mart through a raw table and staging
    for mart in mart_keys:
        ancestors = upstream(graph, mart)
        staging, raw = layer(ancestors, "staging"), ancestors & layer(keys, "zendesk") - endpoints
        assert staging and raw and ancestors & endpoints, mart
        for table in raw:  # every raw table a mart reads comes through staging
            assert downstream(graph, table) & staging, (mart, table)
        feeding |= ancestors & endpoints
        checks = {check.name for check in graph.get_check_keys_for_assets({mart})}
        has_suite = (EXPECTATIONS_DIR / MARTS_SCHEMA / f"{mart.path[-1]}.json").exists()
        assert (f"gx_{mart.path[-1]}" in checks) == has_suite, mart
        assert "freshness_check" in checks, mart
        assert any(not name.startswith(("gx_", "freshness")) for name in checks), f"{mart}: no dbt test"
    assert feeding == {e for e in endpoints if layer(downstream(graph, e), MARTS_SCHEMA)}
    assert {k.path[-1] for k in feeding} >= {"incremental_tickets_cursor", "incremental_ticket_events",
                                             "incremental_users_cursor", "satisfaction_ratings"}

    from_config = {dg.AssetKey(["zendesk", "tenant"])}  # the tenant's settings, from the tenant file
    for table in layer(keys, "zendesk") - endpoints - from_config:  # quarantine too
        assert graph.get(table).parent_keys & endpoints, table

    chain = [["zendesk", "api", "incremental_tickets_cursor"], ["zendesk", "tickets"],
             ["staging", "stg_zendesk__tickets"], ["marts", "fct_tickets"], SERVING_TENANTS.path]
    for parent, child in zip(chain, chain[1:], strict=False):
        assert dg.AssetKey(child) in downstream(graph, dg.AssetKey(parent)), (parent, child)


def test_serving_files_take_every_mart_and_nothing_restricted(graph):
    tenant_deps = graph.get(SERVING_TENANTS).parent_keys
    benchmark_deps = graph.get(SERVING_BENCHMARK).parent_keys
    assert tenant_deps | benchmark_deps == {mart.key for mart in marts()} | {RETENTION_PURGE}
    assert all(key.path[0] == MARTS_SCHEMA for key in (tenant_deps | benchmark_deps) - {RETENTION_PURGE})
    assert {mart.key for mart in marts() if not mart.per_tenant} | {RETENTION_PURGE} == benchmark_deps
    restricted = layer(set(graph.get_all_asset_keys()), "restricted")
    for serving in (SERVING_TENANTS, SERVING_BENCHMARK):
        assert not upstream(graph, serving) & restricted


def test_raw_checks_are_partitioned_by_tenant_and_mart_checks_block(graph):
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        if check_key.name.startswith("gx_"):
            assert spec.blocking, check_key
            partitioned = check_key.asset_key.path[0] != MARTS_SCHEMA
            assert (spec.partitions_def is not None) == partitioned, check_key


def test_every_step_that_touches_the_warehouse_is_in_the_one_writer_pool(defs):
    for name in ("ingest", "marts", "publish", "retention"):
        job = defs.resolve_job_def(name)
        assert job.op_retry_policy is not None, name
        for node in job.graph.node_defs:
            assert node.pool == WAREHOUSE_POOL, (name, node.name)


def test_schedules_and_sensors(defs):
    schedules = {s.name: s for s in defs.schedules}
    assert schedules["hourly_ingest"].cron_schedule == "5 * * * *"
    assert schedules["daily_marts"].job_name == "marts"
    assert schedules["weekly_retention"].job_name == "retention"
    retention = defs.resolve_job_def("retention").asset_layer.selected_asset_keys
    assert retention == {RETENTION_PURGE, SERVING_TENANTS, SERVING_BENCHMARK}
    assert {s.name for s in defs.sensors} >= {"tenant_partitions_sensor", "marts_on_new_raw_data",
                                              "alert_on_run_failure", "freshness_checks_sensor"}


def test_the_cli_instance_admits_one_warehouse_step_at_a_time(tmp_path, monkeypatch):
    from assets.runner import dagster_instance

    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with dagster_instance() as instance:
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).slot_count == 1


def test_asset_checks_have_names_and_descriptions_a_person_can_read(graph):
    generated = re.compile(r"[0-9a-f]{7,}|__|_None_|_True\b|^(unique_combination|columns_|accepted_values_)")
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        assert not generated.search(check_key.name), check_key.to_user_string()
        assert len(check_key.name) <= 40 and spec.description, check_key.to_user_string()
    tickets = {key.name: graph.get_check_spec(key).description
               for key in graph.get_check_keys_for_assets({dg.AssetKey(["marts", "fct_tickets"])})}
    assert tickets["no_duplicate_keys"] == "fct_tickets: one row per tenant_id, ticket_id"
    assert tickets["known_status_values"].startswith("fct_tickets: status is one of new, open, pending")
    assert tickets["values_in_range"].startswith("fct_tickets: first_reply_minutes ≥ 0;")
    benchmark = {key.name: graph.get_check_spec(key).description
                 for key in graph.get_check_keys_for_assets({dg.AssetKey(["marts", "benchmark_monthly"])})}
    assert benchmark["tenants_in_range"] == "benchmark_monthly: tenants ≥ the benchmark_min_tenants var"


def test_what_starts_runs_by_itself_is_off_unless_automation_is_on(defs):
    stopped, running = dg.DefaultScheduleStatus.STOPPED, dg.DefaultSensorStatus.RUNNING
    assert {s.name: s.default_status for s in defs.schedules} == {
        "hourly_ingest": stopped, "daily_marts": stopped, "weekly_retention": stopped}
    sensors = {s.name: s.default_status for s in defs.sensors}
    assert sensors["marts_on_new_raw_data"] == dg.DefaultSensorStatus.STOPPED
    for keeps_state in ("tenant_partitions_sensor", "freshness_checks_sensor", "alert_on_run_failure"):
        assert sensors[keeps_state] == running, keeps_state


def test_a_deployment_turns_the_automation_on_with_one_variable():
    program = ("from assets.definitions import defs; "
               "print(sorted((x.name, x.default_status.value) for x in [*defs.schedules, *defs.sensors]))")
    statuses = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True,
                              env={**os.environ, "DESKPULSE_AUTOMATION": "on"}, timeout=600).stdout
    assert "STOPPED" not in statuses and "('hourly_ingest', 'RUNNING')" in statuses
    wrong = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                           env={**os.environ, "DESKPULSE_AUTOMATION": "yes"}, timeout=600)
    assert wrong.returncode != 0 and "DESKPULSE_AUTOMATION must be on or off" in wrong.stderr
