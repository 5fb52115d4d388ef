"""The Zendesk dlt source loads the raw contract into a real DuckDB file from the fake API over HTTP.

Expected rows come from the world objects; the contract's tables and columns from the source's
declarations (``raw_tables.py``), from which docs/raw_contract.md is written (test_raw_docs.py holds
the document to them), so the document and the loader cannot drift apart.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.fakes.zendesk import facts
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.fakes.zendesk.metrics import metric_events
from pipelines.ingest import home
from pipelines.ingest.config import Credentials, TenantConfig
from pipelines.ingest.keys import pseudonym
from pipelines.load import RESUMED_LOADS, backfill_tenant, load_tenant, tenant_pipeline
from pipelines.sources.zendesk import event_rows, exports, settings, zendesk_source
from pipelines.sources.zendesk.raw_tables import TABLES
from pipelines.world import ORDER_NOTE_FIELD, PRODUCT_FIELD, World, WorldConfig
from tests.ingest_support import SECRETS, query, raw_tables, tenant, use_environment

FREE_TEXT_COLUMNS = {"subject", "raw_subject", "description", "body", "html_body", "comment", "tags",
                     "custom_fields", "email", "phone"}
PEOPLE_TABLES = ("tickets", "ticket_events", "users", "satisfaction_ratings")


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(tenant_id="acme", seed=2, tickets=300))


@pytest.fixture
def api(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    use_environment(monkeypatch, tmp_path)
    with FakeZendesk(world) as server:
        yield server


def contract() -> dict[str, set[str]]:
    """Table → columns, as the source declares them."""
    return {table.name: {column.name for column in table.columns} for table in TABLES}


def loaded_columns(dataset: str) -> dict[str, dict[str, str]]:
    columns: dict[str, dict[str, str]] = {}
    for table, column, data_type in query(
        "select table_name, column_name, data_type from information_schema.columns"
        f" where table_schema = '{dataset}' and table_name not like '\\_dlt%' escape '\\'"
        " and column_name not like '\\_dlt%' escape '\\'"
    ):
        columns.setdefault(table, {})[column] = data_type
    return columns


def test_a_load_matches_the_contract_and_holds_no_free_text_or_identity(
    api: FakeZendesk, world: World
) -> None:
    load_tenant(tenant(api, custom_fields=(PRODUCT_FIELD,)))
    columns = loaded_columns("raw_acme")
    expected = contract()
    del expected["quarantine"]  # nothing to quarantine in a clean load
    assert {t: set(c) for t, c in columns.items()} == expected
    for table, table_columns in columns.items():
        assert not FREE_TEXT_COLUMNS & set(table_columns), table
        if table in PEOPLE_TABLES:
            assert "name" not in table_columns, table
    assert columns["tickets"]["id"] == "BIGINT"
    assert columns["tickets"]["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert columns["ticket_events"]["is_public"] == "BOOLEAN"
    assert columns["schedule_holidays"]["start_date"] == "DATE"

    identities = {v for u in world.users() for v in (u.name, u.email, u.phone) if v}
    for table, table_columns in columns.items():
        for column, data_type in table_columns.items():
            if data_type == "VARCHAR":
                values = {v for (v,) in query(f'select distinct "{column}" from raw_acme.{table}')}
                assert not values & identities, f"{table}.{column} holds a person's identity"
                assert not any(v and "Generated" in v for v in values), f"{table}.{column} holds free text"


def test_rows_match_the_world(api: FakeZendesk, world: World) -> None:
    load_tenant(tenant(api))
    as_of, secret = api.as_of, SECRETS["acme"].encode()
    states = {t.id: t.state_at(as_of) for t in world.tickets() if t.state_at(as_of) is not None}
    rows = query("select id, status, assignee_id, requester_id from raw_acme.tickets")
    loaded = {row[0]: row[1:] for row in rows}
    assert loaded == {i: (s["status"], s["assignee_id"], s["requester_id"]) for i, s in states.items()}

    events = Counter(e.type for t in world.tickets() for a in t.audits_at(as_of) for e in a.events)
    assert dict(query("select event_type, count(*) from raw_acme.ticket_events group by 1")) == events
    ratings = sum(len(t.ratings_at(as_of)) for t in world.tickets())
    assert query("select count(*) from raw_acme.satisfaction_ratings") == [(ratings,)]

    people = {u.id: u for u in world.users() if u.version_at(as_of) is not None}
    tokens = {row[0]: row[1:] for row in query(
        "select id, email_token, role, user_key, organization_id from raw_acme.users")}
    assert tokens == {
        i: (pseudonym(secret, "email", u.email), u.version_at(as_of).role, pseudonym(secret, "user", i),
            u.organization_id)
        for i, u in people.items()
    }
    assert query("select count(*) from raw_acme.groups") == [(len(world.groups()),)]
    assert query("select count(*) from raw_acme.schedule_intervals") == [
        (sum(len(s.intervals) for s in world.schedules()),)]
    assert query("select count(*) from raw_acme.schedule_holidays") == [
        (sum(len(s.holidays) for s in world.schedules()),)]
    assert query("select tenant_id, platform, timezone, retention_days from raw_acme.tenant") == [
        ("acme", "zendesk", "Europe/Amsterdam", 365)]


def test_every_person_on_a_ticket_is_keyed_beside_the_id(api: FakeZendesk) -> None:
    """Requester, submitter and assignee keys on tickets, person-field events and ratings are the
    user key of the id beside them (computed here), whether or not the users export has them."""
    load_tenant(tenant(api))
    secret = SECRETS["acme"].encode()

    def keyed(sql: str) -> list[tuple]:
        pairs = query(sql)
        assert pairs and any(user_id is not None for user_id, _ in pairs), sql
        return [(user_id, key) for user_id, key in pairs if key != pseudonym(secret, "user", user_id)]

    for person in ("requester", "submitter", "assignee"):
        assert keyed(f"select {person}_id, {person}_key from raw_acme.tickets") == [], person
    for person in ("requester", "assignee"):
        assert keyed(f"select {person}_id, {person}_key from raw_acme.satisfaction_ratings") == [], person
    for value in ("value", "previous_value"):
        assert keyed(f"select {value}, {value}_key from raw_acme.ticket_events"
                     " where field_name in ('assignee_id', 'requester_id', 'submitter_id')") == [], value
    assert query("select count(*) from raw_acme.ticket_events where field_name not in"
                 " ('assignee_id', 'requester_id', 'submitter_id') and value_key is not null") == [(0,)]


def test_tags_brands_organisations_fields_and_slas_match_the_world(api: FakeZendesk, world: World) -> None:
    load_tenant(tenant(api, custom_fields=(PRODUCT_FIELD,)))
    tickets = [t for t in world.tickets() if t.state_at(api.as_of) is not None]
    assert sorted(query("select ticket_id, tag from raw_acme.ticket_tags")) == sorted(
        (t.id, tag) for t in tickets for tag in t.tags)
    assert any(not t.tags for t in tickets), "some tickets should have no tags"
    assert dict(query("select id, brand_id from raw_acme.tickets")) == {t.id: t.brand_id for t in tickets}
    assert dict(query("select id, organization_id from raw_acme.tickets")) == {
        t.id: t.organization_id for t in tickets}
    brand_ids = {b for (b,) in query("select distinct brand_id from raw_acme.tickets")}
    assert brand_ids == {b.id for b in world.brands()}
    assert query("select id, name, is_default from raw_acme.brands order by id") == [
        (b.id, b.name, b.id == 1) for b in world.brands()]

    assert sorted(query("select ticket_id, field_id, value from raw_acme.ticket_field_values")) == sorted(
        (t.id, PRODUCT_FIELD, dict(t.custom_fields)[PRODUCT_FIELD]) for t in tickets)
    loaded_fields = dict(query("select id, values_loaded from raw_acme.ticket_fields"))
    assert loaded_fields == {f.id: f.id == PRODUCT_FIELD for f in world.ticket_fields()}
    assert ORDER_NOTE_FIELD in loaded_fields  # described, never its values

    targets = {(p.id, t.priority, t.metric): t.minutes for p in world.sla_policies() for t in p.targets}
    assert {row[:3]: row[3] for row in query(
        "select policy_id, priority, metric, target_minutes from raw_acme.sla_policy_metrics")} == targets
    assert query("select id, title from raw_acme.sla_policies order by position") == [
        (p.id, p.title) for p in world.sla_policies()]


def test_zendesk_metrics_and_metric_events_are_loaded(api: FakeZendesk, world: World) -> None:
    load_tenant(tenant(api))
    cutoff = api.as_of - timedelta(seconds=facts.EXPORT_DELAY_SECONDS)
    expected = Counter((e.metric, e.type) for t in world.tickets()
                       for e in metric_events(t, world.sla_policies(), world.agent_ids, cutoff,
                                              world.schedules()[0]))
    loaded = query("select metric, type, count(*) from raw_acme.ticket_metric_events group by 1, 2")
    assert {(m, t): n for m, t, n in loaded} == expected
    assert {"apply_sla", "breach", "fulfill", "pause"} <= {t for _, t in expected}
    sla = query("select count(*) from raw_acme.ticket_metric_events"
                " where type = 'apply_sla' and (sla_policy_id is null or sla_target_minutes is null)")
    assert sla == [(0,)]

    metrics = query("select count(*), count(distinct ticket_id), count(reply_time_in_minutes_calendar),"
                    " count(reply_time_in_minutes_business) from raw_acme.ticket_metrics")
    tickets = query("select count(*) from raw_acme.tickets")[0][0]
    assert metrics[0][:2] == (tickets, tickets) and metrics[0][2] > tickets // 2 and metrics[0][3] == 0


def test_a_second_load_fetches_only_what_changed(api: FakeZendesk, world: World) -> None:
    before, after = world.start + timedelta(days=50), world.start + timedelta(days=90)
    delay = timedelta(seconds=facts.EXPORT_DELAY_SECONDS)
    api.as_of = before
    load_tenant(tenant(api))
    api.as_of = after
    api.reset_stats()
    load_tenant(tenant(api))
    stats = api.stats

    tickets = list(world.tickets())
    changed = [t for t in tickets if t.updated_at(after - delay) != t.updated_at(before - delay)]
    assert stats["tickets"] == {"requests": 1, "items": len(changed)}
    people = list(world.users())
    versions = {(u.id, v.at) for u in people for v in (u.version_at(before), u.version_at(after)) if v}
    new_versions = {u.id for u in people if u.version_at(after) != u.version_at(before)}
    assert len(versions) > len({u for u, _ in versions}), "an agent should change role in the window"
    assert stats["users"] == {"requests": 1, "items": len(new_versions)}
    last_second = max(int(a.at.timestamp()) for t in tickets for a in t.audits_at(before - delay))
    new_audits = sum(1 for t in tickets for a in t.audits_at(after - delay)
                     if int(a.at.timestamp()) >= last_second)
    served, requests = stats["ticket_events"]["items"], stats["ticket_events"]["requests"]
    assert new_audits <= served <= new_audits + 5 * requests  # boundary seconds come twice

    visible = after - delay
    events = sum(len(a.events) for t in tickets for a in t.audits_at(visible))
    ratings = sum(len(t.ratings_at(after)) for t in tickets)
    shown = [t for t in tickets if t.state_at(visible) is not None]
    assert len(shown) < len(tickets)
    assert query("select count(*), count(distinct id) from raw_acme.tickets") == [(len(shown),) * 2]
    assert query("select count(*), count(distinct id) from raw_acme.ticket_events") == [(events,) * 2]
    assert query("select count(*), count(distinct id) from raw_acme.satisfaction_ratings") == [(ratings,) * 2]
    assert query("select count(*), count(distinct (id, updated_at)) from raw_acme.users") == [
        (len(versions),) * 2]
    statuses = dict(query("select id, status from raw_acme.tickets"))
    assert statuses == {t.id: t.state_at(visible)["status"] for t in shown}

    api.reset_stats()
    load_tenant(tenant(api))  # nothing changed: only the last second of events comes again
    last_second = max(int(a.at.timestamp()) for t in tickets for a in t.audits_at(visible))
    repeated = sum(1 for t in tickets for a in t.audits_at(visible) if int(a.at.timestamp()) == last_second)
    assert {k: api.stats[k]["items"] for k in ("tickets", "users", "ticket_events")} == {
        "tickets": 0, "users": 0, "ticket_events": repeated}


def test_a_time_based_read_loads_each_record_once_and_only_what_is_new_at_the_second_it_starts_at(
) -> None:
    """A page leaves its last second to the next page, which serves that second again (a record
    changed in between comes once, as it is then); the last page keeps it. The next read starts
    at that second: the records loaded then are left out, one that arrived in it since, or changed
    within it, is new. A crowded second the paginator stepped past is kept whole."""
    from pipelines.sources.zendesk.exports import SERVED, ExportReader, ItemTime
    from pipelines.sources.zendesk.tables import Quarantine

    hints = {"id": {"data_type": "bigint", "nullable": False}, "at": {"data_type": "bigint"},
             "score": {"data_type": "text"}}
    reader = ExportReader("things", hints, lambda item: [item], ItemTime("at"),
                          Quarantine("acme", "things", b"secret"), {"start_time": None, SERVED: []}, None)

    def read(*pages: tuple[list[dict], int, bool]) -> list[tuple[int, str | None]]:
        built = [reader((json.dumps({"things": items, "end_of_stream": last}).encode(), position))
                 for items, position, last in pages]
        assert built[-1].position == reader.seen["start_time"] and built[-1].served == reader.seen[SERVED]
        return [(row["id"], row["score"]) for page in built for row in page.typed.to_pylist()]

    def thing(thing_id: int, at: int, score: str | None = None) -> dict:
        return {"id": thing_id, "at": at, "score": score}

    assert read(([thing(1, 10), thing(2, 12), thing(3, 12, "good")], 12, False),
                ([thing(2, 12), thing(3, 12, "bad"), thing(4, 12)], 12, True)
                ) == [(1, None), (2, None), (3, "bad"), (4, None)]
    assert reader.seen["start_time"] == 12
    assert read(([thing(2, 12), thing(3, 12, "bad"), thing(4, 12), thing(3, 12, "worse"), thing(5, 12),
                  thing(6, 13)], 13, True)) == [(3, "worse"), (5, None), (6, None)]
    assert read(([thing(6, 13)], 13, True)) == []  # nothing new: nothing loaded
    crowded = [thing(thing_id, 20) for thing_id in range(7, 10)]
    assert read((crowded, 21, False), ([thing(10, 21)], 21, True)) == [(7, None), (8, None), (9, None),
                                                                         (10, None)]


def test_long_exports_built_in_a_worker_process_load_the_rows_of_a_load_built_here(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past ``INLINE_PAGES`` pages, a time-based export's pages become tables in a worker process.
    A regular load in two steps and a backfill whose windows end mid-export, both through the
    worker, load the rows of one load that built every page here, and those are the world's."""
    monkeypatch.setattr(facts, "TIME_EXPORT_PAGE_SIZE", 40)  # dozens of pages per export
    built_here: Counter[str] = Counter()
    build = exports.ExportReader.__call__

    def counted(reader: exports.ExportReader, page: tuple[bytes, int]) -> exports.ExportPage:
        built_here[reader.envelope] += 1  # in this process only: the worker imports the class afresh
        return build(reader, page)

    monkeypatch.setattr(exports.ExportReader, "__call__", counted)
    middle = world.start + (world.end - world.start) / 2
    with FakeZendesk(world, as_of=world.end) as api:
        monkeypatch.setattr(exports, "INLINE_PAGES", 10_000)
        use_environment(monkeypatch, tmp_path / "here")
        load_tenant(tenant(api))
        here, pages = raw_tables(), dict(built_here)
        visible = world.end - timedelta(seconds=facts.EXPORT_DELAY_SECONDS)
        events = sum(len(a.events) for t in world.tickets() for a in t.audits_at(visible))
        assert len(here["ticket_events"]) == events and min(pages.values()) > 20

        monkeypatch.setattr(exports, "INLINE_PAGES", 0)
        built_here.clear()
        use_environment(monkeypatch, tmp_path / "worker")
        api.as_of = middle
        load_tenant(tenant(api))
        api.as_of = world.end
        load_tenant(tenant(api))
        assert without(raw_tables(), "users") == without(here, "users")  # users: a row per version seen
        assert built_here == {}  # every page in the worker

        use_environment(monkeypatch, tmp_path / "backfill")
        load_tenant(tenant(api, start_date=middle))
        backfill_tenant(tenant(api, start_date=middle), world.start - timedelta(days=1), middle,
                        step=timedelta(days=30))
        assert without(raw_tables(), "tenant") == without(here, "tenant")  # tenant: its start_date


