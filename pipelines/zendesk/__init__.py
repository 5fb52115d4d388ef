"""The Zendesk Support dlt source: one tenant's tickets, events, people and schedules, pseudonymised.

Each resource builds its rows from an explicit allow-list, so free text never enters the warehouse
and person identifiers arrive only as keyed tokens. Credentials and the tenant secret are read
when a resource runs, never when the source is built. Tables and columns: docs/raw_contract.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import dlt
from dlt.common.schema.typing import TColumnSchema
from dlt.extract.resource import DltResource

from pipelines.config import TenantConfig
from pipelines.keys import pseudonym
from pipelines.zendesk import settings
from pipelines.zendesk.client import ZendeskClient

logger = logging.getLogger(__name__)

Row = dict[str, Any]
TEXT, BIGINT, BOOL, TIMESTAMP, DATE = "text", "bigint", "bool", "timestamp", "date"


def columns(**types: str) -> dict[str, TColumnSchema]:
    """Column hints in table order; declared so all-null columns still exist. Timestamps are UTC."""
    hints: dict[str, TColumnSchema] = {}
    for name, data_type in types.items():
        hints[name] = {"data_type": data_type, "nullable": name != "tenant_id"}
        if data_type == TIMESTAMP:
            hints[name]["timezone"] = True
    return hints


@dlt.source(name="zendesk", max_table_nesting=0)
def zendesk_source(tenant: TenantConfig) -> Sequence[DltResource]:
    """Every resource of one Zendesk tenant; reads no secret until a resource runs."""
    ratings_since = dlt.sources.incremental("updated_at", initial_value=tenant.start_date)
    return (
        tickets(tenant),
        ticket_events(tenant),
        users(tenant),
        groups(tenant),
        satisfaction_ratings(tenant, updated_at=ratings_since),
        schedules(tenant),
        schedule_intervals(tenant),
        schedule_holidays(tenant),
        tenant_info(tenant),
    )


# -- resources ------------------------------------------------------------------------------
@dlt.resource(
    name="tickets", primary_key="id", write_disposition="merge",
    columns=columns(
        tenant_id=TEXT, id=BIGINT, created_at=TIMESTAMP, updated_at=TIMESTAMP, generated_timestamp=BIGINT,
        status=TEXT, priority=TEXT, type=TEXT, via_channel=TEXT, requester_id=BIGINT, submitter_id=BIGINT,
        assignee_id=BIGINT, group_id=BIGINT, organization_id=BIGINT, brand_id=BIGINT, is_public=BOOL,
    ),
)
def tickets(tenant: TenantConfig) -> Iterator[list[Row]]:
    """Tickets changed since the last run, deleted ones included, from the cursor export."""
    yield from _cursor_export(tenant, settings.TICKETS_EXPORT, "tickets", partial(ticket_row, tenant.id),
                              start_time=_unix(tenant.start_date))


@dlt.resource(
    name="ticket_events", primary_key="id", write_disposition="merge",
    columns=columns(
        tenant_id=TEXT, id=BIGINT, audit_id=BIGINT, ticket_id=BIGINT, created_at=TIMESTAMP,
        updater_id=BIGINT, via_channel=TEXT, event_type=TEXT, field_name=TEXT, value=TEXT,
        previous_value=TEXT, author_id=BIGINT, is_public=BOOL,
    ),
)
def ticket_events(tenant: TenantConfig) -> Iterator[list[Row]]:
    """Child events of ticket audits since the last run's last second, from the time-based export."""
    client = _client(tenant)
    state = dlt.current.resource_state()
    start_time = state.get("start_time", _unix(tenant.start_date))
    pages = client.time_export(settings.TICKET_EVENTS_EXPORT, "ticket_events", start_time=start_time,
                               params={"include": "comment_events"})
    for page in pages:
        rows = [row for audit in page.items for row in event_rows(tenant.id, audit)]
        logger.debug("tenant %s: ticket_events page, %d audits, %d events", tenant.id, len(page.items),
                     len(rows))
        if rows:
            yield rows
        state["start_time"] = page.position


@dlt.resource(
    name="users", primary_key=("id", "updated_at"), write_disposition="merge",
    columns=columns(
        tenant_id=TEXT, id=BIGINT, user_key=TEXT, created_at=TIMESTAMP, updated_at=TIMESTAMP, role=TEXT,
        active=BOOL, default_group_id=BIGINT, organization_id=BIGINT, time_zone=TEXT, name_token=TEXT,
        email_token=TEXT, phone_token=TEXT,
    ),
)
def users(tenant: TenantConfig) -> Iterator[list[Row]]:
    """Users changed since the last run, one row per version seen, from the cursor export. The first
    run reads every user, however old: agents who last changed before ``start_date`` still did the
    work being measured."""
    row = partial(user_row, tenant.id, tenant.secret())
    yield from _cursor_export(tenant, settings.USERS_EXPORT, "users", row, start_time=0)


