"""Erasure (right to be forgotten): remove one person from a tenant's data, for good.

The person is found by e-mail (through its keyed token) or platform user id, in any role, with or
without tickets or ratings. Two ways, chosen by the controller for a person who worked as an
agent (docs/privacy.md says which when):

- ``delete`` (every customer; an agent when asked): every version of their user record, and every
  ticket they appear in, in any role, whole: the ticket, all its events and all its ratings. The
  marts then equal a build from a world in which those tickets and that user never existed.
- ``unlink`` (agents only): their identity goes and their work stays. Every row naming them names
  a stand-in instead: a fresh random key and surrogate id, drawn per erasure, which no secret
  derives; their user versions keep only role and group; what they wrote into custom fields is
  blanked. Ticket facts do not change, so team and tenant figures do not either.

The suppression list keeps them out of (or stood in for in) later loads; the audit log records
pseudonyms, counts and the choices made. A dry run counts what would change and changes nothing.
The caller rebuilds the marts afterwards (``deskpulse erase`` does).
"""

from __future__ import annotations

import logging
import secrets
import shutil
from dataclasses import dataclass, field

import duckdb

from pipelines.ingest.columns import PSEUDONYMISED, PSEUDONYMOUS
from pipelines.ingest.config import TenantConfig
from pipelines.ingest.home import home, raw_dataset
from pipelines.ingest.keys import pseudonym
from pipelines.privacy import PrivacyError, audit, suppression, warehouse
from pipelines.privacy.classification import AUTHORED, AUTHORED_VALUES, PERSON_FIELDS, PersonColumns
from pipelines.privacy.places import dlt_packages, operator
from pipelines.privacy.register import PEOPLE, PERSON_ID_COLUMNS, RAW_FIELDS
from pipelines.privacy.warehouse import (
    TEXT_TYPES,
    Step,
    connect,
    deleted_lines,
    derived_steps,
    derived_tables,
    has_table,
    quarantine_step,
    quoted,
    raw_schemas,
    run_steps,
)

logger = logging.getLogger(__name__)
AGENT_MODES = ("unlink", "delete")
# dbt's record of the tickets it has built (ids and timestamps, nobody's identity): kept by a
# delete, so the next build sees the erased tickets leave raw and recomputes the aggregate cells
# that held them; an unlink drops the stood-in tickets from it, so the next build recomputes them.
CHANGES_LEDGER = "intermediate.int_ticket_changes__ticket"
BUILD_INPUTS = ("main", "dbt_build_inputs")  # the build plan's record: gone, the next build runs every node
AGENT_ROLES = ("agent", "admin")


class AgentModeRequired(PrivacyError):
    """The person worked as an agent: the controller must choose unlink or delete."""


@dataclass
class Erasure:
    """What one erasure did (or, in a dry run, would do): pseudonyms erased, tickets, rows per table."""

    tenant_id: str
    matched_by: str
    user_keys: list[str]
    agent_mode: str | None = None
    dry_run: bool = False
    was_agent: bool = False
    tickets: int = 0
    deleted: dict[str, int] = field(default_factory=dict)
    rewritten: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)  # under DESKPULSE_HOME
    # what the final scan looks for (kept in memory, never printed or logged)
    pseudonyms: list[str] = field(default_factory=list, repr=False)
    ids: list[int] = field(default_factory=list, repr=False)

    @property
    def mode(self) -> str:
        return self.agent_mode or "delete"

    def lines(self) -> list[str]:
        """For people: what was (or would be) erased, by pseudonym, per table and file."""
        if not self.user_keys:
            return [f"tenant {self.tenant_id}: no user with that {self.matched_by} in "
                    f"{raw_dataset(self.tenant_id)}; nothing erased"]
        verb = "would erase" if self.dry_run else "erased"
        head = [f"tenant {self.tenant_id}: {verb} user key {key}" for key in self.user_keys]
        if self.mode == "unlink":
            head.append(f"  unlinked: their work on {self.tickets} tickets stays under a new random key")
        else:
            head.append(f"  tickets removed whole: {self.tickets}")
        rows = deleted_lines(self.deleted) + [
            f"  {table:<50} {rows:>8,} rows {'to rewrite' if self.dry_run else 'rewritten'}"
            for table, rows in self.rewritten.items() if rows]
        if self.dry_run:
            rows = [line.replace("rows deleted", "rows to delete") for line in rows]
        files = [f"  {path:<50} {'to delete' if self.dry_run else 'deleted'}" for path in self.files]
        tail = ["Dry run: nothing was changed."] if self.dry_run else []
        return [*head, *rows, *files, *tail]


