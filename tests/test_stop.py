"""The process-wide stop request: it ends sleeps at once, interrupts a child process, tells dlt,
and can be cleared. Waits are bounded by generous timeouts that only catch a hang."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading

import pytest
from dlt.common.runtime import signals as dlt_signals

from pipelines.ingest import stop


@pytest.fixture(autouse=True)
def cleared():
    yield
    stop.clear()


def test_a_stop_request_ends_a_sleep_interrupts_a_child_and_tells_dlt():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    ended: list[str] = []

    def sleeper() -> None:
        try:
            stop.sleep(3600)
        except stop.Stopped as stopped:
            ended.append(stopped.reason)

    thread = threading.Thread(target=sleeper)
    thread.start()
    with stop.terminating(child):
        assert stop.requested() is None and child.poll() is None
        stop.request("received SIGTERM", signal.SIGTERM)
        assert child.wait(timeout=60) != 0  # SIGINT: the child's KeyboardInterrupt
    thread.join(timeout=60)

    assert ended == ["received SIGTERM"]
    assert stop.requested() == "received SIGTERM" and stop.exit_status() == 128 + signal.SIGTERM
    assert dlt_signals.was_signal_received()
    with pytest.raises(stop.Stopped, match="received SIGTERM"):
        stop.check()
    stop.request("received SIGINT", signal.SIGINT)  # the first reason stays
    assert stop.requested() == "received SIGTERM"


def test_a_child_that_ignores_the_interrupt_is_killed():
    ignoring = "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); print(flush=True); " \
               "time.sleep(3600)"
    child = subprocess.Popen([sys.executable, "-c", ignoring], stdout=subprocess.PIPE)
    child.stdout.readline()  # it ignores SIGINT from here on
    with stop.terminating(child, grace=0.5):
        stop.request("received SIGTERM")
        assert child.wait(timeout=60) == -signal.SIGKILL


def test_without_a_request_nothing_stops_and_a_cleared_request_is_forgotten():
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    with stop.terminating(child):
        stop.sleep(0)
    assert child.poll() is None
    child.communicate(b"")
    stop.request("received SIGTERM")
    stop.clear()
    stop.check()
    assert stop.requested() is None and not dlt_signals.was_signal_received()
