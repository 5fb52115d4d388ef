"""The build plan: after a small change only what that change feeds builds, and the plan never leaves
out what it cannot vouch for. Raw tables are written here by hand; the dbt manifest is the real one."""

from __future__ import annotations

import json
from datetime import timedelta

import duckdb
import pytest

from pipelines import build_plan
from pipelines.build_plan import DATA_BUILD_ARGS, plan_build, record_build
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.ingest.home import warehouse_path
from pipelines.load import load_tenant
from pipelines.world import World, WorldConfig
from tests.ingest_support import tenant, use_environment

VARS = {"tenants": {"acme": "zendesk", "globex": "zendesk"}}
BIG = 60_000  # rows: past the size up to which a raw table is compared whole
FIRST_LOAD, NEXT_LOAD = "1700000000.1", "1700000900.2"  # dlt load ids


@pytest.fixture(scope="module")
def manifest(dbt_manifest) -> dict:
    from assets.project import DBT_PROJECT

    return json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))


@pytest.fixture
def warehouse(tmp_path):
    """Two tenants' raw schemas: small reference tables, a big ticket table and dlt's load list."""
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        for tenant in VARS["tenants"]:
            schema = f"raw_{tenant}"
            con.execute(f"create schema {schema}")
            con.execute(f"create table {schema}.groups as select range as id, 'g' || range as name,"
                        f" '{FIRST_LOAD}' as _dlt_load_id, gen_random_uuid()::varchar as _dlt_id"
                        " from range(3)")
            con.execute(f"create table {schema}.brands as select range as id, '{FIRST_LOAD}' as _dlt_load_id"
                        " from range(2)")
            con.execute(f"create table {schema}.tickets as select range as id, 'open' as status,"
                        f" '{FIRST_LOAD}' as _dlt_load_id from range({BIG})")
            con.execute(f"create table {schema}._dlt_loads as select '{FIRST_LOAD}' as load_id, 0 as status")
    return path


def sql(path, statement: str) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(statement)


def built(manifest: dict, plan) -> set[str]:
    """The models and seeds the plan lets build."""
    return {node["name"] for node in manifest["nodes"].values()
            if node["resource_type"] in ("model", "seed")} - set(plan.exclude)


def test_without_a_record_everything_builds(warehouse, manifest):
    plan = plan_build(warehouse, manifest, VARS)
    assert plan.exclude == () and plan.args() == []
    assert "no earlier build" in plan.reason


def test_nothing_builds_when_raw_is_as_recorded(warehouse, manifest):
    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    plan = plan_build(warehouse, manifest, VARS)
    assert built(manifest, plan) == set()
    assert "nothing to build" in plan.reason
    assert plan.idle  # the callers do not start dbt


def test_a_changed_reference_table_builds_what_it_feeds(warehouse, manifest):
    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    sql(warehouse, "update raw_globex.groups set name = 'renamed' where id = 1")
    plan = plan_build(warehouse, manifest, VARS)
    names = built(manifest, plan)
    # groups feed the group keys of the tickets, hence the settings fingerprint and every ticket
    assert {"int_tenant_settings__tenant", "int_ticket_changes__ticket", "fct_tickets",
            "team_weekly_performance"} <= names
    # the staging view reads the new rows as it is; its tests check them
    assert "stg_zendesk__groups" not in names
    assert not data_tests_on(manifest, "stg_zendesk__groups") & set(plan.exclude)
    # nothing about brands, schedules, the time zones or raw tickets depends on groups
    assert not names & {"stg_zendesk__brands", "stg_zendesk__tickets", "int_schedules__schedule",
                        "int_tenant_time_zones__tenant", "rails_time_zones"}
    assert "groups" in plan.reason


def test_deleted_rows_and_new_loads_change_a_big_table(warehouse, manifest):
    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    sql(warehouse, "delete from raw_acme.tickets where id = 7")  # what erasure and retention do
    assert "fct_tickets" in built(manifest, plan_build(warehouse, manifest, VARS))

    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    # a dlt merge writes the row again, with the id of its load
    sql(warehouse, f"update raw_acme.tickets set status = 'solved', _dlt_load_id = '{NEXT_LOAD}'"
                   " where id = 8")
    sql(warehouse, f"insert into raw_acme._dlt_loads values ('{NEXT_LOAD}', 0)")
    assert "fct_tickets" in built(manifest, plan_build(warehouse, manifest, VARS))