@dlt.resource(
    name="groups", primary_key="id", write_disposition="merge",
    columns=columns(
        tenant_id=TEXT, id=BIGINT, group_key=TEXT, name=TEXT, is_deleted=BOOL, created_at=TIMESTAMP,
        updated_at=TIMESTAMP,
    ),
)
def groups(tenant: TenantConfig) -> Iterator[list[Row]]:
    """All groups (a short list), every run."""
    secret = tenant.secret()
    for page in _client(tenant).list_pages(settings.GROUPS, "groups"):
        yield [group_row(tenant.id, secret, item) for item in page]


@dlt.resource(
    name="satisfaction_ratings", primary_key="id", write_disposition="merge",
    columns=columns(
        tenant_id=TEXT, id=BIGINT, ticket_id=BIGINT, assignee_id=BIGINT, group_id=BIGINT,
        requester_id=BIGINT, score=TEXT, created_at=TIMESTAMP, updated_at=TIMESTAMP,
    ),
)
def satisfaction_ratings(
    tenant: TenantConfig,
    updated_at: dlt.sources.incremental[datetime] = dlt.sources.incremental("updated_at"),  # noqa: B008
) -> Iterator[list[Row]]:
    """Ratings updated at or after the last run's latest ``updated_at`` (dlt drops the repeats)."""
    params = {"start_time": _unix(updated_at.last_value)}
    for page in _client(tenant).list_pages(settings.SATISFACTION_RATINGS, "satisfaction_ratings", params):
        yield [rating_row(tenant.id, item) for item in page]


@dlt.resource(
    name="schedules", write_disposition="replace",
    columns=columns(
        tenant_id=TEXT, id=BIGINT, name=TEXT, time_zone=TEXT, created_at=TIMESTAMP, updated_at=TIMESTAMP,
    ),
)
def schedules(tenant: TenantConfig) -> Iterator[list[Row]]:
    """Business-hours schedules, replaced every run."""
    yield [{
        "tenant_id": tenant.id,
        "id": item["id"],
        "name": item.get("name"),
        "time_zone": item.get("time_zone"),
        "created_at": _time(item.get("created_at")),
        "updated_at": _time(item.get("updated_at")),
    } for item in _schedules(_client(tenant))]


@dlt.resource(
    name="schedule_intervals", write_disposition="replace",
    columns=columns(tenant_id=TEXT, schedule_id=BIGINT, start_time=BIGINT, end_time=BIGINT),
)
def schedule_intervals(tenant: TenantConfig) -> Iterator[list[Row]]:
    """Weekly open intervals of each schedule, in minutes from Sunday 00:00 local time."""
    yield [
        {"tenant_id": tenant.id, "schedule_id": item["id"], "start_time": interval["start_time"],
         "end_time": interval["end_time"]}
        for item in _schedules(_client(tenant)) for interval in item.get("intervals") or []
    ]


@dlt.resource(
    name="schedule_holidays", write_disposition="replace",
    columns=columns(tenant_id=TEXT, id=BIGINT, schedule_id=BIGINT, name=TEXT, start_date=DATE, end_date=DATE),
)
def schedule_holidays(tenant: TenantConfig) -> Iterator[list[Row]]:
    """Holidays of each schedule, end date inclusive."""
    client = _client(tenant)
    for schedule in _schedules(client):
        path = settings.SCHEDULE_HOLIDAYS.format(schedule_id=schedule["id"])
        yield [{
            "tenant_id": tenant.id,
            "id": item["id"],
            "schedule_id": schedule["id"],
            "name": item.get("name"),
            "start_date": date.fromisoformat(item["start_date"]),
            "end_date": date.fromisoformat(item["end_date"]),
        } for item in client.get(path).get("holidays") or []]


@dlt.resource(
    name="tenant", write_disposition="replace",
    columns=columns(tenant_id=TEXT, platform=TEXT, timezone=TEXT, retention_days=BIGINT),
)
def tenant_info(tenant: TenantConfig) -> Iterator[Row]:
    """The tenant's own settings, so the warehouse knows its time zone and retention."""
    yield {"tenant_id": tenant.id, "platform": tenant.platform, "timezone": tenant.timezone,
           "retention_days": tenant.retention_days}


# -- rows: explicit allow-lists -----------------------------------------------------------------
def ticket_row(tenant_id: str, item: dict[str, Any]) -> Row:
    """A ticket without subject, description, tags or custom fields."""
    return {
        "tenant_id": tenant_id,
        "id": item["id"],
        "created_at": _time(item.get("created_at")),
        "updated_at": _time(item.get("updated_at")),
        "generated_timestamp": item.get("generated_timestamp"),
        "status": item.get("status"),
        "priority": item.get("priority"),
        "type": item.get("type"),
        "via_channel": _channel(item.get("via")),
        "requester_id": item.get("requester_id"),
        "submitter_id": item.get("submitter_id"),
        "assignee_id": item.get("assignee_id"),
        "group_id": item.get("group_id"),
        "organization_id": item.get("organization_id"),
        "brand_id": item.get("brand_id"),
        "is_public": item.get("is_public"),
    }


