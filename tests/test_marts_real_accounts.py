"""Real accounts' history and references, end to end: fake Zendesk → dlt → dbt → checks → publish.

Two ways real data differs from a world loaded from its first day, each run through the real
runner (``run_graph``) against fake APIs on 127.0.0.1:

- A ``start_date`` after some tickets were created (300 tickets, seed 7, start 2026-03-06): the
  tickets created before it but updated after are loaded without their creating audit. They are
  carried into the backlog on the start date, never counted as created, the checks pass and the
  tenant publishes; every backlog day from the start date matches the world's truth over the
  tickets the export serves (those updated since the start date: an open ticket untouched since
  then is never exported, by Zendesk either).
- People the users export does not return: one tenant's export leaves out an agent who was a
  ticket's assignee and that ticket's requester. Every tenant still publishes; the keys of both
  are the HMAC of their platform ids (computed here with ``pseudonym``), the agent has a
  dimension row marked referenced only, and the tenant's figures still match the world's truth.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from assets.runner import run_graph
from assets.serving import tenant_file
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.ingest.home import warehouse_path
from pipelines.ingest.keys import pseudonym
from pipelines.world import World, WorldConfig
from pipelines.world.truth import OPEN_STATUSES, truth, truth_of
from tests.test_end_to_end import MARTS, check_tenant

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a world of its own through the whole graph

START = datetime(2026, 3, 6, tzinfo=UTC)
SECRETS = {"acme": "acme-secret-0123456789abcdef0123456789", "beta": "beta-secret-0123456789abcdef0123456789"}


@contextlib.contextmanager
def served(folder: Path, worlds: dict[str, World], monkeypatch: pytest.MonkeyPatch,
           start_date: datetime | None = None, unlisted: dict[str, set[int]] | None = None,
           ) -> Iterator[Path]:
    """Fake APIs for ``worlds`` (their users exports leaving out ``unlisted``), a fresh home and a
    tenant file naming them; yields the tenant file."""
    monkeypatch.setenv("DESKPULSE_HOME", str(folder))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    entries = []
    with contextlib.ExitStack() as stack:
        for tenant_id, world in worlds.items():
            api = stack.enter_context(FakeZendesk(world, unlisted_users=(unlisted or {}).get(tenant_id, ())))
            prefix = f"REAL_{tenant_id.upper()}"
            monkeypatch.setenv(f"{prefix}_EMAIL", api.email)
            monkeypatch.setenv(f"{prefix}_TOKEN", api.token)
            monkeypatch.setenv(f"{prefix}_SECRET", SECRETS[tenant_id])
            entries.append({
                "id": tenant_id, "platform": "zendesk", "base_url": api.base_url,
                "credentials": {"email_env": f"{prefix}_EMAIL", "token_env": f"{prefix}_TOKEN"},
                "secret_env": f"{prefix}_SECRET", "timezone": world.config.timezone,
                "start_date": (start_date or world.start).date().isoformat(),
            })
        path = folder / "tenants.yaml"
        path.write_text(yaml.safe_dump({"tenants": entries}, sort_keys=False))
        yield path


BENCHMARK = "marts.benchmark_monthly"  # cross-tenant: in the benchmark file, not a tenant's


def published(tenant_id: str, table: str) -> list[dict]:
    """A table's rows in the tenant's serving file: what BI reads."""
    with duckdb.connect(str(tenant_file(tenant_id)), read_only=True) as con:
        cursor = con.execute(f"select * from {table}")
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# -- a start_date after some tickets were created ------------------------------------------------
@pytest.fixture(scope="module")
def started_late(tmp_path_factory, dbt_manifest):
    world = World(WorldConfig(tenant_id="acme", seed=7, tickets=300))
    with pytest.MonkeyPatch.context() as mp, \
            served(tmp_path_factory.mktemp("home"), {"acme": world}, mp, start_date=START) as tenants:
        outcome = run_graph(tenants)
        assert outcome.ok, outcome.failures
        yield world, published("acme", "tenant_daily_backlog"), published("acme", "fct_tickets")


def test_tickets_created_before_the_start_date_are_carried_in_and_the_tenant_publishes(started_late):
    world, backlog, tickets = started_late
    live = [t for t in tickets if not t["is_deleted"]]
    older = [t for t in live if t["created_at"] < START]
    assert (len(live), len(older)) == (161, 15)  # served tickets, and those older than the start date
    assert sum(day["created"] for day in backlog) == len(live) - len(older)
    assert sum(day["carried_in"] for day in backlog) == len(older)
    first = min(day["activity_date"] for day in backlog)
    assert first == START.date()
    assert [day["carried_in"] for day in backlog if day["activity_date"] == first] == [len(older)]


def test_the_backlog_from_the_start_date_matches_the_world(started_late):
    world, backlog, _ = started_late
    exported = [t for t in world.tickets() if (u := t.updated_at(world.end)) is not None and u >= START]
    carried = [t for t in exported if t.state_at(START) is not None]
    assert any(t.state_at(START)["status"] in OPEN_STATUSES for t in carried), \
        "no ticket is open when the history begins: the opening backlog is not exercised"
    want = truth_of(exported, world.end, world.config.timezone, world.agent_ids).backlog
    got = {day["activity_date"]: day for day in backlog}
    assert set(got) == {day for day in want if day >= START.date()}
    mismatches = [(day, name, got[day][name], getattr(want[day], name))
                  for day in sorted(got) for name in ("backlog_open", "created", "solved", "reopened")
                  if got[day][name] != getattr(want[day], name)]
    assert not mismatches, mismatches[:10]


# -- people the users export does not return ----------------------------------------------------
@pytest.fixture(scope="module")
def unlisted_people(tmp_path_factory, dbt_manifest):
    worlds = {tenant_id: World(WorldConfig(tenant_id=tenant_id, seed=seed, tickets=150))
              for tenant_id, seed in (("acme", 41), ("beta", 42))}
    world = worlds["acme"]
    states = {t.id: t.state_at(world.end) for t in world.tickets() if t.state_at(world.end)}
    ticket, state = next((i, s) for i, s in states.items() if s["assignee_id"] and s["status"] != "deleted")
    people = {"agent": state["assignee_id"], "requester": state["requester_id"]}
    unlisted = {"acme": set(people.values())}
    with pytest.MonkeyPatch.context() as mp, \
            served(tmp_path_factory.mktemp("home"), worlds, mp, unlisted=unlisted) as tenants:
        outcome = run_graph(tenants)
        assert outcome.ok, outcome.failures
        with duckdb.connect(str(warehouse_path()), read_only=True) as con:
            raw_ids = {row[0] for row in con.execute("select id from raw_acme.users").fetchall()}
            identity = con.execute("select agent_key, name_token from restricted.agent_identity"
                                   " where tenant_id = 'acme'").fetchall()
        marts = {table: [row for tenant_id in worlds
                         for row in published(tenant_id, table.removeprefix("marts."))]
                 for table in MARTS if table.startswith("marts.") and table != BENCHMARK}
        yield {"worlds": worlds, "ticket": ticket, "people": people, "raw_ids": raw_ids,
               "identity": dict(identity), "marts": marts}


def key(tenant_id: str, user_id: int | None) -> str | None:
    return pseudonym(SECRETS[tenant_id].encode(), "user", user_id)


def test_every_tenant_publishes_and_the_unlisted_people_are_keyed_by_their_ids(unlisted_people):
    seen = unlisted_people
    assert not set(seen["people"].values()) & seen["raw_ids"], "the users export must leave them out"
    for tenant_id in seen["worlds"]:
        assert published(tenant_id, "fct_tickets"), tenant_id
    ticket = next(t for t in published("acme", "fct_tickets") if t["ticket_id"] == seen["ticket"])
    assert ticket["requester_key"] == key("acme", seen["people"]["requester"])
    assert ticket["assignee_key"] == key("acme", seen["people"]["agent"])
    agents = {a["agent_key"]: a for a in published("acme", "dim_agents")}
    agent = agents[key("acme", seen["people"]["agent"])]
    assert agent["is_referenced_only"] and agent["was_assignee"] and agent["latest_role"] is None
    assert [k for k, a in agents.items() if a["is_referenced_only"]] == [agent["agent_key"]]
    assert agent["agent_key"] not in seen["identity"]  # no record, no identity: mapped to no one


def test_every_ticket_keys_its_requester_and_assignee(unlisted_people):
    for tenant_id, world in unlisted_people["worlds"].items():
        states = {t.id: t.state_at(world.end) for t in world.tickets() if t.state_at(world.end)}
        for row in published(tenant_id, "fct_tickets"):
            state, where = states[row["ticket_id"]], (tenant_id, row["ticket_id"])
            assert row["requester_key"] == key(tenant_id, state["requester_id"]), where
            assert row["assignee_key"] == key(tenant_id, state["assignee_id"]), where


def test_the_tenant_with_unlisted_people_still_matches_the_world(unlisted_people):
    """Their work is credited to their keys as if their user records had been exported."""
    for tenant_id, world in unlisted_people["worlds"].items():
        check_tenant(tenant_id, SECRETS[tenant_id], truth(world), unlisted_people["marts"], "unlisted")
