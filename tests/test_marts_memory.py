"""The ticket models' joins fit DuckDB's memory bound at a million tickets.

DuckDB keeps the hash table of every join of a query in memory at once and could not spill them
here: fct_tickets joined the ticket with four tables of its measures (one row per ticket each)
and with three lookups of people in one query, and at a million tickets of the run benchmark's
worlds that needed more than dbt's bound of 512 MB. The measures are joined by a model of their
own (int_ticket_measures__ticket), so neither query holds them all. The inputs here are written
straight into a warehouse at that size, shaped as the models upstream write them (64-character
keys, as the loader's), and only the two ticket models are built. These inputs are narrower than
a loaded world's, so the bound here is 256 MB: the single query ran out of memory under it, the
two fit.

int_business_minutes__ticket joined the ticket's reply and resolution instants to the changed
tickets once more, besides the join that already limits them to those tickets: at a million
tickets of the run benchmark's worlds it ran out of dbt's bound of 512 MB, and with these inputs
out of 256 MB. It joins them once, and computes the instants it looks up in the calendar once,
as a CTE the engine keeps (and can spill) rather than inlines into the aggregation.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
TENANTS = ("tenant_a", "tenant_b", "tenant_c", "tenant_d")
TICKETS_PER_TENANT = 250_000
USERS_PER_TENANT = 80_000
GROUPS_PER_TENANT = 12
BRANDS_PER_TENANT = 3
MEMORY_LIMIT = "256MB"  # half dbt's default bound, as these inputs are narrower than a world's
KEY = "rpad(cast({id} as varchar), 64, 'k')"  # a user's key: its id, padded as an HMAC is long

# one row per ticket in each tenant: ``t`` the tenant, ``n`` the ticket id
TICKET_ROWS = "(select t, n from unnest(?) as tenants(t), range(1, ? + 1) as tickets(n))"
INPUTS = {
    "staging.stg_zendesk__tickets": f"""
        select t as tenant_id, n as ticket_id, n % {USERS_PER_TENANT} + 1 as requester_id,
            (n * 7) % 500 + 1 as assignee_id, n % {GROUPS_PER_TENANT} + 1 as group_id,
            timestamptz '2024-01-01 00:00:00+00' + to_minutes(n) as created_at,
            case when n % 100 = 0 then 'deleted' else 'solved' end as status, 'web' as via_channel,
            'normal' as priority, 'question' as ticket_type, n % {BRANDS_PER_TENANT} + 1 as brand_id
        from {TICKET_ROWS}""",
    "intermediate.int_ticket_changes__ticket": f"""
        select t as tenant_id, n as ticket_id, timestamp '2024-06-01 00:00:00' as refreshed_at,
            false as is_stale_upstream
        from {TICKET_ROWS}""",
    "intermediate.int_reply_times__ticket": f"""
        select t as tenant_id, n as ticket_id,
            timestamptz '2024-01-01 00:30:00+00' + to_minutes(n) as first_reply_at,
            timestamptz '2024-01-01 00:10:00+00' + to_minutes(n) as first_end_user_comment_at,
            (n * 3) % 500 + 1 as first_reply_agent_id, 20.0 as first_reply_minutes,
            timestamp '2024-06-01 00:00:00' as refreshed_at
        from {TICKET_ROWS}""",
    "intermediate.int_resolution__ticket": f"""
        select t as tenant_id, n as ticket_id,
            timestamptz '2024-01-01 01:00:00+00' + to_minutes(n) as first_solved_at,
            timestamptz '2024-01-01 02:00:00+00' + to_minutes(n) as final_solved_at,
            60.0 as first_resolution_minutes, 120.0 as full_resolution_minutes,
            100.0 as requester_wait_minutes, 90.0 as agent_work_minutes, n % 4 as agent_replies,
            n % 3 as reopens, n % 4 = 1 as is_one_touch, timestamp '2024-06-01 00:00:00' as refreshed_at
        from {TICKET_ROWS}""",
    "intermediate.int_business_minutes__ticket": f"""
        select t as tenant_id, n as ticket_id, 7 as schedule_id, 20.0 as first_reply_business_minutes,
            40.0 as first_resolution_business_minutes, 80.0 as full_resolution_business_minutes,
            timestamp '2024-06-01 00:00:00' as refreshed_at
        from {TICKET_ROWS}""",
    # one 24-hour schedule (business time is calendar time) and no schedule changes on tickets
    "intermediate.int_schedules__schedule": """
        select t as tenant_id, 7 as schedule_id, 'UTC' as time_zone, true as is_default_schedule
        from unnest(?) as tenants(t)""",
    "intermediate.int_business_calendar__day_interval": """
        select t as tenant_id, 7 as schedule_id, cast(day as date) as local_date,
            day as interval_start_at, day + interval 1 day as interval_end_at,
            86400 as interval_seconds, 86400 * datediff('day', date '2024-01-01', day) as seconds_before_day
        from unnest(?) as tenants(t),
            range(timestamptz '2024-01-01 00:00:00+00', timestamptz '2024-09-01 00:00:00+00',
                  interval 1 day) as days(day)""",
    "staging.stg_zendesk__ticket_events": """
        select t as tenant_id, 1 as ticket_event_id, 1 as audit_id, 1 as ticket_id, 'Change' as event_type,
            'status' as field_name, 'open' as field_value, timestamptz '2024-01-01 00:00:00+00' as created_at
        from unnest(?) as tenants(t)""",
    "intermediate.int_satisfaction_ratings__rating": f"""
        select t as tenant_id, n as ticket_id, case when n % 2 = 0 then 'good' else 'bad' end as score,
            true as is_latest_rating, timestamp '2024-06-01 00:00:00' as refreshed_at
        from {TICKET_ROWS} where n % 3 > 0""",
    "intermediate.int_users__user": f"""
        select t as tenant_id, u as user_id, {KEY.format(id='u')} as user_key
        from unnest(?) as tenants(t), range(1, {USERS_PER_TENANT} + 1) as users(u)""",
    "staging.stg_zendesk__groups": f"""
        select t as tenant_id, g as group_id, 'group-' || g as group_key
        from unnest(?) as tenants(t), range(1, {GROUPS_PER_TENANT} + 1) as groups(g)""",
    "staging.stg_zendesk__brands": f"""
        select t as tenant_id, b as brand_id, 'brand-' || b as brand_name
        from unnest(?) as tenants(t), range(1, {BRANDS_PER_TENANT} + 1) as brands(b)""",
    "intermediate.int_tenant_time_zones__tenant": """
        select t as tenant_id, 'Europe/Amsterdam' as time_zone from unnest(?) as tenants(t)""",
}


def write_inputs(path: Path, built: list[str]) -> None:
    """Every input table but those the test builds."""
    with duckdb.connect(str(path)) as con:
        for table, select in INPUTS.items():
            if table.split(".")[1] in built:
                continue
            con.execute(f"create schema if not exists {table.split('.')[0]}")
            parameters = [list(TENANTS)] + ([TICKETS_PER_TENANT] if TICKET_ROWS in select else [])
            con.execute(f"create table {table} as {select}", parameters)


@pytest.fixture(scope="session")
def dbt_manifest() -> None:
    """This module runs dbt itself; it needs no manifest prepared for Dagster (conftest)."""


def build(models: list[str], tmp_path: Path, monkeypatch) -> Path:
    """Write the inputs but ``models`` into a warehouse and build ``models`` on it under the bound."""
    from dbt.cli.main import dbtRunner

    warehouse = tmp_path / "warehouse.duckdb"
    write_inputs(warehouse, built=models)
    monkeypatch.setenv("DESKPULSE_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("DESKPULSE_DBT_MEMORY_LIMIT", MEMORY_LIMIT)
    result = dbtRunner().invoke([
        "run", "--select", *models,
        "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"),
        "--vars", json.dumps({"tenants": dict.fromkeys(TENANTS, "zendesk")}), "--quiet",
    ])
    failures = [f"{r.node.name}: {r.message}" for r in result.result or [] if r.status != "success"]
    assert result.success, f"dbt run failed: {result.exception or failures}"
    return warehouse


def test_fct_tickets_builds_a_million_tickets_within_a_small_memory_bound(tmp_path, monkeypatch):
    warehouse = build(["int_ticket_measures__ticket", "fct_tickets"], tmp_path, monkeypatch)
    with duckdb.connect(str(warehouse)) as con:
        count, keyed, rated, deleted = con.execute(
            "select count(*), count(*) filter (where requester_key = rpad(cast(ticket_id % ? + 1 as varchar),"
            " 64, 'k') and first_reply_agent_key is not null), count(csat_score), count(*) filter (where"
            " is_deleted) from marts.fct_tickets", [USERS_PER_TENANT]).fetchone()
    tickets = len(TENANTS) * TICKETS_PER_TENANT
    assert count == keyed == tickets
    assert rated == len(TENANTS) * sum(1 for n in range(1, TICKETS_PER_TENANT + 1) if n % 3)
    assert deleted == len(TENANTS) * (TICKETS_PER_TENANT // 100)


def test_business_minutes_of_a_million_tickets_build_within_a_small_memory_bound(tmp_path, monkeypatch):
    warehouse = build(["int_business_minutes__ticket"], tmp_path, monkeypatch)
    with duckdb.connect(str(warehouse)) as con:
        rows = con.execute(
            "select first_reply_business_minutes, first_resolution_business_minutes,"
            " full_resolution_business_minutes, count(*) from intermediate.int_business_minutes__ticket"
            " group by all").fetchall()
    # on a 24-hour schedule business minutes are the calendar minutes of the inputs: the reply 20
    # minutes after the comment, the first solve 60 and the final one 120 after creation
    assert rows == [(20.0, 60.0, 120.0, len(TENANTS) * TICKETS_PER_TENANT)]
