"""Retries: transient failures are retried with exponential backoff, everything else fails at once.

Transient means the network or the warehouse file briefly locked by another process. An error that
says itself whether it is (a ``transient`` attribute) is taken at its word: the helpdesk clients
retry within each tenant's time budget and then say no, so a step never multiplies that budget by
its own retries. A bad credential, a missing secret, an unreachable host or a failed dbt test will
not fix itself, so it fails the step without burning the retry budget. Nor is anything retried, or
started, once the process was asked to stop (``pipelines.ingest.stop``).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import dagster as dg
import requests

from pipelines.ingest import stop

# Every job's steps: 3 retries after ~30 s, ~60 s and ~120 s (±jitter), for outages of minutes.
TRANSIENT_RETRY = dg.RetryPolicy(
    max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
TRANSIENT_TYPES = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)
# Messages that mark a transient cause when neither type nor attribute can: DuckDB's lock conflict
# (also when it comes back inside dbt's output).
TRANSIENT_MESSAGES = ("Could not set lock on file", "Conflicting lock is held")
TERMINAL_COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # dbt colours its log lines


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and the chain of errors that caused it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def root_cause(error: BaseException) -> BaseException:
    """The error at the bottom of the ``raise ... from`` chain: usually the one that says what broke."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error


def one_line(error: BaseException) -> str:
    """The error at the bottom of the chain, named and on one line, without dbt's colours."""
    cause = root_cause(error)
    return " ".join(TERMINAL_COLOURS.sub("", f"{cause.__class__.__name__}: {cause}").split())


def is_transient(error: BaseException) -> bool:
    """Whether retrying later may succeed: a network error or a locked file, unless an error on the
    way down the chain says otherwise with its ``transient`` attribute (the API clients' errors:
    the first such verdict decides)."""
    for cause in causes(error):
        verdict = getattr(cause, "transient", None)
        if isinstance(verdict, bool):
            return verdict
        if isinstance(cause, TRANSIENT_TYPES) or any(text in str(cause) for text in TRANSIENT_MESSAGES):
            return True
    return False


@contextlib.contextmanager
def retry_only_transient() -> Iterator[None]:
    """Let transient errors reach the job's retry policy; turn the rest into a final failure."""
    if reason := stop.requested():
        raise dg.Failure(description=f"stopped before it started: {reason}", allow_retries=False)
    try:
        yield
    except Exception as error:  # dagster-dbt's errors are Failures that would be retried too
        if reason := stop.requested():
            raise dg.Failure(description=f"stopped: {reason}", allow_retries=False) from error
        if is_transient(error) or (isinstance(error, dg.Failure) and error.allow_retries is False):
            raise
        raise dg.Failure(description=one_line(error), allow_retries=False) from error
