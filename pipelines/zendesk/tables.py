"""Raw rows to arrow tables: typed as their resource declares, or quarantined with the reason.

Resources build rows from explicit allow-lists; this module types them column by column as the
resource's hints say (ISO times parsed in bulk), so dlt writes parquet with no row-by-row
normalising. A row that cannot be typed (a missing key, text where a number belongs, a time that is
not a time) goes to the ``quarantine`` table with the table it was meant for, a keyed fingerprint
of it and the reason, and is counted: nothing is dropped silently.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import dlt
import pyarrow as pa
from dlt.common import json
from dlt.common.schema.typing import TColumnSchema
from dlt.extract.resource import DltResource

from pipelines.keys import pseudonym

logger = logging.getLogger(__name__)

Row = dict[str, Any]
Hints = Mapping[str, TColumnSchema]
TEXT, BIGINT, DOUBLE, BOOL, TIMESTAMP, DATE = "text", "bigint", "double", "bool", "timestamp", "date"
ARROW_TYPES = {
    TEXT: pa.string(), BIGINT: pa.int64(), DOUBLE: pa.float64(), BOOL: pa.bool_(),
    TIMESTAMP: pa.timestamp("us", tz="UTC"), DATE: pa.date32(),
}
PARSED_FROM_TEXT = (TIMESTAMP, DATE)  # the API sends ISO 8601 text; arrow parses a page at once
EXPECTED = {
    TEXT: "expected text", BIGINT: "expected a whole number", DOUBLE: "expected a number",
    BOOL: "expected true or false", TIMESTAMP: "expected an ISO 8601 time", DATE: "expected an ISO 8601 date",
}
BATCH_ROWS = 20_000  # dlt spends about a millisecond on every table it is given: give it few, large ones
QUARANTINE = "quarantine"
CLEARED = "cleared"
QUARANTINE_KEY = ("table_name", "record_key")
TYPE_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError)


def columns(required: Sequence[str] = (), **types: str) -> dict[str, TColumnSchema]:
    """Column hints in table order; declared so all-null columns still exist. ``tenant_id`` and the
    ``required`` columns (keys) never hold null. Timestamps are UTC."""
    hints: dict[str, TColumnSchema] = {}
    for name, data_type in types.items():
        hints[name] = {"data_type": data_type, "nullable": name != "tenant_id" and name not in required}
        if data_type == TIMESTAMP:
            hints[name]["timezone"] = True
    return hints


def clearable(hints: dict[str, TColumnSchema]) -> dict[str, TColumnSchema]:
    """``hints`` plus ``cleared``: a row with it set deletes what its merge key matches and is not
    stored, so a load can say "nothing is left" (always null in the table)."""
    return {**hints, CLEARED: {"data_type": BOOL, "nullable": True, "hard_delete": True}}


def cleared_row(hints: Hints, **keys: Any) -> Row:
    """The row that clears: the given merge key values, placeholders in the other key columns."""
    placeholders = {TEXT: "", BIGINT: 0}
    row = {name: placeholders.get(hint["data_type"])
           for name, hint in hints.items() if not hint.get("nullable")}
    return {**row, **keys, CLEARED: True}


QUARANTINE_COLUMNS = columns(QUARANTINE_KEY, tenant_id=TEXT, table_name=TEXT, record_key=TEXT,
                             record_id=BIGINT, reason=TEXT)


def with_quarantine(resource: DltResource) -> DltResource:
    """Let ``resource`` send rows it cannot load to the quarantine table (merged on table and
    fingerprint, so a row met twice is kept once), without lending it its own columns."""
    resource.apply_hints(table_name=QUARANTINE, create_table_variant=True, columns={},
                         primary_key=QUARANTINE_KEY, merge_key="", write_disposition="merge")
    resource.apply_hints(table_name=QUARANTINE, create_table_variant=True, columns=QUARANTINE_COLUMNS)
    return resource


@dataclass
class Quarantine:
    """Where one table's untypeable rows go: fingerprinted with the tenant's secret, never copied."""

    tenant_id: str
    table: str
    secret: bytes
    rows: list[Row] = field(default_factory=list)

    def add(self, record: object, reason: str) -> None:
        fingerprint = json.dumps(record, sort_keys=True) if isinstance(record, dict) else repr(record)
        record_id = record.get("id") if isinstance(record, dict) else None
        is_id = isinstance(record_id, int) and not isinstance(record_id, bool)
        self.rows.append({
            "tenant_id": self.tenant_id,
            "table_name": self.table,
            "record_key": pseudonym(self.secret, "record", fingerprint),
            "record_id": record_id if is_id else None,
            "reason": reason,
        })

    def drain(self) -> pa.Table | None:
        """The rows collected since the last call, as a table marked for the quarantine table."""
        if not self.rows:
            return None
        logger.warning("tenant %s: %d %s record(s) quarantined", self.tenant_id, len(self.rows), self.table)
        table = _typed(self.rows, QUARANTINE_COLUMNS)
        self.rows = []
        return dlt.mark.with_table_name(table, QUARANTINE)


def to_table(rows: list[Row], hints: Hints, quarantine: Quarantine) -> pa.Table:
    """Rows typed as ``hints`` declare; rows that do not fit go to ``quarantine`` with the reason."""
    try:
        return _typed(rows, hints)
    except TYPE_ERRORS:
        pass
    good = []
    for row in rows:
        problem = problem_of(row, hints)
        if problem is None:
            good.append(row)
        else:
            quarantine.add(row, problem)
    return _typed(good, hints)


def _typed(rows: list[Row], hints: Hints) -> pa.Table:
    arrays, fields = [], []
    for name, hint in hints.items():
        try:
            values = list(map(itemgetter(name), rows))
        except KeyError:  # a column only some rows have (a field the API added)
            values = [row.get(name) for row in rows]
        array = _array(values, hint["data_type"])
        if not hint.get("nullable", True) and array.null_count:
            raise pa.ArrowInvalid(f"{name} is missing")
        arrays.append(array)
        fields.append(pa.field(name, array.type, nullable=hint.get("nullable", True)))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _array(values: list[Any], data_type: str) -> pa.Array:
    if data_type in PARSED_FROM_TEXT:
        return pa.array(values, pa.string()).cast(ARROW_TYPES[data_type])
    return pa.array(values, ARROW_TYPES[data_type])


def problem_of(row: Row, hints: Hints) -> str | None:
    """Why ``row`` does not fit ``hints`` (the column and what it should hold), or None."""
    for name, hint in hints.items():
        value = row.get(name)
        if value is None:
            if not hint.get("nullable", True):
                return f"{name}: missing"
            continue
        try:
            _array([value], hint["data_type"])
        except TYPE_ERRORS:
            return f"{name}: {EXPECTED[hint['data_type']]}"
    return None


def extra_columns(rows: list[Row], hints: Hints) -> dict[str, TColumnSchema]:
    """Hints for columns the rows hold beyond ``hints`` (a field the API added): numbers as
    doubles, flags as booleans; all nullable, so the raw table evolves instead of failing."""
    found: dict[str, TColumnSchema] = {}
    for row in rows:
        for name, value in row.items():
            if name not in hints and name not in found and value is not None:
                found[name] = {"data_type": BOOL if isinstance(value, bool) else DOUBLE, "nullable": True}
    return found


def batched(resource: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Gather the tables a resource yields page by page into tables of ``BATCH_ROWS`` rows or more;
    anything else (quarantine rows) passes straight through. State moves on as pages are read, but
    dlt commits it only once everything is extracted, so a buffered page cannot be lost."""
    @functools.wraps(resource)
    def gather(*args: Any, **kwargs: Any) -> Iterator[Any]:
        waiting: list[pa.Table] = []
        for item in resource(*args, **kwargs):
            if not isinstance(item, pa.Table):
                yield item
                continue
            waiting.append(item)
            if sum(t.num_rows for t in waiting) >= BATCH_ROWS:
                yield pa.concat_tables(waiting, promote_options="default")
                waiting = []
        if waiting:
            yield pa.concat_tables(waiting, promote_options="default")

    return gather


def suppressing(keep: Callable[[list[Row]], list[Row]]) -> Callable[[pa.Table], pa.Table]:
    """A table filter from a row filter (the privacy hook works on rows: it drops rows, and may
    give back rows it changed or added, which are typed again)."""
    def apply(table: pa.Table) -> pa.Table:
        rows = table.to_pylist()
        for index, row in enumerate(rows):
            row["__row"] = index
        kept = keep(rows)
        if any(row is not rows[row["__row"]] for row in kept):
            return pa.Table.from_pylist([{k: v for k, v in row.items() if k != "__row"} for row in kept],
                                        schema=table.schema)
        taken = [row["__row"] for row in kept]
        return table if len(taken) == table.num_rows else table.take(pa.array(taken, pa.int64()))

    return apply
