"""The fake Zendesk API read by zenpy, the most used Python client of Zendesk: tickets and users
through both incremental exports, each ticket's satisfaction rating, satisfaction ratings by cursor
and by offset, and a 429 waited out as zenpy waits (whole seconds of ``Retry-After``).

A general client asks for more than our source does; where the fake falls short of Zendesk, it
shows here. Expected values come from the world objects.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import zenpy.lib.api
from zenpy import Zenpy

from pipelines.fakes.zendesk import facts
from pipelines.fakes.zendesk.api import DEFAULT_EMAIL, DEFAULT_TOKEN, FakeZendesk
from pipelines.fakes.zendesk.transport import RateLimits
from pipelines.world import World, WorldConfig
from tests.ingest_support import FakeClock
from tests.test_fake_zendesk_api import latest_rating


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(tenant_id="acme", seed=2, tickets=300))


@pytest.fixture
def small_time_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facts, "TIME_EXPORT_PAGE_SIZE", 60)  # several pages of a small world


def zenpy_for(api: FakeZendesk, monkeypatch: pytest.MonkeyPatch) -> Zenpy:
    """A zenpy client pointed at the fake (zenpy builds https://<subdomain>.zendesk.com URLs
    unless told a scheme and host)."""
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", api.base_url.removeprefix("http://"))
    return Zenpy(subdomain="acme", email=DEFAULT_EMAIL, token=DEFAULT_TOKEN)


@pytest.fixture
def api(world: World):
    with FakeZendesk(world) as server:
        server.prepare()
        yield server


def test_zenpy_reads_tickets_and_users_through_both_incremental_exports(
    api: FakeZendesk, world: World, small_time_pages: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = zenpy_for(api, monkeypatch)
    visible = api.as_of - timedelta(minutes=1)
    tickets = {t.id for t in world.tickets() if t.state_at(visible) is not None}
    users = {u.id for u in world.users() if u.version_at(visible) is not None}

    by_cursor = [t.id for t in client.tickets.incremental(start_time=0)]
    assert sorted(by_cursor) == sorted(tickets)
    by_time = [t.id for t in client.tickets.incremental(start_time=0, paginate_by_time=True)]
    assert set(by_time) == tickets and len(by_time) > len(tickets)  # page edges come twice
    assert api.stats["tickets_by_time"]["requests"] > 1

    assert sorted(u.id for u in client.users.incremental(start_time=0)) == sorted(users)
    by_time = [u.id for u in client.users.incremental(start_time=0, paginate_by_time=True)]
    assert set(by_time) == users and api.stats["users_by_time"]["requests"] > 1


def test_zenpy_sees_each_ticket_s_latest_satisfaction_rating(
    api: FakeZendesk, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = zenpy_for(api, monkeypatch)
    seen = {}
    for ticket in client.tickets.incremental(start_time=0):
        rating = ticket.satisfaction_rating
        seen[ticket.id] = {"score": rating.score} if rating.score == "unoffered" else {
            "id": rating.id, "score": rating.score, "comment": rating.comment}
    assert seen == {ticket_id: latest_rating(world.ticket(ticket_id), api.as_of) for ticket_id in seen}
    assert {r["score"] for r in seen.values()} == {"unoffered", "offered", "good", "bad"}


def test_zenpy_pages_satisfaction_ratings_by_cursor_and_by_offset(
    api: FakeZendesk, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = zenpy_for(api, monkeypatch)
    expected = [r.id for r in sorted((r for t in world.tickets() for r in t.ratings_at(api.as_of)),
                                     key=lambda r: (r.created_at, r.id))]
    assert len(expected) > 2 * facts.LIST_PAGE_SIZE
    assert [r.id for r in client.satisfaction_ratings()] == expected  # page[size]=100, path without .json
    by_offset = client.satisfaction_ratings(cursor_pagination=False)
    assert len(by_offset) == len(expected)  # the offset page's count
    assert [r.id for r in by_offset] == expected
    assert [r.id for r in client.satisfaction_ratings(cursor_pagination=False)[30:75]] == expected[30:75]


def test_zenpy_waits_out_a_429_in_whole_seconds_under_a_time_scale(
    world: World, small_time_pages: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(0.0)
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # zenpy sleeps int(Retry-After) times one second
        slept.append(seconds)
        clock.sleep(seconds)

    monkeypatch.setattr(zenpy.lib.api, "sleep", sleep)
    limits = RateLimits(incremental=1, time_scale=60)  # one export request per one-second "minute"
    with FakeZendesk(world, rate_limits=limits, clock=clock) as api:
        client = zenpy_for(api, monkeypatch)
        served = [t.id for t in client.tickets.incremental(start_time=0, paginate_by_time=True)]
        traffic = api.traffic
    visible = world.end - timedelta(minutes=1)
    assert set(served) == {t.id for t in world.tickets() if t.state_at(visible) is not None}
    pages = api.stats["tickets_by_time"]["requests"] - traffic["rate_limited"]
    assert pages > 2 and traffic["rate_limited"] == pages - 1  # every page after the first waited
    assert slept == [1] * traffic["rate_limited"]
