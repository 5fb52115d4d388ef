"""Subject access and portability (GDPR Art. 15, 20): everything a tenant's deskpulse holds about
one person, for the controller to hand to them.

Read-only. The person is found as erasure finds them (e-mail token or platform user id). The
report lists every table, view and file that names them, with row counts (the scan of
``places``, so no place is forgotten); their own records with their values as stored (user
versions, ratings, quarantined records); the timing facts of their tickets; and the marts that
include them in aggregates. It is written to one file the caller names, mode 0600, and nowhere
else: the log and the audit entry hold pseudonyms and counts only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.ingest.config import TenantConfig
from pipelines.ingest.home import raw_dataset
from pipelines.ingest.keys import pseudonym
from pipelines.privacy import PrivacyError, audit, suppression
from pipelines.privacy.classification import QUARANTINE
from pipelines.privacy.places import operator, scan
from pipelines.privacy.register import PEOPLE, RAW_FIELDS
from pipelines.privacy.warehouse import columns, connect, has_table, quoted

logger = logging.getLogger(__name__)
MARTS = "marts"
TICKET_FACTS = "fct_tickets"
# the key columns of fct_tickets and the role each gives the person on the ticket
TICKET_ROLES = {"requester_key": "requester", "assignee_key": "assignee",
                "first_reply_agent_key": "first replier"}


@dataclass
class SubjectReport:
    """The report (JSON-ready) and the counts a person running the command may see."""

    content: dict[str, Any]

    def summary(self) -> list[str]:
        """Counts only, no value of the person's: safe for a terminal or a ticket."""
        found = self.content
        lines = [f"tenant {found['tenant']}: subject access report ({found['matched_by']})"]
        if not found["found"]:
            return [*lines, "  nobody with that identifier is held; the report says so"]
        rows = sum(found["held_in"].values())
        lines += [f"  held in {len(found['held_in'])} table columns and files, {rows} rows or matches",
                  f"  own records: {', '.join(f'{t} {len(v)}' for t, v in found['records'].items())}",
                  f"  tickets: {len(found['tickets'])}; marts including them in aggregates: "
                  f"{len(found['aggregated_in'])}"]
        if found["suppressed"]:
            lines.append("  on the suppression list (erased): later loads keep them out")
        return lines


def subject_report(tenant: TenantConfig, *, email: str | None = None,
                   user_id: int | None = None) -> SubjectReport:
    """What the tenant's data holds about the person with this e-mail or platform user id."""
    if (email is None) == (user_id is None):
        raise ValueError("give exactly one of email and user_id")
    secret = tenant.secret()
    schema = raw_dataset(tenant.id)
    with connect(read_only=True) as con:
        if user_id is not None:
            ids = [user_id]
        else:
            ids = _ids_with_email(con, schema, pseudonym(secret, "email", email))
        keys = sorted(pseudonym(secret, "user", i) for i in ids)
        records = _records(con, schema, tenant.platform, ids) if ids else {}
        tokens = sorted({v for row in records.get("users", []) for k, v in row.items()
                         if k.endswith("_token") and v})
        tickets = _tickets(con, tenant.id, keys) if keys else []
        marts = [table for schema, table in con.execute(
            "select table_schema, table_name from information_schema.tables where table_schema = ?"
            " and table_type = 'BASE TABLE' order by 2", [MARTS]).fetchall()]
    listed = suppression.load(tenant.id)
    held = scan(tenant.id, [*keys, *tokens], ids).hits if ids else {}
    content = {
        "tenant": tenant.id,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "matched_by": "e-mail" if email is not None else "user id",
        "found": bool(held or records.get("users")),
        "subject": {"platform_user_ids": ids, "user_keys": keys, "tokens": tokens},
        "held_in": held,
        "records": records,
        "tickets": tickets,
        "aggregated_in": _aggregated_in(tickets, marts),
        "suppressed": bool(set(keys) & (listed.user_keys | listed.unlinked_keys)),
        "notes": [
            "Names, e-mail addresses and phone numbers are never stored: *_token columns hold keyed "
            "hashes of them (HMAC-SHA256 with the tenant's secret).",
            "Subjects, descriptions and comment bodies are never loaded.",
        ],
    }
    logger.info("tenant %s: subject report over %d tables and files", tenant.id, len(held))
    return SubjectReport(content)


