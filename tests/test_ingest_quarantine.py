"""Values no real record holds are quarantined at ingest with their reason, counts reconcile, and a
record leaves the quarantine once a version of it loads cleanly: fixed upstream, or read again by a
retry. Typing rules against hand-made rows, then loads against the fake API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.ingest.columns import BIGINT, ID, MINUTES, NONE, TENANT_ID, TEXT, TIMESTAMP, Column, RawTable
from pipelines.ingest.keys import pseudonym
from pipelines.ingest.report import IngestReport
from pipelines.load import backfill_tenant, load_tenant, tenant_pipeline
from pipelines.quarantine import held, retry_days
from pipelines.sources.zendesk.tables import Quarantine, to_table
from pipelines.world import World, WorldConfig
from tests.ingest_support import SECRETS, query, tenant, use_environment

STARTED = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
HINTS = RawTable("records", "Made-up records.", (TENANT_ID, *(
    Column(name, kind, NONE, f"records[].{name}", name)
    for name, kind in (("id", ID), ("created_at", TIMESTAMP), ("reply", MINUTES), ("updater_id", BIGINT),
                       ("tag", TEXT)))), ("id",)).hints


def row(record_id: Any, **fields: Any) -> dict[str, Any]:
    return {"tenant_id": "acme", "id": record_id, "created_at": "2026-05-01T00:00:00Z", "reply": 5,
            "updater_id": 7, "tag": "vip", **fields}


def test_implausible_values_are_quarantined_with_their_reason_at_the_boundaries() -> None:
    rows = [
        row(1, created_at="1990-01-01T00:00:00Z", reply=0, updater_id=-1, tag="x" * 1024),  # all allowed
        row(2, created_at="2026-06-02T12:00:00Z"),  # exactly a day after the run started
        row(3, created_at="2026-06-02T12:00:01Z"),
        row(4, created_at="9999-12-31T23:59:59Z"),
        row(5, created_at="1989-12-31T23:59:59Z"),
        row(-6),
        row(7.0),
        row(8, reply=-1),
        row(9, tag="a\ud800b"),
        row(10, tag="x" * 1025),
    ]
    quarantine = Quarantine("acme", "tickets", b"k" * 32, started_at=STARTED)
    typed = to_table(rows, HINTS, quarantine, time_of=lambda index: 1_780_000_000 + index)
    assert typed.column("id").to_pylist() == [1, 2]
    reasons = {r["record_id"]: r["reason"] for r in quarantine.rows}
    assert reasons == {
        None: "id: expected a whole number",  # 7.0: arrow would take it for 7
        3: "created_at: more than a day after the run started",
        4: "created_at: more than a day after the run started",
        5: "created_at: before 1990",
        -6: "id: a negative id",
        8: "reply: a negative duration",
        9: "tag: not valid Unicode (a lone surrogate)",
        10: "tag: longer than 1024 characters",
    }
    assert quarantine.count == len(quarantine.rows) == len(rows) - typed.num_rows
    # each keeps where the export served it; the reason never holds the value
    served = {r["record_id"]: r["record_time"] for r in quarantine.rows}
    assert served[4] == datetime.fromtimestamp(1_780_000_003, UTC).isoformat()
    assert not any("9999" in reason or "\ud800" in reason for reason in reasons.values())


class Implausible(FakeZendesk):
    """Serves some records no real account holds: a ticket updated in year 9999, a tag that is not
    valid Unicode and one far too long, a metric set with a negative duration. ``broken`` says
    which tickets; emptied, the account serves them as they are (the record fixed upstream).
    The users in ``broken_names`` have a name that is not valid Unicode."""

    broken: dict[int, str] = {}
    broken_names: frozenset[int] = frozenset()

    def _ticket_json(self, row: Any, custom_field_ids: tuple[int, ...]) -> dict[str, Any]:
        item = super()._ticket_json(row, custom_field_ids)
        kind = self.broken.get(item["id"])
        if kind == "year 9999":
            return {**item, "updated_at": "9999-12-31T23:59:59Z"}
        if kind == "lone surrogate":
            return {**item, "tags": [*item["tags"], "bad\ud800tag"]}
        if kind == "long tag":
            return {**item, "tags": [*item["tags"], "x" * 5000]}
        return item

    def _user_json(self, user: Any) -> dict[str, Any]:
        item = super()._user_json(user)
        return {**item, "name": item["name"] + " \ud800"} if user.id in self.broken_names else item

    def _metric_set_json(self, row: Any) -> dict[str, Any]:
        item = super()._metric_set_json(row)
        if self.broken.get(row.id) == "negative duration":
            return {**item, "reply_time_in_minutes": {"calendar": -5, "business": None}}
        return item


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(tenant_id="acme", seed=4, tickets=80))


def three_versions(world: World) -> tuple[int, datetime, datetime]:
    """A ticket and two instants at which it has three different versions: then, then, and now."""
    for ticket in world.tickets():
        times = sorted({audit.at for audit in ticket.audits})
        if len(times) >= 4:
            return ticket.id, times[0] + timedelta(minutes=2), times[1] + timedelta(minutes=2)
    raise AssertionError("no ticket with four audits in the world")


def tagged(world: World) -> list[int]:
    return [t.id for t in world.tickets() if t.state_at(world.end) is not None and t.tags]


def quarantined() -> list[tuple]:
    return query("select table_name, record_id, ticket_id, reason from raw_acme.quarantine order by all")


def test_a_load_quarantines_implausible_values_and_text_it_cannot_store_and_reconciles(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(monkeypatch, tmp_path)
    a, b, c, d = tagged(world)[:4]
    report = IngestReport("acme", started_at=world.end)
    customer = world.customer(0)
    with Implausible(world) as api:
        api.broken = {a: "year 9999", b: "lone surrogate", c: "long tag", d: "negative duration"}
        api.broken_names = frozenset({customer.id})
        load_tenant(tenant(api), report=report)
        served = api.stats
    metric_set_d = query(f"select id from raw_acme.ticket_metrics where ticket_id = {c}")[0][0] - c + d
    assert quarantined() == sorted([
        ("ticket_metrics", metric_set_d, d, "reply_time_in_minutes_calendar: a negative duration"),
        ("ticket_tags", None, b, "tag: not valid Unicode (a lone surrogate)"),
        ("ticket_tags", None, c, "tag: longer than 1024 characters"),
        ("tickets", a, a, "updated_at: more than a day after the run started"),
    ])
    assert query(f"select count(*) from raw_acme.tickets where id = {a}") == [(0,)]
    # the other tags of those tickets load; nothing is dropped without a trace
    assert query(f"select count(*) from raw_acme.ticket_tags where ticket_id in ({b}, {c})")[0][0] == len(
        world.ticket(b).tags) + len(world.ticket(c).tags)
    for table, counts in report.tables.items():
        assert counts.reconciles, (table, counts)
    tickets = report.tables["tickets"]
    assert (tickets.read, tickets.quarantined) == (served["tickets"]["items"], 1)
    assert tickets.loaded == query("select count(*) from raw_acme.tickets")[0][0]
    assert report.tables["ticket_tags"].quarantined == 2
    # a name is only ever stored as a token: one that is not valid Unicode is keyed as it came
    secret = SECRETS["acme"].encode()
    assert query(f"select distinct name_token from raw_acme.users where id = {customer.id}") == [
        (pseudonym(secret, "name", customer.name + " \ud800"),)]


def test_a_quarantined_update_leaves_the_old_version_until_a_fixed_one_loads(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(monkeypatch, tmp_path)
    ticket, first, second = three_versions(world)
    last = world.end
    with Implausible(world, as_of=first) as api:
        load_tenant(tenant(api))
        loaded = query(f"select updated_at from raw_acme.tickets where id = {ticket}")
        api.as_of, api.broken = second, {ticket: "year 9999"}
        load_tenant(tenant(api), report=IngestReport("acme", started_at=second))
        assert query(f"select updated_at from raw_acme.tickets where id = {ticket}") == loaded
        assert quarantined() == [
            ("tickets", ticket, ticket, "updated_at: more than a day after the run started")]
        api.as_of, api.broken = last, {}  # fixed upstream, and changed since
        load_tenant(tenant(api), report=IngestReport("acme", started_at=last))
    assert query(f"select updated_at from raw_acme.tickets where id = {ticket}") == [
        (world.ticket(ticket).updated_at(last),)]
    assert quarantined() == []
    assert "tickets" not in tenant_pipeline(tenant(api)).state["sources"]["zendesk"]["quarantined"]


def test_a_retry_reads_quarantined_records_again_from_where_they_were_served(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(monkeypatch, tmp_path)
    a, b = tagged(world)[:2]
    with Implausible(world) as api:
        acme = tenant(api)
        api.broken = {a: "year 9999", b: "lone surrogate"}
        load_tenant(acme, report=IngestReport("acme", started_at=world.end))
        records = held("acme")
        assert [(r.table, r.ticket_id) for r in records] == [("ticket_tags", b), ("tickets", a)]
        served_at = {r.ticket_id: r.record_time for r in records}
        assert served_at == {t: world.ticket(t).updated_at(world.end) for t in (a, b)}
        api.broken = {}  # the cause is fixed; the tickets themselves have not changed since
        load_tenant(acme)
        assert len(held("acme")) == 2  # a regular load resumes after them
        start, end = retry_days(acme, records, world.end.date())
        assert start == min(served_at.values()).date() and end == world.end.date() + timedelta(days=1)
        backfill_tenant(acme, datetime.combine(start, datetime.min.time(), UTC),
                        datetime.combine(end, datetime.min.time(), UTC))
    assert held("acme") == []
    assert query(f"select count(*) from raw_acme.tickets where id = {a}") == [(1,)]
    assert query(f"select count(*) from raw_acme.ticket_tags where ticket_id = {b}") == [
        (len(world.ticket(b).tags),)]


def test_erasing_a_ticket_removes_the_quarantine_rows_about_it() -> None:
    import duckdb

    from pipelines.privacy.warehouse import delete_quarantined

    con = duckdb.connect()
    con.execute("create schema raw_acme")
    con.execute("create table raw_acme.quarantine (tenant_id varchar, table_name varchar, record_key varchar,"
                " record_id bigint, ticket_id bigint, reason varchar)")
    con.execute("insert into raw_acme.quarantine values ('acme', 'tickets', 'k1', 7, 7, 'r'),"
                " ('acme', 'ticket_tags', 'k2', null, 7, 'r'), ('acme', 'ticket_events', 'k3', 70, 7, 'r'),"
                " ('acme', 'ticket_events', 'k4', 80, 8, 'r'), ('acme', 'users', 'k5', 5, null, 'r')")
    con.execute("create temp table erased_people (id bigint)")
    con.execute("create temp table erased_tickets as select 7 as id")
    deleted = delete_quarantined(con, "raw_acme", "zendesk", people="erased_people", tickets="erased_tickets")
    assert deleted == 3
    left = con.execute("select record_key from raw_acme.quarantine order by 1").fetchall()
    assert left == [("k4",), ("k5",)]
