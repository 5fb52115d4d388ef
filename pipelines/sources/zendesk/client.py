"""The Zendesk Support API client: dlt's ``RESTClient`` and paginators, under the tenant's retry policy.

Requests and paging are dlt's (``RESTClient.paginate``; a cursor paginator for the cursor exports
and the list endpoints); what dlt cannot say is written here, each piece saying why: the paging of
the time-based exports, and the retry policy, which every request goes through as the session
``RESTClient`` sends with. Requests are paced from the rate-limit headers of earlier answers so the
limit is not hit; a 429 is waited out for its ``Retry-After``; connection resets, timeouts, 5xx
answers and pages that are cut short or are not the JSON document they should be are retried with
exponential backoff, for as long as the tenant's retry budget allows: once its requests have kept
failing that long without a success, the load stops naming the last cause. A host that cannot be
reached at all (connection refused, a name that does not resolve, a TLS failure) fails at once,
naming the host and the cause, and so does any other answer, naming the tenant, the path and the
HTTP status, never credentials or data. Clocks and sleeps are injectable; no wait blocks longer
than one sleep or one request. Paged reads fetch their next page while the caller works on the
current one.
"""

from __future__ import annotations

import functools
import json as std_json
import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

import msgspec
import requests
import urllib3
from dlt.common import json, jsonpath
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import HttpBasicAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator, JSONResponseCursorPaginator
from jsonpath_ng import JSONPath

from pipelines.ingest import stop
from pipelines.sources.zendesk import settings

logger = logging.getLogger(__name__)

RETRIED_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
T = TypeVar("T")


class ZendeskApiError(RuntimeError):
    """The API refused a request, could not be reached or kept failing past the retry budget; the
    message never holds credentials or data. ``status`` is the HTTP status that ended it (None
    after network failures); ``transient`` says whether running the load again soon may succeed
    where the client's own retries did not: never, since those retries already spent the tenant's
    budget, and a refusal (401, 403, 404) or an unreachable host will not fix itself in minutes."""

    transient = False

    def __init__(self, message: str, *, status: int | None = None, path: str | None = None):
        super().__init__(message)
        self.status, self.path = status, path


class MalformedPage(ValueError):
    """A 200 answer whose body is not the JSON document the endpoint promises."""


class Retry(Exception):
    """An attempt failed in a way worth retrying, after ``seconds`` (0: the usual backoff); ``status``
    is the HTTP status when there was an answer."""

    def __init__(self, problem: str, seconds: float = 0.0, status: int | None = None):
        super().__init__(problem)
        self.problem, self.seconds, self.status = problem, seconds, status


class RateLimited(Retry):
    """The API answered 429: wait ``seconds`` (its Retry-After) before asking again."""


class Unreachable(Exception):
    """The host cannot be reached at all (refused, no such name, TLS failure): retrying will not help."""


class FailureStreak:
    """How long a tenant's requests have been failing without one success, against its budget.
    Shared by every request of the client (exports fetch ahead in threads)."""

    def __init__(self, budget_seconds: float, clock: Callable[[], float]):
        self.budget_seconds, self._clock = budget_seconds, clock
        self._lock = threading.Lock()
        self._since: float | None = None  # when the first failed attempt of the streak started

    def succeeded(self) -> None:
        with self._lock:
            self._since = None

    def failed(self, attempt_started: float) -> float:
        """Count a failed attempt; seconds the streak has lasted."""
        with self._lock:
            self._since = attempt_started if self._since is None else min(self._since, attempt_started)
            return self._clock() - self._since

    def allows(self, wait: float) -> bool:
        """Whether waiting ``wait`` seconds more keeps the streak within the budget."""
        with self._lock:
            return self._since is None or self._clock() + wait - self._since <= self.budget_seconds

    def timeout(self, seconds: float) -> float:
        """A request's read timeout: ``seconds``, cut to what the budget has left during a streak."""
        with self._lock:
            if self._since is None:
                return seconds
            return max(1.0, min(seconds, self.budget_seconds - (self._clock() - self._since)))


