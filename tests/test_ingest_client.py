"""The Zendesk client against a rate-limited, faulty fake API: it paces itself, waits out 429s and
retries every transport fault, and fails clearly when it should."""

from __future__ import annotations

import time

import pytest
import requests

from pipelines.world import World, WorldConfig
from pipelines.zendesk import settings
from pipelines.zendesk.client import ZendeskApiError, ZendeskClient
from pipelines.zendesk.fake_api import DEFAULT_EMAIL, DEFAULT_TOKEN, FakeZendesk
from pipelines.zendesk.fake_http import FAULT_KINDS, Faults, RateLimits

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


def test_requests_are_paced_to_stay_under_the_limit(world: World) -> None:
    with serve(world, rate_limits=FAST_LIMITS) as api:
        zendesk, started = client(api), time.monotonic()
        for _ in range(10):
            zendesk.get(settings.TICKETS_EXPORT, {"start_time": 0}, envelope="tickets")
        elapsed = time.monotonic() - started
        assert api.traffic == {"requests": 10, "rate_limited": 0, "faults": {}}
    assert elapsed >= 1  # 10 requests at 4 per one-second window span at least two resets


def test_a_429_is_waited_out_for_as_long_as_retry_after_says(world: World) -> None:
    with serve(world, rate_limits=FAST_LIMITS) as api:
        for _ in range(4):  # someone else spends the window
            requests.get(api.base_url + settings.TICKETS_EXPORT, params={"start_time": 0},
                         auth=(f"{DEFAULT_EMAIL}/token", DEFAULT_TOKEN))
        sleeps: list[float] = []
        body = client(api, sleeps=sleeps).get(settings.TICKETS_EXPORT, {"start_time": 0}, envelope="tickets")
        assert body["tickets"] and api.traffic["rate_limited"] == 1
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 1


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_every_kind_of_fault_is_retried(world: World, kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "READ_TIMEOUT_SECONDS", 0.3)
    with serve(world, faults=Faults(rate=1.0, kinds=(kind,), per_url=1, stall_seconds=1.0)) as api:
        body = client(api).get(settings.GROUPS, envelope="groups")
        assert [g["id"] for g in body["groups"]] == [g.id for g in world.groups()]
        assert api.traffic["faults"] == {kind: 1}
        assert api.stats["groups"]["requests"] == 2


def test_an_api_that_keeps_failing_gives_a_one_line_error(world: World) -> None:
    with serve(world, faults=Faults(rate=1.0, kinds=("http_503",))) as api:
        with pytest.raises(ZendeskApiError) as failure:
            list(client(api).list_pages(settings.GROUPS, "groups"))
        assert api.stats["groups"]["requests"] == settings.MAX_ATTEMPTS
    assert str(failure.value) == (
        f"tenant 'acme': GET {settings.GROUPS} failed {settings.MAX_ATTEMPTS} times, last: HTTP 503")
    assert (failure.value.status, failure.value.transient) == (503, True)


def test_refused_credentials_fail_at_once_naming_the_tenant_and_the_status(world: World) -> None:
    with serve(world) as api:
        with pytest.raises(ZendeskApiError) as failure:
            client(api, token="revoked").get(settings.GROUPS, envelope="groups")
        assert api.stats["groups"]["requests"] == 1
    assert str(failure.value) == f"tenant 'acme': GET {settings.GROUPS} returned HTTP 401"
    assert (failure.value.status, failure.value.transient) == (401, False)
    assert "revoked" not in str(failure.value) and DEFAULT_EMAIL not in str(failure.value)