def without(tables: dict[str, list[tuple]], name: str) -> dict[str, list[tuple]]:
    return {table: rows for table, rows in tables.items() if table != name}


def test_a_run_after_a_crash_removes_rows_a_resumed_load_copied_twice(api: FakeZendesk, world: World) -> None:
    """The event tables are merged without deduplicating, so rows a resumed load copied twice
    would stay twice. The run that finishes such a load writes its id down first; after a crash
    before the repair, the next run repairs it."""
    api.as_of = world.start + timedelta(days=30)
    config = tenant(api)
    load_tenant(config)
    api.as_of = world.start + timedelta(days=50)
    pipeline = tenant_pipeline(config)
    pipeline.extract(zendesk_source(config))
    pipeline.normalize()  # left for the next run to load, as a crash would
    [resumed] = pipeline.list_normalized_load_packages()
    load_tenant(config)
    marker = Path(pipeline.working_dir) / RESUMED_LOADS
    assert not marker.exists()
    clean = raw_tables()
    with duckdb.connect(str(home.warehouse_path())) as con:  # the copy of one file, twice
        for table in ("ticket_events", "ticket_metric_events"):
            con.execute(f"insert into raw_acme.{table} select * from raw_acme.{table}"
                        f" where _dlt_load_id = '{resumed}' and id % 3 = 0")
    assert raw_tables() != clean
    marker.write_text(json.dumps([resumed]))  # the crash came before the repair
    load_tenant(config)
    assert raw_tables() == clean and not marker.exists()