class Page:
    """One page of an export or list: its document, where to resume after it (a cursor or a unix
    time) and the answer's bytes. A time-based export's page keeps its list unread in the bytes
    (``items`` reads it when asked): the source builds its rows from the bytes, in a worker process
    for long exports (``exports.py``), and reading it here too would double the work."""

    def __init__(self, body: dict[str, Any], position: str | int | None, content: bytes, envelope: str,
                 items: list[Any] | None = None):
        self.body, self.position, self.content, self.envelope = body, position, content, envelope
        self._items = items

    @property
    def items(self) -> list[Any]:
        if self._items is None:
            self._items = parse(self.content, self.envelope)[self.envelope]
        return self._items


class Pacer:
    """Keeps each rate-limit bucket under its limit: after the answers said none are left in the
    current window, the next request waits for the window to reset."""

    def __init__(self, clock: Callable[[], float], sleep: Callable[[float], None]):
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._left: dict[str, tuple[int, float]] = {}  # bucket -> (requests left, window resets at)

    def acquire(self, bucket: str) -> None:
        """Wait, if needed, until a request to ``bucket`` fits in its window; then count it."""
        while True:
            with self._lock:
                left, resets_at = self._left.get(bucket, (1, 0.0))
                wait = resets_at - self._clock()
                if left > 0 or wait <= 0:
                    self._left[bucket] = (left - 1 if wait > 0 else 0, resets_at if wait > 0 else 0.0)
                    return
            self._sleep(wait)

    def observe(self, bucket: str, headers: Any) -> None:
        """Learn what is left from an answer's ``ratelimit-remaining`` and ``ratelimit-reset``."""
        try:
            left = int(headers["ratelimit-remaining"])
            resets_at = self._clock() + float(headers["ratelimit-reset"])
        except (KeyError, ValueError, TypeError):
            return
        with self._lock:
            known, known_reset = self._left.get(bucket, (left, 0.0))
            same_window = abs(resets_at - known_reset) < 0.5 * max(resets_at - self._clock(), 0.001)
            self._left[bucket] = (min(left, known) if same_window else left, resets_at)

    def hold(self, bucket: str, seconds: float) -> None:
        """After a 429: nothing is left until ``seconds`` from now."""
        with self._lock:
            self._left[bucket] = (0, self._clock() + seconds)


class Answer(requests.Response):
    """An answer whose JSON document was parsed once, when the retry policy checked it: dlt's
    client and paginators read it through ``json()`` several times a page."""

    document: dict[str, Any]

    def json(self, **kwargs: Any) -> dict[str, Any]:
        return self.document


