"""The classification of every registered platform's raw columns, read from the platforms' declarations.

The privacy tools that work on any tenant (erasure, retention, lineage, reports) look a platform's
columns up here by name. The suppression hook is not among them: the source that calls it hands it
the declaration of the table it loads (a source cannot reach this register without an import circle).
"""

from __future__ import annotations

from pipelines.ingest.columns import Column
from pipelines.platforms import PLATFORMS
from pipelines.privacy.classification import DLT_COLUMNS, PersonColumns, people, person_id_columns, raw_fields

RAW_FIELDS: dict[str, dict[str, dict[str, Column]]] = {
    name: raw_fields(platform.tables) for name, platform in PLATFORMS.items()}
PEOPLE: dict[str, dict[str, PersonColumns]] = {
    name: people(platform.tables) for name, platform in PLATFORMS.items()}
PERSON_ID_COLUMNS = person_id_columns(PEOPLE.values())


def raw_field(platform: str, table: str, column: str) -> Column | None:
    """The declaration of a raw column (dlt's own columns included), or None if undeclared."""
    return RAW_FIELDS.get(platform, {}).get(table, {}).get(column) or DLT_COLUMNS.get(column)
