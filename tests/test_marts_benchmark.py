"""The cross-tenant benchmark never shows a cell below its thresholds.

Four small worlds are built so that many benchmark cells are small: two tenants start in January,
a third joins in mid-February and a fourth only in late March, so January pools two tenants; the
api and mobile channels are rare, so many months hold few of their tickets. They are loaded
through the real dlt source from their fake APIs, the benchmark is built, and it must equal the
ground truth's: every cell of at least 3 tenants and 50 tickets, and none other (suppressed cells
are absent, not rounded). The thresholds are dbt vars: lowered, more cells appear, again exactly
the truth's. After a retention purge of one tenant and a rebuild, the months that may pool its
purged tickets keep their cells as they were, the truth's still.
"""

from __future__ import annotations

import math
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from deskpulse.benchmarks.transform import dbt_build, load_worlds
from pipelines.ingest.config import Credentials, TenantConfig
from pipelines.ingest.home import environment
from pipelines.privacy.retention import purge_tenant, purged_before
from pipelines.world import World, WorldConfig
from pipelines.world.truth import benchmark, truth

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # four worlds of its own, loaded, built three times

WORLDS = (
    ("bm_north", 31, 700, datetime(2026, 1, 5, tzinfo=UTC), 120, "Europe/Amsterdam"),
    ("bm_east", 32, 700, datetime(2026, 1, 5, tzinfo=UTC), 120, "America/New_York"),
    ("bm_south", 33, 350, datetime(2026, 2, 16, tzinfo=UTC), 78, "Australia/Sydney"),
    ("bm_west", 34, 200, datetime(2026, 3, 23, tzinfo=UTC), 43, "Asia/Tokyo"),
)
FIGURES = ("tenants", "tickets", "median_first_reply_minutes", "p90_first_reply_minutes",
           "median_first_reply_business_minutes", "median_full_resolution_minutes",
           "median_full_resolution_business_minutes", "one_touch_rate", "reopen_rate", "csat_pct")


@pytest.fixture(scope="module")
def worlds() -> list[World]:
    return [World(WorldConfig(tenant_id=t, seed=seed, tickets=n, start=start, days=days, timezone=tz))
            for t, seed, n, start, days, tz in WORLDS]


@pytest.fixture(scope="module")
def warehouse(worlds, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("benchmark")
    load_worlds(worlds, {w.config.tenant_id: w.end for w in worlds}, folder)
    return folder


def build(warehouse: Path, worlds: list[World], purged: dict[str, str] | None = None,
          **thresholds) -> dict[tuple, dict]:
    tenants = {w.config.tenant_id: "zendesk" for w in worlds}
    extra = {f"benchmark_{name}": value for name, value in thresholds.items()}
    extra["purged_before"] = purged or {}
    dbt_build(warehouse / "warehouse.duckdb", tenants, warehouse / "target", select="+benchmark_monthly",
              extra_vars=extra)
    with duckdb.connect(str(warehouse / "warehouse.duckdb"), read_only=True) as con:
        cursor = con.execute("select * from marts.benchmark_monthly")
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    assert "tenant_id" not in names and not any(n.endswith("_key") for n in names)
    return {(r["benchmark_month"], r["via_channel"]): r for r in rows}


def check(shown: dict, worlds: list[World], min_tenants: int, min_tickets: int) -> None:
    expected, sizes = benchmark([truth(w) for w in worlds], min_tenants, min_tickets)
    small = {cell for cell, (tenants, tickets) in sizes.items()
             if tenants < min_tenants or tickets < min_tickets}
    assert small and expected, "the worlds must produce both small and publishable cells"
    assert not small & set(shown), sorted(small & set(shown))
    assert all(r["tenants"] >= min_tenants and r["tickets"] >= min_tickets for r in shown.values())
    assert set(shown) == set(expected)
    for cell, want in expected.items():
        for name in FIGURES:
            got, wanted = shown[cell][name], getattr(want, name)
            assert (got is None and wanted is None) or math.isclose(got, wanted, abs_tol=0.01), (
                cell, name, got, wanted)


def test_default_thresholds_suppress_small_cells(warehouse, worlds):
    shown = build(warehouse, worlds)
    check(shown, worlds, 3, 50)
    assert not any(month.month == 1 for month, _ in shown), "January pools only two tenants"


def test_thresholds_are_dbt_vars(warehouse, worlds):
    shown = build(warehouse, worlds, min_tenants=2, min_tickets=10)
    check(shown, worlds, 2, 10)
    assert any(month.month == 1 for month, _ in shown)


def test_a_one_tenant_benchmark_is_refused(warehouse, worlds):
    with pytest.raises(RuntimeError, match="benchmark_min_tenants must be at least 2"):
        build(warehouse, worlds, min_tenants=1)


def test_months_that_may_pool_purged_tickets_keep_their_cells(warehouse, worlds, tmp_path):
    """bm_north keeps 50 days: its tickets last active before mid-March go. The months that begin
    before its kept_before (January to March) keep their cells exactly; later months are
    recomputed from the kept tickets; all of it is still the truth's. A kept cell that a raised
    threshold no longer allows is removed."""
    folder = tmp_path / "purged"
    shutil.copytree(warehouse, folder)
    shown = build(folder, worlds)
    north = worlds[0]
    tenant = TenantConfig(id=north.config.tenant_id, platform="zendesk", base_url="http://127.0.0.1:1",
                          credentials=Credentials("UNUSED_EMAIL", "UNUSED_TOKEN"), retention_days=50)
    with environment(DESKPULSE_HOME=str(folder)):
        purge = purge_tenant(tenant, now=north.end)
        purged = purged_before([w.config.tenant_id for w in worlds])
    assert purge.tickets > 100 and purge.cutoff.date() == datetime(2026, 3, 16).date()
    rebuilt = build(folder, worlds, purged)
    kept = {cell: row for cell, row in shown.items() if cell[0] < datetime(2026, 4, 1).date()}
    assert kept and {cell: rebuilt[cell] for cell in kept} == kept
    check(rebuilt, worlds, 3, 50)
    raised = build(folder, worlds, purged, min_tickets=100)
    assert all(row["tickets"] >= 100 for row in raised.values())
    assert {cell: row for cell, row in raised.items() if cell in kept} == {
        cell: row for cell, row in kept.items() if row["tickets"] >= 100}
