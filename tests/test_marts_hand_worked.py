"""The dbt marts against a small raw fixture whose every figure was worked out by hand.

Two Zendesk tenants are written straight into a temporary DuckDB warehouse (schemas ``raw_t1`` and
``raw_t2``, shaped as docs/raw_contract.md), ``dbt build`` runs on it in process, and the marts
must hold the values derived below. Tenant t2 lacks some tables and columns, as a tenant early in
its first load would, and must still build.

t1 keeps its days in America/New_York (tenant config, UTC-5 in January); t2 has no tenant row, so
its day comes from its default schedule: the lowest schedule id, Rails ``Amsterdam`` (UTC+1).

t1, agents A (1001), B (1002, admin), C (1003, downgraded to end-user later) and E (1004);
customers X, Y:

- ticket 1: X writes 14:00Z, rule assigns A 14:30, A internal note 15:00, B replies 15:10
  (pending), X writes 16:00, A replies and solves 16:30, closed on the 15th. Ratings: offered,
  good at 2024-01-12 03:00Z (22:00 on the 11th in New York), bad at 06:00Z (the 12th).
- ticket 2: A opens it for Y at 04:30Z (23:30 on the 9th in New York) with a public comment,
  solves it at 05:30Z (00:30 on the 10th), closed later. No end-user comment: no first reply.
- ticket 3: Y writes 13:00Z, assigned to C, C replies and solves 13:20, Y reopens 20:00, rule
  reassigns to B on the 11th 15:00Z, B replies and solves 15:30Z.
- ticket 4: X writes 18:00Z, assigned to A, B replies, solves and takes the ticket in one audit at
  18:40: the solve is B's. Rating offered, never answered.
- ticket 5: Y writes 19:00Z, A replies and solves 19:30, rated good; then deleted.
- ticket 6: X writes 14:00Z, assigned to E, E replies and solves 14:30, X reopens 15:00, E replies
  and solves 15:30, where it stays: reopened after E's first solve that day.

Dimensions of t1: tickets come in by web (normal priority, type question, brand 1) except ticket
1 (email, high, incident, tagged billing and vip), ticket 2 (api, low, task, brand 2) and ticket 3
(chat, no priority or type, brand 3, which the brand list lacks; tagged refund); the deleted ticket
5 is tagged spam. Groups: 50 Support, and 60 Escalations, deleted, with no tickets. A tag row of
ticket 99, which raw tickets lack, reaches no mart.

t2, agent D (1001, same platform id as A, a different key), customer Z:

- ticket 1: Z writes 2024-01-10 22:30Z, D replies and solves 23:10Z (00:10 on the 11th in
  Amsterdam, still the 10th in UTC). t2 has no brands or tags yet, and its tickets no brand or
  priority column.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
SYSTEM = -1

RAW_COLUMNS = {
    "tickets": {
        "tenant_id": "varchar", "id": "bigint", "created_at": "timestamptz",
        "updated_at": "timestamptz", "generated_timestamp": "bigint", "status": "varchar",
        "priority": "varchar", "type": "varchar", "via_channel": "varchar",
        "requester_id": "bigint", "submitter_id": "bigint", "assignee_id": "bigint",
        "group_id": "bigint", "organization_id": "bigint", "brand_id": "bigint",
        "is_public": "boolean", "_dlt_load_id": "varchar", "_dlt_id": "varchar",
    },
    "ticket_events": {
        "tenant_id": "varchar", "id": "bigint", "audit_id": "bigint", "ticket_id": "bigint",
        "created_at": "timestamptz", "updater_id": "bigint", "via_channel": "varchar",
        "event_type": "varchar", "field_name": "varchar", "value": "varchar",
        "previous_value": "varchar", "author_id": "bigint", "is_public": "boolean",
    },
    "users": {
        "tenant_id": "varchar", "id": "bigint", "user_key": "varchar",
        "created_at": "timestamptz", "updated_at": "timestamptz", "role": "varchar",
        "active": "boolean", "default_group_id": "bigint", "organization_id": "bigint",
        "time_zone": "varchar", "name_token": "varchar", "email_token": "varchar",
        "phone_token": "varchar",
    },
    "groups": {
        "tenant_id": "varchar", "id": "bigint", "group_key": "varchar", "name": "varchar",
        "is_deleted": "boolean", "created_at": "timestamptz", "updated_at": "timestamptz",
    },
    "brands": {
        "tenant_id": "varchar", "id": "bigint", "name": "varchar", "subdomain": "varchar",
        "is_active": "boolean", "is_default": "boolean", "created_at": "timestamptz",
        "updated_at": "timestamptz",
    },
    "ticket_tags": {"tenant_id": "varchar", "ticket_id": "bigint", "tag": "varchar"},
    "satisfaction_ratings": {
        "tenant_id": "varchar", "id": "bigint", "ticket_id": "bigint", "assignee_id": "bigint",
        "group_id": "bigint", "requester_id": "bigint", "score": "varchar",
        "created_at": "timestamptz", "updated_at": "timestamptz",
    },
    "schedules": {
        "tenant_id": "varchar", "id": "bigint", "name": "varchar", "time_zone": "varchar",
        "created_at": "timestamptz", "updated_at": "timestamptz",
    },
    "schedule_intervals": {
        "tenant_id": "varchar", "schedule_id": "bigint", "start_time": "bigint",
        "end_time": "bigint",
    },
    "schedule_holidays": {
        "tenant_id": "varchar", "id": "bigint", "schedule_id": "bigint", "name": "varchar",
        "start_date": "date", "end_date": "date",
    },
    "tenant": {
        "tenant_id": "varchar", "platform": "varchar", "timezone": "varchar",
        "retention_days": "bigint",
    },
    "ticket_metric_events": {
        "tenant_id": "varchar", "id": "bigint", "ticket_id": "bigint", "metric": "varchar",
        "instance_id": "bigint", "type": "varchar", "time": "timestamptz",
        "sla_policy_id": "bigint", "sla_target_minutes": "bigint", "sla_business_hours": "boolean",
        "status_calendar_minutes": "bigint", "status_business_minutes": "bigint",
        "is_deleted": "boolean",
    },
    "sla_policies": {
        "tenant_id": "varchar", "id": "bigint", "title": "varchar", "position": "bigint",
        "created_at": "timestamptz", "updated_at": "timestamptz",
    },
}


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A UTC instant in January 2024."""
    return datetime(2024, 1, day, hour, minute, tzinfo=UTC)


