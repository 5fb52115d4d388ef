"""The Zendesk client against a rate-limited, faulty fake API: it paces itself, waits out 429s and
retries every transport fault within the tenant's retry budget, gives up at once on a host it
cannot reach, and fails clearly when it should. Clocks are fake where time matters: tests assert
how often and in which order the client waited, never how long the machine took."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time

import pytest
import requests

from pipelines.fakes.zendesk.api import DEFAULT_EMAIL, DEFAULT_TOKEN, FakeZendesk
from pipelines.fakes.zendesk.transport import FAULT_KINDS, Faults, RateLimits
from pipelines.sources.zendesk import settings
from pipelines.sources.zendesk.client import ListCursorPaginator, ZendeskApiError, ZendeskClient, fetch_ahead
from pipelines.world import World, WorldConfig
from tests.ingest_support import FakeClock

FAST_LIMITS = RateLimits(incremental=4, time_scale=60)  # 4 export requests per one-second "minute"


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(tenant_id="acme", seed=3, tickets=60))


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "BACKOFF_SECONDS", 0.01)


def serve(world: World, **fake: object) -> FakeZendesk:
    """A fake API with its world packed already, so no first request waits for that."""
    api = FakeZendesk(world, **fake)
    api.prepare()
    return api


def client(api: FakeZendesk, token: str = DEFAULT_TOKEN, sleeps: list[float] | None = None) -> ZendeskClient:
    def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)
        time.sleep(seconds)

    return ZendeskClient(api.base_url, DEFAULT_EMAIL, token, tenant_id="acme", sleep=sleep)


def clocked(api: FakeZendesk, clock: FakeClock, budget_seconds: float | None = None) -> ZendeskClient:
    """A client on ``clock``: its waits move the clock (and the fake API's rate-limit windows, when
    the API shares it) instead of the machine's time."""
    return ZendeskClient(api.base_url, DEFAULT_EMAIL, DEFAULT_TOKEN, tenant_id="acme", clock=clock,
                         sleep=clock.sleep, budget_seconds=budget_seconds)


def test_requests_are_paced_to_stay_under_the_limit(world: World) -> None:
    clock = FakeClock()
    with serve(world, rate_limits=FAST_LIMITS, clock=clock) as api:
        zendesk = clocked(api, clock)
        for _ in range(10):
            zendesk.get(settings.TICKETS_EXPORT, {"start_time": 0}, envelope="tickets")
        assert api.traffic == {"requests": 10, "rate_limited": 0, "faults": {}}
    # 4 requests per window: after the 4th and the 8th the client waits for the window to reset
    assert len(clock.sleeps) == 2 and all(0 < wait <= 1 for wait in clock.sleeps)


def test_a_429_is_waited_out_for_as_long_as_retry_after_says(world: World) -> None:
    clock = FakeClock()
    with serve(world, rate_limits=FAST_LIMITS, clock=clock) as api:
        for _ in range(4):  # someone else spends the window
            requests.get(api.base_url + settings.TICKETS_EXPORT, params={"start_time": 0},
                         auth=(f"{DEFAULT_EMAIL}/token", DEFAULT_TOKEN))
        body = clocked(api, clock).get(settings.TICKETS_EXPORT, {"start_time": 0}, envelope="tickets")
        assert body["tickets"] and api.traffic["rate_limited"] == 1
    assert clock.sleeps == [1.0]  # Retry-After: the whole one-second window was still to come


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_every_kind_of_fault_is_retried(world: World, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "READ_TIMEOUT_SECONDS", 0.3)
    with serve(world, faults=Faults(rate=1.0, kinds=(kind,), per_url=1, stall_seconds=1.0)) as api:
        body = client(api).get(settings.GROUPS, envelope="groups")
        assert [g["id"] for g in body["groups"]] == [g.id for g in world.groups()]
        assert api.traffic["faults"] == {kind: 1}
        assert api.stats["groups"]["requests"] == 2


def test_an_api_that_keeps_failing_stops_when_the_tenant_budget_is_spent(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "BACKOFF_SECONDS", 1.0)
    clock = FakeClock()
    with serve(world, faults=Faults(rate=1.0, kinds=("http_503",))) as api:
        with pytest.raises(ZendeskApiError) as failure:
            list(clocked(api, clock, budget_seconds=60).list_pages(settings.GROUPS, "groups"))
        assert api.stats["groups"]["requests"] == 6
    # backoff doubles; the wait after the 6th failure (32 s, at 31 s into the streak) would pass 60 s
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert str(failure.value) == (f"tenant 'acme': 127.0.0.1 kept failing for 31 s (retry budget 60 s), "
                                  f"last: HTTP 503 on GET {settings.GROUPS}")
    assert (failure.value.status, failure.value.transient) == (503, False)


