"""Erasure end to end: a customer erased by e-mail is gone everywhere and stays gone; then key rotation.

Warehouse A: the demo loaded as of 20 days before the world's end, ``deskpulse erase`` (raw delete,
marts rebuilt and published), an incremental load of the world that moved on (some of the
person's tickets changed since, so the API serves them again), then ``deskpulse rotate-key``.
Warehouse B, the honest comparison: the same worlds served by the fake API with that person and
every ticket they appear in left out of the world itself (no suppression list involved), loaded
at the same two instants with the same secrets. A's marts must equal B's at both instants.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import duckdb
import pytest
import yaml

import deskpulse.demo
from assets.runner import run_graph
from deskpulse import cli
from deskpulse.demo import demo_tenants
from pipelines.ingest.home import warehouse_path
from pipelines.ingest.keys import key_id, pseudonym
from pipelines.privacy import audit, suppression
from pipelines.privacy.classification import PERSON_FIELDS
from pipelines.privacy.places import scan
from pipelines.world import World
from pipelines.world.model import Ticket, User

TICKETS = 120
TENANT = "northwind"
PUBLISHED_SCHEMAS = ("marts", "restricted")
VOLATILE = {"refreshed_at"}  # when a build ran, not what it holds
pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a world of its own through the whole graph


def names(ticket: Ticket, person_id: int) -> bool:
    """Whether the person appears anywhere in the ticket's whole life."""
    for audit_ in ticket.audits:
        if audit_.author_id == person_id:
            return True
        for event in audit_.events:
            values = (event.value, event.previous_value)
            named = event.field_name in PERSON_FIELDS and str(person_id) in values
            if event.author_id == person_id or named:
                return True
    return any(person_id in (r.requester_id, r.assignee_id) for r in ticket.ratings)


class WorldWithout(World):
    """A world in which one person and every ticket they appear in never existed."""

    def __init__(self, world: World, person_id: int):
        super().__init__(world.config)
        self.person_id = person_id

    def tickets(self) -> Iterator[Ticket]:
        return (t for t in super().tickets() if not names(t, self.person_id))

    def users(self) -> Iterator[User]:
        return (u for u in super().users() if u.id != self.person_id)


def person_to_erase(world: World, as_of) -> tuple[User, list[int]]:
    """A customer with a phone and a name no one else has, whose tickets all exist by ``as_of`` and
    one of which changes after it (so the next incremental load is served it again)."""
    taken = Counter(user.name for user in world.users())
    for index in range(world.n_customers):
        person = world.customer(index)
        theirs = [t for t in world.tickets() if names(t, person.id)]
        if (person.phone and taken[person.name] == 1 and len(theirs) >= 2
                and all(t.state_at(as_of) for t in theirs)
                and any(t.updated_at(world.end) > as_of for t in theirs)):
            return person, [t.id for t in theirs]
    raise AssertionError("the demo world has no customer to erase")


def marts() -> dict[str, list[tuple]]:
    """Every published table's rows, sorted, without build-time columns."""
    found = {}
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        for schema, table in con.execute(
                "select table_schema, table_name from information_schema.tables where table_schema in"
                f" {PUBLISHED_SCHEMAS} and table_type = 'BASE TABLE'").fetchall():
            kept = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                " order by ordinal_position", [schema, table]).fetchall() if c not in VOLATILE]
            rows = con.execute(f'select {", ".join(kept)} from "{schema}"."{table}"').fetchall()
            found[f"{schema}.{table}"] = sorted(rows, key=repr)
    return found


def find_references(tenant_id: str, keys: list[str], ids: list[int]) -> dict[str, int]:
    return scan(tenant_id, keys, ids).hits


def tokens(secret: bytes, person: User) -> list[str]:
    return [pseudonym(secret, "user", person.id), pseudonym(secret, "email", person.email),
            pseudonym(secret, "name", person.name), pseudonym(secret, "phone", person.phone)]


