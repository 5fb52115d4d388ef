"""The synthetic helpdesk world's vocabulary: people, schedules and tickets with whole lifecycles.

Platform-neutral facts with Zendesk-like field names. The fake APIs render these into each
platform's wire shapes; the ground truth reads them to say what every metric should be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

SYSTEM_USER_ID = -1  # Zendesk's author id for changes made by triggers and automations


@dataclass(frozen=True)
class RoleChange:
    """From ``at`` on, the user has this role and active flag."""

    at: datetime
    role: str  # "agent" | "admin" | "end-user"
    active: bool


@dataclass(frozen=True)
class User:
    """An agent or a customer. Agents carry a role history; customers one entry."""

    id: int
    name: str
    email: str
    phone: str | None
    created_at: datetime
    roles: tuple[RoleChange, ...]
    default_group_id: int | None = None
    time_zone: str = "UTC"  # Rails name, as Zendesk sends it
    organization_id: int | None = None

    def version_at(self, as_of: datetime) -> RoleChange | None:
        """The role entry in force at ``as_of``, or None when the user does not exist yet."""
        current = None
        for change in self.roles:
            if change.at <= as_of:
                current = change
        return current

    def ever_agent(self, as_of: datetime) -> bool:
        """Whether any role entry up to ``as_of`` was agent or admin."""
        return any(c.role in ("agent", "admin") for c in self.roles if c.at <= as_of)


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Brand:
    id: int
    name: str
    subdomain: str
    created_at: datetime


@dataclass(frozen=True)
class TicketField:
    """A ticket field: a system one (subject, status, ...) or a custom one whose values tickets carry."""

    id: int
    type: str  # Zendesk field types: "subject", "status", "text", "tagger", "decimal", ...
    title: str
    created_at: datetime
    is_custom: bool = False
    active: bool = True


@dataclass(frozen=True)
class SlaTarget:
    """One SLA target: tickets of ``priority`` should meet ``metric`` within ``minutes``."""

    priority: str
    metric: str  # "first_reply_time" | "requester_wait_time" | "agent_work_time" | ...
    minutes: int
    business_hours: bool


@dataclass(frozen=True)
class SlaPolicy:
    """An SLA policy; the first by ``position`` whose targets name a ticket's priority applies."""

    id: int
    title: str
    position: int
    targets: tuple[SlaTarget, ...]
    created_at: datetime


@dataclass(frozen=True)
class Holiday:
    id: int
    name: str
    start_date: date
    end_date: date  # inclusive, as Zendesk's holidays API


@dataclass(frozen=True)
class Schedule:
    """A business-hours schedule; intervals in minutes from Sunday 00:00 local time, as Zendesk."""

    id: int
    name: str
    rails_time_zone: str
    iana_time_zone: str
    intervals: tuple[tuple[int, int], ...]
    holidays: tuple[Holiday, ...]
    created_at: datetime


@dataclass(frozen=True)
class Event:
    """One child event of an audit: Create (initial field), Change (field update) or Comment."""

    id: int
    type: str  # "Create" | "Change" | "Comment"
    field_name: str | None = None
    value: str | None = None
    previous_value: str | None = None
    author_id: int | None = None  # comments only
    public: bool | None = None  # comments only


@dataclass(frozen=True)
class Audit:
    """Everything one actor did to a ticket at one instant (whole seconds, UTC)."""

    id: int
    ticket_id: int
    at: datetime
    author_id: int
    channel: str
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Rating:
    """A satisfaction rating record; immutable once created."""

    id: int
    ticket_id: int
    score: str  # "offered" | "good" | "bad"
    created_at: datetime
    assignee_id: int | None
    group_id: int | None
    requester_id: int


TICKET_FIELDS = ("status", "priority", "type", "assignee_id", "group_id", "requester_id", "submitter_id")


@dataclass(frozen=True)
class Ticket:
    """A ticket's whole life, including what happens after any given ``as_of``."""

    id: int
    created_at: datetime
    channel: str
    audits: tuple[Audit, ...]
    ratings: tuple[Rating, ...] = ()
    deleted_at: datetime | None = None
    organization_id: int | None = None
    brand_id: int | None = None
    tags: tuple[str, ...] = field(default=())
    custom_fields: tuple[tuple[int, str | None], ...] = field(default=())  # (ticket field id, value)

    def audits_at(self, as_of: datetime) -> tuple[Audit, ...]:
        """Audits that have happened by ``as_of``."""
        return tuple(a for a in self.audits if a.at <= as_of)

    def ratings_at(self, as_of: datetime) -> tuple[Rating, ...]:
        return tuple(r for r in self.ratings if r.created_at <= as_of)

    def is_deleted(self, as_of: datetime) -> bool:
        return self.deleted_at is not None and self.deleted_at <= as_of

    def updated_at(self, as_of: datetime) -> datetime | None:
        """Time of the last change visible at ``as_of`` (audit, rating or deletion)."""
        times = [a.at for a in self.audits_at(as_of)] + [r.created_at for r in self.ratings_at(as_of)]
        if self.is_deleted(as_of):
            times.append(self.deleted_at)
        return max(times) if times else None

    def state_at(self, as_of: datetime) -> dict[str, object] | None:
        """Field values at ``as_of`` (status ``deleted`` once deleted); None before creation."""
        audits = self.audits_at(as_of)
        if not audits:
            return None
        state: dict[str, object] = dict.fromkeys(TICKET_FIELDS)
        for audit in audits:
            for event in audit.events:
                if event.type in ("Create", "Change") and event.field_name in state:
                    state[event.field_name] = _typed(event.field_name, event.value)
        if self.is_deleted(as_of):
            state["status"] = "deleted"
        return state


def _typed(field_name: str, value: str | None) -> object:
    if value is None:
        return None
    return int(value) if field_name.endswith("_id") else value
