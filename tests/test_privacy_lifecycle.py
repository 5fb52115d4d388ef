"""Retention and offboarding on a real demo warehouse (a copy of the shared world, tests/conftest.py):
what must go is gone, the rest is untouched.

Retention: northwind keeps 60 days, counted back from the world's end: every ticket last active
before that goes whole (raw rows, ticket-level mart rows), the world says which; kept tickets,
aggregates and the other tenant stay exactly as they were, and the aggregate cells that may hold
purged activity (agent and team periods, backlog days) stay so through the next build, even one
that recomputes a kept old ticket.
Offboarding: ``deskpulse offboard``
removes every row, file and state of northwind, says what it removed, and globex's data and
published marts stay as they were.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
from datetime import timedelta

import duckdb
import pytest
import yaml

from assets.runner import run_graph
from deskpulse import cli
from pipelines.ingest.home import home, warehouse_path
from pipelines.platforms import load_tenants
from pipelines.privacy import audit, suppression
from pipelines.privacy.retention import purge_tenant
from pipelines.world.truth import truth

GONE, KEPT = "northwind", "globex"
RETENTION_DAYS = 60
VOLATILE = {"refreshed_at"}
pytestmark = [pytest.mark.integration, pytest.mark.slow]  # runs jobs on a copy of the shared world


Snapshot = dict[str, tuple[list[str], list[tuple]]]


def snapshot() -> Snapshot:
    """Every table of the warehouse: schema.table → (columns, sorted rows), build-time columns left out."""
    found = {}
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables"
                                         " where table_type = 'BASE TABLE'").fetchall():
            names = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                " order by ordinal_position", [schema, table]).fetchall() if c not in VOLATILE]
            rows = con.execute(f'select {", ".join(names)} from "{schema}"."{table}"').fetchall()
            found[f"{schema}.{table}"] = (names, sorted(rows, key=repr))
    return found


def tenant_rows(snap: Snapshot, tenant_id: str) -> Snapshot:
    """One tenant's part: its raw schemas whole, its rows of every other table keyed by tenant."""
    part = {}
    for table, (names, rows) in snap.items():
        if table.startswith(f"raw_{tenant_id}"):
            part[table] = (names, rows)
        elif not table.startswith("raw_") and "tenant_id" in names:
            part[table] = (names, [r for r in rows if r[names.index("tenant_id")] == tenant_id])
    return part


def ticket_column(table: str, names: list[str]) -> int | None:
    """Position of the column naming the ticket a row belongs to, if the table has one."""
    if "ticket_id" in names:
        return names.index("ticket_id")
    return names.index("id") if table.endswith(".tickets") else None


def touch_a_kept_ticket_created_before(cutoff) -> int:
    """Move a kept ticket's updated_at in raw, as an edit in the helpdesk would: the next build
    recomputes it, from the day it was created, before the cutoff."""
    with duckdb.connect(str(warehouse_path())) as con:
        (ticket_id,) = con.execute(f"select min(id) from raw_{GONE}.tickets where created_at < ?",
                                   [cutoff]).fetchall()[0]
        con.execute(f"update raw_{GONE}.tickets set updated_at = updated_at + interval 1 second where id = ?",
                    [ticket_id])
    return ticket_id


@pytest.fixture(scope="module")
def story(shared_world_copy):
    demo = shared_world_copy  # its runs loaded and published both tenants
    seen: dict = {}
    world = demo.worlds[GONE]
    tenant = next(t for t in load_tenants(demo.tenant_file) if t.id == GONE)
    seen["before"] = snapshot()
    purge = purge_tenant(dataclasses.replace(tenant, retention_days=RETENTION_DAYS), now=world.end)
    seen.update(purge=purge, purged=snapshot(), world=world)
    seen["touched"] = touch_a_kept_ticket_created_before(purge.cutoff)
    assert run_graph(demo.tenant_file).ok  # an incremental build that recomputes it
    seen["rebuilt"] = snapshot()
    suppression.add(tenant, {"a-pseudonym"}, {1})  # so there is a suppression list to remove
    seen["refused"] = cli.main(["offboard", "--tenant", GONE, "--tenants", str(demo.tenant_file)])
    config = yaml.safe_load(demo.tenant_file.read_text())
    config["tenants"] = [t for t in config["tenants"] if t["id"] != GONE]
    remaining = demo.home / "remaining.yaml"
    remaining.write_text(yaml.safe_dump(config))
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        seen["exit"] = cli.main(["offboard", "--tenant", GONE, "--tenants", str(remaining)])
    seen.update(offboarded=snapshot(), home=home(), printed=printed.getvalue())
    seen["audit"] = audit.entries(GONE)
    yield seen


