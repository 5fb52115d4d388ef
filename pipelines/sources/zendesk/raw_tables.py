"""The raw tables of the Zendesk source, each declared once: keys, and per column its name, type,
PII class, API origin, meaning and the person or ticket it names.

Resources take their keys and column hints from here (``RawTable.resource``); the privacy
classification, lineage and ``deskpulse generate`` (the dbt sources yml, docs/raw_contract.md) read
the same declarations through ``PLATFORM.tables``. An origin ``a[].b`` is field ``b`` of each
object of the API's list ``a``.

Lists read whole every run have merge key ``tenant_id``: a load replaces what was loaded before,
merged rather than truncated and inserted, so a load job that runs twice after a crash cannot
double their rows.
"""

from __future__ import annotations

from pipelines.ingest.columns import (
    BIGINT,
    BOOL,
    CLEARED,
    COUNT,
    DATE,
    ID,
    MINUTES,
    NONE,
    PERSON,
    PERSON_IF_FIELD,
    PERSONAL,
    PSEUDONYMOUS,
    TENANT_ID,
    TEXT,
    TICKET,
    TIMESTAMP,
    Column,
    RawTable,
    token,
)

METRIC_MINUTES = ("reply_time", "first_resolution_time", "full_resolution_time", "agent_wait_time",
                  "requester_wait_time", "on_hold_time")
CLOCKS = {"calendar": "calendar", "business": "business-hour"}

TICKETS = RawTable(
    "tickets",
    "One row per ticket, latest state (dlt merges on id).",
    (
        TENANT_ID,
        Column("id", ID, NONE, "tickets[].id", "Zendesk ticket id, unique within the tenant.", names=TICKET),
        Column("created_at", TIMESTAMP, NONE, "tickets[].created_at", "When the ticket was created (UTC)."),
        Column("updated_at", TIMESTAMP, NONE, "tickets[].updated_at",
               "When the ticket was last changed (UTC)."),
        Column("generated_timestamp", BIGINT, NONE, "tickets[].generated_timestamp",
               "Zendesk's incremental-export cursor for the ticket, unix seconds."),
        Column("status", TEXT, NONE, "tickets[].status",
               "Current status: new, open, pending, hold, solved, closed or deleted."),
        Column("priority", TEXT, NONE, "tickets[].priority",
               "Current priority (low, normal, high, urgent) or null."),
        Column("type", TEXT, NONE, "tickets[].type",
               "Current ticket type (question, incident, problem, task) or null."),
        Column("via_channel", TEXT, NONE, "tickets[].via.channel",
               "Channel the ticket came in through (web, email, chat, api, ...)."),
        Column("requester_id", ID, PSEUDONYMOUS, "tickets[].requester_id",
               "Zendesk user id of the requester.", names=PERSON, user_key="requester_key"),
        Column("submitter_id", ID, PSEUDONYMOUS, "tickets[].submitter_id",
               "Zendesk user id of the submitter.", names=PERSON, user_key="submitter_key"),
        Column("assignee_id", ID, PSEUDONYMOUS, "tickets[].assignee_id",
               "Zendesk user id of the current assignee.", names=PERSON, user_key="assignee_key"),
        Column("group_id", ID, NONE, "tickets[].group_id", "Zendesk id of the current group."),
        Column("organization_id", ID, NONE, "tickets[].organization_id",
               "Zendesk id of the requester's organization."),
        Column("brand_id", ID, NONE, "tickets[].brand_id", "Zendesk brand id."),
        Column("is_public", BOOL, NONE, "tickets[].is_public", "Whether the ticket has any public comment."),
        token("requester_key", "tickets[].requester_id",
              "User key of the requester, HMAC(tenant secret, 'user' || requester_id), set by the loader.",
              of=PSEUDONYMOUS),
        token("submitter_key", "tickets[].submitter_id",
              "User key of the submitter, as requester_key.", of=PSEUDONYMOUS),
        token("assignee_key", "tickets[].assignee_id",
              "User key of the current assignee, as requester_key.", of=PSEUDONYMOUS),
    ),
    ("id",),
)

TICKET_TAGS = RawTable(
    "ticket_tags",
    "One row per tag of a ticket (dlt merges on ticket and tag; each export of a ticket replaces its tags).",
    (
        TENANT_ID,
        Column("ticket_id", ID, NONE, "tickets[].id", "The tagged ticket.", names=TICKET),
        Column("tag", TEXT, NONE, "tickets[].tags[]",
               "The tag, as Zendesk keeps it (lower case, no spaces)."),
        CLEARED,
    ),
    ("ticket_id", "tag"), merge_key="ticket_id",
)

