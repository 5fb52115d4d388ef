"""A compact, sorted snapshot of a synthetic world as one instant sees it, for the fake Zendesk API.

Each ticket is simulated once per snapshot; its state, audits, child events, ratings, metric events
and metric set are packed into arrow columns (integers, and strings as codes into one shared
vocabulary) sorted the way the API pages through them. Serving a page is then a slice, a million
tickets fit in about a gigabyte, and no ticket is simulated twice.
"""

from __future__ import annotations

import logging
from array import array
from collections import namedtuple
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.fakes.zendesk.metrics import MetricSet, metric_events, metric_set
from pipelines.world.model import Brand, Group, Rating, Schedule, SlaPolicy, Ticket, TicketField, User

logger = logging.getLogger(__name__)

NULL = -(2**63)  # "no value" in the integer columns while they are built
METRIC_SET_TIMES = ("assignee_updated_at", "requester_updated_at", "status_updated_at",
                    "initially_assigned_at", "assigned_at", "solved_at", "latest_comment_added_at")
METRIC_SET_MINUTES = ("reply_time", "first_resolution_time", "full_resolution_time", "agent_wait_time",
                      "requester_wait_time", "on_hold_time")
METRIC_SET_COUNTS = ("group_stations", "assignee_stations", "reopens", "replies")


class WorldLike(Protocol):
    """What the fake API reads from a world."""

    end: datetime

    def tickets(self) -> Iterable[Ticket]: ...
    def users(self) -> Iterable[User]: ...
    def user(self, user_id: int) -> User: ...
    def groups(self) -> list[Group]: ...
    def brands(self) -> list[Brand]: ...
    def schedules(self) -> list[Schedule]: ...
    def ticket_fields(self) -> list[TicketField]: ...
    def sla_policies(self) -> list[SlaPolicy]: ...
    @property
    def agent_ids(self) -> frozenset[int]: ...


def unix(at: datetime | None) -> int:
    return NULL if at is None else int(at.timestamp())


class Vocabulary:
    """Strings as small integer codes; code 0 is None."""

    def __init__(self) -> None:
        self.values: list[str | None] = [None]
        self._codes: dict[str | None, int] = {None: 0}

    def code(self, value: str | None) -> int:
        found = self._codes.get(value)
        if found is None:
            found = self._codes[value] = len(self.values)
            self.values.append(value)
        return found


class Columns:
    """Typed, growing columns of one table: integers (NULL for none), then strings kept as codes."""

    def __init__(self, vocabulary: Vocabulary, ints: Iterable[str], codes: Iterable[str] = ()):
        self.vocabulary = vocabulary
        self.ints = {name: array("q") for name in ints}
        self.codes = {name: array("i") for name in codes}
        self._int_appends = [column.append for column in self.ints.values()]
        self._code_appends = [column.append for column in self.codes.values()]

    def __len__(self) -> int:
        return len(next(iter(self.ints.values())))

    def add(self, ints: Iterable[int], codes: Iterable[str | None] = ()) -> None:
        """One row: the integers and the strings, each in the order the columns were declared."""
        for append, value in zip(self._int_appends, ints, strict=True):
            append(value)
        code = self.vocabulary.code
        for append, value in zip(self._code_appends, codes, strict=True):
            append(code(value))

    def table(self) -> Packed:
        arrays = {name: _nullable(column) for name, column in self.ints.items()}
        arrays |= {name: _wrap(column, pa.int32()) for name, column in self.codes.items()}
        return Packed(pa.table(arrays), self.vocabulary.values, frozenset(self.codes))

    def sorted(self) -> SortedTable:
        """The table sorted by ``(ts, id)``."""
        packed = self.table()
        order = pc.sort_indices(packed.table, [("ts", "ascending"), ("id", "ascending")])
        return SortedTable(packed.table.take(order), packed.vocabulary, packed.codes)


def _nullable(column: array) -> pa.Array:
    values = _wrap(column, pa.int64())
    return pc.if_else(pc.equal(values, NULL), pa.scalar(None, pa.int64()), values)


def _wrap(column: array, kind: pa.DataType) -> pa.Array:
    """An arrow view of a typed Python array (no copy: the buffer protocol)."""
    return pa.Array.from_buffers(kind, len(column), [None, pa.py_buffer(column)])