@pytest.fixture(scope="module")
def story(tmp_path_factory, dbt_manifest):
    a_home, b_home = tmp_path_factory.mktemp("a"), tmp_path_factory.mktemp("b")
    seen: dict = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DESKPULSE_HOME", str(a_home))
        mp.delenv("DAGSTER_HOME", raising=False)
        with demo_tenants(TICKETS) as demo:
            world = demo.worlds[TENANT]
            as_of = world.end - timedelta(days=20)
            person, tickets = person_to_erase(world, as_of)
            secret = demo.secrets[TENANT].encode()
            seen.update(person=person, tickets=tickets, secret=secret, a_home=a_home)
            for api in demo.apis.values():
                api.as_of = as_of
            assert run_graph(demo.tenant_file).ok
            seen["before"] = find_references(TENANT, tokens(secret, person), [person.id])
            seen["erase_exit"] = cli.main(["erase", "--tenant", TENANT, "--email", person.email.upper(),
                                           "--tenants", str(demo.tenant_file)])
            seen["after_erase"] = (find_references(TENANT, tokens(secret, person), [person.id]), marts())
            for api in demo.apis.values():
                api.as_of = world.end
            assert run_graph(demo.tenant_file).ok
            seen["after_load"] = (find_references(TENANT, tokens(secret, person), [person.id]), marts())
            seen["rotation"] = rotate(demo, tmp_path_factory.mktemp("keys"))
        mp.setenv("DESKPULSE_HOME", str(b_home))
        (b_home / "demo").mkdir()
        shutil.copy(a_home / "demo" / "secrets.json", b_home / "demo" / "secrets.json")
        worlds = deskpulse.demo.demo_worlds
        mp.setattr(deskpulse.demo, "demo_worlds", lambda n: [
            WorldWithout(w, person.id) if w.config.tenant_id == TENANT else w for w in worlds(n)])
        with demo_tenants(TICKETS) as demo:
            for instant, key in ((as_of, "b_as_of"), (world.end, "b_end")):
                for api in demo.apis.values():
                    api.as_of = instant
                assert run_graph(demo.tenant_file).ok
                seen[key] = marts()
    yield seen


def rotate(demo, folder) -> dict:
    """Rotate northwind to a new secret kept in a 0600 file, the old one passed as the previous."""
    new_secret = "rotated-" + "k" * 40
    secret_file = folder / "northwind.secret"
    secret_file.write_text(new_secret)
    secret_file.chmod(0o600)
    config = yaml.safe_load(demo.tenant_file.read_text())
    for entry in config["tenants"]:
        if entry["id"] == TENANT:
            previous_env = entry.pop("secret_env")
            entry["secret_file"] = str(secret_file)
    rotated_file = folder / "tenants.yaml"
    rotated_file.write_text(yaml.safe_dump(config))
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        old_keys = {r[0] for r in con.execute(
            "select agent_key from marts.agent_daily_performance where tenant_id = ?", [TENANT]).fetchall()}
    exit_code = cli.main(["rotate-key", "--tenant", TENANT, "--previous-secret-env", previous_env,
                          "--tenants", str(rotated_file)])
    return {"exit": exit_code, "secret": new_secret.encode(), "old_keys": old_keys, "marts": marts()}


def test_the_person_was_there_before(story):
    assert any(where.endswith(".user_key") for where in story["before"]), story["before"]
    assert any(":raw_northwind." in where for where in story["before"])


def test_after_erase_no_row_anywhere_names_them(story):
    assert story["erase_exit"] == 0
    references, _ = story["after_erase"]
    assert references == {}


def test_after_erase_the_marts_equal_a_world_without_them(story):
    _, after = story["after_erase"]
    assert after == story["b_as_of"]


def test_the_audit_log_records_pseudonyms_and_counts_only(story, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(story["a_home"]))
    person, secret = story["person"], story["secret"]
    (entry,) = [e for e in audit.entries(TENANT) if e["action"] == "erase"]
    assert entry["subjects"] == [pseudonym(secret, "user", person.id)]
    assert entry["tickets"] == len(story["tickets"])
    assert entry["rows"]["raw_northwind.users"] >= 1
    assert entry["rows"]["raw_northwind.tickets"] == entry["tickets"]
    text = audit.log_path().read_text()
    assert person.email not in text.lower() and str(person.id) not in text and person.name not in text
    assert audit.verify()


def test_the_next_incremental_load_does_not_bring_them_back(story):
    references, after = story["after_load"]
    assert references == {}
    assert after == story["b_end"]


def test_rotation_rekeys_every_pseudonym_and_keeps_the_person_out(story, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(story["a_home"]))
    rotation, person = story["rotation"], story["person"]
    assert rotation["exit"] == 0
    listed = suppression.load(TENANT)
    assert listed.key_id == key_id(rotation["secret"])
    assert listed.user_keys == {pseudonym(rotation["secret"], "user", person.id)}
    assert find_references(TENANT, tokens(rotation["secret"], person), [person.id]) == {}
    _, before = story["after_load"]
    after = rotation["marts"]
    assert {t: len(rows) for t, rows in after.items()} == {t: len(rows) for t, rows in before.items()}
    new_keys = {row[1] for row in after["marts.agent_daily_performance"] if row[0] == TENANT}
    assert new_keys and not new_keys & rotation["old_keys"]
    assert [e["action"] for e in audit.entries(TENANT)][-1] == "rotate-key"
