"""The scan erasure ends with: it reads every place under DESKPULSE_HOME and finds a person's
pseudonyms and platform ids there, and not a bare number that happens to equal an id.

Each place gets one planted reference, written the way that place holds data: a warehouse row,
a serving file row, a parquet load package, a gzipped job file, a JSON state file, a log line,
a Dagster compute log; the privacy records, which keep pseudonyms by design, are not reported.
"""

from __future__ import annotations

import gzip

import duckdb
import pytest

from pipelines.privacy.places import scan

KEY, TOKEN, PERSON, OTHER_TENANT_PERSON = "a" * 64, "b" * 64, 4_242_001, 4_242_002


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("create schema raw_acme")
        con.execute("create table raw_acme.users (tenant_id varchar, id bigint, user_key varchar)")
        con.execute("insert into raw_acme.users values ('acme', 1, 'c'), ('acme', 2, 'd')")
        con.execute("create schema marts")
        con.execute("create table marts.agent_daily_performance (tenant_id varchar, agent_key varchar,"
                    " tickets_solved bigint)")
        con.execute(f"insert into marts.agent_daily_performance values ('acme', 'e', {PERSON})")  # a count
    return tmp_path


def test_a_clean_home_has_no_hit_and_every_place_is_read(home):
    (home / "logs").mkdir()
    (home / "logs" / "run.log").write_text(f"loaded {PERSON} rows\n")  # a bare number is not a person
    found = scan("acme", [KEY, TOKEN], [PERSON])
    assert found.hits == {}
    assert found.scanned["warehouse"] >= 2 and found.scanned["logs"] == 1


def test_every_place_is_searched(home):
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute(f"insert into raw_acme.users values ('acme', {PERSON}, '{KEY}')")
        con.execute(f"insert into raw_acme.users values ('beta', {OTHER_TENANT_PERSON}, 'x')")
    (home / "serving" / "tenants").mkdir(parents=True)
    with duckdb.connect(str(home / "serving" / "tenants" / "acme.duckdb")) as con:
        con.execute(f"create table dim_agents as select 'acme' as tenant_id, '{KEY}' as agent_key")
    package = home / "dlt" / "zendesk_acme" / "load" / "loaded" / "1" / "completed_jobs"
    package.mkdir(parents=True)
    with duckdb.connect() as con:
        con.execute(f"copy (select {PERSON}::bigint as assignee_id) to '{package / 'tickets.1.parquet'}'")
    (package / "users.2.insert_values.gz").write_bytes(gzip.compress(f"('{TOKEN}')".encode()))
    (home / "dlt" / "zendesk_acme" / "state.json").write_text(f'{{"requester_id": {PERSON}}}')
    (home / "dagster" / "storage" / "r" / "compute_logs").mkdir(parents=True)
    (home / "dagster" / "storage" / "r" / "compute_logs" / "x.err").write_text(f"key {KEY}\n")
    (home / "privacy" / "acme").mkdir(parents=True)
    (home / "privacy" / "acme" / "suppression.json").write_text(f'{{"user_keys": ["{KEY}"]}}')
    found = scan("acme", [KEY, TOKEN], [PERSON, OTHER_TENANT_PERSON])
    assert found.hits == {
        "warehouse.duckdb:raw_acme.users.id": 1,
        "warehouse.duckdb:raw_acme.users.user_key": 1,
        "serving/tenants/acme.duckdb:main.dim_agents.agent_key": 1,
        "dlt/zendesk_acme/load/loaded/1/completed_jobs/tickets.1.parquet:assignee_id": 1,
        "dlt/zendesk_acme/load/loaded/1/completed_jobs/users.2.insert_values.gz": 1,
        "dlt/zendesk_acme/state.json": 1,
        "dagster/storage/r/compute_logs/x.err": 1,
    }
    assert {"dlt folder", "Dagster storage", "serving files", "warehouse"} <= set(found.scanned)
