"""What is sensitive where: the PII class and API origin of every raw column, and where people sit.

Classes: ``none`` (no person behind it), ``pseudonymous`` (a platform id or keyed token: a person,
but only with the tenant's help or secret), ``personal`` (names a person: name, e-mail, phone,
free text). The classes reach dlt as the ``x-pii`` column hint, and dbt carries the same in
``meta.pii`` (a test holds them equal). Lineage reads the API origins; erasure and suppression
read where person ids sit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dlt.extract.resource import DltResource

NONE, PSEUDONYMOUS, PERSONAL = "none", "pseudonymous", "personal"
PII_CLASSES = (NONE, PSEUDONYMOUS, PERSONAL)
PII_HINT = "x-pii"  # dlt keeps custom column hints prefixed x- in its schema
PASSED_THROUGH, PSEUDONYMISED = "passed through", "pseudonymised"


@dataclass(frozen=True)
class RawField:
    """A raw column's class, the API field (or config entry) it is made from, and how."""

    pii: str
    origin: str
    extraction: str = PASSED_THROUGH
    origin_pii: str | None = None  # the origin's own class, when extraction changed it

    @property
    def source_pii(self) -> str:
        return self.origin_pii or self.pii


def api(origin: str, pii: str = NONE) -> RawField:
    return RawField(pii, origin)


def token(origin: str, of: str = PERSONAL, pii: str = PSEUDONYMOUS) -> RawField:
    """A column holding ``HMAC(tenant secret, kind || origin)`` instead of the origin."""
    return RawField(pii, origin, PSEUDONYMISED, of)


def config(entry: str) -> RawField:
    return RawField(NONE, f"tenant config: {entry}")


TENANT_ID = config("id")
CLEARED = RawField(NONE, "set by the source: a row that clears what its merge key matches (not stored)")
# dlt's own bookkeeping columns, when it adds them (not to arrow tables by default): class none by rule,
# not hinted (a hint would declare a column the data may not have).
DLT_COLUMNS = {"_dlt_load_id": RawField(NONE, "dlt: load id"), "_dlt_id": RawField(NONE, "dlt: row id")}

