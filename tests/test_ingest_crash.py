"""A load process killed (SIGKILL) at several points, then run again, ends with exactly the raw
tables of a load that was never interrupted.

The load runs as its own process (``python -c`` with the tenant file, as a scheduler would start
it) against a fake API in this one; it is killed early and late in extraction, once its package is
normalised and while tables are being loaded, and rerun after each kill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pipelines.fakes.zendesk import facts
from pipelines.fakes.zendesk.api import FakeZendesk
from pipelines.load import load_tenant
from pipelines.world import World, WorldConfig
from tests.ingest_support import raw_tables, tenant, use_environment

pytestmark = [pytest.mark.integration, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[1]
LOAD = "import sys; from pipelines.platforms import load_tenants; from pipelines.load import load_tenant; " \
       "load_tenant(load_tenants(sys.argv[1])[0])"


def start_load(tenant_file: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", LOAD, str(tenant_file)], cwd=REPO, env=dict(os.environ),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when(process: subprocess.Popen, ready: Callable[[], bool], timeout: float = 60) -> None:
    """SIGKILL ``process`` as soon as ``ready()``; fail if it finishes first."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the load finished before the kill point"
        assert time.monotonic() < deadline, "the kill point never came"
        time.sleep(0.002)
    process.send_signal(signal.SIGKILL)
    process.wait()


def packages(home: Path, stage: str) -> list[Path]:
    folder = home / "dlt" / "zendesk_acme" / "load" / stage
    return list(folder.iterdir()) if folder.exists() else []


def test_a_load_killed_at_any_point_and_rerun_gives_the_rows_of_a_clean_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts, "TIME_EXPORT_PAGE_SIZE", 250)  # the fake's pages: more kill points
    world = World(WorldConfig(tenant_id="acme", seed=8, tickets=3000))
    with FakeZendesk(world) as api:
        api.prepare()
        use_environment(monkeypatch, tmp_path / "clean")
        load_tenant(tenant(api))
        clean = raw_tables()
        everything = api.traffic["requests"]

        home = tmp_path / "killed"
        use_environment(monkeypatch, home)
        config = tenant(api)
        tenant_file = tmp_path / "tenants.yaml"
        tenant_file.write_text(yaml.safe_dump({"tenants": [{
            "id": config.id, "platform": "zendesk", "base_url": config.base_url,
            "credentials": {"email_env": "ZENDESK_EMAIL", "token_env": "ZENDESK_TOKEN"},
            "secret_env": config.secret_env, "timezone": config.timezone,
            "retention_days": config.retention_days,
        }]}))

        def after_requests(share: float) -> Callable[[], bool]:
            start = api.traffic["requests"]
            return lambda: api.traffic["requests"] - start >= share * everything

        kill_when(start_load(tenant_file), after_requests(0.1))
        kill_when(start_load(tenant_file), after_requests(0.7))
        kill_when(start_load(tenant_file), lambda: bool(packages(home, "normalized")))
        assert packages(home, "normalized"), "the rerun should find the package it left"
        kill_when(start_load(tenant_file), lambda: any(
            len(list((p / "completed_jobs").glob("*"))) >= 3 for p in packages(home, "normalized")))
        finished = start_load(tenant_file)
        assert finished.wait(timeout=120) == 0, finished.stderr.read().decode()[-2000:]
        assert raw_tables() == clean