TICKET_FIELD_VALUES = RawTable(
    "ticket_field_values",
    "One row per allow-listed custom field of a ticket (only fields the tenant's custom_fields names are "
    "loaded).",
    (
        TENANT_ID,
        Column("ticket_id", ID, NONE, "tickets[].id", "The ticket the value belongs to.", names=TICKET),
        Column("field_id", ID, NONE, "tickets[].custom_fields[].id",
               "Zendesk id of the custom ticket field."),
        Column("value", TEXT, PERSONAL, "tickets[].custom_fields[].value",
               "The field's value as text (multi-select values space-separated); free text may name people."),
    ),
    ("ticket_id", "field_id"),
)

TICKET_METRICS = RawTable(
    "ticket_metrics",
    "One row per ticket: Zendesk's own metric set (dlt merges on its id), kept to cross-check deskpulse's "
    "figures. Business-hour minutes are Zendesk's.",
    (
        TENANT_ID,
        Column("id", ID, NONE, "metric_sets[].id", "Zendesk id of the metric set."),
        Column("ticket_id", ID, NONE, "metric_sets[].ticket_id", "The ticket measured.", names=TICKET),
        Column("created_at", TIMESTAMP, NONE, "metric_sets[].created_at",
               "When the ticket was created (UTC)."),
        Column("updated_at", TIMESTAMP, NONE, "metric_sets[].updated_at",
               "When the metric set last changed (UTC)."),
        Column("group_stations", COUNT, NONE, "metric_sets[].group_stations",
               "How many groups the ticket went through."),
        Column("assignee_stations", COUNT, NONE, "metric_sets[].assignee_stations",
               "How many assignees the ticket went through."),
        Column("reopens", COUNT, NONE, "metric_sets[].reopens",
               "How often the ticket was reopened after a solve."),
        Column("replies", COUNT, NONE, "metric_sets[].replies", "Public agent replies."),
        Column("assignee_updated_at", TIMESTAMP, NONE, "metric_sets[].assignee_updated_at",
               "When the assignee last changed (UTC)."),
        Column("requester_updated_at", TIMESTAMP, NONE, "metric_sets[].requester_updated_at",
               "When the requester last updated the ticket (UTC)."),
        Column("status_updated_at", TIMESTAMP, NONE, "metric_sets[].status_updated_at",
               "When the status last changed (UTC)."),
        Column("initially_assigned_at", TIMESTAMP, NONE, "metric_sets[].initially_assigned_at",
               "When the ticket was first assigned (UTC)."),
        Column("assigned_at", TIMESTAMP, NONE, "metric_sets[].assigned_at",
               "When the ticket was last assigned (UTC)."),
        Column("solved_at", TIMESTAMP, NONE, "metric_sets[].solved_at",
               "When the ticket was last solved (UTC)."),
        Column("latest_comment_added_at", TIMESTAMP, NONE, "metric_sets[].latest_comment_added_at",
               "When the last comment was added (UTC)."),
        *(Column(f"{name}_in_minutes_{clock}", MINUTES, NONE, f"metric_sets[].{name}_in_minutes.{clock}",
                 f"Zendesk's {name.replace('_', ' ')} in {CLOCKS[clock]} minutes.")
          for name in METRIC_MINUTES for clock in CLOCKS),
    ),
    ("id",),
)

