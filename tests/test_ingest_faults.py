"""A load through 5% injected faults and Zendesk's rate limits ends with exactly the raw tables of a
fault-free load, and the pacing keeps 429 answers under 2% of the requests."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.fakes.zendesk import facts
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.fakes.zendesk.transport import Faults, RateLimits
from pipelines.load import load_tenant
from pipelines.sources.zendesk import settings
from pipelines.world import PRODUCT_FIELD, World, WorldConfig
from tests.ingest_support import raw_tables, tenant, use_environment

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of a few dozen items, so a small world takes a couple of hundred requests."""
    monkeypatch.setattr(facts, "TIME_EXPORT_PAGE_SIZE", 40)
    monkeypatch.setattr(settings, "EXPORT_PAGE_SIZE", 40)
    monkeypatch.setattr(settings, "LIST_PAGE_SIZE", 20)
    monkeypatch.setattr(settings, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(settings, "READ_TIMEOUT_SECONDS", 0.3)


def load(world: World, folder: Path, monkeypatch: pytest.MonkeyPatch, **fake: object) -> tuple[dict, dict]:
    """Load the world through a fake API into ``folder``: the raw tables and the API's traffic."""
    use_environment(monkeypatch, folder)
    with FakeZendesk(world, **fake) as api:
        api.prepare()
        load_tenant(tenant(api, custom_fields=(PRODUCT_FIELD,)))
        return raw_tables(), api.traffic


def test_faults_and_rate_limits_change_nothing_in_the_raw_tables(
    small_pages: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(WorldConfig(tenant_id="acme", seed=2, tickets=300))
    clean, _ = load(world, tmp_path / "clean", monkeypatch)
    faulty, traffic = load(world, tmp_path / "faulty", monkeypatch,
                           rate_limits=RateLimits(time_scale=600),
                           faults=Faults(rate=0.05, seed=4, stall_seconds=1.0))

    assert set(faulty) == set(clean)
    for table, rows in clean.items():
        assert faulty[table] == rows, table
    assert traffic["requests"] > 200
    injected = sum(traffic["faults"].values())
    assert 0.02 * traffic["requests"] < injected < 0.1 * traffic["requests"]
    assert len(traffic["faults"]) >= 5, traffic["faults"]
    assert traffic["rate_limited"] < 0.02 * traffic["requests"]
