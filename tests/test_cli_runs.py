"""A newcomer's first runs, as separate ``deskpulse`` processes started with the usual umask 022:
the demo checks its configuration first, leaves nothing under DESKPULSE_HOME that other users can
read and nothing in the checkout's dbt folder, writes one log per run; a demo of another size
rebuilds the world; ``deskpulse dev`` stops everything it started when it is stopped. Each of
these runs a demo of its own (the slow lane). On the shared world (tests/conftest.py), whose home
holds the demo's tenant file: dbt tests report under readable names; on a copy of it, ``status``
finds the demo's tenant file by itself, and a backfill that brings nothing new says so."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import duckdb
import psutil
import pytest

from assets.project import DBT_PROJECT_DIR
from deskpulse.demo import demo_tenants, demo_worlds
from pipelines.world.truth import truth

TICKETS = 40
pytestmark = pytest.mark.integration


def deskpulse(home: Path, *args: str, timeout: float = 1800, **env: str) -> subprocess.CompletedProcess:
    """``deskpulse ARGS`` in its own process, as a login with umask 022 starts it."""
    environment = {**os.environ, "DESKPULSE_HOME": str(home), **env}
    for name in ("DAGSTER_HOME", "DESKPULSE_TENANTS", "DESKPULSE_AUTOMATION", "DESKPULSE_SERVING_GROUP"):
        if name not in env:
            environment.pop(name, None)
    return subprocess.run([str(Path(sys.executable).with_name("deskpulse")), *args], env=environment,
                          capture_output=True, text=True, timeout=timeout, umask=0o022)


def tree(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()} if folder.exists() else {}


@pytest.fixture(scope="module")
def demo(tmp_path_factory, dbt_manifest):
    from deskpulse.cli import prepare_dbt

    prepare_dbt()  # the manifest the graph loads is the only dbt file the checkout keeps
    checkout = {name: tree(DBT_PROJECT_DIR / name) for name in ("target", "logs")}
    home = tmp_path_factory.mktemp("home")
    run = deskpulse(home, "demo", "--tickets", str(TICKETS))
    return {"home": home, "run": run, "checkout": checkout}


@pytest.mark.slow
def test_the_demo_checks_its_configuration_before_it_extracts(demo):
    run = demo["run"]
    assert run.returncode == 0, run.stderr[-3000:]
    checked = run.stdout.index("Checked 2 tenant(s)")
    assert checked < run.stdout.index("ingest northwind") and "API logins" in run.stdout
    assert "2 tenant(s) loaded" in run.stdout and "marts checked and published" in run.stdout


@pytest.mark.slow
def test_nothing_under_the_home_can_be_read_by_other_users(demo):
    home = demo["home"]
    seen = {path.relative_to(home).parts[0] for path in home.iterdir()}
    assert {"warehouse.duckdb", "dlt", "dagster", "logs", "serving", "demo"} <= seen
    readable = [f"{oct(path.stat().st_mode & 0o777)} {path}" for path in [home, *home.rglob("*")]
                if path.stat().st_mode & 0o077]
    assert not readable, readable[:10]
    served = home / "serving" / "tenants" / "northwind.duckdb"
    assert served.stat().st_mode & 0o777 == 0o400  # read-only, for its owner


@pytest.mark.slow
def test_the_checkout_dbt_folder_is_left_as_it_was(demo):
    assert {name: tree(DBT_PROJECT_DIR / name) for name in ("target", "logs")} == demo["checkout"]
    assert (demo["home"] / "dbt" / "run_results.json").exists()  # dbt's artefacts went to the home


@pytest.mark.slow
def test_each_run_writes_a_log_of_its_own(demo):
    (log,) = (demo["home"] / "logs").glob("run-*.log")
    assert f"Run log: {log}" in demo["run"].stdout
    assert "dbt" in log.read_text()


def test_dbt_tests_report_under_readable_check_names(in_shared_world):
    from assets.runner import dagster_instance

    key = dg.AssetCheckKey(dg.AssetKey(["marts", "fct_tickets"]), "no_duplicate_keys")
    with dagster_instance() as instance:
        latest = instance.event_log_storage.get_latest_asset_check_execution_by_key([key])
    assert latest[key].status.value == "SUCCEEDED"


def test_status_reads_the_demos_tenant_file_and_says_what_it_could_not_judge(shared_world_copy):
    status = deskpulse(shared_world_copy.home, "status")
    assert status.returncode == 0, status.stderr[-3000:]
    tenants = shared_world_copy.home / "demo" / "tenants.yaml"
    assert status.stdout.startswith(f"Tenant file: {tenants} (the demo's: neither --tenants nor "
                                    "DESKPULSE_TENANTS is set)")
    assert "northwind" in status.stdout and "globex" in status.stdout
    assert "freshness: not judged yet: none of the" in status.stdout
    assert "0 fresh, 0 stale" not in status.stdout


@pytest.mark.slow  # a backfill run on a copy of the shared world
def test_a_backfill_that_brings_nothing_new_says_what_happened(shared_world_copy):
    backfill = deskpulse(shared_world_copy.home, "backfill", "--tenants", str(shared_world_copy.tenant_file),
                         "--start", "2020-01-01", "--end", "2020-01-02")
    assert backfill.returncode == 0, backfill.stderr[-3000:]
    done = backfill.stdout.splitlines()[-1]
    assert "2 tenant(s) loaded" in done and "no dbt model rebuilt" in done, done
    assert "serving files left as they were" in done and "published" not in done, done


@pytest.mark.slow
def test_a_rerun_that_finds_nothing_new_rebuilds_no_model(demo, monkeypatch):
    """The exports serve their last second again and the full lists come whole every time; none of
    it is new, so the build after the load has nothing to do."""
    monkeypatch.setenv("DESKPULSE_HOME", str(demo["home"]))
    with demo_tenants(TICKETS) as again:  # the same worlds and secrets, on new ports
        rerun = deskpulse(demo["home"], "run", "--tenants", str(again.tenant_file))
        served = sum(api.stats.get("ticket_events", {}).get("items", 0) for api in again.apis.values())
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert served > 0  # the last second of events, again
    done = rerun.stdout.splitlines()[-1]
    assert "2 tenant(s) loaded" in done and "no dbt model rebuilt" in done, done
    # what tells the build plan a load wrote a big table: every row's load id (pipelines/load.py)
    with duckdb.connect(str(demo["home"] / "warehouse.duckdb"), read_only=True) as con:
        unstamped = con.execute("select count(*) filter (where _dlt_load_id is null), count(*)"
                                " from raw_northwind.ticket_events").fetchall()[0]
    assert unstamped[0] == 0 < unstamped[1]


@pytest.mark.slow
def test_a_demo_of_another_size_rebuilds_the_demo_world(demo):
    bigger = TICKETS + 25
    run = deskpulse(demo["home"], "demo", "--tickets", str(bigger))
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"holds {TICKETS} tickets per tenant; dropping it to build one of {bigger}" in run.stdout
    with duckdb.connect(str(demo["home"] / "warehouse.duckdb"), read_only=True) as con:
        for world in demo_worlds(bigger):
            tenant_id = world.config.tenant_id
            loaded = con.execute("select ticket_id, status from marts.fct_tickets where tenant_id = ?",
                                 [tenant_id]).fetchall()
            expected = {t.ticket_id: t.status for t in truth(world).tickets.values()}
            assert dict(loaded) == expected, tenant_id


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_dev_stops_every_process_it_started_on_sigterm(tmp_path):
    port = free_port()
    environment = {**os.environ, "DESKPULSE_HOME": str(tmp_path)}
    environment.pop("DAGSTER_HOME", None)
    dev = subprocess.Popen([str(Path(sys.executable).with_name("deskpulse")), "dev", "--tickets", "20",
                            "--port", str(port)], env=environment, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, umask=0o022)
    started = []
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and dev.poll() is None:
            started = psutil.Process(dev.pid).children(recursive=True)
            names = " ".join(map(_command_line, started))
            if "dagster_webserver" in names and "_daemon run" in names and _answers(port):
                break
            time.sleep(2)
        else:
            pytest.fail("deskpulse dev did not start the Dagster UI and daemon")
        assert len(started) >= 3
        dev.send_signal(signal.SIGTERM)
        assert dev.wait(timeout=120) != 0
        time.sleep(1)
        left = [p for p in started if _alive(p)]
        assert not left, [_command_line(p) for p in left]
    finally:
        for process in [*started, psutil.Process(dev.pid) if dev.poll() is None else None]:
            if process is not None and _alive(process):
                process.kill()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _command_line(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # gone, or a zombie: it runs nothing
        return ""


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