def key(tenant: str, kind: str, platform_id: int) -> str:
    """A stand-in for the tenant's HMAC pseudonym: distinct per tenant, kind and id."""
    return hashlib.sha256(f"{tenant}:{kind}{platform_id}".encode()).hexdigest()


class Tenant:
    """Collects one tenant's raw rows the way the dlt source would load them."""

    def __init__(self, tenant_id: str):
        self.id = tenant_id
        self.rows: dict[str, list[dict]] = {table: [] for table in RAW_COLUMNS}

    def add(self, table: str, **values) -> None:
        self.rows[table].append({"tenant_id": self.id, **values})

    def user(self, user_id: int, role: str, *, active: bool = True,
             version: datetime | None = None) -> None:
        self.add("users", id=user_id, user_key=key(self.id, "user", user_id),
                 created_at=at(1, 0), updated_at=version or at(1, 0), role=role, active=active,
                 time_zone="Amsterdam", name_token="n", email_token="e", phone_token=None)

    def ticket(self, ticket_id: int, created: datetime, status: str, requester: int,
               assignee: int | None, group: int | None = 50, *, channel: str = "web",
               priority: str | None = "normal", kind: str | None = "question", brand: int = 1,
               tags: tuple[str, ...] = ()) -> None:
        self.add("tickets", id=ticket_id, created_at=created, updated_at=created,
                 generated_timestamp=int(created.timestamp()), status=status, priority=priority,
                 type=kind, via_channel=channel, requester_id=requester,
                 submitter_id=requester, assignee_id=assignee, group_id=group,
                 organization_id=None, brand_id=brand, is_public=True,
                 _dlt_load_id="1", _dlt_id=f"{self.id}-{ticket_id}")
        for tag in tags:
            self.add("ticket_tags", ticket_id=ticket_id, tag=tag)

    def audit(self, audit_id: int, ticket_id: int, when: datetime, updater: int, *events):
        """Events are ("Create", field, value), ("Change", field, value, previous) or
        ("Comment", author, public)."""
        for index, event in enumerate(events):
            row = {"id": audit_id * 20 + index, "audit_id": audit_id, "ticket_id": ticket_id,
                   "created_at": when, "updater_id": updater,
                   "via_channel": "rule" if updater == SYSTEM else "web",
                   "event_type": event[0], "field_name": None, "value": None,
                   "previous_value": None, "author_id": None, "is_public": None}
            if event[0] == "Comment":
                row.update(author_id=event[1], is_public=event[2])
            else:
                row.update(field_name=event[1], value=_text(event[2]),
                           previous_value=_text(event[3]) if len(event) > 3 else None)
            self.add("ticket_events", **row)

    def metric(self, ticket_id: int, metric: str, kind: str, when: datetime, *, instance: int = 1,
               policy: int | None = None, target: int | None = None, business: bool | None = None,
               calendar: int | None = None, business_minutes: int | None = None,
               deleted: bool | None = None) -> None:
        """One ticket metric event, as Zendesk sends it."""
        self.add("ticket_metric_events", id=len(self.rows["ticket_metric_events"]) + 1,
                 ticket_id=ticket_id, metric=metric, instance_id=instance, type=kind, time=when,
                 sla_policy_id=policy, sla_target_minutes=target, sla_business_hours=business,
                 status_calendar_minutes=calendar, status_business_minutes=business_minutes,
                 is_deleted=deleted)

    def rating(self, rating_id: int, ticket_id: int, score: str, when: datetime, assignee: int,
               requester: int) -> None:
        self.add("satisfaction_ratings", id=rating_id, ticket_id=ticket_id, assignee_id=assignee,
                 group_id=50, requester_id=requester, score=score, created_at=when,
                 updated_at=when)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def created(requester: int, assignee: int | None = None, status: str = "new") -> tuple:
    return (("Create", "status", status), ("Create", "requester_id", requester),
            ("Create", "group_id", 50), ("Create", "assignee_id", assignee))


