"""Raw rows to arrow tables: typed as their resource declares, or quarantined with the reason.

Resources build rows from explicit allow-lists; this module types them column by column as the
resource's hints say (ISO times parsed in bulk), so dlt writes parquet with no row-by-row
normalising. A row that cannot be typed (a missing key, text where a number belongs, a time that is
not a time) or holds a value no real record has (``implausible``) goes to the ``quarantine``
table with the table it was meant for, a keyed fingerprint of it and the reason, and is counted:
nothing is dropped silently.
"""

from __future__ import annotations

import functools
import json as std_json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common import json
from dlt.common.schema.typing import TColumnSchema
from dlt.extract.resource import DltResource

from pipelines.ingest import columns as ingest_columns
from pipelines.ingest.columns import BIGINT, BOOL, COUNT, DATE, DOUBLE, ID, KIND, MINUTES, TEXT, TIMESTAMP
from pipelines.ingest.keys import pseudonym
from pipelines.sources.zendesk.raw_tables import QUARANTINE_TABLE

logger = logging.getLogger(__name__)

Row = dict[str, Any]
Hints = Mapping[str, TColumnSchema]
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
QUARANTINE = QUARANTINE_TABLE.name
CLEARED = ingest_columns.CLEARED.name
QUARANTINE_COLUMNS = QUARANTINE_TABLE.hints
LOAD_ID = "_dlt_load_id"  # dlt's column: the load that wrote a row
TYPE_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError,
               UnicodeEncodeError)

# What a value may be beyond its type (``implausible``): times from EARLIEST to a day after the run
# started (a clock a little ahead is fine, year 9999 is not), whole numbers of the kinds ID, MINUTES
# and COUNT not below zero, text that is valid Unicode (no lone surrogates, which no warehouse can
# store) and at most MAX_TEXT_CHARS long (tags, names and the allow-listed field values are short;
# anything longer is not a value anyone analyses).
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
FUTURE_MARGIN = timedelta(days=1)
MAX_TEXT_CHARS = 1_024
BELOW_ZERO = {ID: "a negative id", MINUTES: "a negative duration", COUNT: "a negative count"}


def cleared_row(hints: Hints, **keys: Any) -> Row:
    """The row that clears: the given merge key values, placeholders in the other key columns."""
    placeholders = {TEXT: "", BIGINT: 0}
    row = {name: placeholders.get(hint["data_type"])
           for name, hint in hints.items() if not hint.get("nullable")}
    return {**row, **keys, CLEARED: True}


def cleared_table(hints: Hints, **keys: Any) -> pa.Table:
    """A table of the one row that clears (``cleared_row``), typed as ``hints`` declare."""
    return _typed([cleared_row(hints, **keys)], hints)


def with_quarantine(resource: DltResource) -> DltResource:
    """Let ``resource`` send rows it cannot load to the quarantine table (merged on table and
    record key, so a record met twice is kept once; a ``cleared`` row removes one that since
    loaded), without lending it its own columns."""
    resource.apply_hints(table_name=QUARANTINE, create_table_variant=True, columns={},
                         primary_key=QUARANTINE_TABLE.primary_key, merge_key="", write_disposition="merge")
    resource.apply_hints(table_name=QUARANTINE, create_table_variant=True, columns=QUARANTINE_COLUMNS)
    return resource


