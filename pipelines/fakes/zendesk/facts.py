"""What Zendesk's API is, as far as the fake serves it: paths, page sizes, rate limits, export delay.

These are Zendesk's documented facts, written here on their own rather than read from the source's
settings, so a source that asks for a wrong path or page size meets a 404 or a short page in tests.
"""

from __future__ import annotations

TICKETS_EXPORT = "/api/v2/incremental/tickets/cursor.json"
USERS_EXPORT = "/api/v2/incremental/users/cursor.json"
TICKETS_TIME_EXPORT = "/api/v2/incremental/tickets.json"
USERS_TIME_EXPORT = "/api/v2/incremental/users.json"
TICKET_EVENTS_EXPORT = "/api/v2/incremental/ticket_events.json"
TICKET_METRIC_EVENTS_EXPORT = "/api/v2/incremental/ticket_metric_events.json"
GROUPS = "/api/v2/groups.json"
BRANDS = "/api/v2/brands.json"
TICKET_FIELDS = "/api/v2/ticket_fields.json"
SLA_POLICIES = "/api/v2/slas/policies.json"
SATISFACTION_RATINGS = "/api/v2/satisfaction_ratings.json"
SCHEDULES = "/api/v2/business_hours/schedules.json"
SCHEDULE_HOLIDAYS = "/api/v2/business_hours/schedules/{schedule_id}/holidays.json"
CURRENT_USER = "/api/v2/users/me.json"

# The endpoints a plan may lack (answering 403): every data endpoint but the time-based twins of
# the cursor exports, which come with the same plan as their twins.
PLAN_ENDPOINTS = (
    TICKETS_EXPORT, USERS_EXPORT, TICKET_EVENTS_EXPORT, TICKET_METRIC_EVENTS_EXPORT, GROUPS, BRANDS,
    TICKET_FIELDS, SLA_POLICIES, SATISFACTION_RATINGS, SCHEDULES, SCHEDULE_HOLIDAYS,
)

EXPORT_PAGE_SIZE = 1000  # cursor-based incremental exports: the largest ``per_page``
TIME_EXPORT_PAGE_SIZE = 1000  # time-based exports: fixed; a shorter page ends the stream
LIST_PAGE_SIZE = 100  # list endpoints: the largest ``page[size]`` or ``per_page``
EXPORT_DELAY_SECONDS = 60  # incremental exports leave out what changed in the last minute

# Requests per window: incremental exports have their own, tighter limit than the rest of the
# account (Enterprise plan).
INCREMENTAL_RATE_LIMIT = 10
ACCOUNT_RATE_LIMIT = 700
RATE_LIMIT_WINDOW_SECONDS = 60.0
INCREMENTAL_PREFIX = "/api/v2/incremental/"


def rate_limit_bucket(path: str) -> str:
    """Which rate limit a path counts against: incremental exports have their own, tighter one."""
    return "incremental" if path.startswith(INCREMENTAL_PREFIX) else "account"