class Packed:
    """A packed table: integer columns, and strings as codes into a vocabulary (decoded by ``rows``)."""

    def __init__(self, table: pa.Table, vocabulary: list[str | None], codes: frozenset[str]):
        self.table = table.combine_chunks()
        self.vocabulary, self.codes = vocabulary, codes
        self._row = namedtuple("Row", self.table.column_names)

    def __len__(self) -> int:
        return self.table.num_rows

    def rows(self, start: int, stop: int) -> list[Any]:
        """Rows ``[start, stop)`` as named tuples, built column by column (far faster than arrow's
        own rows, which a page of a million-ticket export would spend most of its time in)."""
        columns = []
        for name in self.table.column_names:
            values = self.table.column(name).slice(start, stop - start).to_pylist()
            columns.append([self.vocabulary[code] for code in values] if name in self.codes else values)
        return list(map(self._row._make, zip(*columns, strict=True)))


class SortedTable(Packed):
    """A packed table sorted by ``(ts, id)``, with binary search over those two columns."""

    def __init__(self, table: pa.Table, vocabulary: list[str | None], codes: frozenset[str]):
        super().__init__(table, vocabulary, codes)
        self._ts = _column(self.table, "ts")
        self._ids = _column(self.table, "id")

    def ts(self, position: int) -> int:
        return self._ts[position].as_py()

    def key(self, position: int) -> tuple[int, int]:
        return self._ts[position].as_py(), self._ids[position].as_py()

    def from_time(self, ts: int) -> int:
        """Position of the first item at or after unix time ``ts``."""
        return _search(self._ts, ts, 0, len(self), right=False)

    def through_time(self, ts: int) -> int:
        """Position just past the last item at or before unix time ``ts``."""
        return _search(self._ts, ts, 0, len(self), right=True)

    def after(self, key: tuple[int, int]) -> int:
        """Position of the first item strictly after ``key``."""
        lo, hi = self.from_time(key[0]), self.through_time(key[0])
        return _search(self._ids, key[1], lo, hi, right=True)


def _column(table: pa.Table, name: str) -> pa.Array:
    column = table.column(name)
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _search(column: pa.Int64Array, value: int, lo: int, hi: int, *, right: bool) -> int:
    while lo < hi:
        middle = (lo + hi) // 2
        probe = column[middle].as_py()
        if probe < value or (right and probe == value):
            lo = middle + 1
        else:
            hi = middle
    return lo


@dataclass(frozen=True)
class TicketSnapshot:
    """Every ticket-side item as of ``as_of``, each table sorted by ``(ts, id)``; ``events`` follow
    ``audits`` in order, audit ``i`` owning events ``[first, first + count)``."""

    as_of: datetime
    tickets: SortedTable
    audits: SortedTable
    events: Packed
    ratings: SortedTable
    metric_events: SortedTable
    custom_field_ids: tuple[int, ...]


def build_ticket_snapshot(world: WorldLike, as_of: datetime) -> TicketSnapshot:
    """Simulate every ticket once and pack what the API can show of it at ``as_of``."""
    custom = tuple(f.id for f in world.ticket_fields() if f.is_custom)
    packing = _Packing(Vocabulary(), custom)
    policies, agents = world.sla_policies(), world.agent_ids
    schedule = next(iter(world.schedules()), None)  # the default: the world assigns no other
    for ticket in world.tickets():
        state = ticket.state_at(as_of)
        if state is not None:
            packing.add(ticket, state, as_of, policies, agents, schedule)
    logger.debug("fake zendesk: packed %d tickets as of %s", len(packing.tickets), as_of)
    audits, events = _audits_with_their_events(packing.audits, packing.events)
    return TicketSnapshot(as_of=as_of, tickets=packing.tickets.sorted(), audits=audits, events=events,
                          ratings=packing.ratings.sorted(), metric_events=packing.metrics.sorted(),
                          custom_field_ids=custom)


