"""The one small HTTP client for the Zendesk Support API: auth, paging styles and retries.

Retries connection resets, timeouts and 5xx answers with exponential backoff, waits out 429s as
their ``Retry-After`` asks, and fails with a message that names the tenant and the path only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import requests

from pipelines.zendesk import settings

logger = logging.getLogger(__name__)

RETRIED_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class ZendeskApiError(RuntimeError):
    """The API refused a request or kept failing; the message never holds credentials or data."""


class Page(NamedTuple):
    """One page of an export and where to resume after it (a cursor or a unix start time)."""

    items: list[dict[str, Any]]
    position: str | int | None


class ZendeskClient:
    """Talks to one tenant's Zendesk with an API token."""

    def __init__(
        self,
        base_url: str,
        email: str,
        token: str,
        *,
        tenant_id: str,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.tenant_id = tenant_id
        self._session = requests.Session()
        self._session.auth = (f"{email}/token", token)
        self._session.headers["Accept"] = "application/json"
        self._sleep = sleep

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET a JSON document, retrying what is worth retrying."""
        for attempt in range(1, settings.MAX_ATTEMPTS + 1):
            try:
                response = self._session.get(
                    self.base_url + path,
                    params=params,
                    timeout=(settings.CONNECT_TIMEOUT_SECONDS, settings.READ_TIMEOUT_SECONDS),
                )
            except RETRIED_ERRORS as exc:
                problem, wait = exc.__class__.__name__, backoff(attempt)
            else:
                if response.status_code == 429:
                    problem, wait = "HTTP 429", retry_after(response, attempt)
                elif response.status_code >= 500:
                    problem, wait = f"HTTP {response.status_code}", backoff(attempt)
                elif response.ok:
                    return response.json()
                else:
                    raise ZendeskApiError(
                        f"tenant {self.tenant_id!r}: GET {path} returned HTTP {response.status_code}"
                    )
            if attempt == settings.MAX_ATTEMPTS:
                break
            logger.warning("tenant %s: GET %s failed (%s), retry %d in %.1f s",
                           self.tenant_id, path, problem, attempt, wait)
            self._sleep(wait)
        raise ZendeskApiError(
            f"tenant {self.tenant_id!r}: GET {path} failed {settings.MAX_ATTEMPTS} times, last: {problem}"
        )

    def cursor_export(
        self, path: str, key: str, *, start_time: int, cursor: str | None = None
    ) -> Iterator[Page]:
        """A cursor-based incremental export, from ``cursor`` if given, else from ``start_time``."""
        params: dict[str, Any] = {"cursor": cursor} if cursor else {"start_time": start_time}
        while True:
            body = self.get(path, {"per_page": settings.EXPORT_PAGE_SIZE, **params})
            cursor = body.get("after_cursor") or cursor
            yield Page(body.get(key) or [], cursor)
            if body.get("end_of_stream") or not body.get("after_cursor"):
                return
            params = {"cursor": cursor}

    def time_export(
        self, path: str, key: str, *, start_time: int, params: dict[str, Any] | None = None
    ) -> Iterator[Page]:
        """A time-based incremental export; each page's position is the next ``start_time``.

        Pages end on a whole second and the next page starts at that second again, so items at
        the boundary come twice; callers merge on their keys.
        """
        while True:
            body = self.get(path, {**(params or {}), "start_time": start_time})
            end_time = int(body.get("end_time") or start_time)
            if body.get("end_of_stream"):
                yield Page(body.get(key) or [], max(end_time, start_time))
                return
            # A full page inside one second holds that whole second: step past it.
            next_start = end_time if end_time > start_time else start_time + 1
            yield Page(body.get(key) or [], next_start)
            start_time = next_start

    def list_pages(self, path: str, key: str, params: dict[str, Any] | None = None) -> Iterator[list[dict]]:
        """A list endpoint with cursor pagination (``page[size]``, ``page[after]``, ``meta.has_more``)."""
        query = {**(params or {}), "page[size]": settings.LIST_PAGE_SIZE}
        while True:
            body = self.get(path, query)
            yield body.get(key) or []
            meta = body.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return
            query = {**query, "page[after]": meta["after_cursor"]}


def backoff(attempt: int) -> float:
    """Seconds to wait before retry ``attempt``: doubling from the base, capped."""
    return min(settings.BACKOFF_SECONDS * 2 ** (attempt - 1), settings.MAX_BACKOFF_SECONDS)


def retry_after(response: requests.Response, attempt: int) -> float:
    """The wait a 429 asks for, or the usual backoff when it names none."""
    try:
        return max(0.0, float(response.headers["Retry-After"]))
    except (KeyError, ValueError):
        return backoff(attempt)
