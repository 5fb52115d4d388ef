"""One bad value blocks nothing: the graph end to end while a tenant's helpdesk serves a ticket
updated in year 9999 and a tag that is not valid Unicode, beside a tenant that serves neither.

Run 1 loads both cleanly. Run 2: the new versions of two tickets hold those values; they are
quarantined with their reasons, the tickets' earlier versions stay, flagged ``is_stale_upstream``,
and both tenants publish; the load metadata
reconciles the counts and ``deskpulse status`` and ``deskpulse quarantine list`` say what is held
(never the values). Run 3: the 9999 ticket, fixed upstream and changed since, loads and is
published unflagged; the tag's ticket has not changed, so it stays held. ``deskpulse quarantine
retry`` then reads it again: it loads, leaves the quarantine and the flag clears.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml

from assets.runner import dagster_instance, run_graph
from assets.serving import read_publish, tenant_file
from assets.status import status_report
from deskpulse.cli import main
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.ingest.home import warehouse_path
from pipelines.platforms import load_tenants
from pipelines.world import World, WorldConfig
from tests.ingest_support import use_environment

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class Corrupting(FakeZendesk):
    """Serves the tickets in ``broken`` as no real account should: updated in year 9999, or with a
    tag holding a lone surrogate. Emptied, it serves them as they are."""

    broken: dict[int, str] = {}

    def _ticket_json(self, row: Any, custom_field_ids: tuple[int, ...]) -> dict[str, Any]:
        item = super()._ticket_json(row, custom_field_ids)
        if self.broken.get(item["id"]) == "year 9999":
            return {**item, "updated_at": "9999-12-31T23:59:59Z"}
        if self.broken.get(item["id"]) == "lone surrogate":
            return {**item, "tags": [*item["tags"], "bad\ud800tag"]}
        return item


def plan(world: World) -> dict[str, Any]:
    """Three runs at which ticket x has three versions, and a tagged ticket y that is loaded at the
    first, changed by the second and unchanged at the third."""
    tickets = list(world.tickets())
    for x in tickets:
        times = sorted({audit.at for audit in x.audits})
        for picked in itertools.combinations(times, 3):
            runs = [at + timedelta(minutes=2) for at in picked]
            for y in tickets:
                if y.id != x.id and y.tags and y.state_at(runs[0]) is not None \
                        and y.updated_at(runs[0]) != y.updated_at(runs[1]) == y.updated_at(runs[2]):
                    return {"x": x.id, "y": y.id, "as_of": runs}
    raise AssertionError("the world has no such pair of tickets")


def fct(ticket_id: int) -> dict:
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        found = con.execute("select updated_at, is_stale_upstream from marts.fct_tickets as f"
                            " join raw_acme.tickets as t on t.id = f.ticket_id"
                            f" where f.tenant_id = 'acme' and f.ticket_id = {ticket_id}").fetchall()
    return {"updated_at": found[0][0], "stale": found[0][1]} if found else {}


def tickets_metadata(instance: dg.DagsterInstance) -> dict:
    records = instance.fetch_materializations(dg.AssetRecordsFilter(
        asset_key=dg.AssetKey(["zendesk", "tickets"]), asset_partitions=["acme"]), limit=1).records
    return {key: value.value for key, value in records[0].asset_materialization.metadata.items()}


def published(tenant_id: str) -> datetime | None:
    found = read_publish(tenant_file(tenant_id))
    return found.published_at if found else None


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, dbt_manifest: None):
    folder = tmp_path_factory.mktemp("quarantine")
    world = World(WorldConfig(tenant_id="acme", seed=12, tickets=60))
    story = plan(world)
    x, y, as_of = story["x"], story["y"], story["as_of"]
    seen: dict[str, Any] = {"story": story, "world": world}
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_environment(monkeypatch, folder)
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        with Corrupting(world, as_of=as_of[0]) as acme, FakeZendesk(world, as_of=as_of[0]) as beta:
            path = folder / "tenants.yaml"
            path.write_text(yaml.safe_dump({"tenants": [
                {"id": tenant_id, "platform": "zendesk", "base_url": api.base_url,
                 "timezone": world.config.timezone, "start_date": world.start.date().isoformat(),
                 "credentials": {"email_env": "ZENDESK_EMAIL", "token_env": "ZENDESK_TOKEN"},
                 "secret_env": f"{tenant_id.upper()}_SECRET"}
                for tenant_id, api in (("acme", acme), ("beta", beta))]}))
            seen["first"] = run_graph(path)
            seen["first_fct"], seen["first_published"] = fct(x), {t: published(t) for t in ("acme", "beta")}

            acme.as_of = beta.as_of = as_of[1]
            acme.broken = {x: "year 9999", y: "lone surrogate"}
            seen["second"] = run_graph(path)
            seen["second_fct"] = {x: fct(x), y: fct(y)}
            seen["second_published"] = {t: published(t) for t in ("acme", "beta")}
            with dagster_instance() as instance:
                seen["second_status"] = status_report(instance, load_tenants(path))
                seen["second_metadata"] = tickets_metadata(instance)
            seen["second_list"] = cli(["quarantine", "list", "--tenant", "acme", "--tenants", str(path)])

            acme.as_of = beta.as_of = as_of[2]
            acme.broken = {}  # both fixed upstream; only x changed since
            seen["third"] = run_graph(path)
            seen["third_fct"] = {x: fct(x), y: fct(y)}

            seen["retry"] = cli(["quarantine", "retry", "--tenant", "acme", "--tenants", str(path)])
            seen["retry_fct"] = {x: fct(x), y: fct(y)}
            with dagster_instance() as instance:
                seen["retry_status"] = status_report(instance, load_tenants(path))
    yield seen


def cli(argv: list[str]) -> tuple[int, str]:
    """Run a deskpulse command in process; its exit code and what it printed."""
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(argv)
    return code, printed.getvalue()


def test_a_bad_value_is_quarantined_and_both_tenants_still_publish(runs):
    assert runs["first"].ok and runs["second"].ok, runs["second"].failures
    for tenant_id in ("acme", "beta"):
        assert runs["second_published"][tenant_id] > runs["first_published"][tenant_id], tenant_id


def test_the_earlier_version_stays_flagged_stale_upstream(runs):
    x, y = runs["story"]["x"], runs["story"]["y"]
    assert runs["first_fct"]["stale"] is False
    assert runs["second_fct"][x] == {**runs["first_fct"], "stale": True}  # the version of run 1, flagged
    assert runs["second_fct"][y]["stale"] is True


def test_counts_reconcile_in_the_load_metadata(runs):
    metadata = runs["second_metadata"]
    assert metadata["records_read"] == metadata["records_loaded"] + metadata["records_quarantined"]
    assert (metadata["records_quarantined"], metadata["quarantined_now"]) == (1, 1)


def test_status_and_quarantine_list_say_what_is_held_never_the_values(runs):
    x, y = runs["story"]["x"], runs["story"]["y"]
    held = "  QUARANTINE  acme: 2 record(s): ticket_tags 1, tickets 1"
    assert f"{held} (deskpulse quarantine list --tenant acme)" in runs["second_status"].splitlines()
    code, listing = runs["second_list"]
    assert code == 0
    assert "tickets" in listing and "updated_at: more than a day after the run started" in listing
    assert "tag: not valid Unicode (a lone surrogate)" in listing
    assert str(x) in listing and str(y) in listing
    assert "9999" not in listing and "bad" not in listing


def test_the_record_fixed_upstream_loads_on_the_next_run_and_is_published_unflagged(runs):
    x, y = runs["story"]["x"], runs["story"]["y"]
    assert runs["third"].ok, runs["third"].failures
    fixed = runs["world"].ticket(x).updated_at(runs["story"]["as_of"][2])
    assert runs["third_fct"][x] == {"updated_at": fixed, "stale": False}
    assert runs["third_fct"][y]["stale"] is True  # unchanged upstream: the regular run resumed after it


def test_a_retry_reads_the_held_record_again_and_the_flag_clears(runs):
    y = runs["story"]["y"]
    code, printed = runs["retry"]
    assert code == 0, printed
    assert "1 record(s) loaded cleanly and left the quarantine; 0 still held." in printed
    assert runs["retry_fct"][y]["stale"] is False
    assert "QUARANTINE" not in runs["retry_status"]
