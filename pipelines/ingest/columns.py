"""One declaration per raw table: its keys and, per column, name, type, PII class, origin and meaning.

A source package declares each raw table it loads as a ``RawTable`` of ``Column``s, once; its dlt
resource takes its keys and column hints from it (``RawTable.resource``), the arrow typing of
``tables.py`` reads those hints, the privacy classification reads the classes, origins and the
people a column names, and ``deskpulse generate`` writes the dbt sources yml and
docs/raw_contract.md from it. Nothing here knows a particular helpdesk.

PII classes: ``none`` (no person behind it), ``pseudonymous`` (a platform id or keyed token: a
person, but only with the tenant's help or secret), ``personal`` (names a person: name, e-mail,
phone, free text).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from dlt.common.schema.typing import TColumnSchema

NONE, PSEUDONYMOUS, PERSONAL = "none", "pseudonymous", "personal"
PII_CLASSES = (NONE, PSEUDONYMOUS, PERSONAL)
PII_HINT = "x-pii"  # dlt keeps custom column hints prefixed x- in its schema
PASSED_THROUGH, PSEUDONYMISED = "passed through", "pseudonymised"

# Column types: dlt's data types, plus whole numbers that cannot be below zero (platform ids,
# durations and minute offsets, counts), stored as bigint with the kind in the ``x-kind`` hint.
TEXT, BIGINT, DOUBLE, BOOL, TIMESTAMP, DATE = "text", "bigint", "double", "bool", "timestamp", "date"
ID, MINUTES, COUNT = "id", "minutes", "count"
KIND = "x-kind"
KINDS = (ID, MINUTES, COUNT)
# What the warehouse (DuckDB) stores for each type: the dbt sources' ``data_type``.
WAREHOUSE_TYPES = {
    TEXT: "varchar", BIGINT: "bigint", DOUBLE: "double", BOOL: "boolean",
    TIMESTAMP: "timestamp with time zone", DATE: "date", ID: "bigint", MINUTES: "bigint", COUNT: "bigint",
}

# What a column's value names, for erasure, suppression and retention: a platform user id, the
# ticket the row belongs to, or a user id only when the row's ``field_name`` is a person field.
PERSON, TICKET, PERSON_IF_FIELD = "person", "ticket", "person if field"


@dataclass(frozen=True)
class Column:
    """A raw column: its name, type, PII class, what it holds (``description``), the API field or
    config entry it is made from (``origin``) and how (passed through or pseudonymised, with the
    origin's own class when that changed it), whom it names (``names``) and the column beside it
    where the loader writes that person's user key (``user_key``). A ``clears`` column marks rows
    that delete what their merge key matches and are never stored (dlt's ``hard_delete``)."""

    name: str
    type: str
    pii: str
    origin: str
    description: str
    extraction: str = PASSED_THROUGH
    origin_pii: str | None = None
    names: str | None = None
    user_key: str | None = None
    clears: bool = False

    def __post_init__(self) -> None:
        if self.type not in WAREHOUSE_TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}")
        if self.pii not in PII_CLASSES or (self.origin_pii or NONE) not in PII_CLASSES:
            raise ValueError(f"column {self.name!r}: unknown PII class")
        if self.names not in (None, PERSON, TICKET, PERSON_IF_FIELD):
            raise ValueError(f"column {self.name!r}: names {self.names!r}, not a person or a ticket")

    @property
    def source_pii(self) -> str:
        """The class of what the API sent (before pseudonymising)."""
        return self.origin_pii or self.pii

    @property
    def warehouse_type(self) -> str:
        return WAREHOUSE_TYPES[self.type]


@dataclass(frozen=True)
class RawTable:
    """A raw table: name, what a row is, its columns in table order, its primary key (never null,
    nor is ``tenant_id``), and how loads write it: merged on the primary key, and with a
    ``merge_key`` a load replaces every row that key matches (``tenant_id``: the whole list)."""

    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    merge_key: str | None = None
    deduplicated: bool = False  # a load never holds a record twice: dlt's merge need not deduplicate

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        referred = {*self.primary_key, self.merge_key, *(column.user_key for column in self.columns)}
        if len(set(names)) != len(names) or referred - set(names) - {None}:
            raise ValueError(f"table {self.name!r}: duplicate columns, or keys not among its columns")

    @functools.cached_property
    def hints(self) -> dict[str, TColumnSchema]:
        """dlt's column hints, in table order (declared so all-null columns still exist)."""
        required = {"tenant_id", *self.primary_key}
        return {column.name: _hint(column, column.name in required) for column in self.columns}

    @property
    def resource(self) -> dict[str, Any]:
        """The arguments a dlt resource takes for this table: name, keys, write disposition, columns."""
        keys = {"merge_key": self.merge_key} if self.merge_key else {}
        merge = ({"disposition": "merge", "strategy": "delete-insert", "deduplicated": True}
                 if self.deduplicated else "merge")
        return {"name": self.name, "primary_key": self.primary_key[0] if len(self.primary_key) == 1
                else self.primary_key, "write_disposition": merge, **keys, "columns": self.hints}


def _hint(column: Column, required: bool) -> TColumnSchema:
    kind = column.type if column.type in KINDS else None
    hint: dict[str, Any] = {"data_type": BIGINT if kind else column.type, "nullable": not required}
    if kind:
        hint[KIND] = kind
    if column.type == TIMESTAMP:
        hint["timezone"] = True
    if column.clears:
        hint["hard_delete"] = True
    hint[PII_HINT] = column.pii
    hint["description"] = column.description
    return hint  # type: ignore[return-value]  # dlt keeps x- hints


def columns_naming(table: RawTable, what: str) -> tuple[str, ...]:
    """The names of ``table``'s columns whose values name ``what`` (``PERSON``, ``TICKET``, ...)."""
    return tuple(column.name for column in table.columns if column.names == what)


def token(name: str, origin: str, description: str, of: str = PERSONAL, pii: str = PSEUDONYMOUS,
          **more: Any) -> Column:
    """A text column holding ``HMAC(tenant secret, kind || origin)`` instead of the origin (of class
    ``of``)."""
    return Column(name, TEXT, pii, origin, description, PSEUDONYMISED, of, **more)


TENANT_ID = Column("tenant_id", TEXT, NONE, "tenant config: id", "The tenant the row belongs to.")
CLEARED = Column("cleared", BOOL, NONE,
                 "set by the source: a row that clears what its merge key matches (not stored)",
                 "Always null: a row with it set deletes the rows its merge key matches and is not stored.",
                 clears=True)
