"""Ground truth: what every docs/metrics.md metric should be for a world as of an instant.

Computed from the world's own lifecycle objects in plain Python, independently of the warehouse
and its SQL, so the tests can hold the marts to it: ticket metrics (calendar and business
minutes, the latter from the world's ``Schedule`` with ``zoneinfo``) and the dimensions to slice
them by (channel, priority, type, brand, group, tags), SLA target instances, agent days and weeks,
team weeks, the daily backlog, the agent and group dimensions and the cross-tenant benchmark.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipelines.world import World
from pipelines.world.model import Schedule, SlaPolicy, Ticket

OPEN_STATUSES = ("new", "open", "pending", "hold")
BENCHMARK_MIN_TENANTS = 3
BENCHMARK_MIN_TICKETS = 50


@dataclass
class TicketTruth:
    ticket_id: int
    status: str
    is_deleted: bool
    first_reply_at: datetime | None
    first_reply_minutes: float | None
    first_reply_agent_id: int | None
    first_solved_at: datetime | None
    final_solved_at: datetime | None
    first_resolution_minutes: float | None
    full_resolution_minutes: float | None
    agent_replies: int
    reopens: int
    is_one_touch: bool
    csat_score: str | None
    created_at: datetime | None = None
    created_date: date | None = None
    channel: str | None = None
    priority: str | None = None
    ticket_type: str | None = None
    brand_id: int | None = None
    brand_name: str | None = None  # from the world's brand list (``truth``); None without one
    tags: tuple[str, ...] = ()
    group_id: int | None = None
    schedule_id: int | None = None
    first_reply_business_minutes: float | None = None
    first_resolution_business_minutes: float | None = None
    full_resolution_business_minutes: float | None = None
    requester_wait_minutes: float | None = None  # in new, open or hold until the final solve
    agent_work_minutes: float | None = None  # in new or open until the final solve


@dataclass
class PerformanceTruth:
    """One cell of agent or team performance: an agent's day or week, a group's week."""

    tickets_solved: set[int] = field(default_factory=set)
    public_replies: int = 0
    first_reply_minutes: list[float] = field(default_factory=list)
    first_reply_business_minutes: list[float] = field(default_factory=list)
    one_touch_solved: int = 0
    reopened_after_solve: int = 0
    solved_within_a_day: int = 0
    solved_agent_replies: list[int] = field(default_factory=list)  # per ticket solved
    csat_good: int = 0
    csat_bad: int = 0
    tickets_assigned: set[int] = field(default_factory=set)
    tickets_touched: set[int] = field(default_factory=set)
    internal_notes: int = 0
    reassignments_away: int = 0
    next_reply_minutes: list[float] = field(default_factory=list)
    requester_wait_minutes: list[float] = field(default_factory=list)  # per ticket solved, if final
    agent_work_minutes: list[float] = field(default_factory=list)  # per ticket solved, if final

    @property
    def replies_per_solved_ticket(self) -> float | None:
        replies = self.solved_agent_replies
        return sum(replies) / len(replies) if replies else None

    @property
    def first_replies(self) -> int:
        return len(self.first_reply_minutes)

    @property
    def median_first_reply_minutes(self) -> float | None:
        return percentile_cont(self.first_reply_minutes, 0.5)

    @property
    def p90_first_reply_minutes(self) -> float | None:
        return percentile_cont(self.first_reply_minutes, 0.9)

    @property
    def median_first_reply_business_minutes(self) -> float | None:
        return percentile_cont([m for m in self.first_reply_business_minutes if m is not None], 0.5)

    @property
    def next_replies(self) -> int:
        return len(self.next_reply_minutes)

    @property
    def median_next_reply_minutes(self) -> float | None:
        return percentile_cont(self.next_reply_minutes, 0.5)

    @property
    def p90_next_reply_minutes(self) -> float | None:
        return percentile_cont(self.next_reply_minutes, 0.9)

    @property
    def median_requester_wait_minutes(self) -> float | None:
        return percentile_cont(self.requester_wait_minutes, 0.5)

    @property
    def median_agent_work_minutes(self) -> float | None:
        return percentile_cont(self.agent_work_minutes, 0.5)

    @property
    def csat_pct(self) -> float | None:
        rated = self.csat_good + self.csat_bad
        return self.csat_good / rated if rated else None


@dataclass
class BacklogDayTruth:
    backlog_open: int = 0
    created: int = 0
    solved: int = 0
    reopened: int = 0


@dataclass
class AgentTruth:
    """An agent of the dimension: today's role and state, and the span of their credited work."""

    latest_role: str | None
    is_active: bool
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None