def event_rows(tenant_id: str, audit: dict[str, Any]) -> Iterator[Row]:
    """One row per kept child event of an audit: field sets and changes of allowed fields, comments
    without their bodies. Other event types (notifications, SLA, ...) are not analytics input."""
    for event in audit.get("child_events") or []:
        kind = event.get("event_type")
        is_comment = kind == "Comment"
        is_field = kind in settings.FIELD_EVENT_TYPES and event.get("field_name") in settings.EVENT_FIELDS
        if not (is_comment or is_field):
            continue
        yield {
            "tenant_id": tenant_id,
            "id": event["id"],
            "audit_id": audit["id"],
            "ticket_id": audit.get("ticket_id"),
            "created_at": _time(audit.get("created_at")),
            "updater_id": audit.get("updater_id"),
            "via_channel": _channel(audit.get("via")),
            "event_type": kind,
            "field_name": None if is_comment else event.get("field_name"),
            "value": None if is_comment else _text(event.get("value")),
            "previous_value": None if is_comment else _text(event.get("previous_value")),
            "author_id": event.get("author_id") if is_comment else None,
            "is_public": event.get("public") if is_comment else None,
        }


def user_row(tenant_id: str, secret: bytes, item: dict[str, Any]) -> Row:
    """A user version; name, e-mail and phone only as tokens."""
    return {
        "tenant_id": tenant_id,
        "id": item["id"],
        "user_key": pseudonym(secret, "user", item["id"]),
        "created_at": _time(item.get("created_at")),
        "updated_at": _time(item.get("updated_at")),
        "role": item.get("role"),
        "active": item.get("active"),
        "default_group_id": item.get("default_group_id"),
        "organization_id": item.get("organization_id"),
        "time_zone": item.get("time_zone"),
        "name_token": pseudonym(secret, "name", item.get("name")),
        "email_token": pseudonym(secret, "email", item.get("email")),
        "phone_token": pseudonym(secret, "phone", item.get("phone")),
    }


def group_row(tenant_id: str, secret: bytes, item: dict[str, Any]) -> Row:
    return {
        "tenant_id": tenant_id,
        "id": item["id"],
        "group_key": pseudonym(secret, "group", item["id"]),
        "name": item.get("name"),
        "is_deleted": bool(item.get("deleted", False)),
        "created_at": _time(item.get("created_at")),
        "updated_at": _time(item.get("updated_at")),
    }


def rating_row(tenant_id: str, item: dict[str, Any]) -> Row:
    """A satisfaction rating without its free-text comment or reason."""
    return {
        "tenant_id": tenant_id,
        "id": item["id"],
        "ticket_id": item.get("ticket_id"),
        "assignee_id": item.get("assignee_id"),
        "group_id": item.get("group_id"),
        "requester_id": item.get("requester_id"),
        "score": item.get("score"),
        "created_at": _time(item.get("created_at")),
        "updated_at": _time(item.get("updated_at")),
    }


# -- helpers --------------------------------------------------------------------------------
def _client(tenant: TenantConfig) -> ZendeskClient:
    email, token = tenant.credentials.resolve(tenant.id)
    return ZendeskClient(tenant.base_url, email, token, tenant_id=tenant.id)


def _cursor_export(
    tenant: TenantConfig, path: str, key: str, to_row: Callable[[dict[str, Any]], Row], *, start_time: int
) -> Iterator[list[Row]]:
    """Page through a cursor export from the cursor kept in resource state (first run: from
    ``start_time``), keeping the next one."""
    client = _client(tenant)
    state = dlt.current.resource_state()
    pages = client.cursor_export(path, key, start_time=start_time, cursor=state.get("after_cursor"))
    for page in pages:
        logger.debug("tenant %s: %s page of %d", tenant.id, key, len(page.items))
        if page.items:
            yield [to_row(item) for item in page.items]
        state["after_cursor"] = page.position


def _schedules(client: ZendeskClient) -> list[dict[str, Any]]:
    return client.get(settings.SCHEDULES).get("schedules") or []


def _time(value: str | None) -> datetime | None:
    """An ISO 8601 API timestamp as an aware UTC datetime."""
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def _unix(at: datetime) -> int:
    return int(at.timestamp())


def _channel(via: Any) -> str | None:
    """The channel of a ``via``: an object in most payloads, a plain label in some exports."""
    return via.get("channel") if isinstance(via, dict) else via


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
