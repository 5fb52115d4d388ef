"""Where the dbt project is, for the dbt assets and for ``dagster-dbt project prepare-and-package``.

Kept apart from the assets so the manifest can be prepared before any asset module is imported.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_PROJECT.prepare_if_dev()
# The dbt next to this interpreter, so `.venv/bin/deskpulse` works without an activated venv.
DBT_EXECUTABLE = shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))


def dbt_cli() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)

WAREHOUSE_POOL = "warehouse"  # every step that writes the DuckDB file; one writer at a time