def test_retention_purges_whole_tickets_last_active_before_the_cutoff(story):
    world, purge = story["world"], story["purge"]
    cutoff = world.end - timedelta(days=RETENTION_DAYS)
    expected = {t.id for t in world.tickets() if (u := t.updated_at(world.end)) is not None and u < cutoff}
    assert purge.cutoff == cutoff and purge.tickets == len(expected) > 0
    before, after = tenant_rows(story["before"], GONE), tenant_rows(story["purged"], GONE)
    checked = []
    for table, (names, rows) in before.items():
        ticket = ticket_column(table, names)
        if ticket is not None and table in after:
            kept = after[table][1]
            assert not [r for r in kept if r[ticket] in expected], table
            assert kept == [r for r in rows if r[ticket] not in expected], table
            checked.append(table)
    assert {"raw_northwind.tickets", "raw_northwind.ticket_events", "marts.fct_tickets"} <= set(checked)
    (entry,) = [e for e in story["audit"] if e["action"] == "purge"]
    assert entry["tickets"] == len(expected) and entry["rows"]["marts.fct_tickets"] == len(expected)


def test_retention_keeps_aggregates_and_the_other_tenant(story):
    before, after = story["before"], story["purged"]
    assert tenant_rows(after, KEPT) == tenant_rows(before, KEPT)
    untouched = [t for t, (names, _) in before.items()
                 if not t.startswith("raw_") and ticket_column(t, names) is None]
    assert "marts.agent_daily_performance" in untouched
    assert {t: after[t] for t in untouched} == {t: before[t] for t in untouched}


@pytest.mark.parametrize(("mart", "period"), [("agent_daily_performance", "activity_date"),
                                              ("agent_weekly_performance", "week_start"),
                                              ("team_weekly_performance", "week_start"),
                                              ("tenant_daily_backlog", "activity_date")])
def test_aggregate_cells_before_the_purge_survive_the_next_build(story, mart, period):
    assert story["touched"] is not None
    names, before = story["before"][f"marts.{mart}"]
    rebuilt = story["rebuilt"][f"marts.{mart}"][1]
    cutoff_day = story["purge"].cutoff.date()

    def old(rows: list[tuple]) -> list[tuple]:
        tenant, day = names.index("tenant_id"), names.index(period)
        return [r for r in rows if r[tenant] == GONE and r[day] < cutoff_day]

    assert old(before) and old(rebuilt) == old(before)
    rebuilt_kept, before_kept = tenant_rows(story["rebuilt"], KEPT), tenant_rows(story["before"], KEPT)
    built = [t for t in rebuilt_kept if not t.startswith("raw_")]  # raw took one more (empty) load
    assert {t: rebuilt_kept[t] for t in built} == {t: before_kept[t] for t in built}


def test_the_backlog_after_the_purge_and_rebuild_is_still_the_world_s(story):
    """Every day of the purged tenant's backlog, before the cutoff (kept as it was) and after it
    (recomputed from the kept tickets on the backlog carried over), equals the world's truth."""
    names, rows = story["rebuilt"]["marts.tenant_daily_backlog"]
    column = {name: names.index(name) for name in names}
    got = {r[column["activity_date"]]: r for r in rows if r[column["tenant_id"]] == GONE}
    want = truth(story["world"]).backlog
    assert set(got) == set(want) and min(want) < story["purge"].cutoff.date()
    mismatches = [(day, name, got[day][column[name]], getattr(want[day], name))
                  for day in sorted(want) for name in ("backlog_open", "created", "solved", "reopened")
                  if got[day][column[name]] != getattr(want[day], name)]
    assert not mismatches, mismatches[:10]


def test_offboarding_refuses_a_tenant_still_configured(story):
    assert story["refused"] == 2


def test_offboarding_leaves_no_row_file_or_state_of_the_tenant_and_says_so(story):
    assert story["exit"] == 0
    after = story["offboarded"]
    assert not [t for t in after if t.startswith(f"raw_{GONE}")]
    assert not {t: rows for t, (_, rows) in tenant_rows(after, GONE).items() if rows}
    leftovers = [p for p in story["home"].rglob("*") if GONE in p.name and "demo" not in p.parts]
    assert leftovers == []
    for said in (f"dropped schema raw_{GONE} ", f"removed dlt/zendesk_{GONE}", f"removed privacy/{GONE}",
                 f"serving/tenants/{GONE}.duckdb", "rows deleted"):
        assert said in story["printed"], said
    assert story["audit"][-1]["action"] == "offboard"


def test_offboarding_leaves_the_other_tenant_as_it_was(story):
    before, after = tenant_rows(story["rebuilt"], KEPT), tenant_rows(story["offboarded"], KEPT)
    assert after == before
    assert [p for p in (story["home"] / "serving").rglob(f"{KEPT}.*")]
