"""A failing quality gate says what to blame: tenant, table, check and the first offending keys.

A copy of the shared world (tests/conftest.py), loaded and published; then a raw ticket gets a
creation time the raw suite refuses (1985, written into raw as a dlt merge writes a row, with a
load of its own: the ingest would have quarantined it), and a mart row a negative first-reply
time. The next ingest of that tenant and the next re-audit of the marts fail, and both the run
output and ``deskpulse status`` name the tenant, the table, the check and the planted row by its
key, never by a value. The raw check looks only at the rows of the loads since it last passed.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest
from dagster._core.event_api import PartitionKeyFilter

from assets.runner import dagster_instance, execute
from assets.status import status_report
from pipelines.ingest.home import warehouse_path
from pipelines.platforms import load_tenants

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # runs jobs on a copy of the shared world
PLANTED_LOAD = "1900000000.0"  # a load id after any the world's loads have
RAW_TICKETS_CHECK = dg.AssetCheckKey(dg.AssetKey(["zendesk", "tickets"]), "gx_tickets")


def planted(sql: str, *parameters) -> int:
    """Run ``sql`` on the warehouse (its first row's first value, if it returns rows)."""
    with duckdb.connect(str(warehouse_path())) as con:
        rows = con.execute(sql, list(parameters)).fetchall()
        con.execute("checkpoint")
    return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def gate(shared_world_copy):
    from assets.definitions import defs

    ticket = planted("select min(id) from raw_northwind.tickets")
    planted("update raw_northwind.tickets set created_at = timestamptz '1985-06-01 00:00:00+00', "
            "_dlt_load_id = ? where id = ?", PLANTED_LOAD, ticket)
    planted("insert into raw_northwind._dlt_loads (load_id, schema_name, status, inserted_at) "
            "select ?, schema_name, 0, now() from raw_northwind._dlt_loads limit 1", PLANTED_LOAD)
    reply = planted("select min(ticket_id) from marts.fct_tickets where tenant_id = 'globex' "
                    "and first_reply_minutes is not null")
    lines: list[str] = []
    with dagster_instance() as instance:
        ingest = execute(defs.resolve_job_def("ingest"), instance, lines.append, partition_key="northwind")
        planted("update marts.fct_tickets set first_reply_minutes = -5 "
                "where tenant_id = 'globex' and ticket_id = ?", reply)
        audit = execute(defs.resolve_job_def("publish"), instance, lines.append)
        status = status_report(instance, load_tenants(shared_world_copy.tenant_file))
        [record] = instance.event_log_storage.get_asset_check_execution_history(
            RAW_TICKETS_CHECK, limit=1, partition_filter=PartitionKeyFilter(key="northwind"))
        evaluation = record.event.dagster_event.event_specific_data
        checked = {name: entry.value for name, entry in evaluation.metadata.items()}
    return {"ticket": ticket, "reply": reply, "ingest": ingest, "audit": audit, "checked": checked,
            "lines": [line.strip() for line in "\n".join(lines).splitlines()], "status": status}


def test_a_failed_raw_check_names_tenant_table_check_and_the_record(gate):
    expected = (f"tenant northwind, table raw_northwind.tickets, check gx_tickets (critical): "
                f"expect_column_values_to_be_between(created_at): 1 row; "
                f"first offending: id={gate['ticket']}")
    assert not gate["ingest"].success
    assert expected in gate["lines"], [line for line in gate["lines"] if "check" in line]
    assert f"  {expected}" in gate["status"].splitlines()


def test_a_raw_check_looks_at_the_rows_loaded_since_it_last_passed(gate):
    """The world's load was checked whole when the shared world was built; the ingest after it
    brought nothing new, so the planted row is the one row of the table checked again."""
    assert gate["checked"]["rows_checked"] == 1
    assert gate["checked"]["rows"] > 100
    assert gate["checked"]["rows_checked_from"].startswith("loads finished after ")


def test_a_failed_mart_check_names_the_tenant_of_the_offending_rows_and_their_keys(gate):
    expected = (f"tenant globex, table marts.fct_tickets, check gx_fct_tickets (critical): "
                f"expect_column_values_to_be_between(first_reply_minutes): 1 row; first offending: "
                f"tenant_id=globex, ticket_id={gate['reply']}")
    assert not gate["audit"].success
    assert expected in gate["lines"], [line for line in gate["lines"] if "check" in line]
    assert f"  {expected}" in gate["status"].splitlines()


def test_what_the_gate_says_holds_keys_never_values(gate):
    told = "\n".join(gate["lines"]) + gate["status"]
    assert "1985" not in told and "-5" not in told