@dataclass
class Quarantine:
    """Where one table's unloadable rows go: fingerprinted with the tenant's secret, never copied.

    A record with an identity (its whole-number ``key`` column: a ticket's id, a tag's ticket) is
    keyed by it, so the table holds one row per record that has not loaded since, and a later
    version that loads cleanly takes it out (``resolve``). A record without one is keyed by its
    content. ``started_at`` is the run's start: rows holding times more than a day after it are
    implausible, and quarantine rows carry it."""

    tenant_id: str
    table: str
    secret: bytes
    key: str = "id"
    started_at: datetime | None = None
    rows: list[Row] = field(default_factory=list)
    identities: set[int] = field(default_factory=set)  # of the records quarantined so far
    count: int = 0  # rows quarantined so far (a record with two bad rows keeps the first reason)

    def identity(self, record: object) -> int | None:
        value = record.get(self.key) if isinstance(record, dict) else None
        return value if type(value) is int else None

    def record_key(self, identity: int) -> str:
        return pseudonym(self.secret, "record", f"{self.table}|{identity}")

    def add(self, record: object, reason: str, at: int | None = None) -> None:
        """Quarantine ``record`` for ``reason``; ``at`` is where the export served it (unix seconds),
        from where a retry re-reads."""
        self.count += 1
        identity = self.identity(record)
        if identity in self.identities:
            return
        if identity is not None:
            key = self.record_key(identity)
            self.identities.add(identity)
        else:
            key = pseudonym(self.secret, "record", _fingerprint(record))
        fields = record if isinstance(record, dict) else {}
        record_id, ticket_id = fields.get("id"), fields.get("id" if self.table == "tickets" else "ticket_id")
        self.rows.append({
            "tenant_id": self.tenant_id,
            "table_name": self.table,
            "record_key": key,
            "record_id": record_id if type(record_id) is int else None,
            "ticket_id": ticket_id if type(ticket_id) is int else None,
            "reason": reason,
            "record_time": datetime.fromtimestamp(at, UTC).isoformat() if isinstance(at, int) else None,
            "quarantined_at": self.started_at.isoformat() if self.started_at else None,
            CLEARED: None,
        })

    def resolve(self, identities: Sequence[int]) -> None:
        """Take out the quarantine rows of these records: a version of each has loaded cleanly."""
        self.rows += [cleared_row(QUARANTINE_COLUMNS, tenant_id=self.tenant_id, table_name=self.table,
                                  record_key=self.record_key(identity)) for identity in identities]

    def drain(self) -> pa.Table | None:
        """The rows collected since the last call, as a table marked for the quarantine table."""
        if not self.rows:
            return None
        added = sum(1 for row in self.rows if not row[CLEARED])
        if added:
            logger.warning("tenant %s: %d %s record(s) quarantined", self.tenant_id, added, self.table)
        table = _typed(self.rows, QUARANTINE_COLUMNS)
        self.rows = []
        return dlt.mark.with_table_name(with_load_id(table), QUARANTINE)


def with_load_id(table: pa.Table) -> pa.Table:
    """``table`` with dlt's ``_dlt_load_id`` column, empty: dlt writes the id of the load in it
    (``pipelines.load.ROW_LOAD_IDS``), and it is nullable, so a table loaded before it had the
    column takes it. The build plan tells a table a load wrote to by it (pipelines/build_plan.py)."""
    return table.append_column(LOAD_ID, pa.nulls(table.num_rows, pa.string()))


def _fingerprint(record: object) -> str:
    """A record as text, to key it by its content: JSON (the standard library's where the fast
    encoder refuses text that is not valid Unicode)."""
    if not isinstance(record, dict):
        return repr(record)
    try:
        return json.dumps(record, sort_keys=True)
    except TypeError:
        return std_json.dumps(record, sort_keys=True, default=str)


def typed_items(items: Sequence[Any], to_rows: Callable[[Any], list[Row]], hints: Hints,
                quarantine: Quarantine, *, whole: bool = False, evolve: bool = False,
                when: Callable[[Any], int | None] | None = None) -> tuple[pa.Table, int, bool]:
    """The rows ``to_rows`` makes of ``items``, typed as ``hints`` declare (``to_table``); how many
    rows were read (typed or quarantined); and whether the table is a ``whole`` list's one row that
    clears, made when the list has no rows. Items that are not objects go to ``quarantine`` too,
    and a quarantined row's record time is its item's (``when``). An ``evolve`` table takes
    figures beyond ``hints`` as new columns."""
    rows: list[Row] = []
    owners: list[int] = []  # the item each row was made from, for its export time if quarantined
    for index, item in enumerate(items):
        if isinstance(item, dict):
            made = to_rows(item)
            rows += made
            owners += [index] * len(made)
        else:
            quarantine.add(item, "not a JSON object")
    read = len(rows) + quarantine.count
    placeholder = whole and not rows
    if placeholder:
        rows = [cleared_row(hints, tenant_id=quarantine.tenant_id)]
    if evolve:
        hints = {**hints, **extra_columns(rows, hints)}

    def time_of(row: int) -> int | None:
        return when(items[owners[row]]) if when is not None and row < len(owners) else None

    return to_table(rows, hints, quarantine, time_of), read, placeholder