RAW_FIELDS: dict[str, dict[str, dict[str, RawField]]] = {
    "zendesk": {
        "tickets": {
            "tenant_id": TENANT_ID,
            "id": api("tickets[].id"),
            "created_at": api("tickets[].created_at"),
            "updated_at": api("tickets[].updated_at"),
            "generated_timestamp": api("tickets[].generated_timestamp"),
            "status": api("tickets[].status"),
            "priority": api("tickets[].priority"),
            "type": api("tickets[].type"),
            "via_channel": api("tickets[].via.channel"),
            "requester_id": api("tickets[].requester_id", PSEUDONYMOUS),
            "submitter_id": api("tickets[].submitter_id", PSEUDONYMOUS),
            "assignee_id": api("tickets[].assignee_id", PSEUDONYMOUS),
            "group_id": api("tickets[].group_id"),
            "organization_id": api("tickets[].organization_id"),
            "brand_id": api("tickets[].brand_id"),
            "is_public": api("tickets[].is_public"),
            "requester_key": token("tickets[].requester_id", of=PSEUDONYMOUS),
            "submitter_key": token("tickets[].submitter_id", of=PSEUDONYMOUS),
            "assignee_key": token("tickets[].assignee_id", of=PSEUDONYMOUS),
        },
        "ticket_tags": {
            "tenant_id": TENANT_ID,
            "ticket_id": api("tickets[].id"),
            "tag": api("tickets[].tags[]"),
            "cleared": CLEARED,
        },
        "ticket_field_values": {  # only the custom fields the tenant allow-lists; free text can name anyone
            "tenant_id": TENANT_ID,
            "ticket_id": api("tickets[].id"),
            "field_id": api("tickets[].custom_fields[].id"),
            "value": api("tickets[].custom_fields[].value", PERSONAL),
        },
        "ticket_metrics": {
            "tenant_id": TENANT_ID,
            **{name: api(f"metric_sets[].{name}") for name in (
                "id", "ticket_id", "created_at", "updated_at", "group_stations", "assignee_stations",
                "reopens", "replies", "assignee_updated_at", "requester_updated_at", "status_updated_at",
                "initially_assigned_at", "assigned_at", "solved_at", "latest_comment_added_at")},
            **{f"{name}_in_minutes_{clock}": api(f"metric_sets[].{name}_in_minutes.{clock}")
               for name in ("reply_time", "first_resolution_time", "full_resolution_time", "agent_wait_time",
                            "requester_wait_time", "on_hold_time") for clock in ("calendar", "business")},
        },
        "ticket_metric_events": {
            "tenant_id": TENANT_ID,
            **{name: api(f"ticket_metric_events[].{name}")
               for name in ("id", "ticket_id", "metric", "instance_id", "type", "time")},
            "sla_policy_id": api("ticket_metric_events[].sla.policy.id"),
            "sla_target_minutes": api("ticket_metric_events[].sla.target"),
            "sla_business_hours": api("ticket_metric_events[].sla.business_hours"),
            "status_calendar_minutes": api("ticket_metric_events[].status.calendar"),
            "status_business_minutes": api("ticket_metric_events[].status.business"),
            "is_deleted": api("ticket_metric_events[].deleted"),
        },
        "ticket_events": {
            "tenant_id": TENANT_ID,
            "id": api("ticket_events[].child_events[].id"),
            "audit_id": api("ticket_events[].id"),
            "ticket_id": api("ticket_events[].ticket_id"),
            "created_at": api("ticket_events[].created_at"),
            "updater_id": api("ticket_events[].updater_id", PSEUDONYMOUS),
            "via_channel": api("ticket_events[].via.channel"),
            "event_type": api("ticket_events[].child_events[].event_type"),
            "field_name": api("ticket_events[].child_events[].field_name"),
            "value": api("ticket_events[].child_events[].value", PSEUDONYMOUS),
            "previous_value": api("ticket_events[].child_events[].previous_value", PSEUDONYMOUS),
            "author_id": api("ticket_events[].child_events[].author_id", PSEUDONYMOUS),
            "is_public": api("ticket_events[].child_events[].public"),
            "value_key": token("ticket_events[].child_events[].value (person fields)", of=PSEUDONYMOUS),
            "previous_value_key": token("ticket_events[].child_events[].previous_value (person fields)",
                                        of=PSEUDONYMOUS),
        },
        "users": {
            "tenant_id": TENANT_ID,
            "id": api("users[].id", PSEUDONYMOUS),
            "user_key": token("users[].id", of=PSEUDONYMOUS),
            "created_at": api("users[].created_at"),
            "updated_at": api("users[].updated_at"),
            "role": api("users[].role"),
            "active": api("users[].active"),
            "default_group_id": api("users[].default_group_id"),
            "organization_id": api("users[].organization_id"),
            "time_zone": api("users[].time_zone", PSEUDONYMOUS),
            "name_token": token("users[].name"),
            "email_token": token("users[].email"),
            "phone_token": token("users[].phone"),
        },
        "groups": {
            "tenant_id": TENANT_ID,
            "id": api("groups[].id"),
            "group_key": token("groups[].id", of=NONE, pii=NONE),
            "name": api("groups[].name"),
            "is_deleted": api("groups[].deleted"),
            "created_at": api("groups[].created_at"),
            "updated_at": api("groups[].updated_at"),
        },
        "brands": {
            "tenant_id": TENANT_ID,
            "cleared": CLEARED,
            **{name: api(f"brands[].{name}")
               for name in ("id", "name", "subdomain", "created_at", "updated_at")},
            "is_active": api("brands[].active"),
            "is_default": api("brands[].default"),
        },
        "ticket_fields": {
            "tenant_id": TENANT_ID,
            "cleared": CLEARED,
            **{name: api(f"ticket_fields[].{name}")
               for name in ("id", "type", "title", "position", "created_at", "updated_at")},
            "is_active": api("ticket_fields[].active"),
            "is_custom": api("ticket_fields[].removable"),
            "values_loaded": config("custom_fields"),
        },
        "sla_policies": {
            "tenant_id": TENANT_ID,
            "cleared": CLEARED,
            **{name: api(f"sla_policies[].{name}")
               for name in ("id", "title", "position", "created_at", "updated_at")},
        },
        "sla_policy_metrics": {
            "tenant_id": TENANT_ID,
            "cleared": CLEARED,
            "policy_id": api("sla_policies[].id"),
            "priority": api("sla_policies[].policy_metrics[].priority"),
            "metric": api("sla_policies[].policy_metrics[].metric"),
            "target_minutes": api("sla_policies[].policy_metrics[].target"),
            "business_hours": api("sla_policies[].policy_metrics[].business_hours"),
        },
        "quarantine": {  # records a source could not type: never copied, only fingerprinted
            "tenant_id": TENANT_ID,
            "table_name": RawField(NONE, "the raw table the record was meant for"),
            "record_key": token("the whole record, as JSON", of=PERSONAL),
            "record_id": RawField(PSEUDONYMOUS, "the record's own id (a user id for users)"),
            "ticket_id": RawField(NONE, "the ticket the record is or belongs to"),
            "reason": RawField(NONE, "which column failed and why (no values)"),
            "record_time": RawField(NONE, "where the export served the record (its cursor time)"),
            "quarantined_at": RawField(NONE, "set by the source: the start of the run that quarantined it"),
            "cleared": CLEARED,
        },
        "satisfaction_ratings": {
            "tenant_id": TENANT_ID,
            "id": api("satisfaction_ratings[].id"),
            "ticket_id": api("satisfaction_ratings[].ticket_id"),
            "assignee_id": api("satisfaction_ratings[].assignee_id", PSEUDONYMOUS),
            "group_id": api("satisfaction_ratings[].group_id"),
            "requester_id": api("satisfaction_ratings[].requester_id", PSEUDONYMOUS),
            "score": api("satisfaction_ratings[].score"),
            "created_at": api("satisfaction_ratings[].created_at"),
            "updated_at": api("satisfaction_ratings[].updated_at"),
            "assignee_key": token("satisfaction_ratings[].assignee_id", of=PSEUDONYMOUS),
            "requester_key": token("satisfaction_ratings[].requester_id", of=PSEUDONYMOUS),
        },
        "schedules": {
            "tenant_id": TENANT_ID,
            "cleared": CLEARED,
            "id": api("schedules[].id"),
            "name": api("schedules[].name"),
            "time_zone": api("schedules[].time_zone"),
            "created_at": api("schedules[].created_at"),
            "updated_at": api("schedules[].updated_at"),
        },
        "schedule_intervals": {
            "tenant_id": TENANT_ID,
            "cleared": CLEARED,
            "schedule_id": api("schedules[].id"),
            "start_time": api("schedules[].intervals[].start_time"),
            "end_time": api("schedules[].intervals[].end_time"),
        },
        "schedule_holidays": {
            "tenant_id": TENANT_ID,
            "cleared": CLEARED,
            "id": api("holidays[].id"),
            "schedule_id": api("schedules[].id"),
            "name": api("holidays[].name"),
            "start_date": api("holidays[].start_date"),
            "end_date": api("holidays[].end_date"),
        },
        "tenant": {
            "tenant_id": TENANT_ID,
            "platform": config("platform"),
            "timezone": config("timezone"),
            "retention_days": config("retention_days"),
            "start_date": config("start_date"),
        },
    },
}


