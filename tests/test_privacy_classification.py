"""Every raw column is declared once, at its source, and everything else reads that declaration: the
dlt hints (the ``x-pii`` class included), the classification's register, where people sit.

The dbt side (sources, staging, marts: ``meta.pii`` in the compiled manifest) is checked in
test_lineage.py; the classes dlt stores after a real load in test_privacy_scan.py; that the
generated dbt sources and contract match the declarations in test_raw_docs.py.
"""

from __future__ import annotations

import pytest

from pipelines.ingest.columns import (
    ID,
    NONE,
    PERSON,
    PII_CLASSES,
    PII_HINT,
    PSEUDONYMOUS,
    TENANT_ID,
    TICKET,
    Column,
    RawTable,
    token,
)
from pipelines.ingest.config import Credentials, TenantConfig
from pipelines.ingest.keys import pseudonym
from pipelines.platforms import PLATFORMS
from pipelines.privacy import suppression
from pipelines.privacy.classification import DLT_COLUMNS, PersonColumns, person_columns
from pipelines.privacy.register import PEOPLE, PERSON_ID_COLUMNS, RAW_FIELDS, raw_field
from pipelines.privacy.suppression import suppression_filter

SECRET = "s" * 40


def stand_in(platform: str) -> TenantConfig:
    return TenantConfig(id="acme", platform=platform, base_url="https://acme.example.com",
                        credentials=Credentials("E", "T"), secret_env="ACME_SECRET")


def declared_tables(platform: str) -> dict[str, dict]:
    """Table → column hints, for every table the platform's source loads (quarantine included)."""
    tables: dict[str, dict] = {}
    for resource in PLATFORMS[platform].source(stand_in(platform)).selected_resources.values():
        tables.setdefault(resource.name, {}).update(resource.columns or {})
        for table, variant in resource._hints_variants.items():
            tables.setdefault(table, {}).update(variant.get("columns") or {})
    return tables


def test_every_declared_raw_column_carries_a_class_hint():
    for platform in PLATFORMS:
        for table, hints in declared_tables(platform).items():
            unclassified = [name for name, hint in hints.items() if hint.get(PII_HINT) not in PII_CLASSES]
            assert not unclassified, (table, unclassified)


def test_the_dlt_hints_are_the_declarations():
    """Each table the source loads has exactly the declared columns, with the declared type, class
    and meaning; keys never null."""
    for name, platform in PLATFORMS.items():
        tables = declared_tables(name)
        assert set(tables) == {table.name for table in platform.tables}
        for table in platform.tables:
            hints = tables[table.name]
            assert list(hints) == [column.name for column in table.columns], table.name
            for column in table.columns:
                hint = hints[column.name]
                assert (hint[PII_HINT], hint["description"]) == (column.pii, column.description)
                assert hint.get("x-kind", hint["data_type"]) == column.type, (table.name, column.name)
                assert hint["nullable"] == (column.name not in {"tenant_id", *table.primary_key})


def test_a_resource_takes_its_keys_and_columns_from_its_declaration():
    tickets = PLATFORMS["zendesk"].table("tickets")
    hints = tickets.hints
    requester = {k: v for k, v in hints["requester_id"].items() if k != "name"}  # dlt adds the name
    assert requester == {"data_type": "bigint", "nullable": True, "x-kind": "id", PII_HINT: PSEUDONYMOUS,
                         "description": "Zendesk user id of the requester."}
    assert hints["id"]["nullable"] is False and hints["created_at"]["timezone"] is True
    assert tickets.resource["primary_key"] == "id" and tickets.resource["columns"] is hints
    tags = PLATFORMS["zendesk"].table("ticket_tags")
    assert tags.resource["primary_key"] == ("ticket_id", "tag") and tags.resource["merge_key"] == "ticket_id"
    assert tags.hints["cleared"]["hard_delete"] is True


def test_the_register_is_the_declarations():
    for name, platform in PLATFORMS.items():
        assert list(RAW_FIELDS[name]) == [table.name for table in platform.tables]
        for table in platform.tables:
            for column in table.columns:
                assert raw_field(name, table.name, column.name) is column
    assert raw_field("zendesk", "tickets", "_dlt_id") is DLT_COLUMNS["_dlt_id"]
    assert raw_field("zendesk", "tickets", "subject") is None


