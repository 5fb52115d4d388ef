"""Shared test setup: the dbt manifest Dagster needs, prepared once if ``make`` has not done it."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> None:
    from assets.project import DBT_PROJECT

    if not DBT_PROJECT.manifest_path.exists():
        DBT_PROJECT.preparer.prepare(DBT_PROJECT)
