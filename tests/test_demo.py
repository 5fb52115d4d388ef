"""The demo world of a home: the same size is kept, another size replaces the demo tenants' data
and only theirs. (A whole second demo of another size is run in ``test_cli_runs.py``.)"""

from __future__ import annotations

import json

import duckdb
import pytest

from deskpulse.demo import make_room
from pipelines.ingest.home import dlt_pipelines_dir, warehouse_path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    duckdb.connect(str(warehouse_path())).close()
    (dlt_pipelines_dir() / "zendesk_acme").mkdir(parents=True)  # a real tenant's load state
    return tmp_path


def test_a_home_without_demo_data_has_nothing_to_drop(home):
    assert make_room(500) == []
    assert (dlt_pipelines_dir() / "zendesk_acme").exists()
    assert json.loads((home / "demo" / "world.json").read_text()) == {"tickets": 500}
    assert make_room(500) == []


def test_demo_data_of_another_size_is_dropped_and_only_it(home):
    (dlt_pipelines_dir() / "zendesk_northwind").mkdir()
    (home / "demo").mkdir()
    (home / "demo" / "world.json").write_text(json.dumps({"tickets": 200}))
    assert make_room(200) == []  # the same world: kept, the next run continues it
    assert (dlt_pipelines_dir() / "zendesk_northwind").exists()
    assert make_room(500) == [f"The demo in {home} holds 200 tickets per tenant; dropping it to build one "
                              "of 500"]
    assert not (dlt_pipelines_dir() / "zendesk_northwind").exists()
    assert (dlt_pipelines_dir() / "zendesk_acme").exists()
    assert json.loads((home / "demo" / "world.json").read_text()) == {"tickets": 500}