def test_personal_values_reach_raw_only_as_keyed_tokens_or_when_the_tenant_allows_them():
    allowed = {("zendesk", "ticket_field_values", "value")}  # custom fields a tenant allow-lists
    for platform, tables in RAW_FIELDS.items():
        for table, fields in tables.items():
            for column, field in fields.items():
                assert field.pii != "personal" or (platform, table, column) in allowed, (table, column)
                if field.source_pii == "personal" and field.pii != "personal":
                    assert field.extraction == "pseudonymised", (table, column)


def test_where_zendesk_names_people_is_read_from_its_declarations():
    """Hand-written from the Zendesk API: which columns hold a user id, the row's ticket, a user id
    when the field changed is a person field, and the user key the loader writes beside each."""
    expected = {
        "users": PersonColumns(None, ("id",)),
        "tickets": PersonColumns("id", ("requester_id", "submitter_id", "assignee_id"), keys={
            "requester_id": "requester_key", "submitter_id": "submitter_key", "assignee_id": "assignee_key"}),
        "ticket_events": PersonColumns("ticket_id", ("updater_id", "author_id"), ("value", "previous_value"),
                                       keys={"value": "value_key", "previous_value": "previous_value_key"}),
        "satisfaction_ratings": PersonColumns("ticket_id", ("assignee_id", "requester_id"), keys={
            "assignee_id": "assignee_key", "requester_id": "requester_key"}),
        **{table: PersonColumns("ticket_id", ()) for table in (
            "ticket_tags", "ticket_field_values", "ticket_metrics", "ticket_metric_events")},
    }
    assert PEOPLE["zendesk"] == expected
    assert {"requester_id", "submitter_id", "assignee_id", "updater_id", "author_id"} <= PERSON_ID_COLUMNS


# A table no platform has: declaring a column as naming a person is all it takes for the privacy
# tools to treat it so.
REVIEWS = RawTable("reviews", "One row per review of a ticket.", (
    TENANT_ID,
    Column("id", ID, NONE, "reviews[].id", "Review id."),
    Column("ticket_id", ID, NONE, "reviews[].ticket_id", "The reviewed ticket.", names=TICKET),
    Column("reviewer_id", ID, PSEUDONYMOUS, "reviews[].reviewer_id", "User id of the reviewer.",
           names=PERSON, user_key="reviewer_key"),
    token("reviewer_key", "reviews[].reviewer_id", "User key of the reviewer.", of=PSEUDONYMOUS),
), ("id",))


def test_a_column_declared_as_naming_a_person_is_where_the_table_names_people():
    assert person_columns(REVIEWS) == PersonColumns("ticket_id", ("reviewer_id",), keys={
        "reviewer_id": "reviewer_key"})
    assert person_columns(RawTable("brands", "", (TENANT_ID,), ("tenant_id",))) is None


def test_rows_naming_an_erased_person_in_a_declared_column_are_suppressed(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    monkeypatch.setenv("ACME_SECRET", SECRET)
    tenant = stand_in("zendesk")
    suppression.add(tenant, {pseudonym(SECRET.encode(), "user", 41)}, {7})
    rows = [{"tenant_id": "acme", "id": n, "ticket_id": ticket, "reviewer_id": reviewer, "reviewer_key": None}
            for n, ticket, reviewer in ((1, 5, 41), (2, 5, 42), (3, 7, 42))]
    assert [row["id"] for row in suppression_filter(tenant, REVIEWS)(rows)] == [2]


@pytest.mark.parametrize("bad", [
    lambda: Column("x", "varchar", NONE, "o", "d"),  # a warehouse type, not a declared one
    lambda: Column("x", ID, "secret", "o", "d"),
    lambda: RawTable("t", "d", (TENANT_ID, TENANT_ID), ("tenant_id",)),
    lambda: RawTable("t", "d", (TENANT_ID,), ("id",)),
    lambda: Column("x", ID, NONE, "o", "d", names="organisation"),
    lambda: RawTable("t", "d", (TENANT_ID, Column("x", ID, NONE, "o", "d", user_key="x_key")), ("x",)),
])
def test_a_declaration_that_cannot_hold_is_refused(bad):
    with pytest.raises(ValueError):
        bad()
