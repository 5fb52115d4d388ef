"""Plant a customer and an agent in the fake helpdesk, run the graph, publish, erase both, and
search every file under DESKPULSE_HOME for them: 0 hits. Then a later load, which the helpdesk
serves their tickets again in: still 0 hits, and the unlinked agent's work stays under the same
stand-in key.

The search is this test's own, independent of the command's scan: every value of every table
and view of every DuckDB file (warehouse, serving files), every value of every parquet file
(dlt's load packages), and the bytes of every other file (dlt state, schemas and traces, logs,
Dagster's run and event storage and compute logs), gzip opened; plus dbt's own log of the runs.
The planted people have ids and names nothing else has (the world's id bases are moved to
ten-digit numbers), so a whole-token match is theirs; the other demo tenant's helpdesk numbers its
own users the same way, so there the same number is someone else: its rows, raw schemas, files
and folders are searched for everything but the platform id. The audit log and the suppression lists
keep the user key by design and are checked apart: no platform id, name, e-mail or its token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import hashlib
import io
import json
import re
import time
from datetime import timedelta
from functools import cached_property
from pathlib import Path

import duckdb
import pytest

import deskpulse.demo
import pipelines.world
from assets.project import DBT_PROJECT
from assets.runner import run_graph
from deskpulse import cli
from deskpulse.demo import demo_tenants
from pipelines.ingest.home import home, warehouse_path
from pipelines.ingest.keys import pseudonym
from pipelines.privacy import audit, suppression
from pipelines.world import World
from pipelines.world.model import User

TICKETS = 120
TENANT, OTHER = "northwind", "globex"
AGENT_BASE, CUSTOMER_BASE = 4_242_420_000, 7_373_730_000
AGENT_INDEX = 1
CUSTOMER = ("Plantina Quixbury", "plantina.quixbury@planted.example", "+31 6 4242 4242")
AGENT = ("Agenta Zorblatt", "agenta.zorblatt@support.example.com", "+31 6 7373 7373")
VOLATILE = {"refreshed_at"}
SNAPSHOT_SCHEMAS = ("marts", "restricted")
pytestmark = [pytest.mark.integration, pytest.mark.slow]


class Planted(World):
    """The demo world with one customer and one agent renamed to people no one else is."""

    customer_index: int = 0

    def customer(self, index: int) -> User:
        user = super().customer(index)
        if index != self.customer_index:
            return user
        return dataclasses.replace(user, name=CUSTOMER[0], email=CUSTOMER[1], phone=CUSTOMER[2])

    @cached_property
    def agents(self) -> list[User]:
        agents = list(super().agents)
        agents[AGENT_INDEX] = dataclasses.replace(agents[AGENT_INDEX], name=AGENT[0], email=AGENT[1],
                                                  phone=AGENT[2])
        return agents


def needles(secret: bytes, person: User) -> dict[str, str]:
    """What must be found nowhere: platform id, user key, e-mail token, name, e-mail, phone."""
    return {"platform id": str(person.id), "user key": pseudonym(secret, "user", person.id),
            "e-mail token": pseudonym(secret, "email", person.email), "name": person.name.lower(),
            "e-mail": person.email.lower(), "phone": person.phone}


def matches(text: str, wanted: dict[str, str]) -> set[str]:
    text = text.lower()
    found = {kind for kind, value in wanted.items() if kind != "platform id" and value.lower() in text}
    if "platform id" in wanted and re.search(rf"(?<![0-9]){wanted['platform id']}(?![0-9])", text):
        found.add("platform id")
    return found


def value_hits(rows, wanted: dict[str, str]) -> set[str]:
    found: set[str] = set()
    for row in rows:
        for value in row:
            if value is not None and not isinstance(value, bool):
                found |= matches(str(value), wanted)
    return found


def search(folder: Path, people: dict[str, dict[str, str]], since: float) -> dict[str, set[str]]:
    """``file[:table]`` → ``person: kinds`` found, over every file under ``folder`` but the privacy
    records, and dbt's log files written since ``since``."""
    kept_apart = {folder / "audit" / "privacy.jsonl", *(folder / "privacy").glob("*/suppression.json")}
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and p not in kept_apart]
    files += [p for p in DBT_PROJECT.target_path.parent.rglob("*.log") if p.stat().st_mtime >= since]
    found: dict[str, set[str]] = {}

    def note(where: str, kinds: set[str], who: str) -> None:
        if kinds:
            found.setdefault(where, set()).update(f"{who}: {kind}" for kind in kinds)

    def ours(wanted: dict[str, str], other_tenant: bool) -> dict[str, str]:
        return {k: v for k, v in wanted.items() if k != "platform id"} if other_tenant else wanted

    for path in files:
        inside = path.relative_to(folder).parts if path.is_relative_to(folder) else ()
        other_file = OTHER in inside or path.name.startswith(f"{OTHER}.")
        if path.suffix == ".duckdb":
            with duckdb.connect(str(path), read_only=True) as con:
                listed = con.execute("select table_schema, table_name from information_schema.tables"
                                     " where table_catalog = current_database()").fetchall()
                for schema, table in listed:
                    result = con.execute(f'select * from "{schema}"."{table}"')
                    names, rows = [d[0] for d in result.description], result.fetchall()
                    other = other_file or schema.startswith(f"raw_{OTHER}")
                    at = names.index("tenant_id") if "tenant_id" in names else None
                    ours_rows = [r for r in rows if at is None or r[at] != OTHER]
                    for who, wanted in people.items():
                        note(f"{path}:{schema}.{table}", value_hits(rows, ours(wanted, True)), who)
                        note(f"{path}:{schema}.{table}", value_hits(ours_rows, ours(wanted, other)), who)
        elif path.suffix == ".parquet":
            with duckdb.connect() as con:
                rows = con.execute(f"select * from read_parquet('{path}')").fetchall()
            for who, wanted in people.items():
                note(str(path), value_hits(rows, ours(wanted, other_file)), who)
        else:
            data = path.read_bytes()
            text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8", "replace")
            for who, wanted in people.items():
                note(str(path), matches(text, ours(wanted, other_file)), who)
    return found


