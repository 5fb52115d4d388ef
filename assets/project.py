"""Where the dbt project is, for the dbt assets and for ``dagster-dbt project prepare-and-package``.

Kept apart from the assets so the manifest can be prepared before any asset module is imported.
"""

from __future__ import annotations

from pathlib import Path

from dagster_dbt import DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_PROJECT.prepare_if_dev()

WAREHOUSE_POOL = "warehouse"  # every step that writes the DuckDB file; one writer at a time