def tenant_one() -> Tenant:
    t = Tenant("t1")
    a, b, c, e, x, y = 1001, 1002, 1003, 1004, 2001, 2002
    t.add("tenant", platform="zendesk", timezone="America/New_York", retention_days=730)
    # The tenant config wins over the default schedule's zone.
    t.add("schedules", id=1, name="Support", time_zone="Pacific Time (US & Canada)",
          created_at=at(1, 0), updated_at=at(1, 0))
    t.add("schedule_intervals", schedule_id=1, start_time=1980, end_time=2460)
    t.add("schedule_holidays", id=1, schedule_id=1, name="New Year", start_date=date(2024, 1, 1),
          end_date=date(2024, 1, 1))
    t.add("groups", id=50, group_key=key("t1", "group", 50), name="Support", is_deleted=False,
          created_at=at(1, 0), updated_at=at(1, 0))
    t.add("groups", id=60, group_key=key("t1", "group", 60), name="Escalations", is_deleted=True,
          created_at=at(2, 0), updated_at=at(5, 0))
    t.add("brands", id=1, name="Acme", subdomain="acme", is_active=True, is_default=True,
          created_at=at(1, 0), updated_at=at(1, 0))
    t.add("brands", id=2, name="Acme Pro", subdomain="acme-pro", is_active=True,
          is_default=False, created_at=at(1, 0), updated_at=at(1, 0))
    # tags of a ticket raw does not hold (its version was quarantined): in no mart
    t.add("ticket_tags", ticket_id=99, tag="spam")
    t.user(a, "agent")
    t.user(b, "admin")
    t.user(c, "agent")
    t.user(c, "end-user", active=False, version=datetime(2024, 2, 1, tzinfo=UTC))
    t.user(e, "agent")
    t.user(x, "end-user")
    t.user(y, "end-user")

    t.ticket(1, at(10, 14), "closed", x, a, channel="email", priority="high", kind="incident",
             tags=("billing", "vip"))
    t.audit(100, 1, at(10, 14), x, *created(x), ("Comment", x, True))
    t.audit(101, 1, at(10, 14, 30), SYSTEM, ("Change", "assignee_id", a, None),
            ("Change", "status", "open", "new"))
    t.audit(102, 1, at(10, 15), a, ("Comment", a, False))
    t.audit(103, 1, at(10, 15, 10), b, ("Comment", b, True),
            ("Change", "status", "pending", "open"))
    t.audit(104, 1, at(10, 16), x, ("Comment", x, True), ("Change", "status", "open", "pending"))
    t.audit(105, 1, at(10, 16, 30), a, ("Comment", a, True),
            ("Change", "status", "solved", "open"))
    t.audit(106, 1, at(15, 10), SYSTEM, ("Change", "status", "closed", "solved"))
    t.rating(10, 1, "offered", at(11, 17, 30), a, x)
    t.rating(11, 1, "good", at(12, 3), a, x)
    t.rating(12, 1, "bad", at(12, 6), a, x)

    t.ticket(2, at(10, 4, 30), "closed", y, a, channel="api", priority="low", kind="task", brand=2)
    t.audit(200, 2, at(10, 4, 30), a, *created(y, a, "open"), ("Comment", a, True))
    t.audit(201, 2, at(10, 5, 30), a, ("Change", "status", "solved", "open"))
    t.audit(202, 2, at(14, 6), SYSTEM, ("Change", "status", "closed", "solved"))

    t.ticket(3, at(10, 13), "solved", y, b, channel="chat", priority=None, kind=None, brand=3,
             tags=("refund",))
    t.audit(300, 3, at(10, 13), y, *created(y), ("Comment", y, True))
    t.audit(301, 3, at(10, 13, 5), SYSTEM, ("Change", "assignee_id", c, None),
            ("Change", "status", "open", "new"))
    t.audit(302, 3, at(10, 13, 20), c, ("Comment", c, True), ("Change", "status", "solved", "open"))
    t.audit(303, 3, at(10, 20), y, ("Comment", y, True), ("Change", "status", "open", "solved"))
    t.audit(304, 3, at(11, 15), SYSTEM, ("Change", "assignee_id", b, c))
    t.audit(305, 3, at(11, 15, 30), b, ("Comment", b, True),
            ("Change", "status", "solved", "open"))

    t.ticket(4, at(10, 18), "solved", x, b)
    t.audit(400, 4, at(10, 18), x, *created(x), ("Comment", x, True))
    t.audit(401, 4, at(10, 18, 10), SYSTEM, ("Change", "assignee_id", a, None),
            ("Change", "status", "open", "new"))
    t.audit(402, 4, at(10, 18, 40), b, ("Comment", b, True), ("Change", "status", "solved", "open"),
            ("Change", "assignee_id", b, a))
    t.rating(40, 4, "offered", at(10, 20), b, x)

    t.ticket(5, at(10, 19), "deleted", y, a, tags=("spam",))
    t.audit(500, 5, at(10, 19), y, *created(y), ("Comment", y, True))
    t.audit(501, 5, at(10, 19, 5), SYSTEM, ("Change", "assignee_id", a, None),
            ("Change", "status", "open", "new"))
    t.audit(502, 5, at(10, 19, 30), a, ("Comment", a, True), ("Change", "status", "solved", "open"))
    t.rating(50, 5, "good", at(10, 21), a, y)

    t.ticket(6, at(10, 14), "solved", x, e)
    t.audit(600, 6, at(10, 14), x, *created(x), ("Comment", x, True))
    t.audit(601, 6, at(10, 14, 5), SYSTEM, ("Change", "assignee_id", e, None),
            ("Change", "status", "open", "new"))
    t.audit(602, 6, at(10, 14, 30), e, ("Comment", e, True), ("Change", "status", "solved", "open"))
    t.audit(603, 6, at(10, 15), x, ("Comment", x, True), ("Change", "status", "open", "solved"))
    t.audit(604, 6, at(10, 15, 30), e, ("Comment", e, True), ("Change", "status", "solved", "open"))
    sla_metric_events(t)
    return t


