"""Many tenants, one graph run: a tenant whose credentials the helpdesk refuses is reported in one
line naming it and the HTTP status, and every other tenant still loads into its own raw schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from assets.runner import run_graph
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.world import World, WorldConfig
from tests.ingest_support import query, use_environment

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # a world of its own through the whole graph


def test_a_tenant_with_bad_credentials_fails_alone_and_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dbt_manifest: None
) -> None:
    use_environment(monkeypatch, tmp_path)
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("BETA_ZENDESK_TOKEN", "a-revoked-token")
    world = World(WorldConfig(tenant_id="acme", seed=9, tickets=60))
    with FakeZendesk(world) as acme_api, FakeZendesk(world) as beta_api:
        tenants = [
            {"id": "acme", "base_url": acme_api.base_url,
             "credentials": {"email_env": "ZENDESK_EMAIL", "token_env": "ZENDESK_TOKEN"}},
            {"id": "beta", "base_url": beta_api.base_url,
             "credentials": {"email_env": "ZENDESK_EMAIL", "token_env": "BETA_ZENDESK_TOKEN"}},
        ]
        tenant_file = tmp_path / "tenants.yaml"
        tenant_file.write_text(yaml.safe_dump({"tenants": [
            {**entry, "platform": "zendesk", "secret_env": f"{entry['id'].upper()}_SECRET"}
            for entry in tenants
        ]}))
        outcome = run_graph(tenant_file)

    assert outcome.ingested == ["acme"]
    message = outcome.failures["beta"]
    assert "\n" not in message and "tenant 'beta'" in message and "HTTP 401" in message
    assert "a-revoked-token" not in message
    assert query("select count(*) from raw_acme.tickets")[0][0] == 60
    assert query("select count(*) from information_schema.tables where table_schema = 'raw_beta'"
                 " and table_name = 'tickets'") == [(0,)]