def erase_person(tenant: TenantConfig, *, email: str | None = None, user_id: int | None = None,
                 agent_mode: str | None = None, dry_run: bool = False) -> Erasure:
    """Erase the person with this e-mail or platform user id from the tenant's data; a person who
    worked as an agent needs ``agent_mode`` (``unlink`` or ``delete``). ``dry_run``: count only."""
    if (email is None) == (user_id is None):
        raise ValueError("give exactly one of email and user_id")
    if agent_mode not in (None, *AGENT_MODES):
        raise ValueError(f"agent_mode must be one of {', '.join(AGENT_MODES)}")
    secret = tenant.secret()
    with connect(read_only=dry_run) as con:
        schema = raw_dataset(tenant.id)
        if user_id is not None:
            ids = {user_id}
        else:
            ids = _ids_with_email(con, schema, pseudonym(secret, "email", email))
        erasure = Erasure(tenant.id, "e-mail" if email is not None else "user id",
                          sorted(pseudonym(secret, "user", i) for i in ids), agent_mode, dry_run)
        if not ids:
            return erasure
        _id_table(con, "erased_people", ids)
        tickets = _tickets_naming(con, schema, tenant.platform)
        _id_table(con, "erased_tickets", tickets)
        erasure.tickets = len(tickets)
        erasure.was_agent = _worked_as_agent(con, schema)
        _check_mode(erasure)
        keys = _pseudonyms(con, schema, tenant.platform, erasure.user_keys)
        erasure.pseudonyms, erasure.ids = keys, sorted(ids)
        if pending := dlt_packages(tenant.id, pending=True):
            raise PrivacyError(f"tenant {tenant.id}: a load is unfinished ({len(pending)} package(s)"
                               f" waiting); run deskpulse run --tenant {tenant.id} to finish it, then erase."
                               " Nothing was changed.")
        packages = dlt_packages(tenant.id)
        erasure.files = [str(path.relative_to(home())) for path in packages]
        if erasure.mode == "unlink":
            stand_in = _stand_in(con, schema, tenant.platform, tickets)
            steps = _unlink_steps(con, tenant, stand_in, erasure.user_keys, keys)
        else:
            stand_in = None
            steps = _delete_steps(con, tenant, keys)
        if not dry_run:  # the list first: a crash below cannot let them back
            if stand_in is None:
                suppression.add(tenant, set(erasure.user_keys), tickets)
            else:
                suppression.add_unlinked(tenant, set(erasure.user_keys), stand_in)
            con.begin()
        erasure.deleted, erasure.rewritten = run_steps(con, steps, dry_run=dry_run)
        if not dry_run:
            if has_table(con, *BUILD_INPUTS):
                con.execute(f"delete from {quoted(*BUILD_INPUTS)}")
            con.commit()
    if not dry_run:
        for package in packages:  # copies of loaded rows; the warehouse holds them
            shutil.rmtree(package) if package.is_dir() else package.unlink()
    audit.append("erase", tenant.id, subjects=erasure.user_keys, matched_by=erasure.matched_by,
                 agent_mode=erasure.mode, was_agent=erasure.was_agent, dry_run=dry_run, by=operator(),
                 tickets=erasure.tickets, rows=erasure.deleted, rewritten=erasure.rewritten,
                 files=len(erasure.files))
    logger.info("tenant %s: %s %d user key(s), %d tickets (%s)", tenant.id,
                "dry run of erasing" if dry_run else "erased", len(ids), erasure.tickets, erasure.mode)
    return erasure


