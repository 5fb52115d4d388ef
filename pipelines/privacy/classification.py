"""What is sensitive where: the PII class and origin of every raw column, and where people sit.

Each source package declares its raw columns once (``pipelines.ingest.columns``): class, origin
and whom a column names. Their classes reach dlt as the ``x-pii`` column hint and dbt as
``meta.pii`` (both written from the declarations); this module reads the rest from them: lineage
the origins, erasure, suppression and retention where person ids sit (``person_columns``).
``register.py`` holds what this gives for every registered platform.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pipelines.ingest.columns import (
    NONE,
    PERSON,
    PERSON_IF_FIELD,
    TEXT,
    TICKET,
    Column,
    RawTable,
    columns_naming,
)

# dlt's own bookkeeping columns, when it adds them (not to arrow tables by default): class none by rule,
# not hinted (a hint would declare a column the data may not have).
DLT_COLUMNS = {name: Column(name, TEXT, NONE, f"dlt: {what}", f"dlt's {what}.")
               for name, what in (("_dlt_load_id", "load id"), ("_dlt_id", "row id"))}


def raw_fields(tables: Iterable[RawTable]) -> dict[str, dict[str, Column]]:
    """Table → column name → declaration, for one platform's raw tables."""
    return {table.name: {column.name: column for column in table.columns} for table in tables}


# -- where people sit: what erasure deletes and the suppression hook drops -------------------------
@dataclass(frozen=True)
class PersonColumns:
    """Where one raw table names a person: its ticket column, its user-id columns, text columns
    that hold a user id when the row's ``field_name`` is a person field (ticket field changes), and
    the column beside each of those where the loader writes that person's user key."""

    ticket: str | None
    people: tuple[str, ...]
    field_values: tuple[str, ...] = ()
    keys: Mapping[str, str] = field(default_factory=dict)


def person_columns(table: RawTable) -> PersonColumns | None:
    """Where ``table`` names a person, as its columns declare (``names``, ``user_key``), or None when
    no column names a person or a ticket."""
    tickets = columns_naming(table, TICKET)
    people, values = columns_naming(table, PERSON), columns_naming(table, PERSON_IF_FIELD)
    if not (tickets or people or values):
        return None
    if len(tickets) > 1:
        raise ValueError(f"table {table.name!r}: more than one column names the row's ticket")
    keys = {column.name: column.user_key for column in table.columns if column.user_key}
    return PersonColumns(tickets[0] if tickets else None, people, values, keys)


def people(tables: Iterable[RawTable]) -> dict[str, PersonColumns]:
    """Table → where it names people, for the raw tables of one platform that do."""
    return {table.name: found for table in tables if (found := person_columns(table)) is not None}


# Ticket fields whose value is a Zendesk user id: a change of one names a person.
PERSON_FIELDS = ("assignee_id", "requester_id", "submitter_id")
# Quarantined records name their own id: which raw tables' records are a person or a ticket.
QUARANTINE = "quarantine"
QUARANTINED_IDS: dict[str, dict[str, str]] = {
    "zendesk": {"users": "person", "tickets": "ticket", "ticket_tags": "ticket",
                "ticket_field_values": "ticket"},
}


@dataclass(frozen=True)
class Authored:
    """Values a person writes in a row of this table, and the columns naming the writer: a change
    of a custom field (its field name is the field's numeric id) may hold free text."""

    by: tuple[str, ...]
    values: tuple[str, ...]
    field: str

    def applies(self, row: dict) -> bool:
        value = row.get(self.field)
        return isinstance(value, str) and value.isdigit()

    def sql(self) -> str:
        """The same test as a SQL condition."""
        return f"regexp_full_match(\"{self.field}\", '[0-9]+')"


AUTHORED: dict[str, dict[str, Authored]] = {
    "zendesk": {
        "ticket_events": Authored(("author_id", "updater_id"), ("value", "previous_value"), "field_name"),
    },
}
# Tables of current values keyed by (ticket, field): (ticket column, field column, value column).
AUTHORED_VALUES: dict[str, dict[str, tuple[str, str, str]]] = {
    "zendesk": {"ticket_field_values": ("ticket_id", "field_id", "value")},
}


def person_id_columns(people_by_platform: Iterable[Mapping[str, PersonColumns]]) -> frozenset[str]:
    """Integer columns of derived tables that hold a platform user id, by name: the raw columns
    naming a person (but ``id``), as staging keeps them."""
    return frozenset({
        "user_id", "agent_id", "record_id", *PERSON_FIELDS,
        *(name for tables in people_by_platform for person in tables.values() for name in person.people
          if name != "id"),
    })