TICKET_EVENTS = RawTable(
    "ticket_events",
    "One row per child event of a ticket audit (dlt merges on the event id): Create (initial field values), "
    "Change (field updates) and Comment (body not loaded).",
    (
        TENANT_ID,
        Column("id", ID, NONE, "ticket_events[].child_events[].id", "Zendesk id of the child event."),
        Column("audit_id", ID, NONE, "ticket_events[].id", "Zendesk id of the audit the event belongs to."),
        Column("ticket_id", ID, NONE, "ticket_events[].ticket_id",
               "The ticket the audit belongs to.", names=TICKET),
        Column("created_at", TIMESTAMP, NONE, "ticket_events[].created_at",
               "Time of the audit (UTC); every event of an audit shares it."),
        # updater_id and author_id are plain bigint: -1 is Zendesk's system user (triggers, automations)
        Column("updater_id", BIGINT, PSEUDONYMOUS, "ticket_events[].updater_id",
               "Zendesk user id of the audit's author (-1 for triggers and automations).", names=PERSON),
        Column("via_channel", TEXT, NONE, "ticket_events[].via.channel",
               "Channel of the audit (web, email, rule, api, ...)."),
        Column("event_type", TEXT, NONE, "ticket_events[].child_events[].event_type",
               "Create, Change or Comment."),
        Column("field_name", TEXT, NONE, "ticket_events[].child_events[].field_name",
               "Ticket field a Create or Change event sets (status, assignee_id, ...)."),
        Column("value", TEXT, PSEUDONYMOUS, "ticket_events[].child_events[].value",
               "New field value as text; may be a user id (assignee_id, requester_id).",
               names=PERSON_IF_FIELD, user_key="value_key"),
        Column("previous_value", TEXT, PSEUDONYMOUS, "ticket_events[].child_events[].previous_value",
               "Field value before a Change, as text; may be a user id.",
               names=PERSON_IF_FIELD, user_key="previous_value_key"),
        Column("author_id", BIGINT, PSEUDONYMOUS, "ticket_events[].child_events[].author_id",
               "Zendesk user id of a comment's author (Comment events only).", names=PERSON),
        Column("is_public", BOOL, NONE, "ticket_events[].child_events[].public",
               "Whether a comment is public (Comment events only)."),
        token("value_key", "ticket_events[].child_events[].value (person fields)",
              "User key of `value` when the field names a person (assignee_id, requester_id, submitter_id).",
              of=PSEUDONYMOUS),
        token("previous_value_key", "ticket_events[].child_events[].previous_value (person fields)",
              "User key of `previous_value` when the field names a person.", of=PSEUDONYMOUS),
    ),
    ("id",),
    deduplicated=True,  # the export's repeats are left out as it is read (exports.py)
)

TICKET_METRIC_EVENTS = RawTable(
    "ticket_metric_events",
    "One row per ticket metric event (dlt merges on its id): metric clocks activated, paused and fulfilled, "
    "SLA targets applied and breached.",
    (
        TENANT_ID,
        Column("id", ID, NONE, "ticket_metric_events[].id", "Zendesk id of the metric event."),
        Column("ticket_id", ID, NONE, "ticket_metric_events[].ticket_id",
               "The ticket measured.", names=TICKET),
        Column("metric", TEXT, NONE, "ticket_metric_events[].metric",
               "reply_time, requester_wait_time, agent_work_time, ..."),
        Column("instance_id", ID, NONE, "ticket_metric_events[].instance_id",
               "Which instance of the metric (1 for the first reply, ...)."),
        Column("type", TEXT, NONE, "ticket_metric_events[].type",
               "activate, pause, fulfill, apply_sla, breach or update_status."),
        Column("time", TIMESTAMP, NONE, "ticket_metric_events[].time", "When the event happened (UTC)."),
        Column("sla_policy_id", ID, NONE, "ticket_metric_events[].sla.policy.id",
               "The SLA policy applied (apply_sla events)."),
        Column("sla_target_minutes", MINUTES, NONE, "ticket_metric_events[].sla.target",
               "The SLA target in minutes (apply_sla events)."),
        Column("sla_business_hours", BOOL, NONE, "ticket_metric_events[].sla.business_hours",
               "Whether the SLA target counts business hours (apply_sla events)."),
        Column("status_calendar_minutes", MINUTES, NONE, "ticket_metric_events[].status.calendar",
               "The metric so far in calendar minutes (update_status events)."),
        Column("status_business_minutes", MINUTES, NONE, "ticket_metric_events[].status.business",
               "The metric so far in business-hour minutes (update_status events)."),
        Column("is_deleted", BOOL, NONE, "ticket_metric_events[].deleted",
               "Whether a breach was later withdrawn (breach events)."),
    ),
    ("id",),
    deduplicated=True,  # the export's repeats are left out as it is read (exports.py)
)