class _Packing:
    """The growing columns of a snapshot, one table per kind of item, sharing one vocabulary."""

    def __init__(self, vocabulary: Vocabulary, custom: tuple[int, ...]):
        self.custom = custom
        self.tickets = Columns(vocabulary, TICKET_INTS, (*TICKET_CODES, *(f"field_{i}" for i in custom)))
        self.audits = Columns(vocabulary, ("id", "ticket_id", "ts", "author_id", "count", "position"),
                              ("channel",))
        self.events = Columns(vocabulary, ("id", "audit", "author_id", "public"),
                              ("type", "field_name", "value", "previous_value"))
        self.ratings = Columns(vocabulary, ("id", "ticket_id", "ts", "assignee_id", "group_id",
                                            "requester_id"), ("score",))
        self.metrics = Columns(vocabulary, ("id", "ticket_id", "ts", "instance_id", "calendar_minutes",
                                            "business_minutes", "policy_id", "target_minutes",
                                            "business_hours"),
                               ("metric", "type"))

    def add(self, ticket: Ticket, state: dict, as_of: datetime, policies: list[SlaPolicy],
            agents: frozenset[int], schedule: Schedule | None = None) -> None:
        """One ticket: its state and metric set, audits and their events, ratings, metric events."""
        metrics = metric_set(ticket, agents, as_of)
        ratings = ticket.ratings_at(as_of)
        _add_ticket(self.tickets, ticket, state, ticket.updated_at(as_of), metrics, self.custom,
                    max(ratings, key=lambda r: (r.created_at, r.id), default=None))
        for audit in ticket.audits_at(as_of):
            position = len(self.audits)
            self.audits.add((audit.id, ticket.id, unix(audit.at), audit.author_id, len(audit.events),
                             position), (audit.channel,))
            for e in audit.events:
                self.events.add((e.id, position, _int(e.author_id), _flag(e.public)),
                                (e.type, e.field_name, e.value, e.previous_value))
        for r in ratings:
            self.ratings.add((r.id, ticket.id, unix(r.created_at), _int(r.assignee_id), _int(r.group_id),
                              r.requester_id), (r.score,))
        for m in metric_events(ticket, policies, agents, as_of, schedule):
            policy, target = m.sla or (None, None)
            self.metrics.add((m.id, ticket.id, unix(m.at), m.instance_id, _int(m.calendar_minutes),
                              _int(m.business_minutes),
                              _int(policy and policy.id), _int(target and target.minutes),
                              _flag(target and target.business_hours)), (m.metric, m.type))


TICKET_INTS = ("id", "created", "ts", "requester_id", "submitter_id", "assignee_id", "group_id",
               "organization_id", "brand_id", "is_public", "ms_updated", *METRIC_SET_COUNTS,
               *METRIC_SET_TIMES, *METRIC_SET_MINUTES, "rating_id")
TICKET_CODES = ("status", "priority", "type", "channel", "tags", "rating_score")


def _add_ticket(tickets: Columns, ticket: Ticket, state: dict, updated: datetime, metrics: MetricSet,
                custom: tuple[int, ...], rating: Rating | None) -> None:
    """One ticket row; ``rating`` is its latest rating record, which the ticket embeds."""
    first_comment = next((e for a in ticket.audits for e in a.events if e.type == "Comment"), None)
    fields = dict(ticket.custom_fields)
    tickets.add(
        (ticket.id, unix(ticket.created_at), unix(updated), _int(state["requester_id"]),
         _int(state["submitter_id"]), _int(state["assignee_id"]), _int(state["group_id"]),
         _int(ticket.organization_id), _int(ticket.brand_id),
         1 if first_comment is None or first_comment.public else 0, unix(metrics.updated_at),
         *(getattr(metrics, name) for name in METRIC_SET_COUNTS),
         *(unix(getattr(metrics, name)) for name in METRIC_SET_TIMES),
         *(_int(getattr(metrics, f"{name}_minutes")) for name in METRIC_SET_MINUTES),
         _int(rating and rating.id)),
        (state["status"], state["priority"], state["type"], ticket.channel, " ".join(ticket.tags),
         rating and rating.score, *(fields.get(i) for i in custom)),
    )


def _audits_with_their_events(audits: Columns, events: Columns) -> tuple[SortedTable, Packed]:
    """Sort audits by ``(ts, id)`` and their events along, so a page's events are one slice."""
    sorted_audits, packed_events = audits.sorted(), events.table()
    rank = array("q", bytes(8 * len(sorted_audits)))
    for new, old in enumerate(_column(sorted_audits.table, "position").to_pylist()):
        rank[old] = new
    counts = sorted_audits.table.column("count")
    table = sorted_audits.table.append_column("first", pc.subtract(pc.cumulative_sum(counts), counts))
    event_rank = pc.take(_wrap(rank, pa.int64()), packed_events.table.column("audit"))
    return (SortedTable(table, sorted_audits.vocabulary, sorted_audits.codes),
            Packed(packed_events.table.take(pc.sort_indices(event_rank)), packed_events.vocabulary,
                   packed_events.codes))


def build_user_index(users: Iterable[User], as_of: datetime) -> SortedTable:
    """Users that exist at ``as_of``, sorted by the time of their current version."""
    columns = Columns(Vocabulary(), ("ts", "id"))
    for user in users:
        version = user.version_at(as_of)
        if version is not None:
            columns.add((unix(version.at), user.id))
    return columns.sorted()


def _int(value: int | str | None) -> int:
    return NULL if value is None else int(value)


def _flag(value: bool | None) -> int:
    return NULL if value is None else int(value)