def test_a_load_leaves_its_rows_in_the_warehouse_file_while_the_process_holds_it_open(
    api: FakeZendesk, world: World
) -> None:
    # the in-process runner and the benchmark keep a connection open (dbt's); DuckDB writes its
    # log into the file only when the last one closes, so the load must do it itself
    api.as_of = world.start + timedelta(days=50)
    load_tenant(tenant(api))
    wal = Path(f"{home.warehouse_path()}.wal")
    with duckdb.connect(str(home.warehouse_path())) as held_open:
        api.as_of = world.start + timedelta(days=90)
        load_tenant(tenant(api))
        assert not wal.exists() or wal.stat().st_size == 0
        tickets = held_open.execute("select count(*) from raw_acme.tickets").fetchall()[0][0]
    visible = api.as_of - timedelta(seconds=facts.EXPORT_DELAY_SECONDS)
    assert tickets == sum(1 for t in world.tickets() if t.state_at(visible) is not None)


def test_what_changed_in_the_last_minute_comes_with_the_next_load(api: FakeZendesk, world: World) -> None:
    audit = world.ticket(40).audits[2]
    api.as_of = audit.at + timedelta(seconds=30)
    load_tenant(tenant(api))
    assert query(f"select count(*) from raw_acme.ticket_events where audit_id = {audit.id}") == [(0,)]
    api.as_of = audit.at + timedelta(minutes=2)
    load_tenant(tenant(api))
    assert query(f"select count(*) from raw_acme.ticket_events where audit_id = {audit.id}") == [
        (len(audit.events),)]