USERS = RawTable(
    "users",
    "One row per version of a user (dlt merges on id and updated_at), so role history is kept. Names, "
    "e-mails and phone numbers arrive only as HMAC tokens.",
    (
        TENANT_ID,
        Column("id", ID, PSEUDONYMOUS, "users[].id", "Zendesk user id.", names=PERSON),
        token("user_key", "users[].id",
              "HMAC(tenant secret, 'user' || id); the key marts use for people.", of=PSEUDONYMOUS),
        Column("created_at", TIMESTAMP, NONE, "users[].created_at", "When the user was created (UTC)."),
        Column("updated_at", TIMESTAMP, NONE, "users[].updated_at",
               "When this version of the user was recorded (UTC)."),
        Column("role", TEXT, NONE, "users[].role", "end-user, agent or admin, in this version."),
        Column("active", BOOL, NONE, "users[].active", "Whether the user was active in this version."),
        Column("default_group_id", ID, NONE, "users[].default_group_id",
               "Zendesk id of the user's default group."),
        Column("organization_id", ID, NONE, "users[].organization_id",
               "Zendesk id of the user's organization."),
        Column("time_zone", TEXT, PSEUDONYMOUS, "users[].time_zone", "The user's time zone as a Rails name."),
        token("name_token", "users[].name", "HMAC token of the user's name."),
        token("email_token", "users[].email", "HMAC token of the user's normalised e-mail address."),
        token("phone_token", "users[].phone", "HMAC token of the user's normalised phone number."),
    ),
    ("id", "updated_at"),
)

GROUPS = RawTable(
    "groups",
    "One row per agent group (dlt merges on id).",
    (
        TENANT_ID,
        Column("id", ID, NONE, "groups[].id", "Zendesk group id."),
        token("group_key", "groups[].id",
              "HMAC(tenant secret, 'group' || id); the key marts use for groups.", of=NONE, pii=NONE),
        Column("name", TEXT, NONE, "groups[].name", "Group name as the tenant set it up."),
        Column("is_deleted", BOOL, NONE, "groups[].deleted", "Whether the group was deleted."),
        Column("created_at", TIMESTAMP, NONE, "groups[].created_at", "When the group was created (UTC)."),
        Column("updated_at", TIMESTAMP, NONE, "groups[].updated_at",
               "When the group was last changed (UTC)."),
    ),
    ("id",),
)

BRANDS = RawTable(
    "brands",
    "One row per brand of the account (replaced every load).",
    (
        TENANT_ID,
        Column("id", ID, NONE, "brands[].id", "Zendesk brand id."),
        Column("name", TEXT, NONE, "brands[].name", "Brand name as the tenant set it up."),
        Column("subdomain", TEXT, NONE, "brands[].subdomain", "The brand's Zendesk subdomain."),
        Column("is_active", BOOL, NONE, "brands[].active", "Whether the brand is active."),
        Column("is_default", BOOL, NONE, "brands[].default", "Whether this is the account's default brand."),
        Column("created_at", TIMESTAMP, NONE, "brands[].created_at", "When the brand was created (UTC)."),
        Column("updated_at", TIMESTAMP, NONE, "brands[].updated_at",
               "When the brand was last changed (UTC)."),
        CLEARED,
    ),
    ("id",), merge_key="tenant_id",
)

TICKET_FIELDS = RawTable(
    "ticket_fields",
    "One row per ticket field, system or custom (replaced every load): what the field is, not what tickets "
    "hold.",
    (
        TENANT_ID,
        Column("id", ID, NONE, "ticket_fields[].id", "Zendesk ticket field id."),
        Column("type", TEXT, NONE, "ticket_fields[].type",
               "Field type: subject, status, text, tagger, decimal, ..."),
        Column("title", TEXT, NONE, "ticket_fields[].title", "Field title as the tenant set it up."),
        Column("position", COUNT, NONE, "ticket_fields[].position",
               "Position of the field on the ticket form."),
        Column("is_active", BOOL, NONE, "ticket_fields[].active", "Whether the field is active."),
        Column("is_custom", BOOL, NONE, "ticket_fields[].removable",
               "Whether the field is a custom one (Zendesk: removable)."),
        Column("values_loaded", BOOL, NONE, "tenant config: custom_fields",
               "Whether the tenant allow-lists the field, so its values are in ticket_field_values."),
        Column("created_at", TIMESTAMP, NONE, "ticket_fields[].created_at",
               "When the field was created (UTC)."),
        Column("updated_at", TIMESTAMP, NONE, "ticket_fields[].updated_at",
               "When the field was last changed (UTC)."),
        CLEARED,
    ),
    ("id",), merge_key="tenant_id",
)

