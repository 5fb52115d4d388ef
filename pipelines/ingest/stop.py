"""A stop request for the whole process, so work ends within seconds of SIGTERM or Ctrl-C.

The command line's signal handler calls ``request``. Long waits (an API client's retry backoff
and rate-limit pauses) sleep through ``sleep``, which ends early by raising ``Stopped``; a child
process started under ``terminating`` (a dbt build) is interrupted; dlt's own cooperative checks
(between pages, in its normalise and load steps) are told as well, so a load stops at its next
check and leaves its package for the next run to finish. Everything stopped this way is resumable
like a crash: a rerun continues from the state last committed. Nothing here knows about Dagster.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
from collections.abc import Iterator

from dlt.common.runtime import signals as dlt_signals

CHILD_GRACE_SECONDS = 5.0  # a child process interrupted this long ago and still running is killed

_requested = threading.Event()
_reason: list[str] = []
_signal: list[int] = []


class Stopped(Exception):
    """Work ended early because the process was asked to stop; ``reason`` says by what."""

    def __init__(self, reason: str):
        super().__init__(f"stopped: {reason}")
        self.reason = reason


def request(reason: str, signum: int = signal.SIGTERM) -> None:
    """Ask everything in this process to stop; the first reason given is kept."""
    if not _reason:
        _reason.append(reason)
        _signal.append(signum)
    _requested.set()
    dlt_signals.set_received_signal(signum)
    dlt_signals.wake_all()


def requested() -> str | None:
    """Why the process was asked to stop, or None while it was not."""
    return _reason[0] if _requested.is_set() and _reason else None


def exit_status() -> int:
    """The exit status of a process stopped by the signal: 128 + its number, as shells report it."""
    return 128 + (_signal[0] if _signal else signal.SIGTERM)


def check() -> None:
    """Raise ``Stopped`` if the process was asked to stop."""
    if _requested.is_set():
        raise Stopped(requested() or "asked to stop")


def sleep(seconds: float) -> None:
    """``time.sleep`` that ends as soon as a stop is requested, by raising ``Stopped``."""
    if _requested.wait(max(0.0, seconds)):
        check()


def wait(seconds: float) -> bool:
    """Wait up to ``seconds`` for a stop request; whether one came."""
    return _requested.wait(max(0.0, seconds))


def clear() -> None:
    """Forget a stop request (a process that goes on working after handling one)."""
    _requested.clear()
    _reason.clear()
    _signal.clear()
    dlt_signals.set_received_signal(0)


@contextlib.contextmanager
def terminating(process: subprocess.Popen, grace: float = CHILD_GRACE_SECONDS) -> Iterator[None]:
    """While inside, a stop request interrupts ``process`` (SIGINT, as Ctrl-C would, so it can
    end cleanly), and kills it if it is still running ``grace`` seconds later."""
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            if not _requested.wait(0.2):
                continue
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    process.kill()
            return

    watcher = threading.Thread(target=watch, name=f"stop-{process.pid}", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