@dataclass(frozen=True)
class SlaTruth:
    """One SLA target instance of a ticket, judged by the rulings of docs/metrics.md."""

    ticket_id: int
    metric: str  # the policy's metric name: first_reply_time, requester_wait_time, ...
    policy_id: int
    policy_title: str
    target_minutes: int
    business_hours: bool
    applied_at: datetime
    breach_at: datetime | None  # where a breach stands (the instance is breached), else None
    fulfilled_at: datetime | None
    status: str  # achieved | breached | active
    minutes_over_target: int | None  # whole minutes at fulfilment on the target's clock, less it
    outcome_at: datetime | None  # the breach if breached, the fulfilment if achieved
    accountable_agent_id: int | None  # the assignee at the outcome
    accountable_group_id: int | None  # the group at the outcome
    outcome_date: date | None = None  # the outcome's tenant day (truth_of knows the tenant's zone)


@dataclass
class Truth:
    tickets: dict[int, TicketTruth]
    agent_days: dict[tuple[int, date], PerformanceTruth]
    agent_weeks: dict[tuple[int, date], PerformanceTruth] = field(default_factory=dict)
    team_weeks: dict[tuple[int, date], PerformanceTruth] = field(default_factory=dict)
    backlog: dict[date, BacklogDayTruth] = field(default_factory=dict)
    agents: dict[int, AgentTruth] = field(default_factory=dict)
    group_names: dict[int, str] = field(default_factory=dict)  # every group of the tenant, by id
    assignees: frozenset[int] = frozenset()  # everyone ever assigned a ticket
    work_spans: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)  # first, last work
    slas: dict[tuple[int, str], SlaTruth] = field(default_factory=dict)  # by ticket and metric
    # achieved and breached instances by (agent or group, tenant day or week, SLA metric)
    sla_agent_days: dict[tuple[int, date, str], tuple[int, int]] = field(default_factory=dict)
    sla_agent_weeks: dict[tuple[int, date, str], tuple[int, int]] = field(default_factory=dict)
    sla_team_weeks: dict[tuple[int, date, str], tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class BenchmarkCellTruth:
    tenants: int
    tickets: int
    median_first_reply_minutes: float | None
    p90_first_reply_minutes: float | None
    median_first_reply_business_minutes: float | None
    median_full_resolution_minutes: float | None
    median_full_resolution_business_minutes: float | None
    one_touch_rate: float | None
    reopen_rate: float | None
    csat_pct: float | None


def percentile_cont(values: Iterable[float], p: float) -> float | None:
    """Exact percentile with linear interpolation between the closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def minutes(start: datetime | None, end: datetime | None) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds() / 60


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


# -- business hours ---------------------------------------------------------------------------------
def business_seconds(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Seconds between ``start`` and ``end`` that fall inside ``schedule``'s hours.

    Each weekly interval (minutes from Sunday 00:00 local) is laid on every local date with that
    day of the week, its ends read as wall-clock times in the schedule's zone (``zoneinfo``, so
    daylight saving moves them), holidays' dates dropped, and its overlap with the span summed.
    """
    if end <= start:
        return 0.0
    zone = ZoneInfo(schedule.iana_time_zone)
    holidays = {h.start_date + timedelta(days=n) for h in schedule.holidays
                for n in range((h.end_date - h.start_date).days + 1)}
    total = 0.0
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = end.astimezone(zone).date() + timedelta(days=1)
    while day <= last:
        if day not in holidays:
            weekday = (day.weekday() + 1) % 7  # Sunday = 0, as Zendesk counts
            midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
            for interval_start, interval_end in schedule.intervals:
                low = max(interval_start, weekday * 1440) - weekday * 1440
                high = min(interval_end, (weekday + 1) * 1440) - weekday * 1440
                if low >= high:
                    continue
                opens = (midnight + timedelta(minutes=low)).astimezone(UTC)
                closes = (midnight + timedelta(minutes=high)).astimezone(UTC)
                total += max(0.0, (min(closes, end) - max(opens, start)).total_seconds())
        day += timedelta(days=1)
    return total


def business_minutes(schedule: Schedule | None, start: datetime | None,
                     end: datetime | None) -> float | None:
    if schedule is None or start is None or end is None:
        return None
    return business_seconds(schedule, start, end) / 60


# -- SLA targets ---------------------------------------------------------------------------------------
# The statuses each SLA clock runs in; a solve fulfils it, a reopen runs it again.
SLA_CLOCK_STATUSES = {"requester_wait_time": ("new", "open", "hold"), "agent_work_time": ("new", "open")}


def ticket_slas(ticket: Ticket, as_of: datetime, agents: frozenset[int], policies: Sequence[SlaPolicy],
                schedule: Schedule | None) -> list[SlaTruth]:
    """The ticket's SLA target instances as of ``as_of``: the first policy by position with a target
    for the priority the ticket was created with applies each of those targets at creation. The
    first-reply clock runs from creation to the first public agent comment after it; the wait and
    work clocks while the status is one they run in (``SLA_CLOCK_STATUSES``), fulfilled by the last
    solve while the ticket stays solved or closed. A clock stops for good when the ticket is
    deleted. The breach time is the first instant the clock has run the target (schedule time for
    a business-hours target), found by bisection over whole seconds."""
    audits = ticket.audits_at(as_of)
    if not audits:
        return []
    created = audits[0].at
    priority = ticket.state_at(created)["priority"]
    policy = next((p for p in sorted(policies, key=lambda p: p.position)
                   if any(t.priority == priority for t in p.targets)), None)
    if policy is None:
        return []
    stop = min(as_of, ticket.deleted_at) if ticket.deleted_at is not None else as_of
    statuses = [(a.at, e.value) for a in audits for e in a.events
                if e.type in ("Create", "Change") and e.field_name == "status"]
    reply = next((a.at for a in audits[1:] for e in a.events
                  if e.type == "Comment" and e.public and e.author_id in agents), None)
    found = []
    for target in policy.targets:
        if target.priority != priority:
            continue
        if target.metric == "first_reply_time":
            periods, fulfilled = [(created, reply or stop)], reply
        elif target.metric in SLA_CLOCK_STATUSES:
            periods = _running(statuses, SLA_CLOCK_STATUSES[target.metric], stop)
            solves = [at for at, status in statuses if status == "solved"]
            fulfilled = solves[-1] if solves and statuses[-1][1] in ("solved", "closed") else None
        else:
            continue
        clock_schedule = schedule if target.business_hours else None

        def clock(until: datetime, periods=periods, clock_schedule=clock_schedule) -> float:
            return sum(_elapsed(clock_schedule, start, min(end, until))
                       for start, end in periods if start < until)

        breach = _first_instant(clock, target.minutes * 60, created, stop)
        breached = breach is not None and (fulfilled is None or breach < fulfilled)
        over = None if fulfilled is None else int(clock(fulfilled) // 60) - target.minutes
        outcome = breach if breached else fulfilled
        found.append(SlaTruth(
            ticket_id=ticket.id, metric=target.metric, policy_id=policy.id, policy_title=policy.title,
            target_minutes=target.minutes, business_hours=target.business_hours, applied_at=created,
            breach_at=breach if breached else None, fulfilled_at=fulfilled,
            status="breached" if breached else "achieved" if fulfilled is not None else "active",
            minutes_over_target=over, outcome_at=outcome,
            accountable_agent_id=_field_at(audits, outcome, "assignee_id") if outcome else None,
            accountable_group_id=_field_at(audits, outcome, "group_id") if outcome else None,
        ))
    return found


def _running(statuses: list[tuple[datetime, str]], running_in: tuple[str, ...],
             stop: datetime) -> list[tuple[datetime, datetime]]:
    """The periods before ``stop`` the status is one of ``running_in``."""
    ends = [at for at, _ in statuses[1:]] + [stop]
    return [(at, min(end, stop)) for (at, status), end in zip(statuses, ends, strict=True)
            if status in running_in and at < stop]


def _elapsed(schedule: Schedule | None, start: datetime, end: datetime) -> float:
    if end <= start:
        return 0.0
    return business_seconds(schedule, start, end) if schedule else (end - start).total_seconds()


def _first_instant(clock: Callable[[datetime], float], seconds: float, low: datetime,
                   high: datetime) -> datetime | None:
    """The first whole second in (low, high] at which ``clock`` reaches ``seconds``, if any."""
    if clock(high) < seconds:
        return None
    while (high - low).total_seconds() > 1:
        middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
        if clock(middle) >= seconds:
            high = middle
        else:
            low = middle
    return high


def _field_at(audits: Sequence, at: datetime, field_name: str) -> int | None:
    """The ticket's ``field_name`` (an id: assignee_id, group_id) after every audit at or before ``at``."""
    value = None
    for audit in audits:
        if audit.at > at:
            break
        for event in audit.events:
            if event.type in ("Create", "Change") and event.field_name == field_name:
                value = int(event.value) if event.value is not None else None
    return value


# -- one ticket ----------------------------------------------------------------------------------------
@dataclass
class TicketFacts:
    truth: TicketTruth
    replies: list[tuple[int, datetime]]
    solves: list[tuple[int | None, datetime]]
    reopens: list[datetime]
    reply_groups: list[int | None] = field(default_factory=list)
    solve_groups: list[int | None] = field(default_factory=list)
    first_reply_group: int | None = None
    statuses: list[tuple[datetime, str]] = field(default_factory=list)
    assignees: set[int] = field(default_factory=set)
    # audits credited whole: (internal_note | update | assignment | reassignment_away, agent, group, at)
    handling: list[tuple[str, int, int | None, datetime]] = field(default_factory=list)
    # replies after the first answering the end user: (author, at, minutes since the user wrote, group)
    next_replies: list[tuple[int, datetime, float, int | None]] = field(default_factory=list)


def ticket_facts(ticket: Ticket, as_of: datetime, agents: frozenset[int],
                 schedule: Schedule | None = None, zone: ZoneInfo | None = None) -> TicketFacts:
    """One ticket's metrics and the dated replies, solves, reopens and statuses behind them."""
    audits = ticket.audits_at(as_of)
    state = ticket.state_at(as_of)
    status = state["status"]
    first_customer_comment = None
    replies: list[tuple[int, datetime]] = []
    reply_groups: list[int | None] = []
    # per reply: the earliest end-user comment in an audit after the previous reply's and before its own
    answered: list[datetime | None] = []
    waiting = None  # the earliest end-user comment since the last reply's audit
    solves: list[tuple[int | None, datetime]] = []
    solve_groups: list[int | None] = []
    reopens: list[datetime] = []
    statuses: list[tuple[datetime, str]] = []
    assignees: set[int] = set()
    handling: list[tuple[str, int, int | None, datetime]] = []
    assignee = group = None
    for position, audit in enumerate(audits):
        before, waited, replied = assignee, waiting, False
        for event in audit.events:
            if event.type not in ("Create", "Change"):
                continue
            if event.field_name == "assignee_id":
                assignee = int(event.value) if event.value is not None else None
                assignees.update(int(v) for v in (event.value, event.previous_value) if v is not None)
            elif event.field_name == "group_id":
                group = int(event.value) if event.value is not None else None
            elif event.field_name == "status":
                statuses.append((audit.at, event.value))
        for event in audit.events:
            if event.type == "Comment" and event.public:
                if event.author_id in agents:
                    if position > 0:
                        replies.append((event.author_id, audit.at))
                        reply_groups.append(group)
                        answered.append(None if replied else waited)
                        replied = True
                elif event.author_id != -1:
                    first_customer_comment = first_customer_comment or audit.at
                    waiting = waiting or audit.at
            elif event.type == "Change" and event.field_name == "status":
                if event.value == "solved":
                    solves.append((assignee, audit.at))
                    solve_groups.append(group)
                elif event.previous_value == "solved" and event.value in OPEN_STATUSES:
                    reopens.append(audit.at)
        if replied:
            waiting = None
        note = next((e for e in audit.events if e.type == "Comment" and not e.public), None)
        handling += [(kind, agent, group, audit.at) for kind, agent, credited in (
            ("update", audit.author_id, audit.author_id in agents),
            ("internal_note", note and note.author_id, note is not None and note.author_id in agents),
            ("assignment", assignee, assignee is not None and assignee != before),
            ("reassignment_away", before, before is not None and assignee != before),
        ) if credited]
    if state.get("assignee_id") is not None:
        assignees.add(state["assignee_id"])

    first = None if first_customer_comment is None else next(
        (i for i, (_, at) in enumerate(replies) if at > first_customer_comment), None)
    first_reply = replies[first] if first is not None else None
    first_reply_group = reply_groups[first] if first is not None else None
    next_replies = [(author, at, minutes(since, at), group) for i, ((author, at), group, since)
                    in enumerate(zip(replies, reply_groups, answered, strict=True))
                    if first is not None and i > first and since is not None]
    first_solved = solves[0][1] if solves else None
    final_solved = solves[-1][1] if solves and status in ("solved", "closed") else None
    ratings = [r for r in ticket.ratings_at(as_of) if r.score in ("good", "bad")]
    latest = max(ratings, key=lambda r: (r.created_at, r.id)) if ratings else None
    reply_at = first_reply[1] if first_reply else None
    return TicketFacts(
        truth=TicketTruth(
            ticket_id=ticket.id,
            status=status,
            is_deleted=status == "deleted",
            first_reply_at=reply_at,
            first_reply_minutes=minutes(first_customer_comment, reply_at),
            first_reply_agent_id=first_reply[0] if first_reply else None,
            first_solved_at=first_solved,
            final_solved_at=final_solved,
            first_resolution_minutes=minutes(ticket.created_at, first_solved),
            full_resolution_minutes=minutes(ticket.created_at, final_solved),
            agent_replies=len(replies),
            reopens=len(reopens),
            is_one_touch=status in ("solved", "closed") and len(replies) == 1,
            csat_score=latest.score if latest else None,
            created_at=ticket.created_at,
            created_date=ticket.created_at.astimezone(zone).date() if zone else None,
            channel=ticket.channel,
            priority=state.get("priority"),
            ticket_type=state.get("type"),
            brand_id=ticket.brand_id,
            tags=ticket.tags,
            group_id=state.get("group_id"),
            schedule_id=schedule.id if schedule else None,
            first_reply_business_minutes=business_minutes(schedule, first_customer_comment, reply_at),
            first_resolution_business_minutes=business_minutes(schedule, ticket.created_at, first_solved),
            full_resolution_business_minutes=business_minutes(schedule, ticket.created_at, final_solved),
            requester_wait_minutes=_status_minutes(statuses, SLA_CLOCK_STATUSES["requester_wait_time"],
                                                   final_solved),
            agent_work_minutes=_status_minutes(statuses, SLA_CLOCK_STATUSES["agent_work_time"], final_solved),
        ),
        replies=replies,
        solves=solves,
        reopens=reopens,
        reply_groups=reply_groups,
        solve_groups=solve_groups,
        first_reply_group=first_reply_group,
        statuses=statuses,
        assignees=assignees,
        handling=handling,
        next_replies=next_replies,
    )


def _status_minutes(statuses: list[tuple[datetime, str]], running_in: tuple[str, ...],
                    stop: datetime | None) -> float | None:
    """Calendar minutes the status is one of ``running_in`` before ``stop``; None without one."""
    if stop is None:
        return None
    return sum((end - start).total_seconds() for start, end in _running(statuses, running_in, stop)) / 60


# -- a tenant ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Work:
    """One piece of credited work: what, by whom (agent, group), when, on which ticket."""

    kind: str  # reply, first_reply, next_reply, solve, rating, or one of TicketFacts.handling's
    ticket_id: int
    agent: int | None
    group: int | None
    at: datetime
    minutes: float | None = None
    business_minutes: float | None = None
    score: str | None = None


def _work(ticket: Ticket, facts: TicketFacts, as_of: datetime) -> list[_Work]:
    work = [_Work("reply", ticket.id, author, group, at)
            for (author, at), group in zip(facts.replies, facts.reply_groups, strict=True)]
    truth = facts.truth
    if truth.first_reply_agent_id is not None:
        work.append(_Work("first_reply", ticket.id, truth.first_reply_agent_id, facts.first_reply_group,
                          truth.first_reply_at, truth.first_reply_minutes,
                          truth.first_reply_business_minutes))
    work += [_Work("next_reply", ticket.id, author, group, at, reply_minutes)
             for author, at, reply_minutes, group in facts.next_replies]
    work += [_Work("solve", ticket.id, assignee, group, at)
             for (assignee, at), group in zip(facts.solves, facts.solve_groups, strict=True)]
    work += [_Work("rating", ticket.id, r.assignee_id, r.group_id, r.created_at, score=r.score)
             for r in ticket.ratings_at(as_of) if r.score in ("good", "bad")]
    work += [_Work(kind, ticket.id, agent, group, at) for kind, agent, group, at in facts.handling]
    return work


def _roll_up(work: list[_Work], key: Callable[[_Work], Hashable | None],
             facts: dict[int, TicketFacts]) -> dict[Hashable, PerformanceTruth]:
    """Cells keyed by ``key`` (None: not counted), each figure from the ticket-level work."""
    cells: dict[Hashable, PerformanceTruth] = defaultdict(PerformanceTruth)
    first_solve: dict[tuple[Hashable, int], datetime] = {}  # the cell's first solve of each ticket
    for item in work:
        cell_key = key(item)
        if cell_key is None:
            continue
        cell = cells[cell_key]
        if item.kind == "reply":
            cell.public_replies += 1
        elif item.kind == "first_reply":
            cell.first_reply_minutes.append(item.minutes)
            cell.first_reply_business_minutes.append(item.business_minutes)
        elif item.kind == "next_reply":
            cell.next_reply_minutes.append(item.minutes)
        elif item.kind == "solve":
            previous = first_solve.get((cell_key, item.ticket_id))
            first_solve[(cell_key, item.ticket_id)] = min(item.at, previous or item.at)
        elif item.kind == "rating":
            cell.csat_good += item.score == "good"
            cell.csat_bad += item.score == "bad"
        elif item.kind == "assignment":
            cell.tickets_assigned.add(item.ticket_id)
        elif item.kind == "update":
            cell.tickets_touched.add(item.ticket_id)
        elif item.kind == "internal_note":
            cell.internal_notes += 1
        else:
            cell.reassignments_away += 1
    for (cell_key, ticket_id), at in first_solve.items():
        cell = cells[cell_key]
        cell.tickets_solved.add(ticket_id)
        cell.one_touch_solved += facts[ticket_id].truth.is_one_touch
        cell.reopened_after_solve += any(r > at for r in facts[ticket_id].reopens)
        ticket = facts[ticket_id].truth
        cell.solved_within_a_day += ticket.first_resolution_minutes <= 24 * 60
        cell.solved_agent_replies.append(ticket.agent_replies)
        if ticket.requester_wait_minutes is not None:
            cell.requester_wait_minutes.append(ticket.requester_wait_minutes)
            cell.agent_work_minutes.append(ticket.agent_work_minutes)
    return dict(cells)


def truth(world: World, as_of: datetime | None = None, timezone: str | None = None) -> Truth:
    """Every figure of ``world`` as of ``as_of`` (default: its end); tickets measured on the
    default schedule (the first the API lists), since the world assigns no other."""
    as_of = as_of or world.end
    result = truth_of(world.tickets(), as_of, timezone or world.config.timezone, world.agent_ids,
                      schedule=world.schedules()[0], policies=world.sla_policies())
    brand_names = {brand.id: brand.name for brand in world.brands()}
    for ticket in result.tickets.values():
        ticket.brand_name = brand_names.get(ticket.brand_id)
    result.group_names = {group.id: group.name for group in world.groups()}
    ever_agents = {a.id for a in world.agents if a.ever_agent(as_of)}
    for agent_id in sorted(ever_agents | result.assignees):
        version = world.user(agent_id).version_at(as_of)
        first, last = result.work_spans.get(agent_id, (None, None))
        result.agents[agent_id] = AgentTruth(
            latest_role=version.role if version else None,
            is_active=bool(version and version.active and version.role in ("agent", "admin")),
            first_seen_at=first,
            last_seen_at=last,
        )
    return result


def truth_of(tickets_in: Iterable[Ticket], as_of: datetime, timezone: str,
             agents: frozenset[int], schedule: Schedule | None = None,
             policies: Sequence[SlaPolicy] = ()) -> Truth:
    """The figures of the given tickets; tenant days in ``timezone``; ``agents`` are agent ids;
    business minutes on ``schedule`` (none without one); SLA targets from ``policies``."""
    zone = ZoneInfo(timezone)
    tickets: dict[int, TicketTruth] = {}
    facts_by_ticket: dict[int, TicketFacts] = {}
    work: list[_Work] = []
    assignees: set[int] = set()
    slas: dict[tuple[int, str], SlaTruth] = {}

    def day(at: datetime) -> date:
        return at.astimezone(zone).date()

    for ticket in tickets_in:
        if ticket.state_at(as_of) is None:
            continue
        facts = ticket_facts(ticket, as_of, agents, schedule, zone)
        tickets[ticket.id] = facts.truth
        for sla in ticket_slas(ticket, as_of, agents, policies, schedule):
            outcome_date = day(sla.outcome_at) if sla.outcome_at else None
            slas[(sla.ticket_id, sla.metric)] = replace(sla, outcome_date=outcome_date)
        assignees |= facts.assignees
        if facts.truth.is_deleted:
            continue
        facts_by_ticket[ticket.id] = facts
        work += _work(ticket, facts, as_of)

    result = Truth(
        tickets=tickets,
        agent_days=_roll_up(work, lambda w: (w.agent, day(w.at)) if w.agent is not None else None,
                            facts_by_ticket),
        agent_weeks=_roll_up(work, lambda w: (w.agent, week_start(day(w.at)))
                             if w.agent is not None else None, facts_by_ticket),
        team_weeks=_roll_up(work, lambda w: (w.group, week_start(day(w.at)))
                            if w.group is not None else None, facts_by_ticket),
        backlog=_backlog(facts_by_ticket, day),
        assignees=frozenset(assignees),
        slas=slas,
    )
    counted = [sla for sla in slas.values()
               if sla.outcome_at is not None and sla.ticket_id in facts_by_ticket]
    result.sla_agent_days = _sla_attainment(counted, lambda s: s.accountable_agent_id,
                                            lambda s: s.outcome_date)
    result.sla_agent_weeks = _sla_attainment(counted, lambda s: s.accountable_agent_id,
                                             lambda s: week_start(s.outcome_date))
    result.sla_team_weeks = _sla_attainment(counted, lambda s: s.accountable_group_id,
                                            lambda s: week_start(s.outcome_date))
    for item in work:
        if item.agent is not None:
            first, last = result.work_spans.get(item.agent, (item.at, item.at))
            result.work_spans[item.agent] = (min(first, item.at), max(last, item.at))
    return result


def _sla_attainment(slas: Iterable[SlaTruth], subject: Callable[[SlaTruth], int | None],
                    period: Callable[[SlaTruth], date]) -> dict[tuple[int, date, str], tuple[int, int]]:
    """Achieved and breached instances per subject, period and metric; instances with no subject
    count nowhere."""
    cells: dict[tuple[int, date, str], tuple[int, int]] = {}
    for sla in slas:
        if subject(sla) is None:
            continue
        cell = (subject(sla), period(sla), sla.metric)
        achieved, breached = cells.get(cell, (0, 0))
        cells[cell] = (achieved + (sla.status == "achieved"), breached + (sla.status == "breached"))
    return cells


def _backlog(facts: dict[int, TicketFacts], day: Callable[[datetime], date]) -> dict[date, BacklogDayTruth]:
    """Per tenant day, from the first ticket to the last audit of a ticket not deleted: tickets
    open at the day's end, and tickets created, solved and reopened that day."""
    if not facts:
        return {}
    first = min(day(f.truth.created_at) for f in facts.values())
    last = max(day(at) for f in facts.values() for at, _ in f.statuses)
    days: dict[date, BacklogDayTruth] = {}
    current = first
    while current <= last:
        days[current] = BacklogDayTruth()
        current += timedelta(days=1)
    for ticket_facts_ in facts.values():
        days[day(ticket_facts_.truth.created_at)].created += 1
        for solved_day in {day(at) for _, at in ticket_facts_.solves}:
            days[solved_day].solved += 1
        for reopened_day in {day(at) for at in ticket_facts_.reopens}:
            days[reopened_day].reopened += 1
        statuses = ticket_facts_.statuses
        for current, cell in days.items():
            at_end = [status for at, status in statuses if day(at) <= current]
            if at_end and at_end[-1] in OPEN_STATUSES:
                cell.backlog_open += 1
    return days


# -- across tenants -----------------------------------------------------------------------------------
def benchmark(tenants: Iterable[Truth], min_tenants: int = BENCHMARK_MIN_TENANTS,
              min_tickets: int = BENCHMARK_MIN_TICKETS,
              ) -> tuple[dict[tuple[date, str], BenchmarkCellTruth], dict[tuple[date, str], tuple[int, int]]]:
    """The benchmark's cells (month of creation, channel) pooling every tenant's tickets that are
    not deleted, and the (tenants, tickets) size of every cell, shown or suppressed."""
    pooled: dict[tuple[date, str], list[tuple[int, TicketTruth]]] = defaultdict(list)
    for index, tenant in enumerate(tenants):
        for ticket in tenant.tickets.values():
            if not ticket.is_deleted:
                month = ticket.created_date.replace(day=1)
                pooled[(month, ticket.channel or "unknown")].append((index, ticket))
    sizes = {cell: (len({i for i, _ in rows}), len(rows)) for cell, rows in pooled.items()}
    shown = {}
    for cell, rows in pooled.items():
        tenant_count, ticket_count = sizes[cell]
        if tenant_count < min_tenants or ticket_count < min_tickets:
            continue
        tickets = [t for _, t in rows]
        resolved = [t for t in tickets if t.status in ("solved", "closed")]
        solved = [t for t in tickets if t.first_solved_at is not None]
        rated = [t for t in tickets if t.csat_score in ("good", "bad")]
        shown[cell] = BenchmarkCellTruth(
            tenants=tenant_count,
            tickets=ticket_count,
            median_first_reply_minutes=percentile_cont(_present(t.first_reply_minutes for t in tickets), 0.5),
            p90_first_reply_minutes=percentile_cont(_present(t.first_reply_minutes for t in tickets), 0.9),
            median_first_reply_business_minutes=percentile_cont(
                _present(t.first_reply_business_minutes for t in tickets), 0.5),
            median_full_resolution_minutes=percentile_cont(
                _present(t.full_resolution_minutes for t in tickets), 0.5),
            median_full_resolution_business_minutes=percentile_cont(
                _present(t.full_resolution_business_minutes for t in tickets), 0.5),
            one_touch_rate=sum(t.is_one_touch for t in resolved) / len(resolved) if resolved else None,
            reopen_rate=sum(t.reopens > 0 for t in solved) / len(solved) if solved else None,
            csat_pct=sum(t.csat_score == "good" for t in rated) / len(rated) if rated else None,
        )
    return shown, sizes


def _present(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None]