def sla_metric_events(t: Tenant) -> None:
    """SLA targets of t1's tickets, as Zendesk's metric events report them (see test_ticket_slas)."""
    t.add("sla_policies", id=801, title="Urgent and high", position=1, created_at=at(1, 0),
          updated_at=at(1, 0))
    t.add("sla_policies", id=802, title="Normal and low", position=2, created_at=at(1, 0),
          updated_at=at(1, 0))
    reply, wait, work = "reply_time", "requester_wait_time", "agent_work_time"
    # ticket 1: first reply due 15:00, B replies 15:10; the next reply, due an hour after X's
    # 16:00 comment, comes at 16:30; the wait (business hours) pauses while pending
    t.metric(1, reply, "apply_sla", at(10, 14), policy=801, target=60, business=False)
    t.metric(1, reply, "breach", at(10, 15), deleted=False)
    t.metric(1, reply, "fulfill", at(10, 15, 10))
    t.metric(1, reply, "update_status", at(10, 15, 10), calendar=70)
    t.metric(1, reply, "apply_sla", at(10, 16), instance=2, policy=801, target=60, business=False)
    t.metric(1, reply, "fulfill", at(10, 16, 30), instance=2)
    t.metric(1, reply, "update_status", at(10, 16, 30), instance=2, calendar=30)
    t.metric(1, wait, "apply_sla", at(10, 14), policy=801, target=480, business=True)
    t.metric(1, wait, "pause", at(10, 15, 10))
    t.metric(1, wait, "activate", at(10, 16))
    t.metric(1, wait, "fulfill", at(10, 16, 30))
    t.metric(1, wait, "update_status", at(10, 16, 30), calendar=100, business_minutes=45)
    # ticket 2: the wait target re-applied at 05:00 under the other policy; solved 05:30
    t.metric(2, wait, "apply_sla", at(10, 4, 30), policy=802, target=480, business=False)
    t.metric(2, wait, "apply_sla", at(10, 5), policy=801, target=240, business=False)
    t.metric(2, wait, "fulfill", at(10, 5, 30))
    t.metric(2, wait, "update_status", at(10, 5, 30), calendar=60)
    # ticket 3: a work-time breach withdrawn, fulfilled at the 13:20 solve; a periodic update
    # whose breach Zendesk scheduled for 2999 and nobody fulfilled
    t.metric(3, work, "apply_sla", at(10, 13), policy=802, target=30, business=False)
    t.metric(3, work, "breach", at(10, 13, 30), deleted=True)
    t.metric(3, work, "fulfill", at(10, 13, 20))
    t.metric(3, work, "update_status", at(10, 13, 20), calendar=20)
    t.metric(3, "periodic_update_time", "apply_sla", at(10, 13), policy=802, target=1440,
             business=False)
    t.metric(3, "periodic_update_time", "breach", datetime(2999, 1, 1, tzinfo=UTC), deleted=False)
    # ticket 4: first reply due 18:30 while A holds it; B replies, solves and takes it at 18:40
    t.metric(4, reply, "apply_sla", at(10, 18), policy=802, target=30, business=False)
    t.metric(4, reply, "breach", at(10, 18, 30), deleted=False)
    t.metric(4, reply, "fulfill", at(10, 18, 40))
    t.metric(4, reply, "update_status", at(10, 18, 40), calendar=40)
    # ticket 5 (deleted): a periodic update due 19:10, never fulfilled
    t.metric(5, "periodic_update_time", "apply_sla", at(10, 19), policy=802, target=10,
             business=False)
    t.metric(5, "periodic_update_time", "breach", at(10, 19, 10), deleted=False)
    # ticket 6: wait breached at 14:20 (E's), fulfilled at 14:30, reopened 15:00, fulfilled 15:30
    t.metric(6, wait, "apply_sla", at(10, 14), policy=802, target=20, business=False)
    t.metric(6, wait, "breach", at(10, 14, 20), deleted=False)
    t.metric(6, wait, "fulfill", at(10, 14, 30))
    t.metric(6, wait, "update_status", at(10, 14, 30), calendar=30)
    t.metric(6, wait, "activate", at(10, 15))
    t.metric(6, wait, "fulfill", at(10, 15, 30))
    t.metric(6, wait, "update_status", at(10, 15, 30), calendar=60)


def tenant_two() -> Tenant:
    t = Tenant("t2")
    d, z = 1001, 2001
    # No tenant row, groups, ratings or holidays yet; the lowest schedule id is the default.
    t.add("schedules", id=20, name="US", time_zone="Eastern Time (US & Canada)",
          created_at=at(2, 0), updated_at=at(2, 0))
    t.add("schedules", id=10, name="EU", time_zone="Amsterdam",
          created_at=at(1, 0), updated_at=at(1, 0))
    t.user(d, "agent")
    t.user(z, "end-user")
    t.ticket(1, at(10, 22, 30), "solved", z, d, group=None)
    t.audit(100, 1, at(10, 22, 30), z, *created(z), ("Comment", z, True))
    t.audit(101, 1, at(10, 22, 35), SYSTEM, ("Change", "assignee_id", d, None),
            ("Change", "status", "open", "new"))
    t.audit(102, 1, at(10, 23, 10), d, ("Comment", d, True), ("Change", "status", "solved", "open"))
    return t


MISSING_IN_T2 = {
    "tables": {"tenant", "groups", "brands", "ticket_tags", "satisfaction_ratings", "schedule_holidays"},
    "tickets_columns": {"brand_id", "priority", "_dlt_load_id", "_dlt_id"},
}


def write_raw(warehouse: Path, tenants: list[Tenant]) -> None:
    con = duckdb.connect(str(warehouse))
    con.execute("set TimeZone = 'UTC'")
    for tenant in tenants:
        schema = f"raw_{tenant.id}"
        con.execute(f"create schema {schema}")
        for table, columns in RAW_COLUMNS.items():
            if tenant.id == "t2" and table in MISSING_IN_T2["tables"]:
                continue
            if tenant.id == "t2" and table == "tickets":
                columns = {n: t for n, t in columns.items()
                           if n not in MISSING_IN_T2["tickets_columns"]}
            ddl = ", ".join(f"{name} {kind}" for name, kind in columns.items())
            con.execute(f"create table {schema}.{table} ({ddl})")
            names = list(columns)
            rows = [[row.get(name) for name in names] for row in tenant.rows[table]]
            if rows:
                marks = ", ".join("?" for _ in names)
                con.executemany(f"insert into {schema}.{table} values ({marks})", rows)
    con.close()


@pytest.fixture(scope="session")
def dbt_manifest() -> None:
    """This module runs dbt itself; it needs no manifest prepared for Dagster (conftest)."""


