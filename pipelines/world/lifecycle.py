"""Ticket lifecycles for the synthetic world: one deterministic simulation per ticket.

Each ticket gets its own RNG from (seed, ticket id), so any ticket can be regenerated alone and the
world never holds more than one ticket in memory. The simulation writes Zendesk-style audits:
creation, assignment, internal notes, public replies, pending/hold, solves, reopens, closes,
satisfaction ratings and the odd deletion.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pipelines.world.model import SYSTEM_USER_ID, Audit, Event, Rating, Ticket

CHANNELS = (("web", 40), ("email", 35), ("chat", 10), ("mobile", 10), ("api", 5))
PRIORITIES = (("low", 20), ("normal", 55), ("high", 20), ("urgent", 5))
TYPES = (("question", 45), ("incident", 30), ("problem", 10), ("task", 15))
CLOSE_AFTER = timedelta(days=4)  # Zendesk's default automation closes solved tickets after 4 days


@dataclass(frozen=True)
class TicketDetails:
    """What a ticket carries besides its lifecycle."""

    organization_id: int | None = None
    brand_id: int | None = 1
    tags: tuple[str, ...] = ()
    custom_fields: tuple[tuple[int, str | None], ...] = ()


class Roster:
    """Who can act at a given moment: the agents that are active with an agent or admin role."""

    def __init__(self, changes: Sequence[tuple[datetime, frozenset[int]]], groups: dict[int, int]):
        self._times = [at for at, _ in changes]
        self._active = [sorted(ids) for _, ids in changes]
        # members of each group among the active agents, per interval between role changes
        self._members = [
            {group: [a for a in active if groups.get(a) == group] for group in set(groups.values())}
            for active in self._active
        ]

    def _interval(self, at: datetime) -> int:
        """Index of the last role change at or before ``at``."""
        return max(bisect_right(self._times, at) - 1, 0)

    def active(self, at: datetime) -> list[int]:
        return self._active[self._interval(at)]

    def pick(self, rng: random.Random, at: datetime, group_id: int | None) -> int:
        """An active agent, preferring members of the group."""
        interval = self._interval(at)
        return rng.choice(self._members[interval].get(group_id) or self._active[interval])


class _Builder:
    """Accumulates audits for one ticket, keeping field state and monotonic time."""

    def __init__(self, ticket_id: int, start: datetime):
        self.ticket_id = ticket_id
        self.now = start
        self.audits: list[Audit] = []
        self.state: dict[str, str | None] = {}

    def wait(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=max(60, int(seconds)))
        return self.now

    def audit(self, author: int, channel: str, *events: tuple) -> Audit:
        audit_id = self.ticket_id * 100 + len(self.audits)
        built = []
        for index, spec in enumerate(events):
            event_id = audit_id * 20 + index
            kind = spec[0]
            if kind == "Comment":
                built.append(Event(event_id, "Comment", author_id=spec[1], public=spec[2]))
                continue
            field_name, value = spec[1], _text(spec[2])
            previous = self.state.get(field_name)
            self.state[field_name] = value
            if kind == "Create":
                built.append(Event(event_id, "Create", field_name, value))
            else:
                built.append(Event(event_id, "Change", field_name, value, previous))
        audit = Audit(audit_id, self.ticket_id, self.now, author, channel, tuple(built))
        self.audits.append(audit)
        return audit

    @property
    def status(self) -> str | None:
        return self.state.get("status")

    @property
    def assignee(self) -> int | None:
        value = self.state.get("assignee_id")
        return int(value) if value is not None else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _weighted(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _lognormal_minutes(rng: random.Random, median_minutes: float, sigma: float = 1.0) -> float:
    """Seconds drawn from a log-normal with the given median in minutes, capped at five days."""
    return min(60 * median_minutes * math.exp(rng.gauss(0, sigma)), 5 * 86400)


def simulate(
    ticket_id: int,
    created_at: datetime,
    rng: random.Random,
    *,
    roster: Roster,
    group_ids: Sequence[int],
    requester_id: int,
    forced_assignee: int | None,
    agent_active: Callable[[int, datetime], bool],
    details: Callable[[random.Random], TicketDetails] = lambda _: TicketDetails(),
) -> Ticket:
    """The whole life of one ticket, from its creating audit to close, rating or deletion. ``details``
    draws, after the lifecycle so lifecycles stay as they were, the facts that do not change during
    it (organisation, brand, tags, custom field values)."""
    b = _Builder(ticket_id, created_at)
    channel = _weighted(rng, CHANNELS)
    group_id = rng.choice(group_ids)
    outbound = forced_assignee is None and rng.random() < 0.08

    # Creation: the requester writes in, or an agent opens an outbound ticket for them.
    if outbound:
        opener = roster.pick(rng, b.now, group_id)
        b.audit(
            opener, channel,
            ("Create", "status", "open"), ("Create", "priority", _weighted(rng, PRIORITIES)),
            ("Create", "type", _weighted(rng, TYPES)), ("Create", "requester_id", requester_id),
            ("Create", "submitter_id", opener), ("Create", "group_id", group_id),
            ("Create", "assignee_id", opener), ("Comment", opener, True),
        )
    else:
        b.audit(
            requester_id, channel,
            ("Create", "status", "new"), ("Create", "priority", _weighted(rng, PRIORITIES)),
            ("Create", "type", _weighted(rng, TYPES)), ("Create", "requester_id", requester_id),
            ("Create", "submitter_id", requester_id), ("Create", "group_id", group_id),
            ("Create", "assignee_id", None), ("Comment", requester_id, True),
        )
        b.wait(rng.uniform(120, 90 * 60))
        assignee = forced_assignee or roster.pick(rng, b.now, group_id)
        b.audit(SYSTEM_USER_ID, "rule", ("Change", "assignee_id", assignee),
                ("Change", "status", "open"))

    def ensure_active_assignee() -> int:
        """Reassign (as a trigger would) when the assignee left or lost the agent role."""
        assignee = b.assignee
        if assignee is None or not agent_active(assignee, b.now):
            assignee = roster.pick(rng, b.now, group_id)
            b.audit(SYSTEM_USER_ID, "rule", ("Change", "assignee_id", assignee))
            b.wait(60)
        return assignee

    def agent_turn(solve: bool) -> None:
        assignee = ensure_active_assignee()
        if rng.random() < 0.2:  # an internal note before answering
            b.audit(assignee, "web", ("Comment", assignee, False))
            b.wait(rng.uniform(60, 1800))
        replier = assignee if rng.random() < 0.85 else roster.pick(rng, b.now, group_id)
        if solve:
            b.audit(replier, "web", ("Comment", replier, True), ("Change", "status", "solved"))
        else:
            next_status = "hold" if rng.random() < 0.08 else "pending"
            b.audit(replier, "web", ("Comment", replier, True), ("Change", "status", next_status))

    def customer_turn() -> None:
        b.audit(requester_id, channel, ("Comment", requester_id, True), ("Change", "status", "open"))

    def conversation(exchanges: int, may_solve: bool = True) -> None:
        for exchange in range(exchanges):
            b.wait(_lognormal_minutes(rng, 120 if exchange == 0 else 180, 1.2))
            last = exchange == exchanges - 1
            agent_turn(solve=may_solve and last and rng.random() < 0.6)
            if last and b.status == "solved":
                return
            if b.status == "hold":
                b.wait(rng.uniform(3600, 2 * 86400))
                b.audit(ensure_active_assignee(), "web", ("Change", "status", "open"))
                continue
            if rng.random() < 0.75:
                b.wait(_lognormal_minutes(rng, 360, 1.0))
                customer_turn()
        if may_solve and b.status != "solved":
            if rng.random() < 0.15:  # reassignment before the solve
                b.wait(rng.uniform(600, 86400))
                other = roster.pick(rng, b.now, group_id)
                if other != b.assignee:
                    b.audit(SYSTEM_USER_ID, "rule", ("Change", "assignee_id", other))
            b.wait(rng.uniform(600, 86400))
            solver = ensure_active_assignee()
            b.audit(solver, "web", ("Change", "status", "solved"))

    exchanges = rng.choice((0, 1)) if outbound else rng.choice((1, 1, 1, 2, 2, 3))
    conversation(exchanges, may_solve=rng.random() >= 0.07)  # a few wait on someone forever
    ratings: list[Rating] = []
    if b.status == "solved":
        for _ in range(2):
            if rng.random() >= 0.12:
                break
            b.wait(rng.uniform(3600, 5 * 86400))  # the customer comes back: reopen
            customer_turn()
            conversation(rng.choice((1, 1, 2)))
        ratings = _ratings(rng, b, ticket_id, requester_id, group_id)
        b.wait(CLOSE_AFTER.total_seconds())
        if ratings:
            b.now = max(b.now, ratings[-1].created_at + timedelta(minutes=1))
        b.audit(SYSTEM_USER_ID, "rule", ("Change", "status", "closed"))

    audits = tuple(b.audits)
    deleted_at = None
    if rng.random() < 0.012:
        deleted_at = created_at + timedelta(seconds=int(rng.uniform(3600, 10 * 86400)))
        audits = tuple(a for a in audits if a.at < deleted_at)
        ratings = [r for r in ratings if r.created_at < deleted_at]
    extra = details(rng)
    return Ticket(
        id=ticket_id,
        created_at=created_at,
        channel=channel,
        audits=audits,
        ratings=tuple(ratings),
        deleted_at=deleted_at,
        organization_id=extra.organization_id,
        brand_id=extra.brand_id,
        tags=extra.tags,
        custom_fields=extra.custom_fields,
    )


def _ratings(
    rng: random.Random, b: _Builder, ticket_id: int, requester_id: int, group_id: int
) -> list[Rating]:
    """Survey records after the final solve: offered, perhaps rated, rarely re-rated."""
    if rng.random() >= 0.5:
        return []
    at = b.now + timedelta(hours=1)
    records = [Rating(ticket_id * 10, ticket_id, "offered", at, b.assignee, group_id, requester_id)]
    for index in range(1, 3):
        if rng.random() >= (0.65 if index == 1 else 0.1):
            break
        at += timedelta(seconds=int(rng.uniform(1800, 2 * 86400)))
        score = "good" if rng.random() < 0.8 else "bad"
        records.append(
            Rating(ticket_id * 10 + index, ticket_id, score, at, b.assignee, group_id, requester_id)
        )
    return records
