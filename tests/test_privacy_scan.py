"""After the shared world's runs (tests/conftest.py): no identity the world generated is anywhere
it should not be and every raw column dlt stored carries its class. After a full demo run
(``deskpulse demo``, as a user runs it): no log holds a secret, an e-mail or a phone number.

The identities are every name, e-mail and phone of both demo worlds; the scan reads every text
value of every table and view of the warehouse and of every serving file. Only the restricted
schema (the agent identity mapping, never published) may hold one; raw may hold none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from assets.project import DBT_PROJECT
from deskpulse.demo import demo_worlds
from pipelines.fakes.zendesk.api import DEFAULT_EMAIL, DEFAULT_TOKEN
from pipelines.ingest.columns import PII_CLASSES, PII_HINT
from pipelines.ingest.keys import normalise
from pipelines.privacy.classification import DLT_COLUMNS

TICKETS = 120
RESTRICTED = "restricted"
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, dbt_manifest) -> dict:
    home = tmp_path_factory.mktemp("home")
    env = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "DESKPULSE_TENANTS")}
    started = time.time()
    command = [str(Path(sys.executable).with_name("deskpulse")), "demo", "--tickets", str(TICKETS)]
    done = subprocess.run(command, env={**env, "DESKPULSE_HOME": str(home)}, capture_output=True, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return {"home": home, "output": done.stdout + done.stderr, "started": started}


def identities_of(worlds) -> dict[str, set[str]]:
    """Every name, e-mail and phone (as generated and normalised) the worlds hold."""
    found: dict[str, set[str]] = {"name": set(), "email": set(), "phone": set()}
    for world in worlds:
        for user in world.users():
            found["name"].add(user.name.lower())
            found["email"].add(user.email.lower())
            if user.phone:
                found["phone"] |= {user.phone, normalise("phone", user.phone)}
    return found


@pytest.fixture(scope="module")
def identities(shared_world) -> dict[str, set[str]]:
    return identities_of(shared_world.worlds.values())


def hits(path: Path, identities: dict[str, set[str]]) -> dict[str, set[str]]:
    """``schema.table.column`` → the kinds of identity found in its text values."""
    found: dict[str, set[str]] = {}
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute("select table_schema, table_name, column_name from information_schema.columns"
                              " where data_type = 'VARCHAR'").fetchall()
        for schema, table, column in columns:
            values = {str(v).lower() for (v,) in con.execute(
                f'select distinct "{column}" from "{schema}"."{table}"').fetchall() if v is not None}
            kinds = {kind for kind, known in identities.items()
                     if any(identity in value for value in values for identity in known)}
            if kinds:
                found[f"{schema}.{table}.{column}"] = kinds
    return found


def test_no_generated_identity_outside_the_restricted_schema_and_none_in_raw(shared_world, identities):
    warehouse = hits(shared_world.home / "warehouse.duckdb", identities)
    assert not {where: k for where, k in warehouse.items() if where.startswith("raw_")}
    assert not {where: k for where, k in warehouse.items() if not where.startswith(f"{RESTRICTED}.")}


def test_serving_files_hold_no_generated_identity(shared_world, identities):
    served = sorted((shared_world.home / "serving").rglob("*"))
    for path in (p for p in served if p.is_file()):
        if path.suffix == ".duckdb":
            assert hits(path, identities) == {}, path
        else:
            text = path.read_bytes().decode("utf-8", "replace").lower()
            assert not [i for known in identities.values() for i in known if i in text], path


def test_every_raw_column_dlt_stored_carries_its_class(shared_world):
    with duckdb.connect(str(shared_world.home / "warehouse.duckdb"), read_only=True) as con:
        schemas = [s for (s,) in con.execute("select schema_name from information_schema.schemata"
                                             " where schema_name like 'raw\\_%' escape '\\'").fetchall()]
        assert schemas
        for schema in schemas:
            if not con.execute("select count(*) from information_schema.tables where table_schema = ?"
                               " and table_name = '_dlt_version'", [schema]).fetchone()[0]:
                continue  # dlt's merge staging copy keeps no schema of its own
            stored = json.loads(con.execute(f'select "schema" from "{schema}"._dlt_version'
                                            " order by inserted_at desc limit 1").fetchone()[0])
            loaded = {t: spec["columns"] for t, spec in stored["tables"].items()
                      if not t.startswith("_dlt") and spec.get("columns")}
            assert loaded, schema
            unclassified = [f"{table}.{name}" for table, columns in loaded.items()
                            for name, column in columns.items()
                            if column.get(PII_HINT) not in PII_CLASSES and name not in DLT_COLUMNS]
            assert not unclassified, schema


def test_every_modelled_warehouse_column_is_classified_in_dbt(shared_world):
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    declared = {(n["schema"], n["alias"]): n["columns"] for n in manifest["nodes"].values()
                if n["resource_type"] in ("model", "seed")}
    with duckdb.connect(str(shared_world.home / "warehouse.duckdb"), read_only=True) as con:
        columns = con.execute("select table_schema, table_name, column_name from information_schema.columns"
                              " where table_schema not like 'raw\\_%' escape '\\'").fetchall()
    unclassified = [f"{s}.{t}.{c}" for s, t, c in columns if (s, t) in declared
                    and declared[(s, t)].get(c, {}).get("meta", {}).get("pii") not in PII_CLASSES]
    assert columns and not unclassified


@pytest.mark.slow
def test_logs_hold_no_secret_email_or_phone(demo_run):
    identities = identities_of(demo_worlds(TICKETS))
    home = demo_run["home"]
    secrets = set(json.loads((home / "demo" / "secrets.json").read_text()).values())
    forbidden = secrets | {DEFAULT_TOKEN, DEFAULT_EMAIL} | identities["email"] | identities["phone"]
    logs = [p for folder in (home / "logs", home / "dagster") for p in folder.rglob("*") if p.is_file()]
    logs += [p for p in DBT_PROJECT.target_path.rglob("*.log") if p.stat().st_mtime >= demo_run["started"]]
    assert any(p.name.endswith(".log") for p in logs)
    texts = {str(p): p.read_bytes().decode("utf-8", "replace").lower() for p in logs}
    texts["console"] = demo_run["output"].lower()
    leaks = {where: sorted(f for f in forbidden if f.lower() in text) for where, text in texts.items()}
    assert not {where: found for where, found in leaks.items() if found}