def run_dbt(path: Path, tmp: Path, *args: str):
    """dbt in process on the warehouse at ``path``, for this module's tenants."""
    from dbt.cli.main import dbtRunner

    tenants = {"t1": "zendesk", "t2": "zendesk", "t3": "zendesk", "f1": "freshdesk"}
    previous = os.environ.get("DESKPULSE_WAREHOUSE")
    os.environ["DESKPULSE_WAREHOUSE"] = str(path)
    try:
        return dbtRunner().invoke([
            *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs"),
            "--vars", json.dumps({"tenants": tenants}), "--quiet",
        ])
    finally:
        if previous is None:
            os.environ.pop("DESKPULSE_WAREHOUSE", None)
        else:
            os.environ["DESKPULSE_WAREHOUSE"] = previous


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    tmp = tmp_path_factory.mktemp("deskpulse")
    path = tmp / "warehouse.duckdb"
    write_raw(path, [tenant_one(), tenant_two()])
    result = run_dbt(path, tmp, "build")
    assert result.success, f"dbt build failed: {result.exception or result.result}"
    con = duckdb.connect(str(path))
    con.execute("set TimeZone = 'UTC'")
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def tickets(con) -> dict[tuple[str, int], dict]:
    found = rows(con, "select * from marts.fct_tickets")
    return {(r["tenant_id"], r["ticket_id"]): r for r in found}


def agent_days(con) -> dict[tuple[str, str, date], dict]:
    found = rows(con, "select * from marts.agent_daily_performance")
    return {(r["tenant_id"], r["agent_key"], r["activity_date"]): r for r in found}


def test_ticket_reply_and_resolution_minutes(warehouse):
    t = tickets(warehouse)
    assert len(t) == 7
    one, two, three = t["t1", 1], t["t1", 2], t["t1", 3]
    # the internal note at 15:00 is not a reply; B's reply counts although A is the assignee
    assert one["first_reply_minutes"] == 70.0
    assert one["first_reply_agent_key"] == key("t1", "user", 1002)
    assert one["assignee_key"] == key("t1", "user", 1001)
    assert (one["first_resolution_minutes"], one["full_resolution_minutes"]) == (150.0, 150.0)
    assert one["final_solved_at"] == at(10, 16, 30)
    # agent-opened: no end-user comment, and the creating comment is not a reply
    assert two["first_reply_minutes"] is None and two["first_reply_at"] is None
    assert two["agent_replies"] == 0
    assert two["first_resolution_minutes"] == 60.0
    # solve, reopen, solve: full resolution runs to the last solve
    assert (three["first_reply_minutes"], three["first_reply_agent_key"]) == (
        20.0, key("t1", "user", 1003))
    assert (three["first_resolution_minutes"], three["full_resolution_minutes"]) == (20.0, 1590.0)
    assert three["first_solved_at"] == at(10, 13, 20)
    assert three["final_solved_at"] == at(11, 15, 30)
    assert three["reopens"] == 1


def test_ticket_flags_keys_and_csat(warehouse):
    t = tickets(warehouse)
    assert [t["t1", n]["is_one_touch"] for n in (1, 2, 3, 4, 5)] == [
        False, False, False, True, False]
    assert [t["t1", n]["agent_replies"] for n in (1, 2, 3, 4, 5)] == [2, 0, 2, 1, 1]
    # the latest good/bad rating; offered alone is no rating
    assert t["t1", 1]["csat_score"] == "bad"
    assert t["t1", 4]["csat_score"] is None
    deleted = t["t1", 5]
    assert deleted["is_deleted"] and deleted["status"] == "deleted"
    assert deleted["final_solved_at"] is None and deleted["full_resolution_minutes"] is None
    assert deleted["first_resolution_minutes"] == 30.0
    assert t["t1", 1]["group_key"] == key("t1", "group", 50)
    assert t["t1", 1]["requester_key"] == key("t1", "user", 2001)
    # keys differ across tenants for the same platform id
    assert t["t2", 1]["assignee_key"] == key("t2", "user", 1001) != key("t1", "user", 1001)
    # t2's tickets lack some columns and t2 has no groups table: nulls, not a failure
    assert t["t2", 1]["group_key"] is None
    assert t["t2", 1]["first_reply_minutes"] == 40.0 and t["t2", 1]["is_one_touch"] is True


def test_agent_days_in_tenant_time_zone(warehouse):
    d = agent_days(warehouse)
    a, b, c, e = (key("t1", "user", n) for n in (1001, 1002, 1003, 1004))
    dd = key("t2", "user", 1001)
    jan = {n: date(2024, 1, n) for n in (9, 10, 11, 12)}
    assert set(d) == {
        ("t1", a, jan[9]), ("t1", a, jan[10]), ("t1", a, jan[11]), ("t1", a, jan[12]),
        ("t1", b, jan[10]), ("t1", b, jan[11]), ("t1", c, jan[10]), ("t1", c, jan[11]),
        ("t1", e, jan[10]), ("t2", dd, jan[10]), ("t2", dd, jan[11]),
    }
    # A: ticket 2 solved 00:30 New York time counts on the 10th; ticket 5 is deleted
    a10 = d["t1", a, jan[10]]
    assert (a10["tickets_solved"], a10["public_replies"], a10["first_replies"]) == (2, 1, 0)
    assert (a10["one_touch_solved"], a10["reopened_after_solve"]) == (0, 0)
    assert (a10["csat_good"], a10["csat_bad"], a10["csat_pct"]) == (0, 0, None)
    assert a10["median_first_reply_minutes"] is None
    # ratings land on the New York day: good at 03:00Z is still the 11th
    assert (d["t1", a, jan[11]]["csat_good"], d["t1", a, jan[11]]["csat_pct"]) == (1, 1.0)
    assert (d["t1", a, jan[12]]["csat_bad"], d["t1", a, jan[12]]["csat_pct"]) == (1, 0.0)
    # B: first replies of 70 and 40 minutes; the reassign-and-solve audit credits B
    b10 = d["t1", b, jan[10]]
    assert (b10["public_replies"], b10["first_replies"], b10["tickets_solved"]) == (2, 2, 1)
    assert (b10["median_first_reply_minutes"], b10["p90_first_reply_minutes"]) == (55.0, 67.0)
    assert b10["one_touch_solved"] == 1
    b11 = d["t1", b, jan[11]]
    assert (b11["tickets_solved"], b11["public_replies"], b11["reopened_after_solve"]) == (1, 1, 0)
    # C was downgraded to end-user later and still counts; its solve was reopened
    c10 = d["t1", c, jan[10]]
    assert (c10["tickets_solved"], c10["reopened_after_solve"], c10["first_replies"]) == (1, 1, 1)
    assert c10["median_first_reply_minutes"] == c10["p90_first_reply_minutes"] == 20.0
    # t2's day comes from its default schedule (Amsterdam): 23:10Z is the 11th there
    d11 = d["t2", dd, jan[11]]
    assert (d11["tickets_solved"], d11["first_replies"], d11["one_touch_solved"]) == (1, 1, 1)