def to_table(rows: list[Row], hints: Hints, quarantine: Quarantine,
             time_of: Callable[[int], int | None] | None = None) -> pa.Table:
    """Rows typed as ``hints`` declare; rows that do not fit or hold an implausible value go to
    ``quarantine`` with the reason (and, from ``time_of`` its position in ``rows``, where the
    export served the record: asked only for the rows quarantined)."""
    def at(index: int) -> int | None:
        return time_of(index) if time_of is not None else None

    kept = list(range(len(rows)))
    try:
        typed = _typed(rows, hints)
    except TYPE_ERRORS:
        kept = []
        for index, row in enumerate(rows):
            problem = problem_of(row, hints)
            if problem is None:
                kept.append(index)
            else:
                quarantine.add(row, problem, at(index))
        typed = _typed([rows[index] for index in kept], hints)
    if typed.num_rows and quarantine.started_at is not None:
        reasons = implausible(typed, hints, quarantine.started_at)
        if reasons:
            for position, reason in reasons.items():
                index = kept[position]
                quarantine.add(rows[index], reason, at(index))
            keep = pa.array([position not in reasons for position in range(typed.num_rows)])
            typed = typed.filter(keep)
    return typed


def implausible(table: pa.Table, hints: Hints, started_at: datetime) -> dict[int, str]:
    """Rows of a typed table holding a value no real record has, by position, with the reason (the
    first such column and what is wrong, never the value). A column is first judged by its
    extremes (one pass; a text's bytes bound its characters), row by row only when they fail."""
    latest = started_at + FUTURE_MARGIN
    found: dict[int, str] = {}
    for name, hint in hints.items():
        column, masks = table.column(name), []
        if column.null_count == len(column):
            continue
        if hint["data_type"] == TIMESTAMP:
            extremes = pc.min_max(column)
            if extremes["min"].as_py() < EARLIEST:
                masks.append((pc.less(column, pa.scalar(EARLIEST, column.type)),
                              f"{name}: before {EARLIEST:%Y}"))
            if extremes["max"].as_py() > latest:
                masks.append((pc.greater(column, pa.scalar(latest, column.type)),
                              f"{name}: more than a day after the run started"))
        elif hint.get(KIND) in BELOW_ZERO and pc.min(column).as_py() < 0:
            masks.append((pc.less(column, 0), f"{name}: {BELOW_ZERO[hint[KIND]]}"))
        elif hint["data_type"] == TEXT and pc.max(pc.binary_length(column)).as_py() > MAX_TEXT_CHARS:
            masks.append((pc.greater(pc.utf8_length(column), MAX_TEXT_CHARS),
                          f"{name}: longer than {MAX_TEXT_CHARS} characters"))
        for mask, reason in masks:
            for position in pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist():
                found.setdefault(position, reason)
    return found


def _typed(rows: list[Row], hints: Hints) -> pa.Table:
    arrays, fields = [], []
    for name, hint in hints.items():
        try:
            values = list(map(itemgetter(name), rows))
        except KeyError:  # a column only some rows have (a field the API added)
            values = [row.get(name) for row in rows]
        array = _array(values, hint["data_type"], hint.get(KIND))
        if not hint.get("nullable", True) and array.null_count:
            raise pa.ArrowInvalid(f"{name} is missing")
        arrays.append(array)
        fields.append(pa.field(name, array.type, nullable=hint.get("nullable", True)))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _array(values: list[Any], data_type: str, kind: str | None = None) -> pa.Array:
    if data_type in PARSED_FROM_TEXT:
        return pa.array(values, pa.string()).cast(ARROW_TYPES[data_type])
    if kind == ID:  # arrow would take 12.0 for 12: an id must arrive as a whole number
        inferred = pa.array(values)
        if not (pa.types.is_integer(inferred.type) or pa.types.is_null(inferred.type)):
            raise pa.ArrowInvalid("an id that is not a whole number")
        return inferred.cast(pa.int64())
    return pa.array(values, ARROW_TYPES[data_type])


def problem_of(row: Row, hints: Hints) -> str | None:
    """Why ``row`` does not fit ``hints`` (the column and what it should hold), or None."""
    for name, hint in hints.items():
        value = row.get(name)
        if value is None:
            if not hint.get("nullable", True):
                return f"{name}: missing"
            continue
        if isinstance(value, str) and hint["data_type"] == TEXT and not _encodable(value):
            return f"{name}: not valid Unicode (a lone surrogate)"
        try:
            _array([value], hint["data_type"], hint.get(KIND))
        except TYPE_ERRORS:
            return f"{name}: {EXPECTED[hint['data_type']]}"
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


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
