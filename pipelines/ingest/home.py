"""The one place that knows where deskpulse keeps state and outputs.

Everything lives under ``DESKPULSE_HOME`` (default ``./.deskpulse``): the DuckDB warehouse,
serving files, dlt pipeline state, dbt's artefacts and run logs.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


def home() -> Path:
    """The deskpulse home folder, created on first use."""
    path = Path(os.environ.get("DESKPULSE_HOME", ".deskpulse")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def warehouse_path() -> Path:
    """The DuckDB warehouse file that dlt loads and dbt builds."""
    return home() / "warehouse.duckdb"


def serving_dir() -> Path:
    """The read-only DuckDB files BI tools query (``assets/serving.py`` writes them)."""
    return home() / "serving"


def dlt_pipelines_dir() -> Path:
    """Where dlt keeps its local pipeline working folders (state, pending packages)."""
    return home() / "dlt"


def dbt_artifacts_dir() -> Path:
    """dbt's target folder and log of the runs: the same folder every run, so the checkout stays
    clean and dbt's partial parsing carries over."""
    return home() / "dbt"


def logs_dir() -> Path:
    """Run logs written by the CLI."""
    path = home() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


BUILD_INPUTS_TABLE = "main.dbt_build_inputs"  # one row: the fingerprint of the last successful build


def raw_dataset(tenant_id: str) -> str:
    """The warehouse schema that holds one tenant's raw, pseudonymised API data."""
    return f"raw_{tenant_id}"


@contextlib.contextmanager
def environment(**values: str) -> Iterator[None]:
    """Set environment variables (``DESKPULSE_HOME``, ``DESKPULSE_WAREHOUSE``, ...) for the duration,
    then put back what was there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
