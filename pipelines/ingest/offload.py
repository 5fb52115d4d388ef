"""A long read's CPU work in a worker process, so one load uses more than one core.

A source builds and types its rows in Python, and one interpreter runs Python code one thread at a
time: at a million tickets the thread that builds the rows is the whole extract's bound, however
many threads fetch. ``in_order`` hands the pages of a long export to a process of its own, which
turns them into tables while this process fetches the next pages and writes the tables it gets
back. The work is a picklable callable that may keep state from page to page (where the last
page ended); the worker gets it as it stands after the pages done here, and answers in order.

The worker is started by ``spawn`` (a fresh interpreter: no lock of this process's threads is
copied into it half-held), ignores Ctrl-C (this process decides when to stop, and stops the
worker), and has ended when the read is closed, however it ends (a page in hand is finished
first); if this process is killed, the worker ends at its next page, finding no one to take it.
"""

from __future__ import annotations

import itertools
import multiprocessing
import queue
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

from pipelines.ingest.memory import collect_rarely

T = TypeVar("T")
R = TypeVar("R")

_work: list[Callable[[Any], Any]] = []  # in a worker: the work it was given
_END = object()


def in_order(work: Callable[[T], R], inputs: Iterable[T], *, here: int, ahead: int = 4) -> Iterator[R]:
    """``work(x)`` for each of ``inputs``, in order: the first ``here`` in this process (a short
    read is not worth a process), the rest in one worker process. A thread of this process reads
    the inputs and hands them to the worker as they come, up to ``ahead`` whose results have not
    been taken, so reading and working go on while the caller is busy elsewhere. A failure in
    reading or in the worker is raised here, after the results before it."""
    inputs = iter(inputs)
    for _, item in zip(range(here), inputs, strict=False):
        yield work(item)
    first = next(inputs, _END)
    if first is _END:
        return
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_receive, initargs=(work,))
    handed: queue.SimpleQueue[Future[R] | BaseException | object] = queue.SimpleQueue()
    room, closed = threading.Semaphore(ahead), threading.Event()

    def feed() -> None:
        try:
            for item in itertools.chain([first], inputs):
                room.acquire()
                if closed.is_set():
                    return
                handed.put(pool.submit(_run, item))
            handed.put(_END)
        except BaseException as error:  # raised by the caller, in its turn
            handed.put(error)

    threading.Thread(target=feed, name="offload-feed", daemon=True).start()
    try:
        while (next_one := handed.get()) is not _END:
            if isinstance(next_one, BaseException):
                raise next_one
            result = next_one.result()  # type: ignore[union-attr]
            room.release()
            yield result
    finally:
        closed.set()
        room.release()
        pool.shutdown(cancel_futures=True)  # waits for the page in hand, if any: milliseconds


def _receive(work: Callable[[Any], Any]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    collect_rarely()  # a worker makes millions of short-lived objects, as a load does
    _work.append(work)


def _run(item: Any) -> Any:
    return _work[0](item)
