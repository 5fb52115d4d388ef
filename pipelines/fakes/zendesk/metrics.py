"""What Zendesk's own metric engine reports for a simulated ticket: metric events and the metric set.

The fake API serves these (``ticket_metric_events``, the ``metric_sets`` side-load) so the pipeline
loads Zendesk's figures next to the audits they come from. The rules are a plain reading of
Zendesk's documentation: reply time runs from creation to the first public agent comment;
requester wait time pauses while pending; agent work time pauses while pending or on hold; a
solve fulfils both, a reopen runs them again. An SLA target is breached once its clock has run
for the target's minutes, counted in the ticket's schedule for a business-hours target (the
tenant's default schedule: the world assigns no other) and never while paused; a breach event is
recorded once it has happened, unless the metric was fulfilled at that very instant. The metric
set's business-hour figures are left null.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from pipelines.world.model import Audit, Schedule, SlaPolicy, SlaTarget, Ticket

REPLY, WAIT, WORK = "reply_time", "requester_wait_time", "agent_work_time"
SLA_METRICS = {"first_reply_time": REPLY, "requester_wait_time": WAIT, "agent_work_time": WORK}
PAUSED_BY = {WAIT: ("pending",), WORK: ("pending", "hold")}  # statuses that stop each clock
METRIC_EVENT_IDS_PER_TICKET = 1000
METRIC_SET_ID_BASE = 7_000_000_000


class MetricEvent(NamedTuple):
    """One ticket metric event; ``sla`` for apply_sla, the minutes so far for update_status."""

    id: int
    ticket_id: int
    metric: str
    instance_id: int
    type: str  # activate | pause | fulfill | apply_sla | breach | update_status
    at: datetime
    sla: tuple[SlaPolicy, SlaTarget] | None = None
    calendar_minutes: int | None = None
    business_minutes: int | None = None


@dataclass(frozen=True)
class MetricSet:
    """A ticket's ``metric_set`` as of an instant: counts, milestones and calendar minutes."""

    id: int
    ticket_id: int
    created_at: datetime
    updated_at: datetime
    group_stations: int
    assignee_stations: int
    reopens: int
    replies: int
    assignee_updated_at: datetime | None
    requester_updated_at: datetime | None
    status_updated_at: datetime | None
    initially_assigned_at: datetime | None
    assigned_at: datetime | None
    solved_at: datetime | None
    latest_comment_added_at: datetime | None
    reply_time_minutes: int | None
    first_resolution_time_minutes: int | None
    full_resolution_time_minutes: int | None
    agent_wait_time_minutes: int | None
    requester_wait_time_minutes: int | None
    on_hold_time_minutes: int | None


