"""Erasure of every kind of person on a real raw load, without the marts: customers on no ticket,
people never loaded, agents who must choose, an agent unlinked, and a dry run that changes nothing.

One small world is loaded from the fake API once; each test erases in its own copy of that home.
Expected rows come from the world (who is on which ticket) and from the raw rows before erasure.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.ingest import home
from pipelines.ingest.keys import pseudonym
from pipelines.load import load_tenant
from pipelines.privacy import PrivacyError, audit, suppression
from pipelines.privacy.classification import person_columns
from pipelines.privacy.erase import AgentModeRequired, erase_person
from pipelines.privacy.register import PEOPLE
from pipelines.world import ORDER_NOTE_FIELD, World, WorldConfig
from tests.ingest_support import SECRETS, query, tenant, use_environment
from tests.test_privacy_classification import REVIEWS

NOTE = "the note the agent typed"
PEOPLE_COLUMNS = {"tickets": ("requester_id", "submitter_id", "assignee_id"),
                  "ticket_events": ("author_id", "updater_id"),
                  "satisfaction_ratings": ("requester_id", "assignee_id")}
# the user keys the loader writes beside those ids
KEY_COLUMNS = {"tickets": ("requester_key", "submitter_key", "assignee_key"),
               "ticket_events": ("value_key", "previous_value_key"),
               "satisfaction_ratings": ("requester_key", "assignee_key")}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict:
    """A world of 40 tickets loaded into raw (custom free-text field allow-listed), and one change
    of that field written by an agent, as Zendesk records one (the fake world has none)."""
    world = World(WorldConfig(tenant_id="acme", seed=3, tickets=40))
    folder = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as mp:
        use_environment(mp, folder)
        with FakeZendesk(world) as api:
            config = tenant(api, custom_fields=(ORDER_NOTE_FIELD,))
            load_tenant(config)
        agent = next(a for a in world.agents if any(_state(world, t)["assignee_id"] == a.id
                                                    for t in _tickets(world)))
        ticket = next(t for t in _tickets(world) if _state(world, t)["assignee_id"] == agent.id)
        with duckdb.connect(str(folder / "warehouse.duckdb")) as con:
            con.execute("insert into raw_acme.ticket_events (tenant_id, id, audit_id, ticket_id, created_at,"
                        " updater_id, event_type, field_name, value, author_id) values ('acme', 9000000001,"
                        " 9000000001, ?, now(), ?, 'Change', ?, ?, ?)",
                        [ticket.id, agent.id, str(ORDER_NOTE_FIELD), NOTE, agent.id])
            con.execute("update raw_acme.ticket_field_values set value = ?"
                        " where ticket_id = ? and field_id = ?", [NOTE, ticket.id, ORDER_NOTE_FIELD])
    return {"world": world, "folder": folder, "config": config, "agent": agent, "noted": ticket.id}


def _tickets(world: World):
    return [t for t in world.tickets() if t.state_at(world.end)]


def _state(world: World, ticket) -> dict:
    return ticket.state_at(world.end)


@pytest.fixture
def acme(loaded, tmp_path, monkeypatch):
    """A fresh copy of the loaded home; the tenant's config."""
    shutil.copytree(loaded["folder"], tmp_path / "home")
    use_environment(monkeypatch, tmp_path / "home")
    return loaded["config"]