def _check_mode(erasure: Erasure) -> None:
    if erasure.was_agent and erasure.agent_mode is None:
        raise AgentModeRequired(
            f"tenant {erasure.tenant_id}: this person worked as an agent, on {erasure.tickets} tickets. "
            f"Choose: --agent-mode unlink keeps those tickets' facts (team and tenant figures stay) under "
            f"a fresh random key and removes their identity; --agent-mode delete removes all "
            f"{erasure.tickets} tickets whole, which changes the team's and other agents' figures. "
            "Nothing was changed.")
    if erasure.agent_mode == "unlink" and not erasure.was_agent:
        raise PrivacyError(f"tenant {erasure.tenant_id}: this person never worked as an agent; "
                           "--agent-mode unlink is for agents. Nothing was changed.")


# -- finding the person ----------------------------------------------------------------------------
def _ids_with_email(con: duckdb.DuckDBPyConnection, schema: str, email_token: str) -> set[int]:
    if not has_table(con, schema, "users"):
        return set()
    rows = con.execute(f"select distinct id from {quoted(schema, 'users')} where email_token = ?",
                       [email_token]).fetchall()
    return {row[0] for row in rows}


def _id_table(con: duckdb.DuckDBPyConnection, name: str, ids: set[int]) -> None:
    """A temp table ``name`` with one ``id`` column holding ``ids`` (none is fine)."""
    con.execute(f"create or replace temp table {name} (id bigint)")
    if ids:
        con.executemany(f"insert into {name} values (?)", [[i] for i in sorted(ids)])


def _naming(columns: PersonColumns) -> str:
    """SQL condition: the row names a person of the temp table ``erased_people``."""
    conditions = [f'"{name}" in (select id from erased_people)' for name in columns.people]
    if columns.field_values:
        fields = ", ".join(f"'{name}'" for name in PERSON_FIELDS)
        values = " or ".join(f'"{name}" in (select cast(id as varchar) from erased_people)'
                             for name in columns.field_values)
        conditions.append(f"(field_name in ({fields}) and ({values}))")
    return " or ".join(conditions) or "false"


def _tickets_naming(con: duckdb.DuckDBPyConnection, schema: str, platform: str) -> set[int]:
    """Ids of the tickets any row of which names a person of ``erased_people``."""
    found: set[int] = set()
    for table, columns in PEOPLE[platform].items():
        if columns.ticket and has_table(con, schema, table):
            found |= {row[0] for row in con.execute(
                f'select distinct "{columns.ticket}" from {quoted(schema, table)} where {_naming(columns)}'
            ).fetchall()}
    return found


def _worked_as_agent(con: duckdb.DuckDBPyConnection, schema: str) -> bool:
    """Whether a person of ``erased_people`` worked as an agent (docs/metrics.md): an agent or admin in
    any version of their user, or a ticket's assignee (on the ticket, a rating or a change)."""
    checks = [("users", f"role in {AGENT_ROLES} and id in (select id from erased_people)"),
              ("tickets", "assignee_id in (select id from erased_people)"),
              ("satisfaction_ratings", "assignee_id in (select id from erased_people)"),
              ("ticket_events", "field_name = 'assignee_id' and (value in (select cast(id as varchar) from"
                                " erased_people) or previous_value in (select cast(id as varchar) from"
                                " erased_people))")]
    return any(con.execute(f"select count(*) from {quoted(schema, table)} where {where}").fetchall()[0][0]
               for table, where in checks if has_table(con, schema, table))


