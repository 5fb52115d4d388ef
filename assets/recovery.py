"""Runs that ended without saying so: find them, close them, free what they held.

A run whose process was killed (SIGKILL, the OOM killer, a lost container) stays STARTED in the
Dagster instance and keeps its slot in the ``warehouse`` pool, and every later run waits for a
slot that is never freed. So each run deskpulse executes carries the host, pid and start time of
the process executing it, and of the dbt build it starts (run tags). Before a run starts work,
``release_dead_runs`` looks for unfinished runs whose process on this host is gone, stops the dbt
build such a run left behind (it would hold the warehouse), marks the run failed with the reason
in its log and frees the slots it held or waited for. A run whose process is alive, or which runs
on another host, is left alone: it is waited for, never cancelled.

The same tags let a process that is asked to stop (``assets.stopping``) close its own runs.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg
import psutil
from dagster._core.storage.dagster_run import FINISHED_STATUSES, NOT_FINISHED_STATUSES

from assets.project import WAREHOUSE_POOL

WORKER = "deskpulse/worker"  # tag prefix: the process executing the run
DBT = "deskpulse/dbt"  # tag prefix: the dbt build the run started last
CHILD_EXIT_SECONDS = 10.0  # how long a left-behind dbt build gets to end after SIGTERM


@dataclass(frozen=True)
class ProcessRef:
    """A process as a run's tags name it: host, pid and start time (a pid alone is reused)."""

    host: str
    pid: int
    started: float

    @classmethod
    def of(cls, pid: int | None = None) -> ProcessRef:
        process = psutil.Process(pid or os.getpid())
        return cls(socket.gethostname(), process.pid, round(process.create_time(), 2))

    @classmethod
    def from_tags(cls, tags: dict[str, str], prefix: str) -> ProcessRef | None:
        try:
            return cls(tags[f"{prefix}/host"], int(tags[f"{prefix}/pid"]), float(tags[f"{prefix}/started"]))
        except (KeyError, ValueError):
            return None

    def tags(self, prefix: str) -> dict[str, str]:
        return {f"{prefix}/host": self.host, f"{prefix}/pid": str(self.pid),
                f"{prefix}/started": f"{self.started:.2f}"}

    @property
    def local(self) -> bool:
        return self.host == socket.gethostname()

    def process(self) -> psutil.Process | None:
        """The live process this names, on this host; None once it is gone (or a zombie)."""
        if not self.local:
            return None
        try:
            process = psutil.Process(self.pid)
            alive = (abs(process.create_time() - self.started) < 1.0
                     and process.status() != psutil.STATUS_ZOMBIE)
        except psutil.Error:
            return None
        return process if alive else None


def worker_tags() -> dict[str, str]:
    """The tags of a run this process executes."""
    return ProcessRef.of().tags(WORKER)


def record_dbt_process(instance: dg.DagsterInstance, run_id: str, pid: int) -> None:
    """Name the dbt build a run just started, so whoever finds the run dead can stop it."""
    with contextlib.suppress(psutil.Error):
        instance.add_run_tags(run_id, ProcessRef.of(pid).tags(DBT))


def unfinished_runs(instance: dg.DagsterInstance, worker: ProcessRef | None = None) -> list[dg.DagsterRun]:
    """Runs that have not finished, executed by ``worker`` if given, else by any deskpulse process."""
    tags = worker.tags(WORKER) if worker else {}
    return [record.dagster_run for record in instance.get_run_records(
        dg.RunsFilter(statuses=NOT_FINISHED_STATUSES, tags=tags))
        if ProcessRef.from_tags(record.dagster_run.tags, WORKER)]


def stop_dbt(run: dg.DagsterRun) -> bool:
    """Stop the dbt build ``run`` started, if it is still running; whether there was one."""
    ref = ProcessRef.from_tags(run.tags, DBT)
    process = ref.process() if ref else None
    if process is None:
        return False
    with contextlib.suppress(psutil.Error):
        process.terminate()
        try:
            process.wait(CHILD_EXIT_SECONDS)
        except psutil.TimeoutExpired:
            process.kill()
            process.wait(CHILD_EXIT_SECONDS)
    return True


def close_run(instance: dg.DagsterInstance, run: dg.DagsterRun, message: str, *, canceled: bool) -> None:
    """End ``run`` as failed (or canceled) with ``message`` in its log and free its pool slots."""
    if canceled:
        instance.report_run_canceled(run, message=message)
    else:
        instance.report_run_failed(run, message=message)
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def release_dead_runs(instance: dg.DagsterInstance,
                      progress: Callable[[str], None] = lambda _: None) -> list[str]:
    """Close every unfinished run whose process on this host is gone, and free the pool slots of
    finished runs that still hold one; returns the ids of the runs closed."""
    closed = []
    for run in unfinished_runs(instance):
        worker = ProcessRef.from_tags(run.tags, WORKER)
        if worker is None or not worker.local or worker.process() is not None:
            continue  # alive, or elsewhere: wait for it
        left_dbt = " and the dbt build it left running" if stop_dbt(run) else ""
        message = (f"The process executing this run (pid {worker.pid} on {worker.host}) is gone: "
                   f"killed or crashed. Marked failed{left_dbt} and its warehouse slot freed by "
                   f"deskpulse (pid {os.getpid()}) before its own run.")
        close_run(instance, run, message, canceled=False)
        closed.append(run.run_id)
        partition = run.tags.get("dagster/partition")
        progress(f"      run {run.run_id[:8]} ({run.job_name}{' ' + partition if partition else ''}) "
                 f"was left unfinished by a process that is gone (pid {worker.pid}): marked failed, "
                 "its warehouse slot freed")
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        info = storage.get_concurrency_info(WAREHOUSE_POOL)
        holders = {slot.run_id for slot in info.claimed_slots} | {step.run_id for step in info.pending_steps}
        if holders:
            for record in instance.get_run_records(dg.RunsFilter(run_ids=sorted(holders),
                                                                 statuses=FINISHED_STATUSES)):
                storage.free_concurrency_slots_for_run(record.dagster_run.run_id)
    return closed