def test_handling_and_solve_figures(warehouse):
    """Assignments (by a rule, or at creation), updates, notes and reassignments, by hand from
    tenant_one and tenant_two, on New York (t1) and Amsterdam (t2) days. A opened ticket 2
    assigned to themself at 23:30 on the 9th, so it is assigned and touched then. Each solved
    ticket here was first solved within hours; the replies per solved ticket are each ticket's
    public agent replies (ticket 2 has none: its agent comment opened it)."""
    d = agent_days(warehouse)
    a, b, c, e = (key("t1", "user", n) for n in (1001, 1002, 1003, 1004))
    dd = key("t2", "user", 1001)
    jan = {n: date(2024, 1, n) for n in (9, 10, 11, 12)}
    columns = ("tickets_assigned", "tickets_touched", "internal_notes", "reassignments_away",
               "tickets_solved", "solved_within_a_day", "replies_per_solved_ticket")
    assert {cell: tuple(row[c] for c in columns) for cell, row in d.items()} == {
        # ticket 2 opened by A; tickets 1 and 4 assigned by rules, A's note on 1, 4 taken by B
        ("t1", a, jan[9]): (1, 1, 0, 0, 0, 0, None),
        ("t1", a, jan[10]): (2, 2, 1, 1, 2, 2, 1.0),
        ("t1", a, jan[11]): (0, 0, 0, 0, 0, 0, None),
        ("t1", a, jan[12]): (0, 0, 0, 0, 0, 0, None),
        # B replies on 1 and takes and solves 4 on the 10th; is given 3 and solves it on the 11th
        ("t1", b, jan[10]): (1, 2, 0, 0, 1, 1, 1.0),
        ("t1", b, jan[11]): (1, 1, 0, 0, 1, 1, 2.0),
        # C is given 3 and solves it; a rule takes it from C on the 11th
        ("t1", c, jan[10]): (1, 1, 0, 0, 1, 1, 2.0),
        ("t1", c, jan[11]): (0, 0, 0, 1, 0, 0, None),
        # E solves 6 twice: one ticket touched, solved, assigned
        ("t1", e, jan[10]): (1, 1, 0, 0, 1, 1, 2.0),
        # a rule assigns D at 22:35Z, 23:35 in Amsterdam; D solves it after midnight there
        ("t2", dd, jan[10]): (1, 0, 0, 0, 0, 0, None),
        ("t2", dd, jan[11]): (0, 1, 0, 0, 1, 1, 1.0),
    }


def test_next_replies_and_time_to_solve(warehouse):
    """Next replies and the requester's wait, by hand from tenant_one and tenant_two. Ticket 1:
    X waits new 14:00-14:30, open to B's 15:10 reply, pending until X writes at 16:00, open to
    A's solving reply at 16:30: 100 minutes of wait and of work (nothing on hold), and A's
    reply is a next reply of 30 minutes. Ticket 3: new 5, open 15, solved from 13:20 until Y's
    20:00 comment reopens it, open until B's reply solves it at 15:30 on the 11th: 5 + 15 +
    1170 = 1190, and B's reply is a next reply of 1170 minutes (19.5 hours). Ticket 6: 5 + 25 +
    30 = 60, E's second reply a next reply of 30. Ticket 2 (opened by A, open 04:30 to 05:30):
    60, no next reply (nobody wrote to A). Ticket 4: 10 + 30 = 40. Ticket 5 is deleted: no
    final solve. t2's ticket: 5 + 35 = 40."""
    t = tickets(warehouse)
    assert {n: (t["t1", n]["requester_wait_minutes"], t["t1", n]["agent_work_minutes"])
            for n in (1, 2, 3, 4, 5, 6)} == {
        1: (100.0, 100.0), 2: (60.0, 60.0), 3: (1190.0, 1190.0), 4: (40.0, 40.0),
        5: (None, None), 6: (60.0, 60.0)}
    assert (t["t2", 1]["requester_wait_minutes"], t["t2", 1]["agent_work_minutes"]) == (40.0, 40.0)
    d = agent_days(warehouse)
    a, b, c, e = (key("t1", "user", n) for n in (1001, 1002, 1003, 1004))
    columns = ("next_replies", "median_next_reply_minutes", "p90_next_reply_minutes",
               "median_requester_wait_minutes", "median_agent_work_minutes")
    figures = {cell: tuple(row[c] for c in columns) for cell, row in d.items()
               if row["next_replies"] or row["tickets_solved"]}
    assert figures == {
        # A solves 1 (100) and 2 (60) on the 10th in New York: median 80
        ("t1", a, date(2024, 1, 10)): (1, 30.0, 30.0, 80.0, 80.0),
        ("t1", b, date(2024, 1, 10)): (0, None, None, 40.0, 40.0),
        ("t1", b, date(2024, 1, 11)): (1, 1170.0, 1170.0, 1190.0, 1190.0),
        # C's solve of ticket 3 counts the ticket's wait today, to its final solve by B
        ("t1", c, date(2024, 1, 10)): (0, None, None, 1190.0, 1190.0),
        ("t1", e, date(2024, 1, 10)): (1, 30.0, 30.0, 60.0, 60.0),
        ("t2", key("t2", "user", 1001), date(2024, 1, 11)): (0, None, None, 40.0, 40.0),
    }


