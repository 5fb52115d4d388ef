"""The Zendesk dlt source loads the raw contract into a real DuckDB file from the fake API over HTTP.

Expected rows come from the world objects; the contract's tables and columns from
docs/raw_contract.md itself, so the document and the loader cannot drift apart.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from pipelines import home
from pipelines.config import Credentials, TenantConfig
from pipelines.keys import pseudonym
from pipelines.load import load_tenant, tenant_pipeline
from pipelines.world import World, WorldConfig
from pipelines.zendesk import event_rows, zendesk_source
from pipelines.zendesk.fake_api import DEFAULT_EMAIL, DEFAULT_TOKEN, FakeZendesk

CONTRACT = Path(__file__).resolve().parents[1] / "docs" / "raw_contract.md"
SECRETS = {"acme": "acme-secret-0123456789abcdef0123456789", "beta": "beta-secret-0123456789abcdef0123456789"}
FREE_TEXT_COLUMNS = {"subject", "raw_subject", "description", "body", "html_body", "comment", "tags",
                     "custom_fields", "email", "phone"}
PEOPLE_TABLES = ("tickets", "ticket_events", "users", "satisfaction_ratings")


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(tenant_id="acme", seed=2, tickets=300))


@pytest.fixture
def api(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("ZENDESK_EMAIL", DEFAULT_EMAIL)
    monkeypatch.setenv("ZENDESK_TOKEN", DEFAULT_TOKEN)
    for tenant_id, secret in SECRETS.items():
        monkeypatch.setenv(f"{tenant_id.upper()}_SECRET", secret)
    with FakeZendesk(world) as server:
        yield server


def tenant(api: FakeZendesk, tenant_id: str = "acme") -> TenantConfig:
    return TenantConfig(
        id=tenant_id, platform="zendesk", base_url=api.base_url,
        credentials=Credentials("ZENDESK_EMAIL", "ZENDESK_TOKEN"), secret_env=f"{tenant_id.upper()}_SECRET",
        timezone="Europe/Amsterdam", retention_days=365,
    )


def query(sql: str) -> list[tuple]:
    with duckdb.connect(str(home.warehouse_path()), read_only=True) as con:
        return con.execute(sql).fetchall()


def contract() -> dict[str, set[str]]:
    """Table → columns, read from the contract's markdown table (parenthesised notes dropped)."""
    tables = {}
    for line in CONTRACT.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^\| `(\w+)` \|[^|]*\| (.*) \|$", line)
        if match:
            depth, kept = 0, []
            for char in match.group(2):
                depth += (char == "(") - (char == ")")
                kept.append(char if depth == 0 and char != ")" else "")
            tables[match.group(1)] = {c.strip() for c in "".join(kept).split(",")}
    return tables


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
    load_tenant(tenant(api))
    columns = loaded_columns("raw_acme")
    assert {t: set(c) for t, c in columns.items()} == contract()
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
    tokens = {row[0]: row[1:] for row in query("select id, email_token, role, user_key from raw_acme.users")}
    assert tokens == {
        i: (pseudonym(secret, "email", u.email), u.version_at(as_of).role, pseudonym(secret, "user", i))
        for i, u in people.items()
    }
    assert query("select count(*) from raw_acme.groups") == [(len(world.groups()),)]
    assert query("select count(*) from raw_acme.schedule_intervals") == [
        (sum(len(s.intervals) for s in world.schedules()),)]
    assert query("select count(*) from raw_acme.schedule_holidays") == [
        (sum(len(s.holidays) for s in world.schedules()),)]
    assert query("select tenant_id, platform, timezone, retention_days from raw_acme.tenant") == [
        ("acme", "zendesk", "Europe/Amsterdam", 365)]


def test_a_second_load_fetches_only_what_changed(api: FakeZendesk, world: World) -> None:
    before, after = world.start + timedelta(days=50), world.start + timedelta(days=90)
    api.as_of = before
    load_tenant(tenant(api))
    api.as_of = after
    api.reset_stats()
    load_tenant(tenant(api))
    stats = api.stats

    tickets = list(world.tickets())
    changed = [t for t in tickets if t.updated_at(after) != t.updated_at(before)]
    assert stats["tickets"] == {"requests": 1, "items": len(changed)}
    people = list(world.users())
    versions = {(u.id, v.at) for u in people for v in (u.version_at(before), u.version_at(after)) if v}
    new_versions = {u.id for u in people if u.version_at(after) != u.version_at(before)}
    assert len(versions) > len({u for u, _ in versions}), "an agent should change role in the window"
    assert stats["users"] == {"requests": 1, "items": len(new_versions)}
    last_second = max(int(a.at.timestamp()) for t in tickets for a in t.audits_at(before))
    new_audits = sum(1 for t in tickets for a in t.audits_at(after) if int(a.at.timestamp()) >= last_second)
    served, requests = stats["ticket_events"]["items"], stats["ticket_events"]["requests"]
    assert new_audits <= served <= new_audits + 5 * requests  # boundary seconds come twice

    events = sum(len(a.events) for t in tickets for a in t.audits_at(after))
    ratings = sum(len(t.ratings_at(after)) for t in tickets)
    visible = [t for t in tickets if t.state_at(after) is not None]
    assert len(visible) < len(tickets)
    assert query("select count(*), count(distinct id) from raw_acme.tickets") == [(len(visible),) * 2]
    assert query("select count(*), count(distinct id) from raw_acme.ticket_events") == [(events,) * 2]
    assert query("select count(*), count(distinct id) from raw_acme.satisfaction_ratings") == [(ratings,) * 2]
    assert query("select count(*), count(distinct (id, updated_at)) from raw_acme.users") == [
        (len(versions),) * 2]
    statuses = dict(query("select id, status from raw_acme.tickets"))
    assert statuses == {t.id: t.state_at(after)["status"] for t in visible}

    api.reset_stats()
    load_tenant(tenant(api))  # nothing changed: only the last second of events comes again
    last_second = max(int(a.at.timestamp()) for t in tickets for a in t.audits_at(after))
    repeated = sum(1 for t in tickets for a in t.audits_at(after) if int(a.at.timestamp()) == last_second)
    assert {k: api.stats[k]["items"] for k in ("tickets", "users", "ticket_events")} == {
        "tickets": 0, "users": 0, "ticket_events": repeated}


def test_a_rerun_after_a_crash_before_loading_gives_the_clean_rows(api: FakeZendesk, world: World) -> None:
    acme = tenant(api)
    tenant_pipeline(acme).extract(zendesk_source(acme))  # the process dies before normalise and load
    load_tenant(acme)
    events = sum(len(a.events) for t in world.tickets() for a in t.audits_at(api.as_of))
    assert query("select count(*), count(distinct id) from raw_acme.ticket_events") == [(events,) * 2]
    tickets = sum(1 for t in world.tickets() if t.state_at(api.as_of) is not None)
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
    assert set(zendesk_source(placeholder).resources) == set(contract())


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
        ],
    }
    rows = list(event_rows("acme", audit))
    assert [(r["id"], r["event_type"], r["field_name"], r["value"]) for r in rows] == [
        (3, "Create", "status", "new"), (4, "Comment", None, None)]
    assert rows[1]["author_id"] == 3 and rows[1]["is_public"] is True
    assert all(r["via_channel"] == "email" and r["tenant_id"] == "acme" for r in rows)
    assert "Jane" not in repr(rows)