def snapshot() -> dict[str, list[tuple]]:
    """Every table of the marts and restricted schemas, rows sorted, build times left out."""
    found = {}
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        listed = con.execute("select table_schema, table_name from information_schema.tables where"
                             f" table_schema in {SNAPSHOT_SCHEMAS} and table_type = 'BASE TABLE'").fetchall()
        for schema, table in listed:
            names = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
                " order by ordinal_position", [schema, table]).fetchall() if c not in VOLATILE]
            rows = con.execute(f'select {", ".join(names)} from "{schema}"."{table}"').fetchall()
            found[f"{schema}.{table}"] = sorted(rows, key=repr)
    return found


def fingerprints(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*"))
            if p.is_file() and not {"audit", "logs", "dagster"} & set(p.relative_to(folder).parts)}


def erase(tenant_file: Path, *args: str) -> tuple[int, str]:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["erase", "--tenant", TENANT, "--tenants", str(tenant_file), *args])
    return code, printed.getvalue()


def subject_report(tenant_file: Path, folders, *args: str) -> dict:
    out = folders.mktemp("report") / "report.json"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["subject-report", "--tenant", TENANT, "--tenants", str(tenant_file),
                         "--out", str(out), *args]) == 0
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def story(tmp_path_factory, dbt_manifest):
    seen: dict = {"started": time.time()}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DESKPULSE_HOME", str(tmp_path_factory.mktemp("home")))
        mp.delenv("DAGSTER_HOME", raising=False)
        mp.setattr(pipelines.world, "AGENT_ID_BASE", AGENT_BASE)
        mp.setattr(pipelines.world, "CUSTOMER_ID_BASE", CUSTOMER_BASE)
        worlds = deskpulse.demo.demo_worlds

        def planted(n: int) -> list[World]:
            found = []
            for world in worlds(n):
                if world.config.tenant_id == TENANT:
                    world = Planted(world.config)
                    world.customer_index = next(t.state_at(world.end)["requester_id"] for t in world.tickets()
                                                if t.state_at(world.end)) - CUSTOMER_BASE
                found.append(world)
            return found

        mp.setattr(deskpulse.demo, "demo_worlds", planted)
        with demo_tenants(TICKETS) as demo:
            world = demo.worlds[TENANT]
            secret = demo.secrets[TENANT].encode()
            customer, agent = world.customer(world.customer_index), world.agents[AGENT_INDEX]
            assert (customer.name, agent.name) == (CUSTOMER[0], AGENT[0])
            people = {"customer": needles(secret, customer), "agent": needles(secret, agent)}
            seen.update(people=people, secret=secret, agent=agent, customer=customer, home=home())
            for api in demo.apis.values():
                api.as_of = world.end - timedelta(days=20)
            assert run_graph(demo.tenant_file).ok
            seen["before"] = search(home(), people, seen["started"])
            seen["published"] = snapshot()
            seen["reports"] = {
                who: subject_report(demo.tenant_file, tmp_path_factory, "--email", person.email)
                for who, person in (("customer", customer), ("agent", agent))}
            as_of = world.end - timedelta(days=20)  # the world's ids are the planted ones only in here
            seen["theirs"] = {(who, field): {t.id for t in world.tickets()
                                             if (state := t.state_at(as_of)) and state[field] == person.id}
                              for who, person, field in (("customer", customer, "requester_id"),
                                                         ("agent", agent, "assignee_id"))}
            files = fingerprints(home())
            seen["refused"] = erase(demo.tenant_file, "--email", agent.email)
            seen["dry_run"] = erase(demo.tenant_file, "--email", customer.email, "--dry-run")
            seen["untouched"] = (snapshot() == seen["published"], fingerprints(home()) == files)
            seen["customer_erased"] = erase(demo.tenant_file, "--email", customer.email)
            seen["after_customer"] = snapshot()
            seen["agent_unlinked"] = erase(demo.tenant_file, "--email", agent.email.upper(),
                                           "--agent-mode", "unlink")
            seen["after_unlink"] = snapshot()
            seen["stand_in"] = suppression.load(TENANT).stand_ins[-1].key
            seen["report_after"] = subject_report(demo.tenant_file, tmp_path_factory, "--user-id",
                                                  str(customer.id))
            seen["after"] = search(home(), people, seen["started"])
            for api in demo.apis.values():
                api.as_of = world.end
            assert run_graph(demo.tenant_file).ok
            seen["later"] = search(home(), people, seen["started"])
            seen["after_later_load"] = snapshot()
            seen["audit"] = audit.entries(TENANT)
            seen["records"] = [p.read_text() for p in (home() / "audit" / "privacy.jsonl",
                                                       *(home() / "privacy").glob("*/suppression.json"))]
    yield seen


