"""Where loads start and what they cover: the first load from the tenant's ``start_date``, a past
date range backfilled window by window without moving the regular resume positions, and lists that
come back empty clearing what was loaded before."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.fakes.zendesk.transport import Reply
from pipelines.ingest.window import DateRange, date_ranges
from pipelines.load import backfill_tenant, load_tenant
from pipelines.world import World, WorldConfig
from tests.ingest_support import query, raw_tables, tenant, use_environment

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(tenant_id="acme", seed=6, tickets=400))


def test_the_first_load_starts_at_the_start_date(world: World, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    use_environment(monkeypatch, tmp_path)
    start = world.start + timedelta(days=60)
    with FakeZendesk(world) as api:
        load_tenant(tenant(api, start_date=start))
    changed = {t.id for t in world.tickets() if t.updated_at(world.end) >= start}
    assert {i for (i,) in query("select id from raw_acme.tickets")} == changed
    before = query(f"select count(*) from raw_acme.ticket_events where created_at < '{start.isoformat()}'")
    assert before == [(0,)]
    users = sum(1 for u in world.users() if u.version_at(world.end) is not None)
    assert query("select count(*) from raw_acme.users") == [(users,)]  # however old


def loaded_data() -> dict:
    """The raw tables but ``tenant``, whose row holds the tenant's configuration (its start_date)."""
    return {table: rows for table, rows in raw_tables().items() if table != "tenant"}


def test_a_backfilled_range_completes_the_history_and_leaves_the_resume_positions(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = world.start + timedelta(days=70)
    with FakeZendesk(world) as api:
        use_environment(monkeypatch, tmp_path / "full")
        load_tenant(tenant(api, start_date=world.start))
        full = loaded_data()

        use_environment(monkeypatch, tmp_path / "backfilled")
        load_tenant(tenant(api, start_date=start))
        assert loaded_data() != full
        loads = backfill_tenant(tenant(api, start_date=start), world.start - timedelta(days=1), start,
                                step=timedelta(days=30))
        assert len(loads) == 3
        assert loaded_data() == full

        api.reset_stats()
        load_tenant(tenant(api, start_date=start))  # the regular positions are where they were
        assert api.stats["tickets"]["items"] == 0 and api.stats["users"]["items"] == 0


def test_a_backfill_of_a_tenant_never_loaded_brings_every_user_its_tickets_name(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(monkeypatch, tmp_path)
    start = world.start + timedelta(days=60)
    with FakeZendesk(world) as api:
        backfill_tenant(tenant(api, start_date=world.start), start, start + timedelta(days=30),
                        step=timedelta(days=30))
    people = ("select requester_id as person from raw_acme.tickets"
              " union all select assignee_id from raw_acme.tickets")
    [(named, missing)] = query("select count(distinct person), count(distinct person) filter"
                               " (where person not in (select id from raw_acme.users))"
                               f" from ({people}) where person is not null")
    assert named > 0 and missing == 0


def test_date_ranges_cover_the_span_without_gaps(world: World) -> None:
    windows = list(date_ranges(world.start, world.end, timedelta(days=50)))
    assert [w.end - w.start for w in windows] == [timedelta(days=50), timedelta(days=50), timedelta(days=20)]
    assert all(a.end == b.start for a, b in zip(windows, windows[1:], strict=False))
    with pytest.raises(ValueError, match="start < end"):
        DateRange(world.end, world.start)


class Emptied(FakeZendesk):
    """An account whose SLA policies and schedules were all deleted."""

    emptied = False

    def _sla_policies(self, query: dict) -> Reply:
        reply = super()._sla_policies(query)
        return Reply(200, {**reply.body, "sla_policies": [], "count": 0}) if self.emptied else reply

    def _schedules(self, query: dict) -> Reply:
        return Reply(200, {"schedules": []}) if self.emptied else super()._schedules(query)


def test_a_list_that_comes_back_empty_clears_its_table(world: World, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    use_environment(monkeypatch, tmp_path)
    with Emptied(world) as api:
        load_tenant(tenant(api))
        assert query("select count(*) from raw_acme.sla_policy_metrics")[0][0] > 0
        api.emptied = True
        load_tenant(tenant(api))
    emptied = ("sla_policies", "sla_policy_metrics", "schedules", "schedule_intervals", "schedule_holidays")
    for table in emptied:
        assert query(f"select count(*) from raw_acme.{table}") == [(0,)], table
    assert query("select count(*) from raw_acme.brands") == [(len(world.brands()),)]
