"""Lineage from the compiled dbt project: every mart column back to API fields, PII classes, flags.

The project is compiled once (as ``deskpulse lineage`` does, against an empty stand-in warehouse).
The manifest must classify every column of every source, staging model and mart; a personal
column planted into a mart (directly or by deriving from a personal raw field) is flagged.
"""

from __future__ import annotations

import copy

import duckdb
import pytest

from deskpulse.cli import benchmark_thresholds, compiled_manifest
from pipelines.ingest.columns import PII_CLASSES
from pipelines.ingest.config import Credentials, TenantConfig
from pipelines.platforms import PLATFORMS
from pipelines.privacy.lineage import Tracer, mart_lineage, violations
from pipelines.privacy.register import raw_field
from pipelines.privacy.report import build_report, markdown

ENDPOINTS = {name: platform.endpoints for name, platform in PLATFORMS.items()}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    return compiled_manifest(tmp_path_factory.mktemp("lineage"))


@pytest.fixture(scope="module")
def marts(manifest) -> dict[str, dict[str, dict]]:
    lineage = mart_lineage(manifest, ENDPOINTS)
    return {mart["model"]: {c["column"]: c for c in mart["columns"]} for mart in lineage}


def sources(column: dict) -> dict[str, dict]:
    return {source["field"]: source for source in column["sources"]}


def test_median_first_reply_minutes_comes_from_ticket_event_times(marts):
    column = marts["agent_daily_performance"]["median_first_reply_minutes"]
    found = sources(column)
    assert "zendesk.ticket_events.created_at" in found, sorted(found)
    created = found["zendesk.ticket_events.created_at"]
    assert created["origin"] == "GET /api/v2/incremental/ticket_events.json ticket_events[].created_at"
    assert created["transformation"] == "aggregated" and created["pii"] == "none"
    via = "intermediate.int_reply_times__ticket.first_reply_minutes"
    assert any(via in path for path in created["paths"])
    assert all(field.startswith("zendesk.ticket_events.") for field in found), sorted(found)


def test_person_keys_are_pseudonymised_platform_ids(marts):
    """An agent key comes from the user record's key or from the key written beside a reference
    to the person (an assignee, a requester): each a pseudonym of a platform user id; anything
    else it depends on (which event a key is read from) holds no person."""
    found = sources(marts["agent_daily_performance"]["agent_key"])
    agent_key = {field: source for field, source in found.items() if source["pii"] != "none"}
    assert {"zendesk.users.user_key", "zendesk.tickets.assignee_key"} <= set(agent_key) <= {
        "zendesk.users.user_key", "zendesk.tickets.assignee_key", "zendesk.tickets.requester_key",
        "zendesk.ticket_events.value_key", "zendesk.ticket_events.previous_value_key",
        "zendesk.satisfaction_ratings.assignee_key"}
    assert agent_key["zendesk.users.user_key"]["origin"].endswith("users[].id")
    for key in agent_key.values():
        assert key["extraction"] == "pseudonymised" and key["pii"] == "pseudonymous", key


def test_counts_name_the_rows_they_count(marts):
    solved = marts["agent_daily_performance"]["tickets_solved"]
    assert solved["counts_rows_of"] and "zendesk.ticket_events" in solved["rows_from"]


def test_every_source_model_and_seed_column_is_classified(manifest):
    unclassified = [f"{node['name']}.{name}"
                    for node in [*manifest["sources"].values(), *manifest["nodes"].values()]
                    if node["resource_type"] in ("source", "model", "seed")
                    for name, column in node["columns"].items()
                    if column.get("meta", {}).get("pii") not in PII_CLASSES]
    assert not unclassified
    tracer = Tracer(manifest)
    undeclared = [f"{tracer.nodes[node_id]['name']}.{name}" for node_id in tracer.parsed
                  for name in tracer.columns(node_id) if name not in tracer.nodes[node_id]["columns"]]
    assert not undeclared, "columns a model outputs without a yml entry (so without a class)"


def test_dbt_sources_carry_the_classes_of_the_dlt_register(manifest):
    for source in manifest["sources"].values():
        for name, column in source["columns"].items():
            registered = raw_field(source["source_name"], source["name"], name)
            assert registered is not None, (source["name"], name)
            assert column["meta"]["pii"] == registered.pii, (source["name"], name)


def test_no_personal_value_reaches_a_published_mart(manifest):
    assert violations({"marts": mart_lineage(manifest, ENDPOINTS)}) == []


def planted(manifest: dict) -> dict:
    """The manifest with a raw ``users.email`` (personal) and a published mart that selects it."""
    planted = copy.deepcopy(manifest)
    users = next(s for s in planted["sources"].values() if s["name"] == "users")
    users["columns"]["email"] = {"name": "email", "data_type": "varchar", "meta": {"pii": "personal"}}
    fct = planted["nodes"]["model.deskpulse.fct_tickets"]
    raw_users = f'"{fct["database"]}"."raw_lineage_zendesk"."users"'
    planted["nodes"]["model.deskpulse.customer_contacts"] = {
        **fct, "name": "customer_contacts", "alias": "customer_contacts", "unique_id": "customer_contacts",
        "fqn": ["deskpulse", "marts", "customer_contacts"],
        "compiled_code": f'select tenant_id, lower(email) as contact, count(*) as tickets from {raw_users} '
                         "group by tenant_id, lower(email)",
        "depends_on": {"nodes": [users["unique_id"]], "macros": []},
        "columns": {"tenant_id": {"meta": {"pii": "none"}}, "contact": {"meta": {"pii": "none"}},
                    "tickets": {"meta": {"pii": "personal"}}},
    }
    return planted


