"""Where the dbt project is, for the dbt assets and for ``dagster-dbt project prepare-and-package``.

Kept apart from the assets so the manifest can be prepared before any asset module is imported.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from pipelines.ingest.home import dbt_artifacts_dir, environment

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_PROJECT.prepare_if_dev()
# The dbt next to this interpreter, so `.venv/bin/deskpulse` works without an activated venv.
DBT_EXECUTABLE = shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))
DBT_SOURCES = ("*.sql", "*.yml", "*.csv")  # what the manifest is parsed from, as the Makefile says
PARTIAL_PARSE = "partial_parse.msgpack"


def dbt_cli() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=DBT_EXECUTABLE)


def run_target() -> Path:
    """dbt's target folder for runs, under ``DESKPULSE_HOME`` so the checkout stays clean. dagster-dbt
    starts a target folder from the checkout's partial parse, copied with the checkout's mode (0644);
    it is copied here first, as a new file and so private like everything else in the home."""
    target = dbt_artifacts_dir()
    target.mkdir(parents=True, exist_ok=True)
    seed = DBT_PROJECT_DIR / DBT_PROJECT.target_path / PARTIAL_PARSE
    if seed.exists() and not (target / PARTIAL_PARSE).exists():
        shutil.copyfile(seed, target / PARTIAL_PARSE)
    return target


def manifest_outdated() -> bool:
    """The manifest the Definitions load is missing, or older than a file of the dbt project."""
    manifest = DBT_PROJECT.manifest_path
    if not manifest.exists():
        return True
    built, target = manifest.stat().st_mtime, DBT_PROJECT_DIR / DBT_PROJECT.target_path
    return any(path.stat().st_mtime > built
               for pattern in DBT_SOURCES for path in DBT_PROJECT_DIR.rglob(pattern)
               if target not in path.parents and not path.name.startswith("."))  # dbt's .user.yml


def prepare_manifest() -> None:
    """What ``make manifest`` does: dagster-dbt's preparation (``dbt parse``), with this venv's dbt."""
    path = os.pathsep.join([str(Path(DBT_EXECUTABLE).parent), os.environ.get("PATH", "")])
    with environment(PATH=path):
        DBT_PROJECT.preparer.prepare(DBT_PROJECT)


WAREHOUSE_POOL = "warehouse"  # every step that writes the DuckDB file; one writer at a time