SLA_POLICIES = RawTable(
    "sla_policies",
    "One row per SLA policy (replaced every load); descriptions and filter conditions are not loaded.",
    (
        TENANT_ID,
        Column("id", ID, NONE, "sla_policies[].id", "Zendesk SLA policy id."),
        Column("title", TEXT, NONE, "sla_policies[].title", "Policy title as the tenant set it up."),
        Column("position", COUNT, NONE, "sla_policies[].position",
               "Order in which policies are tried; the first that matches a ticket applies."),
        Column("created_at", TIMESTAMP, NONE, "sla_policies[].created_at",
               "When the policy was created (UTC)."),
        Column("updated_at", TIMESTAMP, NONE, "sla_policies[].updated_at",
               "When the policy was last changed (UTC)."),
        CLEARED,
    ),
    ("id",), merge_key="tenant_id",
)

SLA_POLICY_METRICS = RawTable(
    "sla_policy_metrics",
    "One row per target of an SLA policy: a metric for a priority (replaced every load).",
    (
        TENANT_ID,
        Column("policy_id", ID, NONE, "sla_policies[].id", "The SLA policy the target belongs to."),
        Column("priority", TEXT, NONE, "sla_policies[].policy_metrics[].priority",
               "Ticket priority the target applies to (low, normal, high, urgent)."),
        Column("metric", TEXT, NONE, "sla_policies[].policy_metrics[].metric",
               "first_reply_time, next_reply_time, requester_wait_time, agent_work_time, ..."),
        Column("target_minutes", MINUTES, NONE, "sla_policies[].policy_metrics[].target",
               "The target in minutes."),
        Column("business_hours", BOOL, NONE, "sla_policies[].policy_metrics[].business_hours",
               "Whether the target counts business hours only."),
        CLEARED,
    ),
    ("policy_id", "priority", "metric"), merge_key="tenant_id",
)

SATISFACTION_RATINGS = RawTable(
    "satisfaction_ratings",
    "One row per satisfaction-rating record (dlt merges on id); a ticket can have several (offered, then "
    "rated, sometimes re-rated).",
    (
        TENANT_ID,
        Column("id", ID, NONE, "satisfaction_ratings[].id", "Zendesk satisfaction rating id."),
        Column("ticket_id", ID, NONE, "satisfaction_ratings[].ticket_id", "The rated ticket.", names=TICKET),
        Column("assignee_id", ID, PSEUDONYMOUS, "satisfaction_ratings[].assignee_id",
               "Zendesk user id of the ticket's assignee when the rating was recorded.",
               names=PERSON, user_key="assignee_key"),
        Column("group_id", ID, NONE, "satisfaction_ratings[].group_id",
               "Zendesk id of the ticket's group when the rating was recorded."),
        Column("requester_id", ID, PSEUDONYMOUS, "satisfaction_ratings[].requester_id",
               "Zendesk user id of the customer asked to rate.", names=PERSON, user_key="requester_key"),
        Column("score", TEXT, NONE, "satisfaction_ratings[].score", "offered, unoffered, good or bad."),
        Column("created_at", TIMESTAMP, NONE, "satisfaction_ratings[].created_at",
               "When the rating record was created (UTC)."),
        Column("updated_at", TIMESTAMP, NONE, "satisfaction_ratings[].updated_at",
               "When the rating record was last changed (UTC)."),
        token("assignee_key", "satisfaction_ratings[].assignee_id",
              "User key of the assignee, HMAC(tenant secret, 'user' || assignee_id), set by the loader.",
              of=PSEUDONYMOUS),
        token("requester_key", "satisfaction_ratings[].requester_id",
              "User key of the requester, as assignee_key.", of=PSEUDONYMOUS),
    ),
    ("id",),
)

SCHEDULES = RawTable(
    "schedules",
    "One row per business-hours schedule (replaced on every load). The first schedule the API lists is the "
    "tenant's default schedule.",
    (
        TENANT_ID,
        Column("id", ID, NONE, "schedules[].id", "Zendesk schedule id."),
        Column("name", TEXT, NONE, "schedules[].name", "Schedule name."),
        Column("time_zone", TEXT, NONE, "schedules[].time_zone",
               "The schedule's time zone as a Rails name (e.g. Amsterdam)."),
        Column("created_at", TIMESTAMP, NONE, "schedules[].created_at",
               "When the schedule was created (UTC)."),
        Column("updated_at", TIMESTAMP, NONE, "schedules[].updated_at",
               "When the schedule was last changed (UTC)."),
        CLEARED,
    ),
    ("id",), merge_key="tenant_id",
)

