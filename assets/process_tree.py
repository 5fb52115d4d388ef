"""Run a program that starts programs of its own, and stop all of them together.

``deskpulse dev`` runs ``dagster dev``, which starts a webserver, a daemon and code servers, and
those start run workers. Stopping only the first leaves the others running, holding the port and
the Dagster instance. ``supervise`` waits for the program, which it expects in a session of its
own; when deskpulse is asked to stop (SIGTERM, SIGINT, SIGHUP) or the program ends, it sends
SIGTERM to the program's process group and to every process descended from it, waits, and kills
what is left.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

import psutil

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
GRACE_SECONDS = 20.0  # dagster dev shuts its webserver and daemon down in a few seconds


class _Stop(Exception):
    """deskpulse received one of ``STOP_SIGNALS``."""


def supervise(process: subprocess.Popen) -> int:
    """Wait for ``process``, started with ``start_new_session=True``; stop it and everything it
    started when a stop signal arrives or it ends. Returns its exit code, or 128 + the signal."""

    def stop(signum: int, _frame: object) -> None:
        raise _Stop(signum)

    previous = {sig: signal.signal(sig, stop) for sig in STOP_SIGNALS}
    try:
        return process.wait()
    except _Stop as received:
        return 128 + received.args[0]
    finally:
        for sig in STOP_SIGNALS:  # a second Ctrl-C must not cut the clean-up short
            signal.signal(sig, signal.SIG_IGN)
        stop_tree(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop_tree(process: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to the process group led by ``process`` and to all its descendants; SIGKILL to
    those still running after ``grace`` seconds."""
    try:
        root = psutil.Process(process.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    group = process.pid  # its session's, hence its group's, id
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGTERM)
    for member in tree:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.terminate()
    _, alive = psutil.wait_procs(tree, timeout=grace)
    left = {*alive, *_group_members(group)}  # with those whose parent died first
    for member in left:
        with contextlib.suppress(psutil.NoSuchProcess):
            member.kill()
    psutil.wait_procs(list(left), timeout=5)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)


def _group_members(group: int) -> list[psutil.Process]:
    members = []
    for candidate in psutil.process_iter():
        with contextlib.suppress(psutil.NoSuchProcess, ProcessLookupError, PermissionError):
            if os.getpgid(candidate.pid) == group and candidate.status() != psutil.STATUS_ZOMBIE:
                members.append(candidate)
    return members