def write(report: SubjectReport, path: Path) -> None:
    """Write the report to a new file readable by its owner only; an existing file is not replaced."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise PrivacyError(f"{path} exists; the report is never written over another file") from None
    data = json.dumps(report.content, indent=2, default=_json) + "\n"
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(data)
    found = report.content
    audit.append("subject-report", found["tenant"], subjects=found["subject"]["user_keys"],
                 matched_by=found["matched_by"], by=operator(), places=len(found["held_in"]),
                 rows=sum(found["held_in"].values()), sha256=hashlib.sha256(data.encode()).hexdigest())


def _json(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _ids_with_email(con: duckdb.DuckDBPyConnection, schema: str, email_token: str) -> list[int]:
    if not has_table(con, schema, "users"):
        return []
    return sorted(row[0] for row in con.execute(
        f"select distinct id from {quoted(schema, 'users')} where email_token = ?", [email_token]).fetchall())


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict[str, Any]]:
    result = con.execute(sql, params)
    names = [d[0] for d in result.description]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


def _records(con: duckdb.DuckDBPyConnection, schema: str, platform: str, ids: list[int]
             ) -> dict[str, list[dict[str, Any]]]:
    """Their own records as stored: every user version, their ratings (given or received), and
    their quarantined records; the registered columns only."""
    listed = ", ".join("?" * len(ids))
    found: dict[str, list[dict[str, Any]]] = {}
    ratings = PEOPLE[platform]["satisfaction_ratings"].people
    for table, person in (("users", ("id",)), ("satisfaction_ratings", ratings)):
        if has_table(con, schema, table):
            kept = [c for c in columns(con, schema, table) if c in RAW_FIELDS[platform][table]]
            where = " or ".join(f'"{c}" in ({listed})' for c in person)
            found[table] = _rows(con, f"select {', '.join(kept)} from {quoted(schema, table)} where {where}"
                                 " order by all", [*ids] * len(person))
    if has_table(con, schema, QUARANTINE):
        found[QUARANTINE] = _rows(con, f"select table_name, reason from {quoted(schema, QUARANTINE)}"
                                  f" where table_name = 'users' and record_id in ({listed})", ids)
    return found


def _tickets(con: duckdb.DuckDBPyConnection, tenant_id: str, keys: list[str]) -> list[dict[str, Any]]:
    """The timing facts of every ticket they are on, from the ticket mart, with their role."""
    if not has_table(con, MARTS, TICKET_FACTS):
        return []
    present = columns(con, MARTS, TICKET_FACTS)
    roles = [c for c in TICKET_ROLES if c in present]
    facts = [c for c in present if c not in roles and c not in ("tenant_id", "group_key", "refreshed_at")]
    listed = ", ".join("?" * len(keys))
    role_of = ", ".join(f"{c} in ({listed}) as \"{TICKET_ROLES[c]}\"" for c in roles)
    rows = _rows(con, f"select {', '.join(facts)}, {role_of} from {quoted(MARTS, TICKET_FACTS)}"
                      f" where tenant_id = ? and ({' or '.join(f'{c} in ({listed})' for c in roles)})"
                      " order by ticket_id", [*keys * len(roles), tenant_id, *keys * len(roles)])
    for row in rows:
        row["roles"] = [role for role in TICKET_ROLES.values() if row.pop(role)]
    return rows


def _aggregated_in(tickets: list[dict[str, Any]], marts: list[str]) -> list[dict[str, Any]]:
    """The marts whose figures count their tickets (beyond rows naming their key), and over which
    days; the benchmark only where its cell pools enough tenants and tickets to be published."""
    if not tickets:
        return []
    days = sorted(t["created_date"] for t in tickets if t.get("created_date"))
    span = {"tickets": len(tickets), "first_day": days[0] if days else None,
            "last_day": days[-1] if days else None}
    return [{"mart": f"{MARTS}.{mart}", **span} for mart in marts if mart not in (TICKET_FACTS, "dim_agents")]
