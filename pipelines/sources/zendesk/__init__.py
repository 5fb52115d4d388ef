"""The Zendesk Support dlt source: one tenant's tickets, events, metrics, people and setup, pseudonymised.

Each resource builds its rows from an explicit allow-list, so free text never enters the warehouse
and person identifiers arrive only as keyed tokens; rows are typed into arrow tables
(``tables.py``), and a row that cannot be typed or holds an implausible value goes to the
``quarantine`` table with its reason, until a later version of the record loads cleanly. Each
resource declares whether the account must offer its endpoint (``plans.py``). Incremental resources
resume from their position in dlt state, or read one date range without touching it (a backfill).
Credentials and the tenant secret are read when a resource runs, never when the source is built.
What the load skipped and how every record was accounted for goes to its ``IngestReport``. Tables
and columns: ``raw_tables.py`` (docs/raw_contract.md is written from it).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.resource import DltResource

from pipelines.ingest.columns import RawTable
from pipelines.ingest.config import TenantConfig
from pipelines.ingest.keys import pseudonym
from pipelines.ingest.platform import Platform
from pipelines.ingest.report import IngestReport
from pipelines.ingest.window import DateRange
from pipelines.privacy.classification import PERSON_FIELDS
from pipelines.sources.zendesk import settings
from pipelines.sources.zendesk.account import Account, objects
from pipelines.sources.zendesk.client import Page
from pipelines.sources.zendesk.exports import SERVED, ExportReader, ItemTime, not_loaded, served_at, unix
from pipelines.sources.zendesk.login import check_login
from pipelines.sources.zendesk.plans import optional, required
from pipelines.sources.zendesk.raw_tables import (
    BRANDS,
    GROUPS,
    SATISFACTION_RATINGS,
    SCHEDULE_HOLIDAYS,
    SCHEDULE_INTERVALS,
    SCHEDULES,
    SLA_POLICIES,
    SLA_POLICY_METRICS,
    TABLES,
    TENANT,
    TICKET_EVENTS,
    TICKET_FIELD_VALUES,
    TICKET_FIELDS,
    TICKET_METRIC_EVENTS,
    TICKET_METRICS,
    TICKET_TAGS,
    TICKETS,
    USERS,
)
from pipelines.sources.zendesk.tables import (
    Quarantine,
    Row,
    batched,
    cleared_row,
    typed_items,
    with_load_id,
    with_quarantine,
)

logger = logging.getLogger(__name__)

TICKETS_PER_BATCH = 2_000
USER_KEYS_CACHED = 65_536  # a few megabytes
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dlt.source(name="zendesk", max_table_nesting=0)
def zendesk_source(tenant: TenantConfig, window: DateRange | None = None,
                   report: IngestReport | None = None) -> Sequence[DltResource]:
    """Every resource of one Zendesk tenant; reads no secret until a resource runs. ``report``
    (one is made if not given) hears what the load skipped and quarantined, and holds the run's
    start, from which future times are judged."""
    account = Account(tenant, report or IngestReport(tenant.id))
    pages = ticket_pages(tenant, account, window)
    return [with_quarantine(resource) for resource in (
        pages,
        pages | tickets(tenant, account),
        pages | ticket_tags(tenant, account),
        pages | ticket_field_values(tenant, account),
        pages | ticket_metrics(tenant, account),
        ticket_events(tenant, account, window),
        ticket_metric_events(tenant, account, window),
        users(tenant, account, window),
        groups(tenant, account),
        brands(tenant, account),
        ticket_fields(tenant, account),
        sla_policies(tenant, account),
        sla_policy_metrics(tenant, account),
        satisfaction_ratings(tenant, account, window),
        schedules(tenant, account),
        schedule_intervals(tenant, account),
        schedule_holidays(tenant, account),
        tenant_info(tenant, account),
    )]


# What a load without an optional endpoint lacks (the business-hours tables share one meaning: a
# schedule without its holidays would count holidays as working time, so neither is used).
PLAN_LACKS_SLAS = "plan lacks SLA policies"
PLAN_LACKS_BUSINESS_HOURS = ("plan lacks business-hours schedules and holidays: every *_business_minutes "
                             "is NULL")

# -- tickets: one cursor export feeds four tables -----------------------------------------------
@dataclass
class TicketPage:
    """Tickets of the ticket export and their side-loaded metric sets (several API pages at once:
    the four tables they feed are typed in batches)."""

    tickets: list[Any] = field(default_factory=list)
    metric_sets: list[Any] = field(default_factory=list)


@dlt.resource(name="ticket_pages", selected=False)
@required("tickets")
def ticket_pages(tenant: TenantConfig, account: Account, window: DateRange | None) -> Iterator[TicketPage]:
    """Tickets changed since the last run (deleted ones included) with their metric sets, from the
    cursor export; the next cursor is kept in state (first run: from the tenant's ``start_date``)."""
    state = dlt.current.resource_state()
    pages = account.client.cursor_export(
        settings.TICKETS_EXPORT, "tickets", start_time=_since(window, tenant.start_date),
        cursor=_cursor(window, state), params={"include": "metric_sets"})
    batch = TicketPage()
    for page, items in _follow(pages, state, "after_cursor", window, TICKET_TIME):
        kept = {item.get("id") for item in items if isinstance(item, dict)}
        batch.tickets += items
        batch.metric_sets += [m for m in page.body.get("metric_sets") or []
                              if not isinstance(m, dict) or m.get("ticket_id") in kept]
        if len(batch.tickets) >= TICKETS_PER_BATCH:
            yield batch
            batch = TicketPage()
    if batch.tickets:
        yield batch


@dlt.transformer(**TICKETS.resource)
def tickets(page: TicketPage, tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """The tickets of a page, without subject, description, tags or custom fields."""
    yield from _tables(account, TICKETS, page.tickets,
                       lambda item: [ticket_row(tenant.id, account.secret, item)], when=TICKET_TIME)


@dlt.transformer(**TICKET_TAGS.resource)
def ticket_tags(page: TicketPage, tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """Each ticket's tags, replacing the ones loaded before (a ticket left without tags sends one
    ``cleared`` row, which deletes its old tags and is not stored)."""
    yield from _tables(account, TICKET_TAGS, page.tickets,
                       lambda item: tag_rows(tenant.id, item), key="ticket_id", when=TICKET_TIME)


@dlt.transformer(**TICKET_FIELD_VALUES.resource)
def ticket_field_values(page: TicketPage, tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """Custom field values of the fields the tenant allow-lists (free-text fields may hold PII)."""
    allowed = frozenset(tenant.custom_fields)
    if allowed:
        yield from _tables(account, TICKET_FIELD_VALUES, page.tickets,
                           lambda item: field_value_rows(tenant.id, allowed, item), key="ticket_id",
                           when=TICKET_TIME)


@dlt.transformer(**TICKET_METRICS.resource)
def ticket_metrics(page: TicketPage, tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """Zendesk's own figures per ticket (its metric set), kept to cross-check ours. A figure the
    API adds later becomes a new column rather than a failed run."""
    yield from _tables(account, TICKET_METRICS, page.metric_sets,
                       lambda item: [metric_set_row(tenant.id, item)], evolve=True, key="ticket_id")


# -- the other incremental exports --------------------------------------------------------------
@dlt.resource(**TICKET_EVENTS.resource)
@batched
@required("ticket events")
def ticket_events(tenant: TenantConfig, account: Account, window: DateRange | None) -> Iterator[pa.Table]:
    """Child events of ticket audits since the last run's last second, from the time-based export."""
    state = dlt.current.resource_state()
    pages = account.client.time_export(settings.TICKET_EVENTS_EXPORT, "ticket_events",
                                       start_time=_start(window, state, tenant.start_date),
                                       params={"include": "comment_events"})
    fields = settings.EVENT_FIELDS | {str(field_id) for field_id in tenant.custom_fields}
    rows = functools.partial(event_rows, tenant.id, account.secret, fields=fields)
    yield from _export_tables(account, TICKET_EVENTS, pages, state, window, rows, ItemTime("timestamp"))


@dlt.resource(**TICKET_METRIC_EVENTS.resource)
@batched
@optional("account does not expose ticket metric events (SLA and Zendesk's own clocks)")
def ticket_metric_events(
    tenant: TenantConfig, account: Account, window: DateRange | None
) -> Iterator[pa.Table]:
    """Zendesk's metric events (reply time, requester wait, agent work, SLA applied and breached)."""
    state = dlt.current.resource_state()
    pages = account.client.time_export(settings.TICKET_METRIC_EVENTS_EXPORT, "ticket_metric_events",
                                       start_time=_start(window, state, tenant.start_date))
    rows = functools.partial(metric_event_rows, tenant.id)
    yield from _export_tables(account, TICKET_METRIC_EVENTS, pages, state, window, rows, ItemTime("time"))


@dlt.resource(**USERS.resource)
@batched
@required("users")
def users(tenant: TenantConfig, account: Account, window: DateRange | None) -> Iterator[pa.Table]:
    """Users changed since the last run, one row per version seen, from the cursor export. The first
    run reads every user, however old: agents who last changed before ``start_date`` still did the
    work being measured. So does a backfill of a tenant never loaded (up to the window's end): its
    tickets name users who last changed before the window."""
    state, secret = dlt.current.resource_state(), account.secret
    first_read = window is not None and "after_cursor" not in state
    pages = account.client.cursor_export(settings.USERS_EXPORT, "users",
                                         start_time=_since(None if first_read else window, EPOCH),
                                         cursor=_cursor(window, state))
    user_time = ItemTime("updated_at")
    for _, items in _follow(pages, state, "after_cursor", window, user_time):
        yield from _tables(account, USERS, items, lambda item: [user_row(tenant.id, secret, item)],
                           when=user_time)


@dlt.resource(**SATISFACTION_RATINGS.resource)
@batched
@optional("satisfaction ratings are switched off or not in the plan: CSAT figures are empty")
def satisfaction_ratings(
    tenant: TenantConfig, account: Account, window: DateRange | None
) -> Iterator[pa.Table]:
    """Ratings updated at or after the last run's latest ``updated_at`` (the repeats merge away)."""
    state = dlt.current.resource_state()
    latest = since = _start(window, state, tenant.start_date)
    pages = account.client.list_pages(settings.SATISFACTION_RATINGS, "satisfaction_ratings",
                                      {"start_time": since})
    updated = ItemTime("updated_at")
    served = {"start_time": since, SERVED: state.get(SERVED, [])}  # at the latest `updated_at`
    for _, items in _follow(pages, None, "", window, updated):
        timed = [(item, updated(item)) for item in items]
        kept = [item for item, _ in not_loaded(timed, state)] if window is None else items
        yield from _tables(account, SATISFACTION_RATINGS, kept,
                           lambda item: [rating_row(tenant.id, account.secret, item)], when=updated)
        latest = max([latest, *(at for _, at in timed if at is not None)])
        served = {"start_time": latest, SERVED: served_at(timed, latest, served)}
    if window is None:
        state.update(served)


# -- full lists, every run ------------------------------------------------------------------------
@dlt.resource(**GROUPS.resource)
@batched
@optional("the API token cannot list groups: team figures have no group keys")
def groups(tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """All groups (a short list); deleted ones stay."""
    secret = account.secret
    for page in account.client.list_pages(settings.GROUPS, "groups"):
        yield from _tables(account, GROUPS, page.items,
                           lambda item: [group_row(tenant.id, secret, item)])


@dlt.resource(**BRANDS.resource)
@optional("the API token cannot list brands", clears=BRANDS.hints)
def brands(tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """The account's brands."""
    items = [item for page in account.client.list_pages(settings.BRANDS, "brands") for item in page.items]
    yield from _tables(account, BRANDS, items, lambda item: [brand_row(tenant.id, item)],
                       whole=True)


@dlt.resource(**TICKET_FIELDS.resource)
@optional("the API token cannot list ticket fields", clears=TICKET_FIELDS.hints)
def ticket_fields(tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """System and custom ticket fields (what they are, not what tickets hold)."""
    allowed = frozenset(tenant.custom_fields)
    pages = account.client.list_pages(settings.TICKET_FIELDS, "ticket_fields")
    items = [item for page in pages for item in page.items]
    yield from _tables(account, TICKET_FIELDS, items,
                       lambda item: [ticket_field_row(tenant.id, allowed, item)], whole=True)


@dlt.resource(**SLA_POLICIES.resource)
@optional(PLAN_LACKS_SLAS, clears=SLA_POLICIES.hints)
def sla_policies(tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """SLA policies without their descriptions and filter conditions."""
    yield from _tables(account, SLA_POLICIES, account.sla_policies,
                       lambda item: [sla_policy_row(tenant.id, item)], whole=True)


@dlt.resource(**SLA_POLICY_METRICS.resource)
@optional(PLAN_LACKS_SLAS, clears=SLA_POLICY_METRICS.hints)
def sla_policy_metrics(tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """The targets of each SLA policy, per priority and metric."""
    yield from _tables(account, SLA_POLICY_METRICS, account.sla_policies,
                       lambda item: sla_target_rows(tenant.id, item), whole=True, key="policy_id")


@dlt.resource(**SCHEDULES.resource)
@optional(PLAN_LACKS_BUSINESS_HOURS, clears=SCHEDULES.hints)
def schedules(tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """Business-hours schedules."""
    yield from _tables(account, SCHEDULES, account.business_hours[0], lambda item: [{
        "tenant_id": tenant.id, "id": item.get("id"), "name": item.get("name"),
        "time_zone": item.get("time_zone"), "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
    }], whole=True)


@dlt.resource(**SCHEDULE_INTERVALS.resource)
@optional(PLAN_LACKS_BUSINESS_HOURS, clears=SCHEDULE_INTERVALS.hints)
def schedule_intervals(tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """Weekly open intervals of each schedule, in minutes from Sunday 00:00 local time."""
    schedule_list = account.business_hours[0]
    yield from _tables(account, SCHEDULE_INTERVALS, schedule_list, lambda item: [
        {"tenant_id": tenant.id, "schedule_id": item.get("id"), "start_time": interval.get("start_time"),
         "end_time": interval.get("end_time")}
        for interval in objects(item.get("intervals"))
    ], whole=True, key="schedule_id")


@dlt.resource(**SCHEDULE_HOLIDAYS.resource)
@optional(PLAN_LACKS_BUSINESS_HOURS, clears=SCHEDULE_HOLIDAYS.hints)
def schedule_holidays(tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """Holidays of each schedule, end date inclusive."""
    yield from _tables(account, SCHEDULE_HOLIDAYS, account.business_hours[1],
                       lambda item: [holiday_row(tenant.id, item)], whole=True)


@dlt.resource(**TENANT.resource)
def tenant_info(tenant: TenantConfig, account: Account) -> Iterator[pa.Table]:
    """The tenant's own settings, so the warehouse knows its time zone and retention."""
    yield from _tables(account, TENANT, [{}], lambda _: [{
        "tenant_id": tenant.id, "platform": tenant.platform, "timezone": tenant.timezone,
        "retention_days": tenant.retention_days, "start_date": tenant.start_date.isoformat(),
    }])


# -- rows: explicit allow-lists -----------------------------------------------------------------
def ticket_row(tenant_id: str, secret: bytes, item: dict[str, Any]) -> Row:
    """A ticket without subject, description, tags or custom fields; each person on it also by user
    key, so a person the users export does not return is still keyed."""
    return {
        "tenant_id": tenant_id,
        "id": item.get("id"),
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
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
        "requester_key": user_key(secret, item.get("requester_id")),
        "submitter_key": user_key(secret, item.get("submitter_id")),
        "assignee_key": user_key(secret, item.get("assignee_id")),
    }


def tag_rows(tenant_id: str, item: dict[str, Any]) -> list[Row]:
    """One row per tag of a ticket, or one ``cleared`` row when it has none."""
    if not isinstance(item.get("tags"), list):
        return [{"tenant_id": tenant_id, "ticket_id": item.get("id"), "tag": None, "cleared": None}]
    tags = sorted({str(tag) for tag in item["tags"]})
    if not tags:
        return [cleared_row(TICKET_TAGS.hints, tenant_id=tenant_id, ticket_id=item.get("id"))]
    return [{"tenant_id": tenant_id, "ticket_id": item.get("id"), "tag": tag, "cleared": None}
            for tag in tags]


def field_value_rows(tenant_id: str, allowed: frozenset[int], item: dict[str, Any]) -> list[Row]:
    """The allow-listed custom field values of a ticket; the rest are never read."""
    return [{"tenant_id": tenant_id, "ticket_id": item.get("id"), "field_id": entry.get("id"),
             "value": _text(entry.get("value"))}
            for entry in objects(item.get("custom_fields")) if entry.get("id") in allowed]


def metric_set_row(tenant_id: str, item: dict[str, Any]) -> Row:
    """A ticket's metric set: counts and times as they come, ``{calendar, business}`` minutes as two
    columns. Only numbers and flags beyond the known fields are kept (figures, never text)."""
    row: Row = {"tenant_id": tenant_id}
    for name, value in item.items():
        if name in TICKET_METRICS.hints:
            row[name] = value
        elif isinstance(value, dict):
            row |= {f"{name}_{clock}": value.get(clock) for clock in ("calendar", "business")
                    if value.get(clock) is None or isinstance(value.get(clock), int | float)}
        elif isinstance(value, int | float) and name != "url":
            row[name] = value
    return row


def event_rows(
    tenant_id: str, secret: bytes, audit: dict[str, Any], fields: frozenset[str] = settings.EVENT_FIELDS
) -> list[Row]:
    """One row per kept child event of an audit: field sets and changes of ``fields``, comments
    without their bodies; the values of a person field (assignee, requester, submitter) also by
    user key. Other event types (notifications, SLA, ...) are not analytics input.
    (The hottest loop of a load: written out rather than factored.)"""
    audit_id, ticket_id, at = audit.get("id"), audit.get("ticket_id"), audit.get("created_at")
    updater, via = audit.get("updater_id"), _channel(audit.get("via"))
    rows = []
    for event in objects(audit.get("child_events")):
        kind = event.get("event_type")
        if kind == "Comment":
            rows.append({
                "tenant_id": tenant_id, "id": event.get("id"), "audit_id": audit_id, "ticket_id": ticket_id,
                "created_at": at, "updater_id": updater, "via_channel": via, "event_type": kind,
                "field_name": None, "value": None, "previous_value": None,
                "author_id": event.get("author_id"), "is_public": event.get("public"),
                "value_key": None, "previous_value_key": None,
            })
        elif kind in settings.FIELD_EVENT_TYPES and (name := event.get("field_name")) in fields:
            value, previous = event.get("value"), event.get("previous_value")
            person = name in PERSON_FIELDS
            rows.append({
                "tenant_id": tenant_id, "id": event.get("id"), "audit_id": audit_id, "ticket_id": ticket_id,
                "created_at": at, "updater_id": updater, "via_channel": via, "event_type": kind,
                "field_name": name, "value": value if type(value) is str else _text(value),
                "previous_value": previous if type(previous) is str else _text(previous),
                "author_id": None, "is_public": None,
                "value_key": user_key(secret, value) if person else None,
                "previous_value_key": user_key(secret, previous) if person else None,
            })
    return rows


def metric_event_row(tenant_id: str, item: dict[str, Any]) -> Row:
    """A metric event; the SLA policy only by id (its description is free text)."""
    sla = item.get("sla") if isinstance(item.get("sla"), dict) else {}
    policy = sla.get("policy") if isinstance(sla.get("policy"), dict) else {}
    status = item.get("status") if isinstance(item.get("status"), dict) else {}
    return {
        "tenant_id": tenant_id, "id": item.get("id"), "ticket_id": item.get("ticket_id"),
        "metric": item.get("metric"), "instance_id": item.get("instance_id"), "type": item.get("type"),
        "time": item.get("time"), "sla_policy_id": policy.get("id"), "sla_target_minutes": sla.get("target"),
        "sla_business_hours": sla.get("business_hours"), "status_calendar_minutes": status.get("calendar"),
        "status_business_minutes": status.get("business"), "is_deleted": item.get("deleted"),
    }


def metric_event_rows(tenant_id: str, item: dict[str, Any]) -> list[Row]:
    return [metric_event_row(tenant_id, item)]


def user_row(tenant_id: str, secret: bytes, item: dict[str, Any]) -> Row:
    """A user version; name, e-mail and phone only as tokens."""
    return {
        "tenant_id": tenant_id,
        "id": item.get("id"),
        "user_key": user_key(secret, item.get("id")),
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
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
        "id": item.get("id"),
        "group_key": pseudonym(secret, "group", item.get("id")),
        "name": item.get("name"),
        "is_deleted": bool(item.get("deleted", False)),
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
    }


def brand_row(tenant_id: str, item: dict[str, Any]) -> Row:
    return {
        "tenant_id": tenant_id, "id": item.get("id"), "name": item.get("name"),
        "subdomain": item.get("subdomain"), "is_active": item.get("active"),
        "is_default": item.get("default"),
        "created_at": item.get("created_at"), "updated_at": item.get("updated_at"),
    }


def ticket_field_row(tenant_id: str, allowed: frozenset[int], item: dict[str, Any]) -> Row:
    """A ticket field's definition without its descriptions; whether its values are loaded."""
    return {
        "tenant_id": tenant_id, "id": item.get("id"), "type": item.get("type"), "title": item.get("title"),
        "position": item.get("position"), "is_active": item.get("active"),
        "is_custom": item.get("removable"), "values_loaded": item.get("id") in allowed,
        "created_at": item.get("created_at"), "updated_at": item.get("updated_at"),
    }


def sla_policy_row(tenant_id: str, item: dict[str, Any]) -> Row:
    return {
        "tenant_id": tenant_id, "id": item.get("id"), "title": item.get("title"),
        "position": item.get("position"), "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
    }


def sla_target_rows(tenant_id: str, item: dict[str, Any]) -> list[Row]:
    return [{"tenant_id": tenant_id, "policy_id": item.get("id"), "priority": target.get("priority"),
             "metric": target.get("metric"), "target_minutes": target.get("target"),
             "business_hours": target.get("business_hours")}
            for target in objects(item.get("policy_metrics"))]


def holiday_row(tenant_id: str, item: dict[str, Any]) -> Row:
    """A schedule holiday (``schedule_id`` added from the schedule it was listed under)."""
    return {"tenant_id": tenant_id, "id": item.get("id"), "schedule_id": item.get("schedule_id"),
            "name": item.get("name"), "start_date": item.get("start_date"), "end_date": item.get("end_date")}


def rating_row(tenant_id: str, secret: bytes, item: dict[str, Any]) -> Row:
    """A satisfaction rating without its free-text comment or reason; its people also by user key."""
    return {
        "tenant_id": tenant_id,
        "id": item.get("id"),
        "ticket_id": item.get("ticket_id"),
        "assignee_id": item.get("assignee_id"),
        "group_id": item.get("group_id"),
        "requester_id": item.get("requester_id"),
        "score": item.get("score"),
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
        "assignee_key": user_key(secret, item.get("assignee_id")),
        "requester_key": user_key(secret, item.get("requester_id")),
    }


# -- helpers --------------------------------------------------------------------------------
def _tables(account: Account, raw: RawTable, items: list[Any], to_rows: Callable[[Any], list[Row]],
            *, whole: bool = False, evolve: bool = False, key: str = "id",
            when: Callable[[Any], int | None] | None = None) -> Iterator[pa.Table]:
    """The rows of ``items`` as a typed table of ``raw`` (``typed_items``: items that are not
    objects and rows that do not fit are quarantined, keyed by their ``key`` column, with their
    item's export time from ``when``; a ``whole`` list replaces the table's rows; an ``evolve``
    table takes new figures as new columns), then what the quarantine table gains and loses."""
    quarantine = Quarantine(account.tenant.id, raw.name, account.secret, key, account.report.started_at)
    typed, read, placeholder = typed_items(items, to_rows, raw.hints, quarantine, whole=whole,
                                           evolve=evolve, when=when)
    yield from _loaded(account, raw, typed, quarantine, read, placeholder)


def _export_tables(account: Account, raw: RawTable, pages: Iterator[Page], state: dict,
                   window: DateRange | None, to_rows: Callable[[Any], list[Row]], when: ItemTime
                   ) -> Iterator[pa.Table]:
    """The tables of a time-based export (``exports.py``: long ones are built in a worker process).
    A regular run keeps each page's position and what it loaded at that second in state once its
    tables are handed on; a backfill leaves state alone."""
    seen = ({"start_time": unix(window.start), SERVED: []} if window is not None
            else {"start_time": state.get("start_time"), SERVED: state.get(SERVED, [])})
    reader = ExportReader(
        raw.name, raw.hints, to_rows, when,
        Quarantine(account.tenant.id, raw.name, account.secret, "id", account.report.started_at),
        seen, unix(window.end) if window is not None else None)
    for page in reader.pages(pages):
        yield from _loaded(account, raw, page.typed, page.quarantine, page.read)
        if window is None:
            state[SERVED], state["start_time"] = page.served, page.position


def _loaded(account: Account, raw: RawTable, typed: pa.Table, quarantine: Quarantine, read: int,
            placeholder: bool = False) -> Iterator[pa.Table]:
    """What a typed table loads once the privacy hook has dropped the rows of erased people, then
    what the quarantine table gains and loses (records quarantined before that now loaded cleanly
    go out). Every row made is counted in the report: loaded, quarantined or suppressed."""
    kept = account.keep(raw)(typed)
    account.report.count(raw.name, read=read, loaded=kept.num_rows - placeholder,
                         quarantined=quarantine.count, suppressed=typed.num_rows - kept.num_rows)
    _settle(quarantine, kept)
    if kept.num_rows:
        yield with_load_id(kept)
    if (changes := quarantine.drain()) is not None:
        yield changes


def _settle(quarantine: Quarantine, loaded: pa.Table) -> None:
    """Keep the quarantined records of the table in the source's dlt state (committed with the load),
    and take out of the quarantine table those of which a version has now loaded cleanly."""
    held_by_table = dlt.current.source_state().setdefault("quarantined", {})
    held = set(held_by_table.get(quarantine.table, ()))
    if held and loaded.num_rows:
        ids = pc.unique(loaded.column(quarantine.key).drop_null()).to_pylist()
        resolved = held.intersection(ids) - quarantine.identities
        if resolved:
            quarantine.resolve(sorted(resolved))
            held -= resolved
    held |= quarantine.identities
    if held:
        held_by_table[quarantine.table] = sorted(held)
    else:
        held_by_table.pop(quarantine.table, None)


def user_key(secret: bytes, user_id: object) -> str | None:
    """The key of a platform user id, ``pseudonym(secret, "user", id)``: the same whether the id
    comes from the user record or from a reference to it. Ids are cached (the same agents and
    customers recur ticket after ticket, and a key costs microseconds); anything else is keyed as
    it is, and its row quarantined by type."""
    if isinstance(user_id, int | str):
        return _cached_user_key(secret, user_id)
    return pseudonym(secret, "user", user_id)


@functools.lru_cache(maxsize=USER_KEYS_CACHED)
def _cached_user_key(secret: bytes, user_id: int | str) -> str | None:
    return pseudonym(secret, "user", user_id)


def _follow(pages: Iterator[Page], state: dict | None, key: str, window: DateRange | None,
            when: Callable[[Any], int | None]) -> Iterator[tuple[Page, list[Any]]]:
    """Each page and the items to load from it. A regular run keeps each page's position in
    ``state[key]`` once its items are handed on; a backfill keeps the items before the window's end
    and stops there, leaving state alone."""
    end = unix(window.end) if window is not None else None
    for page in pages:
        if end is None:
            yield page, page.items
            if state is not None:
                state[key] = page.position
            continue
        kept = [item for item in page.items if (at := when(item)) is None or at < end]
        yield page, kept
        if len(kept) < len(page.items):
            return


def _start(window: DateRange | None, state: dict, default: datetime) -> int:
    """Where a time-based read starts: the window's start in a backfill, else the position kept in
    state, else ``default`` (the tenant's ``start_date``)."""
    return unix(window.start) if window is not None else int(state.get("start_time", unix(default)))


def _since(window: DateRange | None, default: datetime) -> int:
    """Where a cursor export starts when there is no cursor: the window's start, else ``default``."""
    return unix(window.start if window is not None else default)


def _cursor(window: DateRange | None, state: dict) -> str | None:
    return None if window is not None else state.get("after_cursor")


TICKET_TIME = ItemTime("generated_timestamp")  # where the ticket export serves a ticket


def _channel(via: Any) -> str | None:
    """The channel of a ``via``: an object in most payloads, a plain label in some exports."""
    return via.get("channel") if isinstance(via, dict) else via


def _text(value: Any) -> str | None:
    """A field value as text: lists (multi-select, tags) space-separated, as Zendesk shows them."""
    if value is None:
        return None
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return str(value)


PLATFORM = Platform("zendesk", "Zendesk Support", zendesk_source, TABLES, settings.RESOURCE_ENDPOINTS,
                    settings.INCREMENTAL_TABLES, check_login)