class RetryPolicy:
    """How one tenant's requests are paced, retried and given up on, shared by every thread's
    session. dlt's retrying session retries each request on its own, so it cannot express this:
    a budget of failures in a row for the whole tenant, pacing from the rate-limit headers before
    a 429, no retry for a host that cannot be reached, waits a stop request cuts short, and
    messages naming tenant, host and cause."""

    def __init__(self, base_url: str, tenant_id: str, budget_seconds: float,
                 sleep: Callable[[float], None], clock: Callable[[], float]):
        parts = urlsplit(base_url)
        self.host, self._base_path = parts.hostname or base_url, parts.path.rstrip("/")
        self.tenant_id = tenant_id
        self._sleep, self._clock = sleep, clock
        self._pacer = Pacer(clock, sleep)
        self.streak = FailureStreak(budget_seconds, clock)

    def send(self, request: requests.PreparedRequest, attempt: Callable[[float], requests.Response],
             envelope: str | None, unread: bool = False) -> Answer:
        """Send ``request`` with ``attempt(read_timeout)`` until it answers with the JSON document
        it should (with a list under ``envelope``, if given; left ``unread``, if asked: ``parse``),
        retrying what is worth it while the tenant's retry budget lasts."""
        path = self._path(request.url or "")
        bucket, failures = settings.rate_limit_bucket(path), 0
        while True:
            self._pacer.acquire(bucket)
            started = self._clock()
            try:
                return self._attempt(attempt, path, envelope, bucket, unread)
            except Unreachable as cause:
                raise ZendeskApiError(f"tenant {self.tenant_id!r}: cannot reach {self.host}: {cause}"
                                      ) from None
            except Retry as retry:
                failures += 1
                lasted = self.streak.failed(started)
                wait = retry.seconds or backoff(failures)
                if not self.streak.allows(wait):
                    raise ZendeskApiError(
                        f"tenant {self.tenant_id!r}: {self.host} kept failing for {lasted:.0f} s (retry "
                        f"budget {self.streak.budget_seconds:.0f} s), last: {retry.problem} on GET {path}",
                        status=retry.status) from None
                logger.warning("tenant %s: GET %s failed (%s), retry %d in %.2f s",
                               self.tenant_id, path, retry.problem, failures, wait)
                if isinstance(retry, RateLimited):
                    self._pacer.hold(bucket, wait)  # the next acquire waits it out
                else:
                    self._sleep(wait)

    def _attempt(self, attempt: Callable[[float], requests.Response], path: str, envelope: str | None,
                 bucket: str, unread: bool) -> Answer:
        """One request: the answer, or Retry / RateLimited / Unreachable / ZendeskApiError."""
        try:
            response = attempt(self.streak.timeout(settings.READ_TIMEOUT_SECONDS))
            content = response.content
        except RETRIED_ERRORS as exc:
            cause = unreachable(exc)
            if cause is not None:
                raise Unreachable(cause) from None
            raise Retry(exc.__class__.__name__) from None
        self._pacer.observe(bucket, response.headers)
        status = response.status_code
        if status == 429:
            raise RateLimited("HTTP 429", retry_after(response, 1), 429)
        if status >= 500:
            asked = "Retry-After" in response.headers
            raise Retry(f"HTTP {status}", retry_after(response, 1) if asked else 0, status)
        if not response.ok:
            raise ZendeskApiError(f"tenant {self.tenant_id!r}: GET {path} returned HTTP {status}",
                                  status=status, path=path)
        try:
            document = parse(content, envelope, unread=unread)
        except MalformedPage as exc:
            raise Retry(str(exc)) from None
        self.streak.succeeded()
        response.__class__ = Answer  # the same answer, keeping the document just parsed
        response.document = document
        return response

    def _path(self, url: str) -> str:
        """The API path of a URL (below the tenant's base URL, without the query)."""
        path = urlsplit(url).path
        return path[len(self._base_path):] if path.startswith(self._base_path) else path


class PolicySession(requests.Session):
    """The session dlt's RESTClient sends through: every request, first page or next, goes
    through the tenant's retry policy. ``envelope``, passed on by ``RESTClient`` with the other
    send arguments, names the list a page must hold."""

    def __init__(self, policy: RetryPolicy):
        super().__init__()
        self.policy = policy
        self.headers["Accept"] = "application/json"

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        envelope, unread = kwargs.pop("envelope", None), kwargs.pop("unread", False)
        kwargs.pop("timeout", None)  # set per attempt, cut to what the retry budget has left

        def attempt(read_timeout: float) -> requests.Response:
            return super(PolicySession, self).send(
                request, timeout=(settings.CONNECT_TIMEOUT_SECONDS, read_timeout), **kwargs)

        return self.policy.send(request, attempt, envelope, unread)


class ExportCursorPaginator(JSONResponseCursorPaginator):
    """Zendesk's cursor-based exports: the next page from ``after_cursor``, until ``end_of_stream``
    (dlt's cursor paginator stops only when the cursor is missing, and Zendesk sends one on the
    last page too: where the next run resumes). ``position`` is the last cursor seen."""

    def __init__(self, cursor: str | None):
        super().__init__(cursor_path="after_cursor", cursor_param="cursor")
        self.position = cursor

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        self.position = self._next_reference or self.position
        if response.json().get("end_of_stream"):
            self._has_next_page = False

    def update_request(self, request: requests.Request) -> None:
        super().update_request(request)
        request.params.pop("start_time", None)  # the cursor says where; start_time is for the first page


class ListCursorPaginator(JSONResponseCursorPaginator):
    """Cursor pagination of list endpoints: ``page[after]`` from ``meta.after_cursor`` while
    ``meta.has_more``. A page without ``has_more`` ends the list: dlt's paginator would raise an
    error holding the whole answer, records included."""

    def __init__(self) -> None:
        super().__init__(cursor_path="meta.after_cursor", cursor_param="page[after]",
                         has_more_path="meta.has_more")

    @property
    def position(self) -> str | None:
        return self._next_reference

    def _handle_missing_has_more(self, response_json: dict[str, Any]) -> None:
        pass

    def _handle_invalid_has_more(self, has_more: Any) -> None:
        self._has_next_page = False