class Retagging(FakeZendesk):
    """Serves some tickets without their tags."""

    untagged: frozenset[int] = frozenset()

    def _ticket_json(self, row: dict[str, Any], custom_field_ids: tuple[int, ...]) -> dict[str, Any]:
        item = super()._ticket_json(row, custom_field_ids)
        return {**item, "tags": [] if item["id"] in self.untagged else item["tags"][:1]}


def test_a_ticket_exported_again_replaces_its_tags(world: World, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    use_environment(monkeypatch, tmp_path)
    before = world.start + timedelta(days=50)
    with Retagging(world, as_of=before) as api:
        load_tenant(tenant(api))
        tagged = dict(query("select ticket_id, count(*) from raw_acme.ticket_tags group by 1"))
        api.as_of = world.end
        changed = {t.id for t in world.tickets() if t.updated_at(world.end) != t.updated_at(before)}
        api.untagged = frozenset(changed & set(tagged))
        assert api.untagged
        load_tenant(tenant(api))
    after = dict(query("select ticket_id, count(*) from raw_acme.ticket_tags group by 1"))
    assert not set(after) & api.untagged
    assert all(count == 1 for count in after.values())
    assert query("select count(*) from raw_acme.ticket_tags where cleared or tag = ''") == [(0,)]


class Corrupting(FakeZendesk):
    """Serves a few records that cannot be typed, and a new figure in every metric set."""

    def _ticket_json(self, row: dict[str, Any], custom_field_ids: tuple[int, ...]) -> dict[str, Any]:
        item = super()._ticket_json(row, custom_field_ids)
        broken = {5: {"created_at": "yesterday-ish"}, 6: {"assignee_id": "the usual one"}, 7: {"id": None}}
        return {**item, **broken.get(item["id"], {})}

    def _rating_json(self, row: dict[str, Any]) -> dict[str, Any]:
        item = super()._rating_json(row)
        return {**item, "score": ["good"]} if item["ticket_id"] == 9 else item

    def _metric_set_json(self, row: dict[str, Any]) -> dict[str, Any]:
        return {**super()._metric_set_json(row), "sla_paused": False, "note": "free text is never loaded",
                "escalation_time_in_minutes": {"calendar": 3, "business": 2}}


def test_records_that_cannot_be_typed_are_quarantined_with_the_reason(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_environment(monkeypatch, tmp_path)
    with Corrupting(world) as api:
        load_tenant(tenant(api))
        served = api.stats
    quarantined = query("select table_name, record_id, reason from raw_acme.quarantine")
    ratings_of_9 = [r.id for r in world.ticket(9).ratings_at(api.as_of)]
    tags_of_7 = max(1, len(world.ticket(7).tags))
    assert ratings_of_9
    assert sorted(quarantined, key=repr) == sorted([
        *[("satisfaction_ratings", rating_id, "score: expected text") for rating_id in ratings_of_9],
        *[("ticket_tags", None, "ticket_id: missing")] * tags_of_7,
        ("tickets", 5, "created_at: expected an ISO 8601 time"),
        ("tickets", 6, "assignee_id: expected a whole number"),
        ("tickets", None, "id: missing"),
    ], key=repr)
    assert query("select count(*) from raw_acme.tickets where id in (5, 6, 7)") == [(0,)]
    for table, endpoint in (("tickets", "tickets"), ("satisfaction_ratings", "satisfaction_ratings")):
        loaded = query(f"select count(*) from raw_acme.{table}")[0][0]
        parked = query(f"select count(*) from raw_acme.quarantine where table_name = '{table}'")[0][0]
        assert loaded + parked == served[endpoint]["items"], table
    keys = query("select record_key from raw_acme.quarantine")
    assert all(len(key) == 64 for (key,) in keys)

    # schema drift: a figure the API added becomes columns; free text it added does not
    columns = {c for (c,) in query("select column_name from information_schema.columns"
                                   " where table_schema = 'raw_acme' and table_name = 'ticket_metrics'")}
    added = {"escalation_time_in_minutes_calendar", "escalation_time_in_minutes_business", "sla_paused"}
    assert added <= columns
    assert "note" not in columns
    figures = query("select distinct escalation_time_in_minutes_calendar from raw_acme.ticket_metrics")
    assert figures == [(3.0,)]


def test_a_rerun_after_a_crash_before_loading_gives_the_clean_rows(api: FakeZendesk, world: World) -> None:
    acme = tenant(api)
    tenant_pipeline(acme).extract(zendesk_source(acme))  # the process dies before normalise and load
    load_tenant(acme)
    visible = api.as_of - timedelta(seconds=facts.EXPORT_DELAY_SECONDS)
    events = sum(len(a.events) for t in world.tickets() for a in t.audits_at(visible))
    assert query("select count(*), count(distinct id) from raw_acme.ticket_events") == [(events,) * 2]
    tickets = sum(1 for t in world.tickets() if t.state_at(visible) is not None)
    assert query("select count(*), count(distinct id) from raw_acme.tickets") == [(tickets,) * 2]


def test_tenants_get_their_own_tokens_for_the_same_person(api: FakeZendesk) -> None:
    load_tenant(tenant(api, "acme"))
    load_tenant(tenant(api, "beta"))
    pairs = query(
        "select a.email_token, b.email_token, a.user_key, b.user_key from raw_acme.users a"
        " join raw_beta.users b using (id, updated_at)"
    )
    assert pairs and all(a != b and ka != kb for a, b, ka, kb in pairs)


def test_building_the_source_reads_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ZENDESK_EMAIL", "ZENDESK_TOKEN", "ACME_SECRET"):
        monkeypatch.delenv(name, raising=False)
    placeholder = TenantConfig(
        id="acme", platform="zendesk", base_url="https://acme.zendesk.com",
        credentials=Credentials("ZENDESK_EMAIL", "ZENDESK_TOKEN"), secret_env="ACME_SECRET",
    )
    assert set(zendesk_source(placeholder).selected_resources) == set(contract()) - {"quarantine"}


def test_event_rows_keep_only_allowed_fields_and_no_comment_text() -> None:
    audit = {
        "id": 7, "ticket_id": 1, "created_at": "2026-01-05T10:00:00Z", "updater_id": 3,
        "via": {"channel": "email"}, "event_type": "Audit",
        "child_events": [
            {"id": 1, "event_type": "Create", "field_name": "subject", "value": "My card 4111 was charged"},
            {"id": 2, "event_type": "Create", "field_name": "360001", "value": "custom free text"},
            {"id": 3, "event_type": "Create", "field_name": "status", "value": "new"},
            {"id": 4, "event_type": "Comment", "author_id": 3, "public": True, "body": "Hi, I'm Jane",
             "html_body": "<p>Hi, I'm Jane</p>"},
            {"id": 5, "event_type": "Notification", "subject": "Your request", "body": "Dear Jane"},
            {"id": 6, "event_type": "Change", "field_name": "360002", "value": ["b", "a"],
             "previous_value": None},
            "not an event",
        ],
    }
    rows = list(event_rows("acme", SECRETS["acme"].encode(), audit))
    assert [(r["id"], r["event_type"], r["field_name"], r["value"]) for r in rows] == [
        (3, "Create", "status", "new"), (4, "Comment", None, None)]
    assert rows[1]["author_id"] == 3 and rows[1]["is_public"] is True
    assert all(r["via_channel"] == "email" and r["tenant_id"] == "acme" for r in rows)
    assert "Jane" not in repr(rows)
    allowed = list(event_rows("acme", SECRETS["acme"].encode(), audit, settings.EVENT_FIELDS | {"360002"}))
    assert [(r["id"], r["value"]) for r in allowed if r["field_name"] == "360002"] == [(6, "b a")]