def _minutes(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() // 60)


def _status_changes(audits: Sequence[Audit]) -> Iterator[tuple[Audit, str | None, str]]:
    """(audit, previous status, new status) for every status change after creation."""
    for audit in audits[1:]:
        for event in audit.events:
            if event.type == "Change" and event.field_name == "status":
                yield audit, event.previous_value, event.value


def _first_reply(audits: Sequence[Audit], agents: frozenset[int]) -> datetime | None:
    return next((a.at for a in audits[1:] for e in a.events
                 if e.type == "Comment" and e.public and e.author_id in agents), None)


def _created_priority(audits: Sequence[Audit]) -> str | None:
    return next((e.value for e in audits[0].events if e.field_name == "priority"), None)


def metric_events(ticket: Ticket, policies: Sequence[SlaPolicy], agents: frozenset[int],
                  as_of: datetime, schedule: Schedule | None = None) -> list[MetricEvent]:
    """The metric events of ``ticket`` that have happened by ``as_of``, in time order; business
    hours on ``schedule`` (without one, business-hours targets count calendar time)."""
    audits = ticket.audits_at(as_of)
    if not audits:
        return []
    created = audits[0].at
    stop = ticket.deleted_at if ticket.deleted_at is not None and ticket.deleted_at <= as_of else as_of
    raw: list[tuple[datetime, str, str, dict]] = [(created, m, "activate", {}) for m in (WORK, WAIT, REPLY)]
    replied = _first_reply(audits, agents)
    spans = {REPLY: [(created, replied)]}
    if replied is not None:
        raw.append((replied, REPLY, "fulfill", {}))
    clock_events, clock_spans = _clock_events(audits, created)
    raw += clock_events
    spans |= clock_spans
    for (at, metric, kind, _) in list(raw):
        if kind == "fulfill":
            ran = [(s, e) for s, e in spans[metric] if e is not None and e <= at]
            raw.append((at, metric, "update_status", {
                "calendar_minutes": int(_seconds(ran, None) // 60),
                "business_minutes": int(_seconds(ran, schedule) // 60) if schedule else None}))
    priority = _created_priority(audits)
    policy = next((p for p in sorted(policies, key=lambda p: p.position)
                   if any(t.priority == priority for t in p.targets)), None)
    for target in policy.targets if policy is not None else ():
        if target.priority != priority or target.metric not in SLA_METRICS:
            continue
        metric = SLA_METRICS[target.metric]
        raw.append((created, metric, "apply_sla", {"sla": (policy, target)}))
        capped = [(s, min(e or stop, stop)) for s, e in spans[metric] if s < stop]
        breach = _reached(capped, target.minutes * 60, schedule if target.business_hours else None)
        fulfilled = {at for at, m, kind, _ in raw if m == metric and kind == "fulfill"}
        if breach is not None and breach not in fulfilled:
            raw.append((breach, metric, "breach", {}))
    ordered = sorted(range(len(raw)), key=lambda i: (raw[i][0], i))
    return [MetricEvent(ticket.id * METRIC_EVENT_IDS_PER_TICKET + n, ticket.id, raw[i][1], 1,
                        raw[i][2], raw[i][0], **raw[i][3])
            for n, i in enumerate(ordered)]


Span = tuple[datetime, datetime | None]  # a clock running from .. to (None: still running)


def _clock_events(audits: Sequence[Audit], created: datetime,
                  ) -> tuple[list[tuple[datetime, str, str, dict]], dict[str, list[Span]]]:
    """Pauses, restarts and fulfilments of the wait and work clocks, from the status changes, and
    the spans each clock ran. A solve fulfils a running or paused clock; a status that neither
    pauses nor ends the ticket restarts a paused or fulfilled one."""
    found: list[tuple[datetime, str, str, dict]] = []
    running: dict[str, datetime | None] = {WAIT: created, WORK: created}
    spans: dict[str, list[Span]] = {WAIT: [], WORK: []}
    fulfilled = {WAIT: False, WORK: False}
    for audit, _, status in _status_changes(audits):
        for metric, pausing in PAUSED_BY.items():
            since = running[metric]
            if since is not None and (status == "solved" or status in pausing):
                spans[metric].append((since, audit.at))
                running[metric] = None
            if status == "solved" and not fulfilled[metric]:
                fulfilled[metric] = True
                found.append((audit.at, metric, "fulfill", {}))
            elif status in pausing and since is not None:
                found.append((audit.at, metric, "pause", {}))
            elif status not in pausing and status not in ("solved", "closed") and since is None:
                running[metric], fulfilled[metric] = audit.at, False
                found.append((audit.at, metric, "activate", {}))
    for metric, since in running.items():
        if since is not None:
            spans[metric].append((since, None))
    return found, spans


def _open_hours(schedule: Schedule, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The schedule's open hours between ``start`` and ``end`` in UTC, in order: each weekly
    interval (minutes from Sunday 00:00 local) on each local date, holidays left out."""
    zone = ZoneInfo(schedule.iana_time_zone)
    holidays = {h.start_date + timedelta(days=n) for h in schedule.holidays
                for n in range((h.end_date - h.start_date).days + 1)}
    day = start.astimezone(zone).date() - timedelta(days=1)
    while datetime(day.year, day.month, day.day, tzinfo=zone) < end:
        if day not in holidays:
            midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
            sunday_based = (day.weekday() + 1) % 7 * 1440
            for opens, closes in sorted(schedule.intervals):
                low, high = max(opens - sunday_based, 0), min(closes - sunday_based, 1440)
                if low < high:
                    window = ((midnight + timedelta(minutes=low)).astimezone(UTC),
                              (midnight + timedelta(minutes=high)).astimezone(UTC))
                    if window[1] > start and window[0] < end:
                        yield max(window[0], start), min(window[1], end)
        day += timedelta(days=1)


def _pieces(spans: Sequence[tuple[datetime, datetime]], schedule: Schedule | None,
            ) -> Iterator[tuple[datetime, datetime]]:
    """The parts of ``spans`` the clock counts: all of them, or their open hours on ``schedule``."""
    for start, end in spans:
        yield from [(start, end)] if schedule is None else _open_hours(schedule, start, end)


def _seconds(spans: Sequence[Span], schedule: Schedule | None) -> float:
    return sum((e - s).total_seconds() for s, e in _pieces(spans, schedule))


def _reached(spans: Sequence[tuple[datetime, datetime]], seconds: float,
             schedule: Schedule | None) -> datetime | None:
    """The instant a clock running over ``spans`` has counted ``seconds``, if it gets there."""
    left = seconds
    for start, end in _pieces(spans, schedule):
        if (end - start).total_seconds() >= left:
            return start + timedelta(seconds=left)
        left -= (end - start).total_seconds()
    return None


def metric_set(ticket: Ticket, agents: frozenset[int], as_of: datetime) -> MetricSet | None:
    """The ticket's metric set as of ``as_of``, or None before it exists."""
    audits = ticket.audits_at(as_of)
    if not audits:
        return None
    created = audits[0].at
    requester = next((int(e.value) for e in audits[0].events if e.field_name == "requester_id"), None)
    groups, assignees, assigned = set(), set(), []
    status_times, solves, reopens = [], [], 0
    seconds = {"pending": 0.0, "hold": 0.0, "waiting": 0.0}
    status, since = None, created
    for audit in audits:
        for event in audit.events:
            if event.field_name == "group_id" and event.value is not None:
                groups.add(event.value)
            elif event.field_name == "assignee_id" and event.value is not None:
                assignees.add(event.value)
                assigned.append(audit.at)
            elif event.field_name == "status":
                _count_time(seconds, status, since, audit.at)
                status, since = event.value, audit.at
                status_times.append(audit.at)
                solves += [audit.at] if status == "solved" else []
                reopens += event.previous_value == "solved" and status != "closed"
    solved = status in ("solved", "closed")
    replied = _first_reply(audits, agents)
    comments = [a.at for a in audits if any(e.type == "Comment" for e in a.events)]
    return MetricSet(
        id=METRIC_SET_ID_BASE + ticket.id,
        ticket_id=ticket.id,
        created_at=created,
        updated_at=audits[-1].at,
        group_stations=len(groups),
        assignee_stations=len(assignees),
        reopens=reopens,
        replies=sum(1 for a in audits[1:] for e in a.events
                    if e.type == "Comment" and e.public and e.author_id in agents),
        assignee_updated_at=assigned[-1] if assigned else None,
        requester_updated_at=next((a.at for a in reversed(audits) if a.author_id == requester), None),
        status_updated_at=status_times[-1] if status_times else None,
        initially_assigned_at=assigned[0] if assigned else None,
        assigned_at=assigned[-1] if assigned else None,
        solved_at=solves[-1] if solves else None,
        latest_comment_added_at=comments[-1] if comments else None,
        reply_time_minutes=_minutes(created, replied) if replied else None,
        first_resolution_time_minutes=_minutes(created, solves[0]) if solves else None,
        full_resolution_time_minutes=_minutes(created, solves[-1]) if solved and solves else None,
        agent_wait_time_minutes=int(seconds["pending"] // 60) if solved else None,
        requester_wait_time_minutes=int(seconds["waiting"] // 60) if solved else None,
        on_hold_time_minutes=int(seconds["hold"] // 60) if solved else None,
    )


def _count_time(seconds: dict[str, float], status: str | None, since: datetime, until: datetime) -> None:
    """Add the time spent in ``status`` to the pending, hold or waiting (new, open, hold) totals."""
    spent = (until - since).total_seconds()
    if status in ("pending", "hold"):
        seconds[status] += spent
    if status in ("new", "open", "hold"):
        seconds["waiting"] += spent