def raw_field(platform: str, table: str, column: str) -> RawField | None:
    """The register entry of a raw column (dlt's own columns included), or None if unclassified."""
    return RAW_FIELDS.get(platform, {}).get(table, {}).get(column) or DLT_COLUMNS.get(column)


def with_pii_hints(platform: str, resources: Sequence[DltResource]) -> Sequence[DltResource]:
    """Put each declared column's class on its table as the ``x-pii`` hint, for the resource's own
    table and every table variant it writes (quarantine); an unregistered column gets none, which
    the classification tests report. Resources that load nothing (not selected) are left alone."""
    for resource in resources:
        if not resource.selected:
            continue
        resource.apply_hints(columns=_pii_hints(platform, resource.name, resource.columns or {}))
        for table, variant in getattr(resource, "_hints_variants", {}).items():  # dlt keeps variants here
            resource.apply_hints(table_name=table, create_table_variant=True,
                                 columns=_pii_hints(platform, table, variant.get("columns") or {}))
    return resources


def _pii_hints(platform: str, table: str, declared: dict) -> dict[str, dict[str, str]]:
    return {name: {PII_HINT: field.pii} for name in declared if (field := raw_field(platform, table, name))}


# -- where people sit: what erasure deletes and the suppression hook drops -------------------------
@dataclass(frozen=True)
class PersonColumns:
    """Where one raw table names a person: its ticket column, its user-id columns, text columns
    that hold a user id when the row's ``field_name`` is a person field (ticket field changes), and
    the column beside each of those where the loader writes that person's user key."""

    ticket: str | None
    people: tuple[str, ...]
    field_values: tuple[str, ...] = ()
    keys: Mapping[str, str] = field(default_factory=dict)