def _pseudonyms(
    con: duckdb.DuckDBPyConnection, schema: str, platform: str, user_keys: list[str]
) -> list[str]:
    """Every pseudonym of the ``erased_people``: their user keys and the tokens their user versions
    carry (the keyed columns of the users table), to find them in derived tables."""
    keyed = [name for name, f in RAW_FIELDS[platform]["users"].items() if f.extraction == PSEUDONYMISED]
    found = set(user_keys)
    if has_table(con, schema, "users"):
        for row in con.execute(f"select {', '.join(keyed)} from {quoted(schema, 'users')}"
                               " where id in (select id from erased_people)").fetchall():
            found |= {value for value in row if value}
    return sorted(found)


# -- delete --------------------------------------------------------------------------------------
def _delete_steps(con: duckdb.DuckDBPyConnection, tenant: TenantConfig, keys: list[str]) -> list[Step]:
    """Every row of ``erased_tickets`` and every row naming a person of ``erased_people``, in raw,
    quarantine and every derived table."""
    steps = []
    for schema in raw_schemas(con, tenant.id):
        for table, columns in PEOPLE[tenant.platform].items():
            if has_table(con, schema, table):
                condition = _naming(columns)
                if columns.ticket:
                    condition = f'"{columns.ticket}" in (select id from erased_tickets) or {condition}'
                steps.append(Step(schema, table, condition))
        steps.append(quarantine_step(con, schema, tenant.platform, people="erased_people",
                                     tickets="erased_tickets"))
    steps += derived_steps(con, tenant.id, tickets="erased_tickets", keys=keys, keep=[CHANGES_LEDGER])
    return [step for step in steps if step is not None]


# -- unlink --------------------------------------------------------------------------------------
def _stand_in(con: duckdb.DuckDBPyConnection, schema: str, platform: str, tickets: set[int]
              ) -> suppression.StandIn:
    """A fresh stand-in for the ``erased_people``: random key and negative surrogate id, the tickets,
    the custom field values they wrote, and their user versions without identity."""
    key, surrogate = secrets.token_hex(32), -(secrets.randbelow(2**62) + 1)
    fields: set[tuple[int, int]] = set()
    authored = AUTHORED.get(platform, {}).get("ticket_events")
    if authored and has_table(con, schema, "ticket_events"):
        by = " or ".join(f'"{name}" in (select id from erased_people)' for name in authored.by)
        fields = {(t, int(f)) for t, f in con.execute(
            f'select distinct ticket_id, "{authored.field}" from {quoted(schema, "ticket_events")}'
            f" where {authored.sql()} and ({by})").fetchall()}
    versions = []
    if has_table(con, schema, "users"):
        result = con.execute(f"select * from {quoted(schema, 'users')}"
                             " where id in (select id from erased_people)")
        names = [d[0] for d in result.description]
        versions = [_without_identity(dict(zip(names, row, strict=True)), platform, key, surrogate)
                    for row in result.fetchall()]
    return suppression.StandIn(key, surrogate, frozenset(tickets), frozenset(fields), tuple(versions))


def _identity(platform: str) -> dict[str, str]:
    """The users table's pseudonymous columns and what a stand-in holds there: the surrogate id,
    the stand-in key, or nothing."""
    found = {}
    for name, raw in RAW_FIELDS[platform]["users"].items():
        if raw.pii == PSEUDONYMOUS:
            found[name] = "surrogate" if name == "id" else "key" if name == "user_key" else "none"
    return found


def _without_identity(version: dict, platform: str, key: str, surrogate: int) -> dict:
    values = {"surrogate": surrogate, "key": key, "none": None}
    identity = _identity(platform)
    return {**version, **{name: values[kind] for name, kind in identity.items() if name in version}}