def test_a_load_that_brought_no_rows_of_a_table_builds_nothing_it_feeds(warehouse, manifest):
    """Every load writes the tenant's full lists again (new dlt row ids, the same content) and
    adds to dlt's list of loads; a big table none of whose rows it wrote is as it was."""
    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    sql(warehouse, f"update raw_acme.groups set _dlt_load_id = '{NEXT_LOAD}',"
                   " _dlt_id = gen_random_uuid()::varchar")
    sql(warehouse, f"insert into raw_acme._dlt_loads values ('{NEXT_LOAD}', 0)")
    plan = plan_build(warehouse, manifest, VARS)
    assert built(manifest, plan) == set()
    assert "nothing to build" in plan.reason


def test_new_raw_columns_rebuild_what_the_table_feeds(warehouse, manifest):
    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    sql(warehouse, "alter table raw_acme.brands add column brand_url varchar")
    names = built(manifest, plan_build(warehouse, manifest, VARS))
    assert "stg_zendesk__brands" in names  # its union now selects the new column
    assert "stg_zendesk__tickets" not in names  # nothing about tickets changed


def test_other_vars_a_full_refresh_or_another_project_build_everything(warehouse, manifest):
    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    purged = {**VARS, "purged_before": {"acme": "2026-01-01T00:00:00+00:00"}}
    assert plan_build(warehouse, manifest, purged).exclude == ()
    assert plan_build(warehouse, manifest, VARS, full_refresh=True).exclude == ()
    edited = json.loads(json.dumps(manifest))
    node = next(n for n in edited["nodes"].values() if n["name"] == "fct_tickets")
    node["checksum"]["checksum"] = "edited"
    assert plan_build(warehouse, edited, VARS).exclude == ()


def test_new_rows_run_the_tests_of_views_they_do_not_redefine(warehouse, manifest):
    """New ticket rows feed every ticket model, but the staging view of raw tickets reads them as
    it is: it is not re-created, while its tests still check the rows it now shows."""
    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    sql(warehouse, f"insert into raw_acme.tickets values (99999, 'new', '{NEXT_LOAD}')")
    sql(warehouse, f"insert into raw_acme._dlt_loads values ('{NEXT_LOAD}', 0)")
    plan = plan_build(warehouse, manifest, VARS)
    names = built(manifest, plan)
    assert {"int_ticket_changes__ticket", "fct_tickets"} <= names
    assert "stg_zendesk__tickets" not in names
    tests = data_tests_on(manifest, "stg_zendesk__tickets")
    assert tests and not tests & set(plan.exclude)
    # nothing about the tenants' settings depends on their tickets: those models and tests rest
    tenant_models = {"int_tenant_time_zones__tenant", "int_tenant_settings__tenant",
                     "int_schedules__schedule"}
    assert not names & tenant_models
    assert set().union(*(data_tests_on(manifest, m) for m in tenant_models)) <= set(plan.exclude)
    assert "views stay as they are" in plan.reason and "data tests run" in plan.reason


def test_a_mart_not_settled_builds_again_with_its_tests_though_nothing_changed(warehouse, manifest):
    """A mart built since its checks last passed (they failed, or a publish never followed) builds
    again, so its checks run again; nothing upstream of it does."""
    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    plan = plan_build(warehouse, manifest, VARS, unsettled=["fct_tickets"])
    assert built(manifest, plan) == {"fct_tickets"} and not plan.idle
    tests = data_tests_on(manifest, "fct_tickets")
    assert tests and not tests & set(plan.exclude)
    assert data_tests_on(manifest, "dim_agents") <= set(plan.exclude)
    assert "fct_tickets build again" in plan.reason


def test_the_marts_one_serving_file_reads_build_together(warehouse, manifest):
    """A serving file is published only by a run that built every mart it reads: new tickets build
    the groups' dimension too, which only the groups feed, and run its tests."""
    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    sql(warehouse, f"update raw_acme.tickets set status = 'solved', _dlt_load_id = '{NEXT_LOAD}'"
                   " where id = 8")
    sql(warehouse, f"insert into raw_acme._dlt_loads values ('{NEXT_LOAD}', 0)")
    assert "dim_groups" not in built(manifest, plan_build(warehouse, manifest, VARS))
    plan = plan_build(warehouse, manifest, VARS,
                      together=[["fct_tickets", "dim_groups"], ["benchmark_monthly"]])
    names = built(manifest, plan)
    assert {"fct_tickets", "dim_groups", "benchmark_monthly"} <= names
    assert "stg_zendesk__groups" not in names  # what feeds it is as it was
    tests = data_tests_on(manifest, "dim_groups")
    assert tests and not tests & set(plan.exclude)
    assert "dim_groups build with the marts published beside them" in plan.reason


