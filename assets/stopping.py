"""Stopping the command line's runs on SIGTERM or SIGINT: within seconds, closed, resumable.

systemd, Kubernetes and Dagster's own cancel send SIGTERM; a person presses Ctrl-C. ``stoppable``
runs the work (a run of the graph) in a worker thread and keeps the main thread, the only one
Python delivers signals to, for the handlers: while Dagster and dlt execute on the main thread
they install handlers of their own, and dlt's defers the first SIGTERM until its next check. A
signal asks the work to stop (``pipelines.ingest.stop``: retry sleeps end, dbt is interrupted, dlt stops
at its next check, no further step or run starts), and the runs this process executes are marked
canceling, so Dagster records each as canceled, with the reason, once its step has ended. Work
still going ``grace`` seconds later (a long query, a step waiting for a retry or a pool slot) is
abandoned: the process's children (a dbt build) are stopped, its runs marked canceled and their
slots freed, as a rerun would find them after a crash, and ``abandoned`` ends the process. A second signal
abandons at once. Either way the next run continues from the state last committed.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from typing import NoReturn, TypeVar

import dagster as dg
import psutil

from assets.recovery import CHILD_EXIT_SECONDS, ProcessRef, close_run, unfinished_runs
from assets.runner import dagster_instance
from pipelines.ingest import stop

T = TypeVar("T")
STOP_GRACE_SECONDS = 15.0
SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stoppable(work: Callable[[], T], abandoned: Callable[[str], NoReturn],
              grace: float = STOP_GRACE_SECONDS) -> T:
    """``work()``, stopped on SIGTERM or SIGINT as described above; ``abandoned(reason)`` must end
    the process (the worker thread may be stuck in a call that cannot be interrupted)."""
    if threading.current_thread() is not threading.main_thread():
        return work()
    results: list[T] = []
    errors: list[BaseException] = []
    received: list[int] = []

    def run() -> None:
        try:
            results.append(work())
        except BaseException as error:  # handed to the main thread, raised there
            errors.append(error)

    previous = {signum: signal.signal(signum, lambda number, _: received.append(number))
                for signum in SIGNALS}
    worker = threading.Thread(target=run, name="deskpulse-work", daemon=True)
    try:
        worker.start()
        deadline = None
        while worker.is_alive():
            worker.join(0.2)
            if not received or not worker.is_alive():
                continue
            reason = f"received {signal.Signals(received[0]).name}"
            if deadline is None:  # canceling first, so Dagster ends the runs as canceled
                deadline = time.monotonic() + grace
                _mark_canceling(reason)
                stop.request(reason, received[0])
            elif len(received) > 1 or time.monotonic() > deadline:
                _close_own_runs(reason)
                abandoned(reason)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if errors:
        raise errors[0]
    return results[0]


def _own_runs(instance: dg.DagsterInstance) -> list[dg.DagsterRun]:
    return unfinished_runs(instance, ProcessRef.of())


def _mark_canceling(reason: str) -> None:
    with dagster_instance() as instance:
        for run in _own_runs(instance):
            instance.report_run_canceling(run, message=f"deskpulse {reason}: stopping this run")


def _close_own_runs(reason: str) -> None:
    """Stop this process's children (a dbt build, whether or not its run recorded it yet), then
    end its runs as canceled and free their slots."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            child.terminate()
    for child in psutil.wait_procs(children, timeout=CHILD_EXIT_SECONDS)[1]:
        with contextlib.suppress(psutil.Error):
            child.kill()
    with dagster_instance() as instance:
        for run in _own_runs(instance):
            close_run(instance, run, f"deskpulse {reason} and stopped before this run could end; "
                                     "the next run continues from the state last committed",
                      canceled=True)
