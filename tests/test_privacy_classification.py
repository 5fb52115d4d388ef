"""Every raw column carries a PII class as a dlt hint, from a register that matches the source exactly.

The dbt side (sources, staging, marts: ``meta.pii`` in the compiled manifest) is checked in
test_lineage.py; the classes dlt stores after a real load in test_privacy_scan.py.
"""

from __future__ import annotations

from pipelines.ingest.config import Credentials, TenantConfig
from pipelines.platforms import PLATFORMS
from pipelines.privacy.classification import DLT_COLUMNS, PII_CLASSES, PII_HINT, RAW_FIELDS, raw_field


def stand_in(platform: str) -> TenantConfig:
    return TenantConfig(id="acme", platform=platform, base_url="https://acme.example.com",
                        credentials=Credentials("E", "T"), secret_env="UNSET")


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


def test_the_register_matches_the_sources_columns_exactly():
    for platform in PLATFORMS:
        tables = declared_tables(platform)
        assert set(RAW_FIELDS[platform]) == set(tables)
        for table, hints in tables.items():
            assert set(hints) - set(DLT_COLUMNS) == set(RAW_FIELDS[platform][table]), table


def test_personal_values_reach_raw_only_as_keyed_tokens_or_when_the_tenant_allows_them():
    allowed = {("zendesk", "ticket_field_values", "value")}  # custom fields a tenant allow-lists
    for platform, tables in RAW_FIELDS.items():
        for table, fields in tables.items():
            for column, field in fields.items():
                assert raw_field(platform, table, column) is field
                assert field.pii != "personal" or (platform, table, column) in allowed, (table, column)
                if field.source_pii == "personal" and field.pii != "personal":
                    assert field.extraction == "pseudonymised", (table, column)
