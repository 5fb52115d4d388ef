"""The demo world end to end: fake APIs → dlt → DuckDB → dbt → Dagster, held to the world's truth.

Two runs: the first with the APIs as of 20 days before the world's end, the second after the world
has moved on. Expected values come from ``pipelines.world.truth``, never from the marts' SQL.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import timedelta

import duckdb
import pytest

from assets.demo import demo_tenants
from assets.runner import run_graph
from pipelines.world.truth import truth

TICKETS = 400
pytestmark = pytest.mark.integration


def user_key(secret: str, user_id: int) -> str:
    return hmac.new(secret.encode(), f"user{user_id}".encode(), hashlib.sha256).hexdigest()


def query(sql: str) -> list[tuple]:
    from pipelines.home import warehouse_path

    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        return con.execute(sql).fetchall()


def snapshot(demo) -> dict:
    """Marts, raw counts and API traffic after a run."""
    return {
        "tickets": query("select * from marts.fct_tickets"),
        "ticket_columns": [r[0] for r in query(
            "select column_name from information_schema.columns "
            "where table_schema = 'marts' and table_name = 'fct_tickets' order by ordinal_position")],
        "agent_days": query("select * from marts.agent_daily_performance"),
        "agent_day_columns": [r[0] for r in query(
            "select column_name from information_schema.columns where table_schema = 'marts' "
            "and table_name = 'agent_daily_performance' order by ordinal_position")],
        "stats": {t: _copy_stats(api) for t, api in demo.apis.items()},
    }


def _copy_stats(api) -> dict:
    return {endpoint: dict(values) if isinstance(values, dict) else values
            for endpoint, values in api.stats.items()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, dbt_manifest):
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DESKPULSE_HOME", str(home))
        mp.delenv("DAGSTER_HOME", raising=False)
        with demo_tenants(TICKETS) as demo:
            first_as_of = {t: w.end - timedelta(days=20) for t, w in demo.worlds.items()}
            for tenant_id, api in demo.apis.items():
                api.as_of = first_as_of[tenant_id]
            outcome = run_graph(demo.tenant_file)
            assert outcome.ok, outcome.failures
            first = snapshot(demo)
            for tenant_id, api in demo.apis.items():
                api.as_of = demo.worlds[tenant_id].end
            outcome = run_graph(demo.tenant_file)
            assert outcome.ok, outcome.failures
            second = snapshot(demo)
            yield {"demo": demo, "first": first, "second": second, "first_as_of": first_as_of}


def _rows(snap: dict, table: str) -> list[dict]:
    columns = snap["ticket_columns" if table == "tickets" else "agent_day_columns"]
    return [dict(zip(columns, row, strict=True)) for row in snap[table]]


def _close(actual, expected) -> bool:
    if expected is None or actual is None:
        return actual is None and expected is None
    return math.isclose(float(actual), float(expected), abs_tol=0.01)


def check_tickets(demo, snap: dict, as_of: dict) -> None:
    rows = _rows(snap, "tickets")
    for tenant_id, world in demo.worlds.items():
        expected = truth(world, as_of[tenant_id]).tickets
        secret = demo.secrets[tenant_id]
        actual = {r["ticket_id"]: r for r in rows if r["tenant_id"] == tenant_id}
        assert set(actual) == set(expected), tenant_id
        mismatches = []
        for ticket_id, want in expected.items():
            got = actual[ticket_id]
            agent = user_key(secret, want.first_reply_agent_id) if want.first_reply_agent_id else None
            checks = {
                "first_reply_minutes": _close(got["first_reply_minutes"], want.first_reply_minutes),
                "first_reply_agent_key": got["first_reply_agent_key"] == agent,
                "first_resolution_minutes": _close(got["first_resolution_minutes"],
                                                   want.first_resolution_minutes),
                "full_resolution_minutes": _close(got["full_resolution_minutes"],
                                                  want.full_resolution_minutes),
                "reopens": got["reopens"] == want.reopens,
                "agent_replies": got["agent_replies"] == want.agent_replies,
                "is_one_touch": bool(got["is_one_touch"]) == want.is_one_touch,
                "csat_score": got["csat_score"] == want.csat_score,
                "is_deleted": bool(got["is_deleted"]) == want.is_deleted,
                "status": got["status"] == want.status,
            }
            mismatches += [(tenant_id, ticket_id, name) for name, ok in checks.items() if not ok]
        assert not mismatches, mismatches[:20]


def check_agent_days(demo, snap: dict, as_of: dict) -> None:
    rows = _rows(snap, "agent_days")
    for tenant_id, world in demo.worlds.items():
        secret = demo.secrets[tenant_id]
        expected = {(user_key(secret, agent), day): cell
                    for (agent, day), cell in truth(world, as_of[tenant_id]).agent_days.items()}
        actual = {(r["agent_key"], r["activity_date"]): r for r in rows if r["tenant_id"] == tenant_id}
        assert set(actual) == set(expected), tenant_id
        mismatches = []
        for key, want in expected.items():
            got = actual[key]
            checks = {
                "tickets_solved": got["tickets_solved"] == len(want.tickets_solved),
                "public_replies": got["public_replies"] == want.public_replies,
                "first_replies": got["first_replies"] == want.first_replies,
                "median": _close(got["median_first_reply_minutes"], want.median_first_reply_minutes),
                "p90": _close(got["p90_first_reply_minutes"], want.p90_first_reply_minutes),
                "one_touch_solved": got["one_touch_solved"] == want.one_touch_solved,
                "reopened_after_solve": got["reopened_after_solve"] == want.reopened_after_solve,
                "csat_good": got["csat_good"] == want.csat_good,
                "csat_bad": got["csat_bad"] == want.csat_bad,
                "csat_pct": _close(got["csat_pct"], want.csat_pct),
            }
            mismatches += [(tenant_id, key[1], name) for name, ok in checks.items() if not ok]
        assert not mismatches, mismatches[:20]


def test_first_run_ticket_metrics_match_the_world(runs):
    check_tickets(runs["demo"], runs["first"], runs["first_as_of"])


def test_first_run_agent_days_match_the_world(runs):
    check_agent_days(runs["demo"], runs["first"], runs["first_as_of"])


def test_second_run_matches_the_world_that_moved_on(runs):
    end = {t: w.end for t, w in runs["demo"].worlds.items()}
    check_tickets(runs["demo"], runs["second"], end)
    check_agent_days(runs["demo"], runs["second"], end)


def test_marts_have_no_duplicates_after_two_runs(runs):
    keys = [(r[0], r[1]) for r in query("select tenant_id, ticket_id from marts.fct_tickets")]
    assert len(keys) == len(set(keys))
    grain = query("select tenant_id, agent_key, activity_date from marts.agent_daily_performance")
    assert len(grain) == len(set(grain))


def test_second_run_loads_only_what_changed(runs):
    demo, first_as_of = runs["demo"], runs["first_as_of"]
    for tenant_id, world in demo.worlds.items():
        end, t1 = world.end, first_as_of[tenant_id]
        changed = sum(1 for t in world.tickets()
                      if (u := t.updated_at(end)) is not None and u >= t1 - timedelta(seconds=1))
        total = sum(1 for t in world.tickets() if t.state_at(end) is not None)
        first = runs["first"]["stats"][tenant_id]["tickets"]["items"]
        served = runs["second"]["stats"][tenant_id]["tickets"]["items"] - first
        assert changed <= served < total, (tenant_id, changed, served, total)
        assert served <= changed * 1.05 + 5


def test_tenants_are_disjoint_and_keyed_apart(runs):
    demo = runs["demo"]
    tenants = {r[0] for r in query("select distinct tenant_id from marts.fct_tickets")}
    assert tenants == set(demo.worlds)
    shared = next(iter(demo.worlds.values())).customer(0)
    tokens = {}
    for tenant_id in demo.worlds:
        rows = query(f"select distinct email_token from raw_{tenant_id}.users "
                     f"where id = {shared.id}")
        assert len(rows) == 1, tenant_id
        tokens[tenant_id] = rows[0][0]
    assert len(set(tokens.values())) == len(tokens)
    raw_text = query(f"select count(*) from raw_{tenant_id}.users where email_token like '%@%'")
    assert raw_text == [(0,)]