def test_the_planted_people_were_in_raw_marts_and_serving_files_before(story):
    where = "\n".join(f"{w} {k}" for w, k in story["before"].items())
    for person in ("customer", "agent"):
        assert f"raw_{TENANT}.users" in where and f"{person}: user key" in where
    assert any("serving/tenants/northwind.duckdb" in w and any("agent: user key" in k for k in kinds)
               for w, kinds in story["before"].items())


def test_an_agent_is_not_erased_until_the_controller_chooses(story):
    code, printed = story["refused"]
    assert code == 2
    dry_code, dry_printed = story["dry_run"]
    assert dry_code == 0 and "rows to delete" in dry_printed
    assert "Dry run: nothing was changed." in dry_printed
    assert story["untouched"] == (True, True)


def test_nothing_names_either_person_anywhere_after_erasure(story):
    assert story["customer_erased"][0] == 0 and story["agent_unlinked"][0] == 0
    assert story["after"] == {}


def test_the_command_says_where_it_looked(story):
    printed = story["agent_unlinked"][1]
    for place in ("warehouse:", "serving files:", "dlt folder:", "logs:", "Dagster storage:"):
        assert place in printed, printed
    assert "No reference left" in printed


def test_unlinking_keeps_every_figure_under_a_new_key(story):
    old_key = story["people"]["agent"]["user key"]
    new_key = story["stand_in"]

    def rekeyed(rows: list[tuple]) -> list[tuple]:
        return sorted((tuple(new_key if v == old_key else v for v in row) for row in rows), key=repr)

    before, after = story["after_customer"], story["after_unlink"]
    assert set(before) == set(after)
    for table in ("marts.team_weekly_performance", "marts.tenant_daily_backlog", "marts.benchmark_monthly"):
        assert after[table] == before[table], table
    for table in before:
        if table != "restricted.agent_identity":
            assert after[table] == rekeyed(before[table]), table
    assert [r for r in after["restricted.agent_identity"] if new_key in r] == []
    assert len(after["restricted.agent_identity"]) == len(before["restricted.agent_identity"]) - 1
    assert any(new_key in row for row in after["marts.agent_daily_performance"])


def test_the_unlinked_agent_stays_unlinked_after_a_later_load(story):
    assert story["later"] == {}
    later = story["after_later_load"]
    assert any(story["stand_in"] in row for row in later["marts.agent_daily_performance"])
    assert not any(story["stand_in"] in row for row in later["restricted.agent_identity"])


def test_the_audit_log_and_suppression_list_keep_only_pseudonyms_and_the_choices(story):
    entries = [e for e in story["audit"] if e["action"] == "erase"]
    assert [(e["dry_run"], e["agent_mode"], e["was_agent"]) for e in entries] == [
        (True, "delete", False), (False, "delete", False), (False, "unlink", True)]
    assert all(e["by"] and e["at"] for e in entries)
    for text in story["records"]:
        for person in story["people"].values():
            assert matches(text, {k: v for k, v in person.items() if k != "user key"}) == set()


def test_the_subject_report_holds_each_persons_tickets_and_the_marts_aggregating_them(story):
    customer, agent = story["reports"]["customer"], story["reports"]["agent"]
    wanted = story["theirs"][("customer", "requester_id")]
    assert {t["ticket_id"] for t in customer["tickets"] if "requester" in t["roles"]} == wanted
    assert {t["ticket_id"] for t in agent["tickets"] if "assignee" in t["roles"]} == story["theirs"][
        ("agent", "assignee_id")]
    assert all(t["created_at"] and "first_reply_minutes" in t for t in customer["tickets"])
    marts = {m["mart"] for m in customer["aggregated_in"]}
    assert {"marts.tenant_daily_backlog", "marts.team_weekly_performance", "marts.benchmark_monthly"} <= marts
    assert "marts.fct_tickets" not in marts
    assert {m["tickets"] for m in customer["aggregated_in"]} == {len(wanted)}
    held = " ".join(agent["held_in"])
    for place in ("marts.agent_daily_performance.agent_key", "restricted.agent_identity.agent_key",
                  "serving/tenants/northwind.duckdb:main.dim_agents.agent_key"):
        assert place in held, place
    (user,) = customer["records"]["users"]
    assert user["email_token"] == story["people"]["customer"]["e-mail token"]


def test_after_erasure_the_subject_report_finds_nothing_but_the_suppression(story):
    report = story["report_after"]
    assert report["held_in"] == {} and report["suppressed"] and report["tickets"] == []