def _unlink_steps(con: duckdb.DuckDBPyConnection, tenant: TenantConfig, stand_in: suppression.StandIn,
                  user_keys: list[str], keys: list[str]) -> list[Step]:
    """Raw: what they wrote blanked, their ids replaced by the surrogate, their user versions
    stripped to role and group, their quarantined user records gone. Derived tables: the stood-in
    tickets' rows (recomputed by the next build), rows holding their tokens or platform id, and
    their key replaced by the stand-in's wherever it stays (aggregates the build keeps)."""
    platform, surrogate = tenant.platform, stand_in.surrogate
    steps: list[Step | None] = []
    for schema in raw_schemas(con, tenant.id):
        steps += _blanking_steps(con, schema, platform)
        for table, people in PEOPLE[platform].items():
            if not has_table(con, schema, table) or table == "users":
                continue
            present = warehouse.columns(con, schema, table)
            fields = ", ".join(f"'{name}'" for name in PERSON_FIELDS)
            for name in (*people.people, *people.field_values):
                if name in people.people:
                    where, value = f'"{name}" in (select id from erased_people)', surrogate
                else:
                    where = (f'field_name in ({fields}) and "{name}" in'
                             " (select cast(id as varchar) from erased_people)")
                    value = str(surrogate)
                assign, values = f'"{name}" = ?', (value,)
                if people.keys.get(name) in present:  # the key the loader wrote beside the id
                    assign, values = f'{assign}, "{people.keys[name]}" = ?', (value, stand_in.key)
                steps.append(Step(schema, table, where, (), assign, values))
        if has_table(con, schema, "users"):
            identity = _identity(platform)
            assign = ", ".join(f'"{name}" = ?' for name in identity)
            values = {"surrogate": surrogate, "key": stand_in.key, "none": None}
            steps.append(Step(schema, "users", "id in (select id from erased_people)", (), assign,
                              tuple(values[kind] for kind in identity.values())))
        con.execute("create or replace temp table no_tickets (id bigint)")
        steps.append(quarantine_step(con, schema, platform, people="erased_people", tickets="no_tickets"))
    steps += derived_steps(con, tenant.id, tickets="erased_tickets")
    tokens = [key for key in keys if key not in user_keys]
    for schema, table, names in derived_tables(con, tenant.id):
        texts = [name for name, data_type in names.items() if data_type in TEXT_TYPES]
        ids = [name for name in names if name in PERSON_ID_COLUMNS and name != "ticket_id"]
        holding = [f'"{name}" in ({", ".join("?" * len(tokens))})' for name in texts]
        holding += [f'"{name}" in (select id from erased_people)' for name in ids]
        if holding:
            steps.append(Step(schema, table, f"tenant_id = ? and ({' or '.join(holding)})",
                              (tenant.id, *[t for _ in texts for t in tokens])))
    for schema, table, names in derived_tables(con, tenant.id):
        steps += [Step(schema, table, f'tenant_id = ? and "{name}" in ({", ".join("?" * len(user_keys))})',
                       (tenant.id, *user_keys), f'"{name}" = ?', (stand_in.key,))
                  for name, data_type in names.items() if data_type in TEXT_TYPES]
    return [step for step in steps if step is not None]


def _blanking_steps(con: duckdb.DuckDBPyConnection, schema: str, platform: str) -> list[Step]:
    """What the ``erased_people`` wrote into custom fields: the values of their changes, and the
    ticket's current value of a field they changed."""
    authored = AUTHORED.get(platform, {}).get("ticket_events")
    if authored is None or not has_table(con, schema, "ticket_events"):
        return []
    by = " or ".join(f'"{name}" in (select id from erased_people)' for name in authored.by)
    changes = f"{authored.sql()} and ({by})"
    steps = []
    values = AUTHORED_VALUES.get(platform, {})
    for table, (ticket, field_id, value) in values.items():
        if has_table(con, schema, table):
            steps.append(Step(schema, table, f'("{ticket}", cast("{field_id}" as varchar)) in'
                              f' (select ticket_id, "{authored.field}" from {quoted(schema, "ticket_events")}'
                              f" where {changes})", (), f'"{value}" = null'))
    blanked = ", ".join(f'"{v}" = null' for v in authored.values)
    steps.append(Step(schema, "ticket_events", changes, (), blanked))
    return steps

