"""The Zendesk source's constants: endpoint paths, page sizes, retry policy, allow-lists.

The source and its client read these, so an endpoint is spelled in one place. (The fake API keeps
its own statement of Zendesk's paths and limits, so a wrong path here fails in tests.)
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
TICKET_METRIC_EVENTS_EXPORT = "/api/v2/incremental/ticket_metric_events.json"
BRANDS = "/api/v2/brands.json"
TICKET_FIELDS = "/api/v2/ticket_fields.json"
SLA_POLICIES = "/api/v2/slas/policies.json"
CURRENT_USER = "/api/v2/users/me.json"  # who the API login is: `deskpulse check` asks it once
INCREMENTAL_PREFIX = "/api/v2/incremental/"  # these paths share the incremental-export rate limit


def rate_limit_bucket(path: str) -> str:
    """Which rate limit a path counts against: incremental exports have their own, tighter one."""
    return "incremental" if path.startswith(INCREMENTAL_PREFIX) else "account"

# Page sizes: the maxima Zendesk allows per endpoint family.
EXPORT_PAGE_SIZE = 1000  # cursor-based incremental exports (``per_page``)
LIST_PAGE_SIZE = 100  # cursor pagination of list endpoints (``page[size]``)

# HTTP client behaviour.
CONNECT_TIMEOUT_SECONDS = 10
READ_TIMEOUT_SECONDS = 120
# A tenant's time budget for failures in a row (5xx, timeouts, resets, cut pages, 429 waits): once
# its requests have failed this long without one success, the tenant's load stops (the tenant file
# can set its own, ``retry_budget_minutes``). A host that cannot be reached at all (connection
# refused, no DNS name, TLS failure) fails at once.
RETRY_BUDGET_SECONDS = 300.0
BACKOFF_SECONDS = 1.0  # doubled on every retry
MAX_BACKOFF_SECONDS = 60.0

# What the ticket_events table keeps besides comments (without their bodies): Create and Change
# events of these fields only (subject and description are free text; tags are loaded from the
# tickets themselves), and of the custom fields a tenant allow-lists (named by their field id).
FIELD_EVENT_TYPES = frozenset({"Create", "Change"})
EVENT_FIELDS = frozenset({
    "status", "priority", "type", "assignee_id", "group_id", "requester_id", "submitter_id",
    "organization_id", "brand_id",
})

# The raw tables read incrementally (from a position kept in state); the others are read whole on
# every load, so a record of theirs that was quarantined is read again by the next load anyway.
INCREMENTAL_TABLES = frozenset({
    "tickets", "ticket_tags", "ticket_field_values", "ticket_metrics", "ticket_events",
    "ticket_metric_events", "users", "satisfaction_ratings",
})

# Which endpoint feeds each raw table (for lineage); the ``tenant`` table comes from tenant config.
RESOURCE_ENDPOINTS = {
    "tickets": TICKETS_EXPORT,
    "ticket_tags": TICKETS_EXPORT,
    "ticket_field_values": TICKETS_EXPORT,
    "ticket_metrics": TICKETS_EXPORT,
    "ticket_events": TICKET_EVENTS_EXPORT,
    "ticket_metric_events": TICKET_METRIC_EVENTS_EXPORT,
    "ticket_fields": TICKET_FIELDS,
    "brands": BRANDS,
    "sla_policies": SLA_POLICIES,
    "sla_policy_metrics": SLA_POLICIES,
    "users": USERS_EXPORT,
    "groups": GROUPS,
    "satisfaction_ratings": SATISFACTION_RATINGS,
    "schedules": SCHEDULES,
    "schedule_intervals": SCHEDULES,
    "schedule_holidays": SCHEDULE_HOLIDAYS,
}