def test_a_planted_personal_column_is_flagged_by_the_report_and_the_check(manifest):
    before = set(build_report(manifest, [], ENDPOINTS)["violations"])
    report = build_report(planted(manifest), [], ENDPOINTS)
    assert set(report["violations"]) - before == {
        "customer_contacts.contact: derives from personal zendesk.users.email (derived)",
        "customer_contacts.tickets: classified personal in a published mart",
        "marts.customer_contacts.tickets: personal data stored outside raw"
        " (only allow-listed raw values may be)",
    }
    assert "| contact **FLAGGED** |" in markdown(report)


# -- where data lives, and the record of processing ---------------------------------------------
ACME = TenantConfig(id="acme", platform="zendesk", base_url="https://acme.zendesk.com",
                    credentials=Credentials("E", "T"), secret_env="ACME_SECRET", retention_days=400)
THRESHOLDS = {"min_tenants": 3, "min_tickets": 50}


@pytest.fixture
def report_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    return tmp_path


def test_the_cli_reads_the_benchmark_thresholds_the_dbt_project_sets():
    assert benchmark_thresholds() == THRESHOLDS  # README: cells under 3 tenants or 50 tickets are left out


def test_the_processing_record_names_recipients_thresholds_and_measures(manifest, report_home):
    report = build_report(manifest, [ACME], ENDPOINTS, THRESHOLDS)
    (record,) = report["activities"]
    tenant_bi, benchmark = record["recipients"]
    assert "benchmark_monthly" not in tenant_bi["what"] and "fct_tickets" in tenant_bi["what"]
    assert "serving/tenants/acme.duckdb" in tenant_bi["what"]
    assert benchmark["what"] == "serving/benchmark.duckdb: benchmark_monthly"
    assert "min tenants 3" in benchmark["form"] and "min tickets 50" in benchmark["form"]
    assert [s["category"] for s in record["data_subjects"]] == ["customers", "agents"]
    assert "400 days" in record["retention"] and "ACME_SECRET" in record["pseudonymisation"]
    assert record["security_measures"] and record["purpose"]
    text = markdown(report)
    assert "min_tenants" not in text and "min tenants 3" in text
    assert "Record of processing activities (GDPR Art. 30(2))" in text


def test_the_report_covers_the_restricted_mapping_dlt_packages_and_every_table(manifest, report_home):
    report = build_report(manifest, [], ENDPOINTS, THRESHOLDS)
    assert "agent_identity" in {m["model"] for m in report["marts"]}
    identity = next(m for m in report["marts"] if m["model"] == "agent_identity")
    assert identity["schema"] == "restricted" and not identity["published"]
    places = {p["name"]: p for p in report["storage"]["places"]}
    assert "load packages" in places["dlt folder"]["holds"]
    assert {"warehouse", "serving files", "logs", "Dagster storage", "privacy records"} <= set(places)
    tables = {f"{t['schema']}.{t['table']}" for t in report["storage"]["tables"]}
    models = {f"{n['schema']}.{n['name']}" for n in manifest["nodes"].values()
              if n["resource_type"] == "model"}
    assert models <= tables
    assert {"raw_<tenant>.users", "raw_<tenant>.quarantine", "raw_<tenant>._dlt_pipeline_state",
            "raw_<tenant>_staging.users", "main.dbt_build_inputs"} <= tables
    assert report["violations"] == []


def test_a_personal_column_planted_in_any_model_is_flagged(manifest, report_home):
    planted = copy.deepcopy(manifest)
    for model in ("int_users__user", "stg_zendesk__users"):  # a table, and a view over raw
        node = planted["nodes"][f"model.deskpulse.{model}"]
        node["columns"]["email"] = {"name": "email", "meta": {"pii": "personal"}}
    report = build_report(planted, [], ENDPOINTS, THRESHOLDS)
    assert report["violations"] == [
        f"{model}.email: personal data stored outside raw (only allow-listed raw values may be)"
        for model in ("intermediate.int_users__user", "staging.stg_zendesk__users")]


def test_a_column_planted_in_the_warehouse_is_flagged(manifest, report_home):
    warehouse = report_home / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_tickets (tenant_id varchar, ticket_id bigint,"
                    " requester_email varchar)")
        con.execute("create schema raw_acme")
        con.execute("create table raw_acme.users (tenant_id varchar, id bigint, email varchar,"
                    " _dlt_id varchar)")
    report = build_report(manifest, [], ENDPOINTS, THRESHOLDS, warehouse)
    assert report["violations"] == ["marts.fct_tickets.requester_email: no PII class",
                                    "raw_acme.users.email: no PII class"]