def test_reopens_count_from_the_first_solve_of_the_day_week_and_team(warehouse):
    a, b, c, e = (key("t1", "user", n) for n in (1001, 1002, 1003, 1004))
    week = date(2024, 1, 8)
    # E solved ticket 6, it was reopened and E solved it again the same day: the first solve failed
    e10 = agent_days(warehouse)["t1", e, date(2024, 1, 10)]
    assert (e10["tickets_solved"], e10["public_replies"], e10["first_replies"]) == (1, 2, 1)
    assert (e10["one_touch_solved"], e10["reopened_after_solve"]) == (0, 1)
    weeks = rows(warehouse, "select * from marts.agent_weekly_performance where tenant_id = 't1'")
    assert {r["agent_key"]: (r["week_start"], r["tickets_solved"], r["reopened_after_solve"])
            for r in weeks} == {
        a: (week, 2, 0),  # tickets 1 and 2 (5 is deleted)
        b: (week, 2, 0),  # ticket 4, and ticket 3 after its reopen
        c: (week, 1, 1),  # ticket 3, reopened after C's solve
        e: (week, 1, 1),  # ticket 6
    }
    # the group's week counts ticket 3 from its first solve (C's, reopened), not B's that held
    team = rows(warehouse, "select * from marts.team_weekly_performance where tenant_id = 't1'")
    assert [(r["group_key"], r["week_start"], r["tickets_solved"], r["one_touch_solved"],
             r["reopened_after_solve"]) for r in team] == [(key("t1", "group", 50), week, 5, 1, 2)]


def test_ticket_dimensions_to_slice_by(warehouse):
    t = tickets(warehouse)
    dimensions = ("via_channel", "priority", "ticket_type", "brand_id", "brand_name")
    assert {n: tuple(t["t1", n][d] for d in dimensions) for n in (1, 2, 3, 4)} == {
        1: ("email", "high", "incident", 1, "Acme"),
        2: ("api", "low", "task", 2, "Acme Pro"),
        3: ("chat", None, None, 3, None),  # brand 3 is not in the brand list
        4: ("web", "normal", "question", 1, "Acme"),
    }
    # t2 has no brands table and its tickets no brand or priority column
    assert tuple(t["t2", 1][d] for d in dimensions) == ("web", None, "question", None, None)


def test_groups_are_named_in_their_dimension_and_team_weeks(warehouse):
    groups = rows(warehouse, "select * from marts.dim_groups order by created_at")
    assert [(g["tenant_id"], g["group_key"], g["group_name"], g["is_deleted"], g["created_at"])
            for g in groups] == [
        ("t1", key("t1", "group", 50), "Support", False, at(1, 0)),
        ("t1", key("t1", "group", 60), "Escalations", True, at(2, 0)),  # deleted, still named
    ]
    team = rows(warehouse, "select * from marts.team_weekly_performance order by tenant_id")
    # t2's ticket was created in group 50, whose record has not arrived: neither key nor name
    assert [(r["tenant_id"], r["group_key"], r["group_name"]) for r in team] == [
        ("t1", key("t1", "group", 50), "Support"), ("t2", None, None)]


def test_ticket_tags_bridge(warehouse):
    bridge = rows(warehouse, "select * from marts.bridge_ticket_tags")
    # the deleted ticket keeps its tag, as it keeps its row; ticket 99 is no ticket of the marts
    assert sorted((r["tenant_id"], r["ticket_id"], r["tag"]) for r in bridge) == [
        ("t1", 1, "billing"), ("t1", 1, "vip"), ("t1", 3, "refund"), ("t1", 5, "spam")]
    assert all(r["refreshed_at"] == tickets(warehouse)[r["tenant_id"], r["ticket_id"]]["refreshed_at"]
               for r in bridge)


def test_tenant_missing_tables_still_builds(warehouse):
    zones = rows(warehouse, "select * from intermediate.int_tenant_time_zones__tenant "
                            "order by tenant_id")
    # every configured tenant has a tenant day, loaded or not (t3 and f1 have no raw data yet)
    assert [(z["tenant_id"], z["time_zone"], z["time_zone_source"]) for z in zones] == [
        ("f1", "UTC", "utc_fallback"),
        ("t1", "America/New_York", "tenant_config"),
        ("t2", "Europe/Amsterdam", "default_schedule"),
        ("t3", "UTC", "utc_fallback"),
    ]
    ratings = rows(warehouse, "select tenant_id, count(*) as n "
                              "from staging.stg_zendesk__satisfaction_ratings group by 1")
    assert ratings == [{"tenant_id": "t1", "n": 5}]


