"""``deskpulse run`` killed with SIGKILL at any stage (extracting, loading, dbt building, checking,
publishing), then run again: the rerun never hangs on the dead run's slot in the ``warehouse``
pool, marks the dead run failed with the reason in its log, stops the dbt build it left
behind, and ends with exactly the rows (marts and serving files) of a clean run. And a live run's
slot is waited for, never taken: two runs at once both finish, the second after the first.

Runs are processes of their own against the session's demo APIs, each trial in a home of its
own; the moment to kill comes from what the run does (its requests, its dlt packages, its child
processes, its Dagster events), never from a sleep.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import dagster as dg
import psutil
import pytest

from assets.recovery import DBT, WORKER, ProcessRef, release_dead_runs, worker_tags
from tests.run_support import Demo, Run, instance_of, snapshot


def started_run(instance: dg.DagsterInstance, tags: dict[str, str]) -> str:
    run = instance.add_run(dg.DagsterRun(job_name="marts", run_id=str(uuid.uuid4()),
                                         status=dg.DagsterRunStatus.STARTED, tags=tags))
    return run.run_id


def test_release_closes_a_dead_processs_run_stops_its_dbt_and_frees_its_slot(tmp_path):
    """A run whose process is gone: its dbt build stopped, the run failed with the reason, its
    slot freed and given to the live run waiting for it, which is left running."""
    instance = instance_of(tmp_path)
    storage = instance.event_log_storage
    storage.set_concurrency_slots("warehouse", 1)
    gone = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    dead_worker = ProcessRef.of(gone.pid)
    gone.communicate(b"")
    build = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    dead = started_run(instance, {**dead_worker.tags(WORKER), **ProcessRef.of(build.pid).tags(DBT)})
    live = started_run(instance, worker_tags())
    assert storage.claim_concurrency_slot("warehouse", dead, "dbt_models").is_claimed
    assert not storage.claim_concurrency_slot("warehouse", live, "dbt_models").is_claimed  # it waits

    said: list[str] = []
    assert release_dead_runs(instance, said.append) == [dead]
    build.wait(timeout=60)  # ended (stopped and reaped by the release; a hang fails here)
    assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
    failure = instance.all_logs(dead, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event.message
    assert f"pid {gone.pid}" in failure and "is gone" in failure and "dbt build" in failure
    assert len(said) == 1 and dead[:8] in said[0]
    assert instance.get_run_by_id(live).status == dg.DagsterRunStatus.STARTED
    assert storage.claim_concurrency_slot("warehouse", live, "dbt_models").is_claimed
    assert release_dead_runs(instance) == []  # nothing left to release; the live run untouched
    assert instance.get_run_by_id(live).status == dg.DagsterRunStatus.STARTED


def test_a_reused_pid_does_not_keep_a_dead_run_alive(tmp_path):
    """A pid names a process only with its start time: the same pid started later is another."""
    instance = instance_of(tmp_path)
    this = ProcessRef.of()
    reused = ProcessRef(this.host, this.pid, this.started - 3600)
    elsewhere = ProcessRef("another-host", 1, 0.0)
    dead = started_run(instance, reused.tags(WORKER))
    remote = started_run(instance, elsewhere.tags(WORKER))
    assert release_dead_runs(instance) == [dead]
    assert instance.get_run_by_id(remote).status == dg.DagsterRunStatus.STARTED  # not ours to judge
WAREHOUSE_STEPS = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED}


def wait_for_moment(demo: Demo, run: Run, moment: str) -> None:
    """Return once ``run`` is at ``moment``: extracting, loading, dbt building, checking, publishing."""
    api = demo.apis["northwind"]
    requests_before = api.traffic["requests"]
    normalized = run.home / "dlt" / "zendesk_northwind" / "load" / "normalized"
    if moment == "extract":
        run.wait_until(lambda: api.traffic["requests"] - requests_before >= 5, "the extract")
    elif moment == "load":
        run.wait_until(lambda: normalized.exists() and any(normalized.iterdir()), "the load")
    elif moment == "dbt":
        run.wait_until(lambda: bool(run.children("dbt")), "the dbt build")
    else:
        steps = {"checks": lambda step: "_gx_" in step, "publish": lambda step: step.startswith("serving__")}
        run.wait_until(lambda: run.printed("marts: dbt build"), "the marts run")  # its instance exists
        with instance_of(run.home) as instance:
            run.wait_until(lambda: run.step_started(instance, "marts", steps[moment]), f"the {moment}")


@pytest.mark.parametrize("moment", ["extract", "load", "dbt", "checks", "publish"])
@pytest.mark.integration
@pytest.mark.slow
def test_a_run_killed_at_any_stage_is_released_and_a_rerun_gives_a_clean_runs_rows(
        demo_apis: Demo, tmp_path, moment):
    home = tmp_path / "home"
    killed = Run(home, demo_apis.tenant_file, demo_apis.env)
    wait_for_moment(demo_apis, killed, moment)
    builds = killed.children("dbt")
    killed.process.kill()
    killed.process.wait()

    rerun = Run(home, demo_apis.tenant_file, demo_apis.env)
    assert rerun.finish() == 0, rerun.output()[-3000:]
    assert rerun.printed("was left unfinished by a process that is gone")
    assert not [build for build in builds if build.is_running() and build.status() != psutil.STATUS_ZOMBIE]
    with instance_of(home) as instance:
        unfinished = [record.dagster_run for record in instance.get_run_records()
                      if record.dagster_run.tags.get("deskpulse/worker/pid") == str(killed.process.pid)
                      and record.dagster_run.status != dg.DagsterRunStatus.SUCCESS]
        assert [run.status for run in unfinished] == [dg.DagsterRunStatus.FAILURE]
        assert any("is gone" in (event.message or "") for event in instance.all_logs(unfinished[0].run_id))
        assert instance.event_log_storage.get_concurrency_info("warehouse").claimed_slots == []
    assert snapshot(home) == demo_apis.clean


@pytest.mark.integration
@pytest.mark.slow
def test_a_live_runs_slot_is_waited_for_never_taken(demo_apis: Demo, tmp_path):
    home = tmp_path / "home"
    first = Run(home, demo_apis.tenant_file, demo_apis.env)
    first.wait_until(lambda: first.printed("ingest northwind"), "the first ingest")  # its instance exists
    with instance_of(home) as instance:
        def loading() -> bool:
            return first.step_started(instance, "ingest", lambda step: step.endswith("_ingest"))

        first.wait_until(loading, "the first run's load")
        second = Run(home, demo_apis.tenant_file, demo_apis.env)
        assert first.finish() == 0, first.output()[-3000:]
        assert second.finish() == 0, second.output()[-3000:]
        assert not second.printed("gone")
        assert second.printed(f"another deskpulse process (pid {first.process.pid}) is running jobs")

        spans = []
        for record in instance.get_run_records():
            assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS, record.dagster_run.run_id
            events = [event for event in instance.all_logs(record.dagster_run.run_id) if event.dagster_event]
            for step in {event.step_key for event in events if event.step_key}:
                mine = [event for event in events if event.step_key == step]
                started = [event.timestamp for event in mine
                           if event.dagster_event.event_type in WAREHOUSE_STEPS]
                ended = [event.timestamp for event in mine if event.dagster_event.is_step_success
                         or event.dagster_event.is_step_failure or event.dagster_event.is_step_skipped]
                if started and ended:
                    spans.append((min(started), max(ended), record.dagster_run.run_id,
                                  record.dagster_run.tags[f"{WORKER}/pid"]))
    assert len({run_id for _, _, run_id, _ in spans}) >= 4  # two ingest runs and a marts run per process
    # every step of these jobs is in the pool: steps of different runs never overlap
    overlaps = [(a, b) for a in spans for b in spans if a[2] != b[2] and a[0] < b[0] < a[1]]
    assert overlaps == []
    # and the processes take turns whole: the second one's first step after the first one's last
    by_process = {str(run.process.pid): [span for span in spans if span[3] == str(run.process.pid)]
                  for run in (first, second)}
    assert all(by_process.values())
    assert max(end for _, end, _, _ in by_process[str(first.process.pid)]) \
        <= min(start for start, _, _, _ in by_process[str(second.process.pid)])
    assert snapshot(home) == demo_apis.clean