class TimeExportPaginator(BasePaginator):
    """Zendesk's time-based exports, paged by hand: no dlt paginator can say that the next
    ``start_time`` is this page's ``end_time`` (so the boundary second is served again) and that a
    full page inside one second must step past it. ``position`` is where to start next."""

    def __init__(self, start_time: int):
        super().__init__()
        self.position = start_time

    def update_state(self, response: requests.Response, data: list[Any] | None = None) -> None:
        body, start = response.json(), self.position
        end_time = int(body.get("end_time") or start)
        if body.get("end_of_stream"):
            self._has_next_page, self.position = False, max(end_time, start)
        else:
            # A full page inside one second holds that whole second: step past it.
            self.position = end_time if end_time > start else start + 1

    def update_request(self, request: requests.Request) -> None:
        request.params["start_time"] = self.position


Paginator = ExportCursorPaginator | ListCursorPaginator | TimeExportPaginator  # each knows its ``position``


class ZendeskClient:
    """Talks to one tenant's Zendesk with an API token, through dlt's ``RESTClient`` and paginators
    and the tenant's retry policy."""

    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        tenant_id: str,
        budget_seconds: float | None = None,
        sleep: Callable[[float], None] = stop.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.base_url = base_url.rstrip("/")
        self.policy = RetryPolicy(
            self.base_url, tenant_id,
            settings.RETRY_BUDGET_SECONDS if budget_seconds is None else budget_seconds, sleep, clock)
        self._auth = HttpBasicAuth(f"{email}/token", token)
        self._local = threading.local()  # one session per thread: exports fetch ahead in threads

    def _rest(self) -> RESTClient:
        rest = getattr(self._local, "rest", None)
        if rest is None:
            rest = self._local.rest = RESTClient(self.base_url, auth=self._auth,
                                                 session=PolicySession(self.policy))
        return rest

    def get(self, path: str, params: dict[str, Any] | None = None, *, envelope: str | None = None) -> dict:
        """GET a JSON document (with a list under ``envelope``, if given)."""
        return self._rest().get(path, params=params, envelope=envelope).json()

    def cursor_export(
        self, path: str, key: str, *, start_time: int, cursor: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Iterator[Page]:
        """A cursor-based incremental export, from ``cursor`` if given, else from ``start_time``."""
        query: dict[str, Any] = {"cursor": cursor} if cursor else {"start_time": start_time}
        return self._pages(path, key, {**(params or {}), "per_page": settings.EXPORT_PAGE_SIZE, **query},
                           ExportCursorPaginator(cursor))

    def time_export(
        self, path: str, key: str, *, start_time: int, params: dict[str, Any] | None = None
    ) -> Iterator[Page]:
        """A time-based incremental export; each page's position is the next ``start_time``, and
        its list is left unread in its bytes (``Page``).

        Pages end on a whole second and the next page starts at that second again, so items at
        the boundary come twice; the source keeps them from one page only (``exports.py``).
        """
        return self._pages(path, key, {**(params or {}), "start_time": start_time},
                           TimeExportPaginator(start_time), unread=True)

    def list_pages(self, path: str, key: str, params: dict[str, Any] | None = None) -> Iterator[Page]:
        """A list endpoint with cursor pagination (``page[size]``, ``page[after]``, ``meta.has_more``)."""
        return self._pages(path, key, {**(params or {}), "page[size]": settings.LIST_PAGE_SIZE},
                           ListCursorPaginator())

    def _pages(self, path: str, key: str, params: dict[str, Any], paginator: Paginator,
               unread: bool = False) -> Iterator[Page]:
        """The pages of ``path`` with their items under ``key`` (left in the bytes if ``unread``),
        fetched one ahead of the caller."""
        def pages() -> Iterator[Page]:
            # no response hook: the retry policy judges every answer before dlt sees it
            for data in self._rest().paginate(path, params=params, paginator=paginator,
                                              data_selector=_selector(key), hooks={"response": []},
                                              envelope=key, unread=unread):
                body = data.response.json()
                yield Page(body, paginator.position, data.response.content, key,
                           None if body.get(key) is UNREAD else list(data))

        return fetch_ahead(pages())


UNREAD: list[Any] = []  # stands in for a list left in the answer's bytes; never added to
_TOP_LEVEL = msgspec.json.Decoder(dict[str, msgspec.Raw])  # a document's values, each left as bytes


@functools.lru_cache
def _selector(key: str) -> JSONPath:
    """The compiled JSON path of a page's list (dlt would compile a string again for every page)."""
    return jsonpath.compile_path(key)


def parse(content: bytes, envelope: str | None, *, unread: bool = False) -> dict[str, Any]:
    """The JSON document of an answer, checked to hold a list under ``envelope``. A document the
    fast parser rejects is read again by the standard one, which keeps escaped lone surrogates
    (valid JSON, not valid Unicode) as they are: the rows holding them are quarantined, not the page.
    ``unread``: the whole document is checked, but its list is left in the bytes (``UNREAD`` stands
    in for it), which takes a thirtieth of the time of reading a page of ticket events."""
    if unread and envelope is not None:
        try:
            top = _TOP_LEVEL.decode(content)
        except (msgspec.DecodeError, msgspec.ValidationError):
            pass  # not JSON, or what only the standard parser reads: read whole, below
        else:
            if memoryview(top.get(envelope, b"")).tobytes()[:1] != b"[":
                raise MalformedPage(f"body has no {envelope!r} list")
            return {**{name: msgspec.json.decode(raw) for name, raw in top.items() if name != envelope},
                    envelope: UNREAD}
    try:
        body = json.loadb(content)
    except ValueError:
        try:
            body = std_json.loads(content)
        except ValueError:
            raise MalformedPage("body is not valid JSON") from None
    if not isinstance(body, dict) or (envelope is not None and not isinstance(body.get(envelope), list)):
        raise MalformedPage(f"body has no {envelope!r} list")
    return body


def unreachable(error: requests.RequestException) -> str | None:
    """Why the host cannot be reached at all, or None for a failure worth retrying (a timeout,
    a connection reset mid-answer)."""
    if isinstance(error, requests.exceptions.SSLError):
        found = _innermost(error, ssl.SSLError)
        detail = getattr(found, "verify_message", None) or getattr(found, "reason", None)
        return f"TLS failed ({detail})" if detail else "TLS failed"
    if isinstance(error, requests.ConnectTimeout):
        return None
    reason = _innermost(error, urllib3.exceptions.NewConnectionError)
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return "its name does not resolve (DNS lookup failed)"
    if reason is not None:
        cause = reason.__cause__ or reason.__context__
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        return f"cannot connect ({cause.strerror})" if isinstance(cause, OSError) and cause.strerror \
            else "cannot connect"
    return None


def _innermost(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of ``kind`` among ``error``'s arguments, reasons, causes and contexts."""
    seen, todo = set(), [error]
    while todo:
        current = todo.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind) and current is not error:
            return current
        todo += [item for item in (*current.args, getattr(current, "reason", None), current.__cause__,
                                   current.__context__) if isinstance(item, BaseException)]
    return None


def fetch_ahead(pages: Iterator[T]) -> Iterator[T]:
    """Fetch the next page in a worker thread while the caller works on the current one. The
    worker is a daemon: a caller that stops (an error, a signal) never waits for a request in
    flight, and neither does the process on its way out."""
    done = object()
    asked: queue.SimpleQueue[bool] = queue.SimpleQueue()
    answers: queue.SimpleQueue[tuple[Any, BaseException | None]] = queue.SimpleQueue()

    def work() -> None:
        while asked.get():
            try:
                answers.put((next(pages, done), None))
            except BaseException as error:  # handed to the caller, who raises it
                answers.put((None, error))
                return

    threading.Thread(target=work, name="zendesk-fetch", daemon=True).start()
    try:
        asked.put(True)
        while True:
            page, error = answers.get()
            if error is not None:
                raise error
            if page is done:
                return
            asked.put(True)
            yield page
    finally:
        asked.put(False)


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt``: doubling from the base, capped."""
    return min(settings.BACKOFF_SECONDS * 2 ** (attempt - 1), settings.MAX_BACKOFF_SECONDS)


def retry_after(response: requests.Response, attempt: int) -> float:
    """The wait an answer asks for in ``Retry-After``, or the usual backoff when it names none."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return backoff(max(attempt, 1))
