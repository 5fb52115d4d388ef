"""Publishing tells the truth about freshness, on the demo world, run after run:

- a tenant that never loaded (a wrong token) gets no serving file, not an empty one;
- a tenant whose load failed keeps its last good file, publish id and publish time, and
  ``deskpulse status`` says since when its data is stale and why;
- after a publish was blocked by a failed check, a rerun with nothing new checks again (and is
  blocked again while the cause stays), never reports what it did not do; once the cause is
  gone the next run publishes.

The verdict of each run is read from what it left in the serving files.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import duckdb
import pytest

from assets.runner import dagster_instance, run_graph
from assets.serving import read_publish, tenant_file
from pipelines.ingest.home import warehouse_path

TICKETS = 120
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def states(outcome) -> dict[str, str]:
    return {served.tenant_id: served.state for served in outcome.served}


def status() -> str:
    from assets.status import status_report
    from pipelines.ingest.config import tenants_path
    from pipelines.platforms import load_tenants

    with dagster_instance() as instance:
        return status_report(instance, load_tenants(tenants_path(None)))


@pytest.fixture(scope="module")
def demo(demo_world):
    for tenant_id, api in demo_world.apis.items():
        api.as_of = demo_world.worlds[tenant_id].end - timedelta(days=20)
    return demo_world


def test_a_tenant_that_never_loaded_gets_no_serving_file(demo, monkeypatch):
    monkeypatch.setenv("DESKPULSE_DEMO_NORTHWIND_TOKEN", "wrong-token")
    outcome = run_graph(demo.tenant_file)

    assert "401" in outcome.failures["northwind"]
    assert not tenant_file("northwind").exists()
    assert states(outcome) == {"northwind": "not loaded", "globex": "published"}
    assert read_publish(tenant_file("globex")).run_id == outcome.marts_run
    assert "NEVER LOADED northwind: nothing published; last load failed" in status()


def test_a_tenant_whose_load_failed_keeps_its_file_publish_id_and_time(demo, monkeypatch):
    first = run_graph(demo.tenant_file)
    assert first.ok, first.failures
    northwind = tenant_file("northwind")
    kept, kept_digest = read_publish(northwind), digest(northwind)
    assert kept.loaded_at is not None and kept.loaded_at <= kept.published_at

    monkeypatch.setenv("DESKPULSE_DEMO_NORTHWIND_TOKEN", "wrong-token")
    demo.apis["globex"].as_of = demo.worlds["globex"].end  # globex has news; northwind cannot load
    outcome = run_graph(demo.tenant_file)

    assert set(outcome.failures) == {"northwind"}
    assert digest(northwind) == kept_digest
    assert read_publish(northwind) == kept  # the same publish id, publish time and load time
    assert states(outcome) == {"northwind": "kept", "globex": "published"}
    report = status()
    assert "STALE   northwind since" in report and "its last good load" in report
    assert "last load failed" in report and "401" in report and "its serving file kept" in report


def closed_ticket(world) -> int:
    """A ticket that changed last before the first load: incremental builds leave its row alone."""
    first_as_of = world.end - timedelta(days=20)
    return next(ticket.id for ticket in world.tickets()
                if (ticket.updated_at(world.end) or world.end) < first_as_of - timedelta(days=1))


def tamper(sql: str, *parameters) -> list[tuple]:
    with duckdb.connect(str(warehouse_path())) as con:
        return con.execute(sql, list(parameters)).fetchall()


def test_a_blocked_publish_is_checked_again_until_it_passes(demo):
    ticket_id = closed_ticket(demo.worlds["northwind"])
    demo.apis["northwind"].as_of = demo.worlds["northwind"].end  # northwind's news: a build
    before = read_publish(tenant_file("globex"))
    # what a faulty model would leave: a personal value in a mart, which a critical check catches
    [(channel,)] = tamper("select via_channel from marts.fct_tickets where tenant_id = 'northwind' "
                          "and ticket_id = ?", ticket_id)
    tamper("update marts.fct_tickets set via_channel = 'jane.doe@example.com' "
           "where tenant_id = 'northwind' and ticket_id = ?", ticket_id)
    blocked = run_graph(demo.tenant_file)
    assert not blocked.ok and "gx_fct_tickets" in blocked.failures["marts"]
    assert read_publish(tenant_file("globex")) == before
    assert states(blocked) == {"northwind": "NOT published", "globex": "NOT published"}
    assert all("gx_fct_tickets" in served.detail for served in blocked.served)

    again = run_graph(demo.tenant_file)  # nothing new was loaded: the checks still run
    assert not again.ok and "gx_fct_tickets" in again.failures["marts"]
    assert read_publish(tenant_file("globex")) == before
    assert states(again) == {"northwind": "NOT published", "globex": "NOT published"}

    tamper("update marts.fct_tickets set via_channel = ? where tenant_id = 'northwind' and ticket_id = ?",
           channel, ticket_id)
    fixed = run_graph(demo.tenant_file)  # still nothing new: the checks pass now, and it publishes
    assert fixed.ok, fixed.failures
    assert read_publish(tenant_file("globex")).publish_id != before.publish_id
    assert states(fixed) == {"northwind": "published", "globex": "published"}

    settled = run_graph(demo.tenant_file)  # nothing new, nothing unsettled: nothing to do
    assert settled.ok and states(settled) == {"northwind": "up to date", "globex": "up to date"}
