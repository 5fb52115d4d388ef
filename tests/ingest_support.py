"""What the ingest tests share: tenants wired to a fake API through the environment, and the raw
tables read back from the warehouse for comparison."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.fakes.zendesk.api import DEFAULT_EMAIL, DEFAULT_TOKEN, FakeZendesk
from pipelines.ingest import home
from pipelines.ingest.config import Credentials, TenantConfig

SECRETS = {"acme": "acme-secret-0123456789abcdef0123456789", "beta": "beta-secret-0123456789abcdef0123456789"}


class FakeClock:
    """A clock that moves only when something sleeps on it: waits are recorded, never spent, so a
    test asserts how long and in which order code waited without depending on the machine."""

    def __init__(self, start: float = 1_000.0):
        self.now, self.sleeps = start, []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += max(seconds, 0.0)


def use_environment(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """A fresh DESKPULSE_HOME, the fake API's login, and every test tenant's secret."""
    monkeypatch.setenv("DESKPULSE_HOME", str(folder))
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("ZENDESK_EMAIL", DEFAULT_EMAIL)
    monkeypatch.setenv("ZENDESK_TOKEN", DEFAULT_TOKEN)
    for tenant_id, secret in SECRETS.items():
        monkeypatch.setenv(f"{tenant_id.upper()}_SECRET", secret)


def tenant(api: FakeZendesk, tenant_id: str = "acme", **fields: object) -> TenantConfig:
    """A tenant of the fake API, logged in through the variables ``use_environment`` sets."""
    settings = {"timezone": "Europe/Amsterdam", "retention_days": 365, **fields}
    return TenantConfig(
        id=tenant_id, platform="zendesk", base_url=api.base_url,
        credentials=Credentials("ZENDESK_EMAIL", "ZENDESK_TOKEN"), secret_env=f"{tenant_id.upper()}_SECRET",
        **settings,
    )


def query(sql: str) -> list[tuple]:
    with duckdb.connect(str(home.warehouse_path()), read_only=True) as con:
        return con.execute(sql).fetchall()


def raw_tables(dataset: str = "raw_acme") -> dict[str, list[tuple]]:
    """Every data table of a raw schema (dlt's own tables and columns left out), rows sorted."""
    columns: dict[str, list[str]] = {}
    for table, column in query(
        "select table_name, column_name from information_schema.columns"
        f" where table_schema = '{dataset}' and table_name not like '\\_dlt%' escape '\\'"
        " and column_name not like '\\_dlt%' escape '\\' order by table_name, ordinal_position"
    ):
        columns.setdefault(table, []).append(column)
    return {
        table: sorted(query(f"select {', '.join(names)} from {dataset}.{table}"), key=repr)
        for table, names in columns.items()
    }