def test_the_budget_is_for_failures_in_a_row(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each success starts the count again: failures spread over a long load never add up."""
    monkeypatch.setattr(settings, "BACKOFF_SECONDS", 1.0)
    clock = FakeClock()
    with serve(world, faults=Faults(rate=1.0, kinds=("http_503",), per_url=2)) as api:
        zendesk = clocked(api, clock, budget_seconds=5)
        for size in (1, 2, 3):  # three URLs, each failing twice before it answers
            zendesk.get(settings.GROUPS, {"page[size]": size}, envelope="groups")
        assert api.stats["groups"]["requests"] == 9
    assert clock.sleeps == [1.0, 2.0] * 3  # 9 s of waits in all, never more than 3 s in a row


def test_rate_limit_waits_count_against_the_budget(world: World) -> None:
    clock = FakeClock()
    limits = RateLimits(incremental=0)  # every export request answers 429, Retry-After a minute
    with serve(world, rate_limits=limits, clock=clock) as api:
        with pytest.raises(ZendeskApiError) as failure:
            clocked(api, clock, budget_seconds=150).get(settings.TICKETS_EXPORT, {"start_time": 0})
        assert api.traffic["rate_limited"] == 3
    assert len(clock.sleeps) == 2 and all(55 < wait <= 60 for wait in clock.sleeps)
    assert "retry budget 150 s), last: HTTP 429" in str(failure.value)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("url", "host", "cause"), [
    ("closed-port", "127.0.0.1", "connection refused"),
    ("https://acme.invalid", "acme.invalid", "its name does not resolve (DNS lookup failed)"),
    ("https-to-plain-http", "127.0.0.1", "TLS failed (WRONG_VERSION_NUMBER)"),
])
def test_a_host_that_cannot_be_reached_fails_at_once_naming_host_and_cause(
    world: World, url: str, host: str, cause: str
) -> None:
    clock = FakeClock()
    with serve(world) as api:
        base_url = {"closed-port": f"http://127.0.0.1:{closed_port()}",
                    "https-to-plain-http": api.base_url.replace("http://", "https://")}.get(url, url)
        zendesk = ZendeskClient(base_url, DEFAULT_EMAIL, DEFAULT_TOKEN, tenant_id="acme", clock=clock,
                                sleep=clock.sleep)
        with pytest.raises(ZendeskApiError) as failure:
            zendesk.get(settings.GROUPS, envelope="groups")
    assert str(failure.value) == f"tenant 'acme': cannot reach {host}: {cause}"
    assert clock.sleeps == [] and failure.value.transient is False
    assert DEFAULT_TOKEN not in str(failure.value) and DEFAULT_EMAIL not in str(failure.value)


def test_a_reader_that_stops_never_waits_for_the_page_being_fetched() -> None:
    release, order = threading.Event(), []

    def pages():
        yield 1
        release.wait(10)  # a request in flight
        order.append("fetched")
        yield 2

    ahead = fetch_ahead(pages())
    assert next(ahead) == 1
    ahead.close()  # an error or a signal in the reader
    order.append("closed")
    release.set()
    for _ in range(100):
        if "fetched" in order:
            break
        time.sleep(0.05)
    assert order == ["closed", "fetched"]


def test_refused_credentials_fail_at_once_naming_the_tenant_and_the_status(world: World) -> None:
    with serve(world) as api:
        with pytest.raises(ZendeskApiError) as failure:
            client(api, token="revoked").get(settings.GROUPS, envelope="groups")
        assert api.stats["groups"]["requests"] == 1
    assert str(failure.value) == f"tenant 'acme': GET {settings.GROUPS} returned HTTP 401"
    assert (failure.value.status, failure.value.transient) == (401, False)
    assert "revoked" not in str(failure.value) and DEFAULT_EMAIL not in str(failure.value)


def test_a_cursor_export_ends_at_end_of_stream_and_resumes_from_its_last_cursor(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Zendesk sends an ``after_cursor`` on the last page too (where the next run resumes), so the
    export must stop at ``end_of_stream``, not when the cursor runs out."""
    monkeypatch.setattr(settings, "EXPORT_PAGE_SIZE", 25)
    with serve(world) as api:
        zendesk = client(api)
        pages = list(itertools.islice(zendesk.cursor_export(settings.TICKETS_EXPORT, "tickets", start_time=0),
                                      10))
        expected = {t.id for t in world.tickets() if t.state_at(api.as_of) is not None}
        assert [len(page.items) for page in pages] == [25, 25, len(expected) - 50]
        assert sorted(item["id"] for page in pages for item in page.items) == sorted(expected)
        assert api.stats["tickets"]["requests"] == 3
        assert [page.position for page in pages] == [page.body["after_cursor"] for page in pages]

        again = list(itertools.islice(zendesk.cursor_export(
            settings.TICKETS_EXPORT, "tickets", start_time=0, cursor=pages[-1].position), 10))
        assert [(page.items, page.position) for page in again] == [([], pages[-1].position)]
        assert api.stats["tickets"]["requests"] == 4


def test_every_page_of_a_list_goes_through_the_retry_policy(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "LIST_PAGE_SIZE", 1)
    with serve(world, faults=Faults(rate=1.0, kinds=("http_503",), per_url=1)) as api:
        pages = list(client(api).list_pages(settings.GROUPS, "groups"))
        groups = [g.id for g in world.groups()]
        assert [item["id"] for page in pages for item in page.items] == groups
        assert len(pages) == len(groups) > 1
        assert api.stats["groups"]["requests"] == 2 * len(pages)  # each page's URL failed once first
        assert api.traffic["faults"] == {"http_503": len(pages)}


@pytest.mark.parametrize("meta", [{}, {"meta": None}, {"meta": {"after_cursor": "b"}},
                                  {"meta": {"has_more": 3, "after_cursor": "b"}}])
def test_a_list_page_without_has_more_ends_the_list_and_no_error_holds_its_records(meta: dict) -> None:
    """dlt's cursor paginator raises an error quoting the whole answer when ``has_more`` is missing
    or not a flag; the answer holds people's records, which no message may."""
    answer = requests.Response()
    answer.status_code = 200
    answer._content = json.dumps({"users": [{"id": 1, "name": "Ada Lovelace"}], **meta}).encode()
    paginator = ListCursorPaginator()
    paginator.update_state(answer, [{"id": 1}])
    assert not paginator.has_next_page