def fingerprints(folder: Path) -> dict[str, str]:
    """Every file under the home (but the audit log and logs, which record the command) by digest."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and "audit" not in p.parts and "logs" not in p.parts}


def named(user_id: int) -> dict[str, int]:
    """Rows of raw_acme naming the platform id, per table."""
    found = {}
    for table, columns in PEOPLE_COLUMNS.items():
        condition = " or ".join(f"{c} = {user_id}" for c in columns)
        found[table] = query(f"select count(*) from raw_acme.{table} where {condition}")[0][0]
    found["users"] = query(f"select count(*) from raw_acme.users where id = {user_id}")[0][0]
    return found


def on_no_ticket(world: World):
    used = {_state(world, t)["requester_id"] for t in _tickets(world)}
    return next(c for i in range(world.n_customers) if (c := world.customer(i)).id not in used)


def test_a_customer_on_no_ticket_erases_cleanly(loaded, acme):
    person = on_no_ticket(loaded["world"])
    assert named(person.id)["users"] == 1
    erasure = erase_person(acme, email=person.email)
    assert erasure.tickets == 0 and erasure.deleted["raw_acme.users"] == 1
    assert named(person.id) == dict.fromkeys([*PEOPLE_COLUMNS, "users"], 0)
    (entry,) = audit.entries("acme")
    assert entry["agent_mode"] == "delete" and entry["dry_run"] is False and entry["by"]
    assert suppression.load("acme").user_keys == {pseudonym(SECRETS["acme"].encode(), "user", person.id)}


def test_a_person_never_loaded_is_kept_out_by_user_id(acme):
    erasure = erase_person(acme, user_id=987_654_321)
    assert erasure.tickets == 0 and not any(erasure.deleted.values())
    assert suppression.load("acme").user_keys == {pseudonym(SECRETS["acme"].encode(), "user", 987_654_321)}


def test_an_unknown_email_erases_nothing(acme):
    erasure = erase_person(acme, email="nobody@nowhere.example")
    assert erasure.user_keys == [] and audit.entries("acme") == []
    assert not suppression.load("acme")


def test_a_customer_with_tickets_and_no_rating_goes_with_their_tickets(loaded, acme):
    world = loaded["world"]
    tickets = _tickets(world)
    rated = {r.requester_id for t in tickets for r in t.ratings}
    person = next(world.user(r) for t in tickets if (r := _state(world, t)["requester_id"]) not in rated)
    theirs = {t.id for t in tickets if _state(world, t)["requester_id"] == person.id}
    erasure = erase_person(acme, user_id=person.id)
    assert not erasure.was_agent and erasure.tickets >= len(theirs) > 0
    assert named(person.id) == dict.fromkeys([*PEOPLE_COLUMNS, "users"], 0)
    listed = ", ".join(map(str, theirs))
    assert query(f"select count(*) from raw_acme.tickets where id in ({listed})") == [(0,)]


def test_an_agent_must_choose_and_nothing_changes_until_they_do(loaded, acme):
    folder = home.home()
    before = fingerprints(folder)
    with pytest.raises(AgentModeRequired, match="--agent-mode unlink") as refused:
        erase_person(acme, email=loaded["agent"].email)
    assert "tickets" in str(refused.value) and loaded["agent"].email not in str(refused.value)
    assert fingerprints(folder) == before and audit.entries("acme") == []


def test_unlink_is_for_agents_only(acme, loaded):
    person = on_no_ticket(loaded["world"])
    with pytest.raises(PrivacyError, match="never worked as an agent"):
        erase_person(acme, user_id=person.id, agent_mode="unlink")


def test_a_dry_run_lists_per_table_and_file_and_changes_nothing(loaded, acme):
    folder = home.home()
    package = folder / "dlt" / "zendesk_acme" / "load" / "loaded" / "1" / "users.parquet"
    package.parent.mkdir(parents=True)  # a load package a crash left behind
    package.write_bytes(b"rows")
    before = fingerprints(folder)
    erasure = erase_person(acme, email=loaded["agent"].email, agent_mode="delete", dry_run=True)
    printed = "\n".join(erasure.lines())
    assert fingerprints(folder) == before
    assert erasure.deleted["raw_acme.tickets"] == erasure.tickets > 0
    assert "raw_acme.ticket_events" in printed and "rows to delete" in printed
    assert "dlt/zendesk_acme/load/loaded/1" in printed and "Dry run: nothing was changed." in printed
    (entry,) = audit.entries("acme")
    assert entry["dry_run"] is True and entry["agent_mode"] == "delete"
    assert not suppression.load("acme")


def test_an_agent_on_no_ticket_unlinks_cleanly(acme):
    with duckdb.connect(str(home.warehouse_path())) as con:
        con.execute("insert into raw_acme.users (tenant_id, id, user_key, role, active, updated_at,"
                    " name_token) values ('acme', 555001, 'k', 'agent', true, now(), 'n')")
    erasure = erase_person(acme, user_id=555001, agent_mode="unlink")
    assert erasure.was_agent and erasure.tickets == 0
    assert named(555001)["users"] == 0
    rows = query("select role, name_token from raw_acme.users where id < 0")
    assert rows == [("agent", None)]


def facts() -> dict[str, list[tuple]]:
    """Raw rows without the columns that name people (ids and keys)."""
    return {table: query(f"select * exclude ({', '.join(columns + KEY_COLUMNS[table])})"
                         f" from raw_acme.{table} order by all")
            for table, columns in PEOPLE_COLUMNS.items()}


def keyed(user_key: str) -> dict[str, int]:
    """Rows of raw_acme holding the user key beside an id, per table."""
    return {table: query(f"select count(*) from raw_acme.{table} where '{user_key}' in"
                         f" ({', '.join(columns)})")[0][0]
            for table, columns in KEY_COLUMNS.items()}


def unlink(acme, agent):
    before = facts()
    erasure = erase_person(acme, email=agent.email, agent_mode="unlink")
    after = facts()
    (stand_in,) = suppression.load("acme").stand_ins
    return erasure, stand_in, before, after


def test_unlink_puts_a_random_stand_in_in_every_row_and_keeps_the_ticket_facts(loaded, acme):
    agent, secret = loaded["agent"], SECRETS["acme"].encode()
    counts, keys = named(agent.id), keyed(pseudonym(secret, "user", agent.id))
    erasure, stand_in, before, after = unlink(acme, agent)
    assert named(agent.id) == dict.fromkeys([*PEOPLE_COLUMNS, "users"], 0)
    assert keys["tickets"] > 0 and keyed(pseudonym(secret, "user", agent.id)) == dict.fromkeys(KEY_COLUMNS, 0)
    assert keyed(stand_in.key) == keys
    assert named(stand_in.surrogate)["tickets"] == counts["tickets"] > 0
    assert named(stand_in.surrogate)["ticket_events"] == counts["ticket_events"]
    assert stand_in.surrogate < 0 and len(stand_in.tickets) == erasure.tickets
    # the facts of every ticket, event and rating are as they were (their ids aside; one blanked note)
    assert after["tickets"] == before["tickets"]
    assert after["satisfaction_ratings"] == before["satisfaction_ratings"]
    assert len(after["ticket_events"]) == len(before["ticket_events"])
    users = query("select id, user_key, name_token, email_token, phone_token, time_zone, role"
                  f" from raw_acme.users where id = {stand_in.surrogate}")
    assert users and {u[:6] for u in users} == {(stand_in.surrogate, stand_in.key, None, None, None, None)}
    assert stand_in.key not in {pseudonym(secret, kind, agent.id) for kind in ("user", "name", "email")}
    assert suppression.load("acme").unlinked_keys == {pseudonym(secret, "user", agent.id)}
    assert suppression.load("acme").user_keys == frozenset()


def test_unlink_blanks_what_the_agent_wrote(loaded, acme):
    unlink(acme, loaded["agent"])
    assert query(f"select count(*) from raw_acme.ticket_events where value = '{NOTE}'") == [(0,)]
    assert query("select value from raw_acme.ticket_field_values where ticket_id = ? and field_id = ?"
                 .replace("?", "{}").format(loaded["noted"], ORDER_NOTE_FIELD)) == [(None,)]
    assert query(f"select count(*) from raw_acme.ticket_field_values where value = '{NOTE}'") == [(0,)]


def test_a_column_declared_as_naming_a_person_is_unlinked_with_its_user_key(loaded, acme, monkeypatch):
    """A raw table no platform has, until its declaration says a column holds a user id and which
    column holds their key: unlinking follows the declaration."""
    agent = loaded["agent"]
    with duckdb.connect(str(home.warehouse_path())) as con:
        con.execute("create table raw_acme.reviews (tenant_id varchar, id bigint, ticket_id bigint,"
                    " reviewer_id bigint, reviewer_key varchar)")
        con.execute("insert into raw_acme.reviews values ('acme', 1, 999999, ?, 'theirs'),"
                    " ('acme', 2, 999999, 42, 'another')", [agent.id])
    monkeypatch.setitem(PEOPLE["zendesk"], "reviews", person_columns(REVIEWS))
    _, stand_in, _, _ = unlink(acme, agent)
    assert query("select id, reviewer_id, reviewer_key from raw_acme.reviews order by id") == [
        (1, stand_in.surrogate, stand_in.key), (2, 42, "another")]


def test_each_unlink_draws_a_new_key_no_secret_derives(loaded, acme, tmp_path, monkeypatch):
    _, first, _, _ = unlink(acme, loaded["agent"])
    shutil.copytree(loaded["folder"], tmp_path / "again")
    use_environment(monkeypatch, tmp_path / "again")
    _, second, _, _ = unlink(acme, loaded["agent"])
    assert first.key != second.key and first.surrogate != second.surrogate
    assert first.tickets == second.tickets


def test_a_load_leaves_no_completed_package(loaded):
    loaded_packages = loaded["folder"] / "dlt" / "zendesk_acme" / "load" / "loaded"
    assert not loaded_packages.exists() or not any(loaded_packages.iterdir())
