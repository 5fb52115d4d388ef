"""Shared test setup: the dbt manifest Dagster needs, parsed once if ``make`` has not done it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def dbt_manifest() -> None:
    from assets.project import DBT_PROJECT, dbt_cli

    if not DBT_PROJECT.manifest_path.exists():
        dbt_cli().cli(["parse", "--quiet"], target_path=DBT_PROJECT.target_path).wait()
