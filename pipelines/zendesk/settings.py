"""Zendesk Support API constants: endpoint paths, page sizes, retry policy and the loaded allow-lists.

The source, its client and the fake API all read these, so an endpoint is spelled in one place.
"""

from __future__ import annotations

# Endpoints (paths below the tenant's base URL).
TICKETS_EXPORT = "/api/v2/incremental/tickets/cursor.json"
USERS_EXPORT = "/api/v2/incremental/users/cursor.json"
TICKET_EVENTS_EXPORT = "/api/v2/incremental/ticket_events.json"
GROUPS = "/api/v2/groups.json"
SATISFACTION_RATINGS = "/api/v2/satisfaction_ratings.json"
SCHEDULES = "/api/v2/business_hours/schedules.json"
SCHEDULE_HOLIDAYS = "/api/v2/business_hours/schedules/{schedule_id}/holidays.json"

# Page sizes: the maxima Zendesk allows per endpoint family.
EXPORT_PAGE_SIZE = 1000  # cursor-based incremental exports (``per_page``)
TIME_EXPORT_PAGE_SIZE = 1000  # time-based exports: fixed; a shorter page ends the stream
LIST_PAGE_SIZE = 100  # cursor pagination of list endpoints (``page[size]``)

# HTTP client behaviour.
CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 120
MAX_ATTEMPTS = 6  # per request, counting the first
BACKOFF_SECONDS = 1.0  # doubled on every retry
MAX_BACKOFF_SECONDS = 60.0

# What the ticket_events table keeps besides comments (without their bodies): Create and Change
# events of these fields only (subject, description, tags and custom fields may hold free text).
FIELD_EVENT_TYPES = frozenset({"Create", "Change"})
EVENT_FIELDS = frozenset({
    "status", "priority", "type", "assignee_id", "group_id", "requester_id", "submitter_id",
    "organization_id", "brand_id",
})

# Which endpoint feeds each raw table (for lineage); the ``tenant`` table comes from tenant config.
RESOURCE_ENDPOINTS = {
    "tickets": TICKETS_EXPORT,
    "ticket_events": TICKET_EVENTS_EXPORT,
    "users": USERS_EXPORT,
    "groups": GROUPS,
    "satisfaction_ratings": SATISFACTION_RATINGS,
    "schedules": SCHEDULES,
    "schedule_intervals": SCHEDULES,
    "schedule_holidays": SCHEDULE_HOLIDAYS,
}
