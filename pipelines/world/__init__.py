"""A deterministic synthetic helpdesk world: the demo's data, the tests' ground truth, the benchmarks' load.

Everything derives from a seed. People, groups and schedules are small and built up front;
tickets are simulated one at a time from (seed, ticket id), so a world of 1,000,000 tickets
streams in constant memory and any single ticket can be regenerated on its own.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from pipelines.world.lifecycle import Roster, TicketDetails, simulate
from pipelines.world.model import (
    Brand,
    Group,
    Holiday,
    RoleChange,
    Schedule,
    SlaPolicy,
    SlaTarget,
    Ticket,
    TicketField,
    User,
)
from pipelines.world.people import person

# The world's own IANA → Rails names (Zendesk sends Rails names); the pipeline maps them back
# with its own table, so a mismatch between the two shows up in the tests.
RAILS_NAMES = {
    "UTC": "UTC",
    "Europe/Amsterdam": "Amsterdam",
    "Europe/Berlin": "Berlin",
    "Europe/London": "London",
    "America/New_York": "Eastern Time (US & Canada)",
    "America/Los_Angeles": "Pacific Time (US & Canada)",
    "Asia/Tokyo": "Tokyo",
    "Australia/Sydney": "Sydney",
}
GROUP_NAMES = ("Billing", "Technical", "Onboarding", "Returns", "Enterprise", "Shipping", "Accounts",
               "Integrations", "Hardware", "Mobile", "Payments", "Security")
AGENT_ID_BASE = 1_000
CUSTOMER_ID_BASE = 1_000_000
GROUP_ID_BASE = 100
SCHEDULE_ID = 50
ORGANIZATION_ID_BASE = 5_000
CUSTOMERS_PER_ORGANIZATION = 40
TAGS = ("vip", "billing", "refund", "bug", "feature_request", "mobile_app", "escalated",
        "returning_customer", "onboarding", "hardware")
# Custom ticket fields: a free-text one (never loaded unless a tenant allow-lists it), a drop-down
# and a number.
ORDER_NOTE_FIELD, PRODUCT_FIELD, ORDER_VALUE_FIELD = 360_001, 360_002, 360_003
PRODUCTS = ("product_basic", "product_plus", "product_pro")


@dataclass(frozen=True)
class WorldConfig:
    """What a world is made from. Two tenants with the same ``people_seed`` share customers."""

    tenant_id: str = "demo"
    seed: int = 1
    tickets: int = 500
    start: datetime = datetime(2026, 1, 5, tzinfo=UTC)
    days: int = 120
    people_seed: int = 0
    timezone: str = "Europe/Amsterdam"
    holidays: tuple[tuple[str, date], ...] = field(default=())

    def __post_init__(self) -> None:
        if not 1 <= self.tickets <= 10_000_000:
            raise ValueError(f"tickets must be between 1 and 10,000,000, not {self.tickets}")
        if self.days < 1:
            raise ValueError(f"days must be at least 1, not {self.days}")
        if self.timezone not in RAILS_NAMES:
            raise ValueError(f"timezone must be one of {', '.join(RAILS_NAMES)}")
        if self.start.tzinfo is None:
            raise ValueError("start must be timezone-aware")


class World:
    """One tenant's helpdesk, as of any instant between (and after) ``start`` and ``end``."""

    def __init__(self, config: WorldConfig | None = None):
        self.config = config or WorldConfig()
        self.start = self.config.start
        self.end = self.start + timedelta(days=self.config.days)
        self.tz = ZoneInfo(self.config.timezone)
        self._span = (self.end - self.start).total_seconds()

    # -- sizes and ids -------------------------------------------------------------------
    @property
    def ticket_ids(self) -> range:
        return range(1, self.config.tickets + 1)

    @cached_property
    def n_agents(self) -> int:
        return max(6, min(300, self.config.tickets // 60))

    @cached_property
    def n_customers(self) -> int:
        return max(20, self.config.tickets // 3)

    def _rng(self, *parts: object) -> random.Random:
        return random.Random(":".join(str(p) for p in (self.config.seed, *parts)))

    # -- people, groups, schedules ---------------------------------------------------------
    def groups(self) -> list[Group]:
        n = max(2, min(len(GROUP_NAMES), self.n_agents // 5))
        created = self.start - timedelta(days=400)
        return [Group(GROUP_ID_BASE + g, GROUP_NAMES[g], created) for g in range(n)]

    @cached_property
    def agents(self) -> list[User]:
        """Agents with role histories: every 7th deactivated, another 7th downgraded, mid-world."""
        groups = self.groups()
        agents = []
        for k in range(self.n_agents):
            rng = self._rng("agent", k)
            name, email, phone = person(rng, k)
            email = email.split("@")[0] + "@support.example.com"
            created = self.start - timedelta(days=rng.randint(30, 900))
            roles = [RoleChange(created, "admin" if k == 0 else "agent", True)]
            change_at = self.start + timedelta(seconds=int(self._span * rng.uniform(0.4, 0.8)))
            if k % 7 == 3:
                roles.append(RoleChange(change_at, "agent", False))
            elif k % 7 == 5:
                roles.append(RoleChange(change_at, "end-user", True))
            agents.append(User(
                id=AGENT_ID_BASE + k, name=name, email=email, phone=phone, created_at=created,
                roles=tuple(roles), default_group_id=groups[k % len(groups)].id,
                time_zone=RAILS_NAMES[self.config.timezone],
            ))
        return agents

    def customer(self, index: int) -> User:
        """Customer ``index``: identity from ``people_seed``, so tenants can share a person."""
        rng = random.Random(f"person:{self.config.people_seed}:{index}")
        name, email, phone = person(rng, index)
        created = self.start - timedelta(days=1 + self._rng("customer", index).randint(0, 365))
        return User(
            id=CUSTOMER_ID_BASE + index, name=name, email=email, phone=phone, created_at=created,
            roles=(RoleChange(created, "end-user", True),), organization_id=self.organization_of(index),
        )

    def organization_of(self, customer_index: int) -> int | None:
        """The organisation of customer ``customer_index``: three in five customers belong to one."""
        if (customer_index * 2_654_435_761 + self.config.seed) % 5 >= 3:
            return None
        n = max(3, self.n_customers // CUSTOMERS_PER_ORGANIZATION)
        return ORGANIZATION_ID_BASE + customer_index % n

    def users(self) -> Iterator[User]:
        """Agents first, then customers, generated lazily."""
        yield from self.agents
        for index in range(self.n_customers):
            yield self.customer(index)

    def user(self, user_id: int) -> User:
        if user_id >= CUSTOMER_ID_BASE:
            return self.customer(user_id - CUSTOMER_ID_BASE)
        return self.agents[user_id - AGENT_ID_BASE]

    @cached_property
    def agent_ids(self) -> frozenset[int]:
        return frozenset(a.id for a in self.agents)

    def schedules(self) -> list[Schedule]:
        """The default weekday 09:00-17:00 schedule (with holidays), then a 24/7 one."""
        weekdays = tuple((day * 1440 + 9 * 60, day * 1440 + 17 * 60) for day in range(1, 6))
        holidays = self.config.holidays or self._default_holidays()
        created = self.start - timedelta(days=400)
        rails = RAILS_NAMES[self.config.timezone]
        return [
            Schedule(SCHEDULE_ID, "Support hours", rails, self.config.timezone, weekdays,
                     tuple(Holiday(500 + i, name, day, day) for i, (name, day) in
                           enumerate(holidays)), created),
            Schedule(SCHEDULE_ID + 1, "Around the clock", rails, self.config.timezone,
                     ((0, 7 * 1440),), (), created),
        ]

    def brands(self) -> list[Brand]:
        """The tenant's main brand and a second one that a fifth of the tickets come in through."""
        created = self.start - timedelta(days=400)
        tenant = self.config.tenant_id
        return [Brand(1, f"{tenant.title()} Support", tenant.replace("_", "-"), created),
                Brand(2, f"{tenant.title()} Pro", f"{tenant.replace('_', '-')}-pro", created)]

    def ticket_fields(self) -> list[TicketField]:
        """System fields, then the custom ones whose values tickets carry."""
        created = self.start - timedelta(days=400)
        system = [TicketField(20_001 + i, kind, title, created) for i, (kind, title) in enumerate((
            ("subject", "Subject"), ("description", "Description"), ("status", "Status"),
            ("tickettype", "Type"), ("priority", "Priority"), ("group", "Group"), ("assignee", "Assignee"),
        ))]
        return [*system,
                TicketField(ORDER_NOTE_FIELD, "text", "Order note", created, is_custom=True),
                TicketField(PRODUCT_FIELD, "tagger", "Product", created, is_custom=True),
                TicketField(ORDER_VALUE_FIELD, "decimal", "Order value", created, is_custom=True)]

    def sla_policies(self) -> list[SlaPolicy]:
        """Tight first-reply and wait targets for urgent and high tickets, looser ones for the rest."""
        created = self.start - timedelta(days=300)

        def targets(priorities: tuple[str, ...], reply: int, wait: int) -> tuple[SlaTarget, ...]:
            return tuple(t for p in priorities for t in (
                SlaTarget(p, "first_reply_time", reply, True),
                SlaTarget(p, "requester_wait_time", wait, True)))

        return [SlaPolicy(801, "Urgent and high", 1, targets(("urgent", "high"), 60, 480), created),
                SlaPolicy(802, "Normal and low", 2, targets(("normal", "low"), 480, 1440), created)]

    def _default_holidays(self) -> tuple[tuple[str, date], ...]:
        """A holiday on the first Monday of each month of the world."""
        found, day = [], self.start.date()
        while day <= self.end.date():
            if day.day <= 7 and day.weekday() == 0:
                found.append((f"Company day {day:%B}", day))
            day += timedelta(days=1)
        return tuple(found)

    # -- tickets -------------------------------------------------------------------------
    @cached_property
    def _group_ids(self) -> list[int]:
        return [g.id for g in self.groups()]

    @cached_property
    def _roster(self) -> Roster:
        times = sorted({self.start - timedelta(days=1000)} | {
            c.at for a in self.agents for c in a.roles})
        changes = []
        for at in times:
            active = frozenset(a.id for a in self.agents if self._agent_active(a, at))
            changes.append((at, active))
        return Roster(changes, {a.id: a.default_group_id for a in self.agents})

    @staticmethod
    def _agent_active(agent: User, at: datetime) -> bool:
        version = agent.version_at(at)
        return version is not None and version.active and version.role in ("agent", "admin")

    def ticket(self, ticket_id: int) -> Ticket:
        """Ticket ``ticket_id``, regenerated deterministically."""
        if ticket_id not in self.ticket_ids:
            raise KeyError(ticket_id)
        index = ticket_id - 1
        rng = self._rng("ticket", ticket_id)
        slot = self._span / self.config.tickets
        created = self.start + timedelta(seconds=int(index * slot + rng.uniform(0, slot)))
        # The first tickets go round the agents, so every agent is an assignee before any
        # deactivation or downgrade: an agent's past work stays theirs.
        forced = self.agents[index].id if index < self.n_agents else None
        customer = rng.randrange(self.n_customers)
        return simulate(
            ticket_id, created, rng,
            roster=self._roster,
            group_ids=self._group_ids,
            requester_id=CUSTOMER_ID_BASE + customer,
            forced_assignee=forced,
            agent_active=lambda agent_id, at: self._agent_active(self.user(agent_id), at),
            details=lambda details_rng: self._details(details_rng, ticket_id, customer),
        )

    def _details(self, rng: random.Random, ticket_id: int, customer: int) -> TicketDetails:
        """Organisation (the requester's), brand, tags and custom field values."""
        note = f"Generated order note for ticket {ticket_id}" if rng.random() < 0.5 else None
        value = f"{rng.uniform(5, 500):.2f}" if rng.random() < 0.7 else None
        return TicketDetails(
            organization_id=self.organization_of(customer),
            brand_id=2 if rng.random() < 0.2 else 1,
            tags=tuple(sorted(rng.sample(TAGS, rng.choice((0, 1, 1, 2, 3))))),
            custom_fields=((ORDER_NOTE_FIELD, note), (PRODUCT_FIELD, rng.choice(PRODUCTS)),
                           (ORDER_VALUE_FIELD, value)),
        )

    def tickets(self) -> Iterator[Ticket]:
        """Every ticket in ascending id (and creation time) order, one at a time."""
        for ticket_id in self.ticket_ids:
            yield self.ticket(ticket_id)