@pytest.mark.parametrize("change", ["new tickets", "nothing", "unsettled"])
def test_dbt_selects_what_the_plan_says(warehouse, manifest, tmp_path, change):
    """dbt itself, given the plan's arguments, selects exactly the nodes the plan keeps: the
    tests of a view it does not re-create included, and no test of a node it leaves out. A
    folder where nothing runs is left out as one selector."""
    from dbt.cli.main import dbtRunner

    from assets.project import DBT_PROJECT_DIR

    record_build(warehouse, plan_build(warehouse, manifest, VARS))
    if change == "new tickets":
        sql(warehouse, f"insert into raw_acme.tickets values (99999, 'new', '{NEXT_LOAD}')")
        sql(warehouse, f"insert into raw_acme._dlt_loads values ('{NEXT_LOAD}', 0)")
    plan = plan_build(warehouse, manifest, VARS, unsettled=["fct_tickets"] if change == "unsettled" else ())
    listed = dbtRunner().invoke(["ls", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                                 str(DBT_PROJECT_DIR), "--output", "name", "--quiet", "--target-path",
                                 str(tmp_path), "--vars", json.dumps(VARS), *DATA_BUILD_ARGS, *plan.args()])
    assert listed.success, listed.exception
    expected = {node["name"] for node in manifest["nodes"].values()
                if node["resource_type"] in ("model", "seed", "test")} - set(plan.exclude)
    sources = {f"{source['source_name']}.{source['name']}" for source in manifest["sources"].values()}
    assert set(listed.result) - sources == expected
    if change == "nothing":
        assert expected == set() and plan.selectors == ("fqn:deskpulse.*",)
    elif change == "unsettled":
        assert "fct_tickets" in expected and data_tests_on(manifest, "fct_tickets") <= expected
    else:
        assert data_tests_on(manifest, "stg_zendesk__tickets") <= set(listed.result)
        assert "fqn:deskpulse.intermediate.tenants.*" in plan.selectors


def data_tests_on(manifest: dict, model: str) -> set[str]:
    """The names of the data tests on ``model``."""
    return {node["name"] for node in manifest["nodes"].values() if node["resource_type"] == "test"
            and node.get("attached_node") == f"model.deskpulse.{model}"}


def test_a_rerun_that_finds_nothing_new_builds_nothing(manifest, tmp_path, monkeypatch):
    """The time-based exports serve their last second of events again, and every load writes the
    full lists (groups, brands, schedules) again: a rerun with nothing new loads none of it as
    new, so no model builds. The event tables are compared by dlt load id here, as at a hundred
    thousand tickets; a day later, the changed tickets build again."""
    monkeypatch.setattr(build_plan, "SMALL_TABLE_ROWS", 1_000)
    use_environment(monkeypatch, tmp_path)
    world = World(WorldConfig(tenant_id="acme", seed=2, tickets=300))
    acme = {"tenants": {"acme": "zendesk"}}
    with FakeZendesk(world) as api:
        api.as_of = world.end - timedelta(days=1)
        load_tenant(tenant(api))
        record_build(warehouse_path(), plan_build(warehouse_path(), manifest, acme))
        api.reset_stats()
        load_tenant(tenant(api))
        assert api.stats["ticket_events"]["items"] > 0  # the last second, served again
        plan = plan_build(warehouse_path(), manifest, acme)
        assert built(manifest, plan) == set()
        assert "nothing to build" in plan.reason

        with duckdb.connect(str(warehouse_path()), read_only=True) as con:
            big = {table for table, size in con.execute(
                "select table_name, estimated_size from duckdb_tables() where schema_name = 'raw_acme'"
            ).fetchall() if size > build_plan.SMALL_TABLE_ROWS}
        assert {"ticket_events", "ticket_metric_events"} <= big
        api.as_of = world.end
        load_tenant(tenant(api))
        assert {"int_ticket_changes__ticket", "fct_tickets"} <= built(manifest, plan_build(
            warehouse_path(), manifest, acme))
