"""What Zendesk's own metric engine reports for a simulated ticket: metric events and the metric set.

The fake API serves these (``ticket_metric_events``, the ``metric_sets`` side-load) so the pipeline
loads Zendesk's figures next to the audits they come from. The rules are a plain reading of
Zendesk's documentation in calendar time: reply time runs from creation to the first public agent
comment; requester wait time pauses while pending; agent work time pauses while pending or on
hold; a reply-time SLA target is breached when no reply came within it. Business-hour figures are
left null.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from pipelines.world.model import Audit, SlaPolicy, SlaTarget, Ticket

REPLY, WAIT, WORK = "reply_time", "requester_wait_time", "agent_work_time"
SLA_METRICS = {"first_reply_time": REPLY, "requester_wait_time": WAIT, "agent_work_time": WORK}
PAUSED_BY = {WAIT: ("pending",), WORK: ("pending", "hold")}  # statuses that stop each clock
METRIC_EVENT_IDS_PER_TICKET = 1000
METRIC_SET_ID_BASE = 7_000_000_000


class MetricEvent(NamedTuple):
    """One ticket metric event; ``sla`` for apply_sla, ``calendar_minutes`` for update_status."""

    id: int
    ticket_id: int
    metric: str
    instance_id: int
    type: str  # activate | pause | fulfill | apply_sla | breach | update_status
    at: datetime
    sla: tuple[SlaPolicy, SlaTarget] | None = None
    calendar_minutes: int | None = None


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
                  as_of: datetime) -> list[MetricEvent]:
    """The metric events of ``ticket`` that have happened by ``as_of``, in time order."""
    audits = ticket.audits_at(as_of)
    if not audits:
        return []
    created = audits[0].at
    raw: list[tuple[datetime, str, str, dict]] = [(created, m, "activate", {}) for m in (WORK, WAIT, REPLY)]
    priority = _created_priority(audits)
    policy = next((p for p in sorted(policies, key=lambda p: p.position)
                   if any(t.priority == priority for t in p.targets)), None)
    reply_target = None
    if policy is not None:
        for target in policy.targets:
            if target.priority == priority and target.metric in SLA_METRICS:
                raw.append((created, SLA_METRICS[target.metric], "apply_sla", {"sla": (policy, target)}))
                reply_target = target if target.metric == "first_reply_time" else reply_target
    replied = _first_reply(audits, agents)
    if replied is not None:
        raw += [(replied, REPLY, "fulfill", {}),
                (replied, REPLY, "update_status", {"calendar_minutes": _minutes(created, replied)})]
    if reply_target is not None:
        breach = created + timedelta(minutes=reply_target.minutes)
        gone = ticket.deleted_at if ticket.deleted_at is not None and ticket.deleted_at <= as_of else as_of
        if breach <= gone and (replied is None or replied > breach):
            raw.append((breach, REPLY, "breach", {}))
    raw += _clock_events(audits, created)
    ordered = sorted(range(len(raw)), key=lambda i: (raw[i][0], i))
    return [MetricEvent(ticket.id * METRIC_EVENT_IDS_PER_TICKET + n, ticket.id, raw[i][1], 1,
                        raw[i][2], raw[i][0], **raw[i][3])
            for n, i in enumerate(ordered)]


def _clock_events(audits: Sequence[Audit], created: datetime) -> list[tuple[datetime, str, str, dict]]:
    """Pauses, restarts and fulfilments of the wait and work clocks, from the status changes."""
    found: list[tuple[datetime, str, str, dict]] = []
    running = {WAIT: created, WORK: created}
    spent = {WAIT: 0.0, WORK: 0.0}
    for audit, _, status in _status_changes(audits):
        for metric, pausing in PAUSED_BY.items():
            was_running = running[metric] is not None
            if status == "solved" and was_running:
                spent[metric] += (audit.at - running[metric]).total_seconds()
                running[metric] = None
                found += [(audit.at, metric, "fulfill", {}),
                          (audit.at, metric, "update_status", {"calendar_minutes": int(spent[metric] // 60)})]
            elif status in pausing and was_running:
                spent[metric] += (audit.at - running[metric]).total_seconds()
                running[metric] = None
                found.append((audit.at, metric, "pause", {}))
            elif status not in pausing and status not in ("solved", "closed") and not was_running:
                running[metric] = audit.at
                found.append((audit.at, metric, "activate", {}))
    return found


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