def test_ticket_slas(warehouse):
    """Hand-worked from the metric events of sla_metric_events: status by the rulings of
    docs/metrics.md (breached when the breach comes before the fulfilment, or unfulfilled and
    before the build; achieved when fulfilled at or before it; else active), each decided one
    counted for or against the assignee and group at its outcome, on the outcome's New York day."""
    found = {(r["ticket_id"], r["sla_metric"], r["instance_id"]): r
             for r in rows(warehouse, "select * from marts.fct_ticket_slas where tenant_id = 't1'")}
    a, c, e = (key("t1", "user", agent) for agent in (1001, 1003, 1004))
    support, day = key("t1", "group", 50), date(2024, 1, 10)
    expected = {
        # (policy, title, target, business hours, applied, breach, fulfilled, status, over,
        #  outcome date, accountable agent, accountable group, ticket deleted)
        (1, "first_reply_time", 1): (801, "Urgent and high", 60, False, at(10, 14), at(10, 15),
                                     at(10, 15, 10), "breached", 10, day, a, support, False),
        (1, "next_reply_time", 2): (801, "Urgent and high", 60, False, at(10, 16), None,
                                    at(10, 16, 30), "achieved", -30, day, a, support, False),
        (1, "requester_wait_time", 1): (801, "Urgent and high", 480, True, at(10, 14), None,
                                        at(10, 16, 30), "achieved", 45 - 480, day, a, support, False),
        # solved at 05:30 UTC, 00:30 in New York: the 10th there
        (2, "requester_wait_time", 1): (801, "Urgent and high", 240, False, at(10, 5), None,
                                        at(10, 5, 30), "achieved", -180, day, a, support, False),
        (3, "agent_work_time", 1): (802, "Normal and low", 30, False, at(10, 13), None,
                                    at(10, 13, 20), "achieved", -10, day, c, support, False),
        (3, "periodic_update_time", 1): (802, "Normal and low", 1440, False, at(10, 13),
                                         datetime(2999, 1, 1, tzinfo=UTC), None, "active", None,
                                         None, None, None, False),
        (4, "first_reply_time", 1): (802, "Normal and low", 30, False, at(10, 18), at(10, 18, 30),
                                     at(10, 18, 40), "breached", 10, day, a, support, False),
        (5, "periodic_update_time", 1): (802, "Normal and low", 10, False, at(10, 19),
                                         at(10, 19, 10), None, "breached", None, day, a, support, True),
        (6, "requester_wait_time", 1): (802, "Normal and low", 20, False, at(10, 14),
                                        at(10, 14, 20), at(10, 15, 30), "breached", 40, day, e, support,
                                        False),
    }
    columns = ("sla_policy_id", "sla_policy_title", "target_minutes", "is_business_hours",
               "applied_at", "breach_at", "fulfilled_at", "sla_status", "minutes_over_target",
               "outcome_date", "accountable_agent_key", "accountable_group_key", "is_ticket_deleted")
    assert {k: tuple(r[c] for c in columns) for k, r in found.items()} == expected
    assert rows(warehouse, "select count(*) as n from marts.fct_ticket_slas where tenant_id = 't2'") == [
        {"n": 0}]


def test_sla_attainment(warehouse):
    """The decided instances of test_ticket_slas but deleted ticket 5's, all on the 10th, in the
    week of the 8th and in group 50: A breached two first replies (tickets 1 and 4) and achieved
    a next reply and two waits (tickets 1 and 2); C achieved a work time; E breached a wait."""
    a, c, e = (key("t1", "user", agent) for agent in (1001, 1003, 1004))
    reply, following, wait, work = ("first_reply_time", "next_reply_time", "requester_wait_time",
                                    "agent_work_time")
    by_agent = {(a, reply): (0, 2, 0.0), (a, following): (1, 0, 1.0), (a, wait): (2, 0, 1.0),
                (c, work): (1, 0, 1.0), (e, wait): (0, 1, 0.0)}
    figures = "sla_metric, sla_achieved, sla_breached, sla_attainment"
    for table, period, day in (("agent_daily_sla", "activity_date", date(2024, 1, 10)),
                               ("agent_weekly_sla", "week_start", date(2024, 1, 8))):
        found = rows(warehouse, f"select agent_key, {period} as period, {figures} from marts.{table}"
                                " where tenant_id = 't1'")
        assert {(r["agent_key"], r["sla_metric"]): (r["sla_achieved"], r["sla_breached"], r["sla_attainment"])
                for r in found} == by_agent, table
        assert {r["period"] for r in found} == {day}, table
    teams = rows(warehouse, f"select group_key, week_start, {figures} from marts.team_weekly_sla"
                            " where tenant_id = 't1'")
    week, support = date(2024, 1, 8), key("t1", "group", 50)
    assert {(r["group_key"], r["week_start"], r["sla_metric"]): (r["sla_achieved"], r["sla_breached"])
            for r in teams} == {(support, week, reply): (0, 2), (support, week, following): (1, 0),
                                (support, week, wait): (2, 1), (support, week, work): (1, 0)}
    assert next(r["sla_attainment"] for r in teams if r["sla_metric"] == wait) == pytest.approx(2 / 3)


def test_a_row_left_beside_its_replacement_breaks_the_grain(warehouse, tmp_path):
    """The grain test of a large incremental model checks the tickets the latest build rebuilt,
    old stamps included: an older copy of one of their rows, left beside it, is a duplicate."""
    warehouse.execute("checkpoint")
    copy = tmp_path / "warehouse.duckdb"
    copy.write_bytes(Path(warehouse.execute("pragma database_list").fetchall()[0][2]).read_bytes())
    with duckdb.connect(str(copy)) as con:
        con.execute("""
            insert into intermediate.int_ticket_activity__activity
            select * replace (refreshed_at - interval 1 day as refreshed_at)
            from intermediate.int_ticket_activity__activity
            where tenant_id = 't1' and ticket_id = 3 and activity_type = 'solve'
            limit 1
        """)
    grain = "int_ticket_activity__activity,test_name:unique_combination"
    result = run_dbt(copy, tmp_path, "test", "--select", grain)
    assert [(str(r.status), r.failures) for r in result.result.results] == [("fail", 1)]
