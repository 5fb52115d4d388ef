"""Ground truth: what every METRICS.md metric should be for a world as of an instant.

Computed from the world's own lifecycle objects in plain Python, independently of the warehouse
and its SQL, so the tests can hold the marts to it. Business-hour metrics come with their issue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pipelines.world import World
from pipelines.world.model import Ticket

OPEN_STATUSES = ("new", "open", "pending", "hold")


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


@dataclass
class AgentDayTruth:
    tickets_solved: set[int] = field(default_factory=set)
    public_replies: int = 0
    first_reply_minutes: list[float] = field(default_factory=list)
    one_touch_solved: int = 0
    reopened_after_solve: int = 0
    csat_good: int = 0
    csat_bad: int = 0

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
    def csat_pct(self) -> float | None:
        rated = self.csat_good + self.csat_bad
        return self.csat_good / rated if rated else None


@dataclass
class Truth:
    tickets: dict[int, TicketTruth]
    agent_days: dict[tuple[int, date], AgentDayTruth]


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


def truth(world: World, as_of: datetime | None = None, timezone: str | None = None) -> Truth:
    """Every ticket's and every agent-day's metrics for ``world`` as of ``as_of`` (default: end)."""
    return truth_of(world.tickets(), as_of or world.end, timezone or world.config.timezone,
                    world.agent_ids)


def truth_of(tickets_in: Iterable[Ticket], as_of: datetime, timezone: str,
             agents: frozenset[int]) -> Truth:
    """The metrics of the given tickets; tenant days in ``timezone``; ``agents`` are agent ids."""
    tz = ZoneInfo(timezone)
    tickets: dict[int, TicketTruth] = {}
    days: dict[tuple[int, date], AgentDayTruth] = defaultdict(AgentDayTruth)

    def day(at: datetime) -> date:
        return at.astimezone(tz).date()

    for ticket in tickets_in:
        state = ticket.state_at(as_of)
        if state is None:
            continue
        facts = ticket_facts(ticket, as_of, agents)
        tickets[ticket.id] = facts.truth
        if facts.truth.is_deleted:
            continue
        for author, at in facts.replies:
            days[(author, day(at))].public_replies += 1
        if facts.truth.first_reply_agent_id is not None:
            key = (facts.truth.first_reply_agent_id, day(facts.truth.first_reply_at))
            days[key].first_reply_minutes.append(facts.truth.first_reply_minutes)
        last_solve: dict[tuple[int, date], datetime] = {}
        for assignee, at in facts.solves:
            if assignee is not None:
                last_solve[(assignee, day(at))] = at
        for key, at in last_solve.items():
            cell = days[key]
            cell.tickets_solved.add(ticket.id)
            cell.one_touch_solved += facts.truth.is_one_touch
            cell.reopened_after_solve += any(r > at for r in facts.reopens)
        for rating in ticket.ratings_at(as_of):
            if rating.score in ("good", "bad") and rating.assignee_id is not None:
                cell = days[(rating.assignee_id, day(rating.created_at))]
                if rating.score == "good":
                    cell.csat_good += 1
                else:
                    cell.csat_bad += 1
    return Truth(tickets, dict(days))


@dataclass
class TicketFacts:
    truth: TicketTruth
    replies: list[tuple[int, datetime]]
    solves: list[tuple[int | None, datetime]]
    reopens: list[datetime]


def ticket_facts(ticket: Ticket, as_of: datetime, agents: frozenset[int]) -> TicketFacts:
    """One ticket's metrics and the dated replies, solves and reopens that feed agent days."""
    audits = ticket.audits_at(as_of)
    status = ticket.state_at(as_of)["status"]
    first_customer_comment = None
    replies: list[tuple[int, datetime]] = []
    solves: list[tuple[int | None, datetime]] = []
    reopens: list[datetime] = []
    assignee = None
    for position, audit in enumerate(audits):
        for event in audit.events:
            if event.field_name == "assignee_id" and event.type in ("Create", "Change"):
                assignee = int(event.value) if event.value is not None else None
        for event in audit.events:
            if event.type == "Comment" and event.public:
                if event.author_id in agents:
                    if position > 0:
                        replies.append((event.author_id, audit.at))
                elif first_customer_comment is None:
                    first_customer_comment = audit.at
            elif event.type == "Change" and event.field_name == "status":
                if event.value == "solved":
                    solves.append((assignee, audit.at))
                elif event.previous_value == "solved" and event.value in OPEN_STATUSES:
                    reopens.append(audit.at)

    first_reply = None
    if first_customer_comment is not None:
        first_reply = next(((a, at) for a, at in replies if at > first_customer_comment), None)
    first_solved = solves[0][1] if solves else None
    final_solved = solves[-1][1] if solves and status in ("solved", "closed") else None
    ratings = [r for r in ticket.ratings_at(as_of) if r.score in ("good", "bad")]
    latest = max(ratings, key=lambda r: (r.created_at, r.id)) if ratings else None
    return TicketFacts(
        truth=TicketTruth(
            ticket_id=ticket.id,
            status=status,
            is_deleted=status == "deleted",
            first_reply_at=first_reply[1] if first_reply else None,
            first_reply_minutes=minutes(first_customer_comment, first_reply[1]) if first_reply
            else None,
            first_reply_agent_id=first_reply[0] if first_reply else None,
            first_solved_at=first_solved,
            final_solved_at=final_solved,
            first_resolution_minutes=minutes(ticket.created_at, first_solved),
            full_resolution_minutes=minutes(ticket.created_at, final_solved),
            agent_replies=len(replies),
            reopens=len(reopens),
            is_one_touch=status in ("solved", "closed") and len(replies) == 1,
            csat_score=latest.score if latest else None,
        ),
        replies=replies,
        solves=solves,
        reopens=reopens,
    )