PERSON_FIELDS = ("assignee_id", "requester_id", "submitter_id")
PEOPLE: dict[str, dict[str, PersonColumns]] = {
    "zendesk": {
        "users": PersonColumns(None, ("id",)),
        "tickets": PersonColumns("id", ("requester_id", "submitter_id", "assignee_id"), keys={
            "requester_id": "requester_key", "submitter_id": "submitter_key", "assignee_id": "assignee_key"}),
        "ticket_events": PersonColumns("ticket_id", ("author_id", "updater_id"), ("value", "previous_value"),
                                       keys={"value": "value_key", "previous_value": "previous_value_key"}),
        "satisfaction_ratings": PersonColumns("ticket_id", ("requester_id", "assignee_id"), keys={
            "requester_id": "requester_key", "assignee_id": "assignee_key"}),
        **{table: PersonColumns("ticket_id", ()) for table in (
            "ticket_tags", "ticket_field_values", "ticket_metrics", "ticket_metric_events")},
    },
}
# Quarantined records name their own id: which raw tables' records are a person or a ticket.
QUARANTINE = "quarantine"
QUARANTINED_IDS: dict[str, dict[str, str]] = {
    "zendesk": {"users": "person", "tickets": "ticket", "ticket_tags": "ticket",
                "ticket_field_values": "ticket"},
}


@dataclass(frozen=True)
class Authored:
    """Values a person writes in a row of this table, and the columns naming the writer: a change
    of a custom field (its field name is the field's numeric id) may hold free text."""

    by: tuple[str, ...]
    values: tuple[str, ...]
    field: str

    def applies(self, row: dict) -> bool:
        value = row.get(self.field)
        return isinstance(value, str) and value.isdigit()

    def sql(self) -> str:
        """The same test as a SQL condition."""
        return f"regexp_full_match(\"{self.field}\", '[0-9]+')"


AUTHORED: dict[str, dict[str, Authored]] = {
    "zendesk": {
        "ticket_events": Authored(("author_id", "updater_id"), ("value", "previous_value"), "field_name"),
    },
}
# Tables of current values keyed by (ticket, field): (ticket column, field column, value column).
AUTHORED_VALUES: dict[str, dict[str, tuple[str, str, str]]] = {
    "zendesk": {"ticket_field_values": ("ticket_id", "field_id", "value")},
}
# Integer columns of derived tables that hold a platform user id, by name.
PERSON_ID_COLUMNS = frozenset({
    "user_id", "agent_id", "record_id", *PERSON_FIELDS,
    *(name for tables in PEOPLE.values() for person in tables.values() for name in person.people
      if name != "id"),
})