SCHEDULE_INTERVALS = RawTable(
    "schedule_intervals",
    "One row per weekly business-hours interval of a schedule (replaced).",
    (
        TENANT_ID,
        Column("schedule_id", ID, NONE, "schedules[].id", "The schedule the interval belongs to."),
        Column("start_time", MINUTES, NONE, "schedules[].intervals[].start_time",
               "Start, in minutes from Sunday 00:00 in the schedule's time zone."),
        Column("end_time", MINUTES, NONE, "schedules[].intervals[].end_time",
               "End, in minutes from Sunday 00:00 in the schedule's time zone."),
        CLEARED,
    ),
    ("schedule_id", "start_time"), merge_key="tenant_id",
)

SCHEDULE_HOLIDAYS = RawTable(
    "schedule_holidays",
    "One row per holiday of a schedule (replaced).",
    (
        TENANT_ID,
        Column("id", ID, NONE, "holidays[].id", "Zendesk holiday id."),
        Column("schedule_id", ID, NONE, "schedules[].id", "The schedule the holiday belongs to."),
        Column("name", TEXT, NONE, "holidays[].name", "Holiday name."),
        Column("start_date", DATE, NONE, "holidays[].start_date", "First day of the holiday."),
        Column("end_date", DATE, NONE, "holidays[].end_date", "Last day of the holiday (inclusive)."),
        CLEARED,
    ),
    ("id",), merge_key="tenant_id",
)

TENANT = RawTable(
    "tenant",
    "One row describing the tenant itself, from the tenant config (replaced).",
    (
        TENANT_ID,
        Column("platform", TEXT, NONE, "tenant config: platform",
               "Helpdesk platform of the tenant (zendesk)."),
        Column("timezone", TEXT, NONE, "tenant config: timezone",
               "The tenant's configured IANA time zone, or null."),
        Column("retention_days", COUNT, NONE, "tenant config: retention_days",
               "How many days of data the tenant's contract lets deskpulse keep."),
        Column("start_date", TIMESTAMP, NONE, "tenant config: start_date",
               "The tenant config's start_date (UTC): the first load reads tickets and events from this "
               "instant, so the loaded history begins there."),
    ),
    ("tenant_id",), merge_key="tenant_id",
)

QUARANTINE_TABLE = RawTable(
    "quarantine",
    "One row per API record that could not be typed as its raw table declares or held an implausible value, "
    "and has not loaded cleanly since: kept out of that table, fingerprinted, never copied.",
    (
        TENANT_ID,
        Column("table_name", TEXT, NONE, "the raw table the record was meant for",
               "The raw table the record was meant for."),
        token("record_key", "the record: its table and id, or the whole record as JSON",
              "HMAC(tenant secret, 'record' || table || id) for a record with a whole-number id, else of "
              "the whole record as JSON: tells records apart without keeping them."),
        Column("record_id", BIGINT, PSEUDONYMOUS, "the record's own id (a user id for users)",
               "The record's own id, when it had a whole-number one (a user id for users)."),
        Column("ticket_id", BIGINT, NONE, "the ticket the record is or belongs to",
               "The ticket the record is (tickets) or belongs to (tags, field values, metric sets, events, "
               "ratings), when known."),
        Column("reason", TEXT, NONE, "which column failed and why (no values)",
               "Which column failed and what it should hold (never the value)."),
        Column("record_time", TIMESTAMP, NONE, "where the export served the record (its cursor time)",
               "Where the incremental export served the record (its cursor time), from where `deskpulse "
               "quarantine retry` re-reads; null for lists read whole."),
        Column("quarantined_at", TIMESTAMP, NONE,
               "set by the source: the start of the run that quarantined it",
               "Start of the latest run that quarantined the record."),
        CLEARED,
    ),
    ("table_name", "record_key"),
)

# Every raw table the source loads, in the order its resources run (quarantine last).
TABLES = (
    TICKETS, TICKET_TAGS, TICKET_FIELD_VALUES, TICKET_METRICS, TICKET_EVENTS, TICKET_METRIC_EVENTS, USERS,
    GROUPS, BRANDS, TICKET_FIELDS, SLA_POLICIES, SLA_POLICY_METRICS, SATISFACTION_RATINGS, SCHEDULES,
    SCHEDULE_INTERVALS, SCHEDULE_HOLIDAYS, TENANT, QUARANTINE_TABLE,
)
