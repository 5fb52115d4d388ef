"""SIGTERM, as systemd, Kubernetes and Dagster's own cancel send it, stops ``deskpulse run`` within
seconds whatever it is doing: retrying a tenant whose API is down, or building the marts with
dbt. The process exits with 128 + 15 and one line saying why, its Dagster run is marked canceled
with the reason, no dbt process is left behind, and a rerun ends with the rows of a clean run.

The runs are processes of their own against the session's demo APIs; the moment to stop comes
from what the run does (its log, its child processes), never from a sleep.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import psutil
import pytest

from tests.run_support import REPO, Run, instance_of, snapshot

STOP_HANG = 180  # seconds: only a run that ignores SIGTERM is still going after this
# Work run by assets.stopping in a process of its own: it says when it started, then either honours
# the stop request (a retry sleep) or, once asked, carries on (a call that cannot be interrupted).
STOPPABLE = """
import os, sys, threading
from assets.stopping import stoppable
from pipelines.ingest import stop

def work():
    print("working", flush=True)
    if sys.argv[1] == "honours":
        stop.sleep(3600)
    stop.wait(3600)
    print("asked to stop", flush=True)
    threading.Event().wait()

def abandoned(reason):
    print("abandoned:", reason, flush=True)
    os._exit(3)

try:
    stoppable(work, abandoned, grace=float(sys.argv[2]))
except stop.Stopped as stopped:
    print("stopped:", stopped.reason, flush=True)
"""


@contextlib.contextmanager
def unavailable_api() -> Iterator[str]:
    """An API that answers every request 503, as one down behind its load balancer: the client
    retries it within the tenant's budget (a refused connection would fail at once)."""
    class Down(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the handler's name)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Down)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def canceled_with_reason(home, job: str) -> str:
    """The log messages of the latest ``job`` run, which must have ended canceled."""
    with instance_of(home) as instance:
        record = instance.get_run_records(dg.RunsFilter(job_name=job), limit=1)[0]
        assert record.dagster_run.status == dg.DagsterRunStatus.CANCELED, record.dagster_run.status
        return "\n".join(event.message or "" for event in instance.all_logs(record.dagster_run.run_id))


def stoppable_process(tmp_path, behaviour: str, grace: float, signals: int) -> tuple[int, str]:
    """Run ``STOPPABLE`` with ``behaviour``, send it ``signals`` SIGTERMs once it works: its exit
    status and output."""
    env = {"DESKPULSE_HOME": str(tmp_path), "PATH": "", "PYTHONPATH": str(REPO)}
    process = subprocess.Popen([sys.executable, "-c", STOPPABLE, behaviour, str(grace)], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "working\n"
    process.send_signal(signal.SIGTERM)
    if signals == 2:  # the second once the first was handled: pending signals of a kind merge
        assert process.stdout.readline() == "asked to stop\n"
        process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=STOP_HANG)
    return process.returncode, output


def test_work_that_honours_the_stop_request_ends_with_it(tmp_path):
    assert stoppable_process(tmp_path, "honours", grace=600, signals=1) == (0, "stopped: received SIGTERM\n")


@pytest.mark.parametrize(("grace", "signals"), [(1, 1), (600, 2)])
def test_work_that_does_not_stop_is_abandoned_after_the_grace_or_a_second_signal(tmp_path, grace, signals):
    status, output = stoppable_process(tmp_path, "ignores", grace, signals)
    assert (status, output.splitlines()[-1]) == (3, "abandoned: received SIGTERM")


@pytest.mark.integration
@pytest.mark.slow
def test_sigterm_stops_a_run_retrying_a_tenant_whose_api_is_down(demo_apis, tmp_path):
    home = tmp_path / "home"
    log = home / "logs" / "deskpulse.log"
    with unavailable_api() as url:
        down = demo_apis.tenant_file_with(tmp_path / "down", "northwind", base_url=url)
        run = Run(home, down, demo_apis.env)
        run.wait_until(lambda: log.exists() and "northwind: GET" in log.read_text() and
                       "retry 2 in" in log.read_text(), "the client's second retry of northwind")
        run.process.send_signal(signal.SIGTERM)
        assert run.finish(timeout=STOP_HANG) == 128 + signal.SIGTERM, run.output()[-3000:]
    assert sum("received SIGTERM" in line for line in run.errors) == 1
    assert not run.printed("ingest globex") and not run.printed("marts:")  # nothing started after
    assert "SIGTERM" in canceled_with_reason(home, "ingest")

    rerun = Run(home, demo_apis.tenant_file, demo_apis.env)
    assert rerun.finish() == 0, rerun.output()[-3000:]
    assert snapshot(home) == demo_apis.clean


@pytest.mark.integration
@pytest.mark.slow
def test_sigterm_stops_a_run_during_its_dbt_build(demo_apis, tmp_path):
    home = tmp_path / "home"
    run = Run(home, demo_apis.tenant_file, demo_apis.env)
    run.wait_until(lambda: bool(run.children("dbt")), "the dbt build")
    builds = run.children("dbt")
    run.process.send_signal(signal.SIGTERM)

    assert run.finish(timeout=STOP_HANG) == 128 + signal.SIGTERM, run.output()[-3000:]
    assert any("received SIGTERM" in line for line in run.errors)
    left = [build for build in builds if build.is_running() and build.status() != psutil.STATUS_ZOMBIE]
    assert not left, ([build.cmdline() for build in left], run.output()[-3000:])
    assert "SIGTERM" in canceled_with_reason(home, "marts")

    rerun = Run(home, demo_apis.tenant_file, demo_apis.env)
    assert rerun.finish() == 0, rerun.output()[-3000:]
    assert snapshot(home) == demo_apis.clean
