"""The fake Zendesk API speaks Zendesk's shapes and paging, over real HTTP on 127.0.0.1.

Expected values come from the world objects, never from the server's own code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from pipelines.fakes.zendesk import facts
from pipelines.fakes.zendesk.api import DEFAULT_EMAIL, DEFAULT_TOKEN, FakeZendesk
from pipelines.fakes.zendesk.metrics import metric_events
from pipelines.fakes.zendesk.transport import FAULT_KINDS, Faults, RateLimits
from pipelines.sources.zendesk.client import ZendeskClient
from pipelines.world import World, WorldConfig
from pipelines.world.model import Audit, Event, Ticket
from tests.ingest_support import FakeClock


@pytest.fixture(scope="module")
def world() -> World:
    return World(WorldConfig(tenant_id="acme", seed=2, tickets=300))


@pytest.fixture
def api(world: World):
    with FakeZendesk(world) as server:
        yield server


AUTH = (f"{DEFAULT_EMAIL}/token", DEFAULT_TOKEN)


def get(api: FakeZendesk, path: str, **params: object) -> dict:
    response = requests.get(api.base_url + path, params=params, auth=AUTH)
    assert response.status_code == 200, response.text
    return response.json()


def unix(at: datetime) -> int:
    return int(at.timestamp())


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def export_all(api: FakeZendesk, **params: object) -> list[list[dict]]:
    """Every page of the ticket cursor export, following after_cursor."""
    pages, body = [], get(api, facts.TICKETS_EXPORT, **params)
    while True:
        pages.append(body["tickets"])
        if body["end_of_stream"]:
            return pages
        body = get(api, facts.TICKETS_EXPORT, cursor=body["after_cursor"], per_page=params["per_page"])


def test_every_request_needs_the_api_token(api: FakeZendesk) -> None:
    url = api.base_url + facts.TICKETS_EXPORT
    missing = requests.get(url, params={"start_time": 0})
    wrong = requests.get(url, params={"start_time": 0}, auth=(f"{DEFAULT_EMAIL}/token", "nope"))
    password = requests.get(url, params={"start_time": 0}, auth=(DEFAULT_EMAIL, DEFAULT_TOKEN))
    for response in (missing, wrong, password):
        assert response.status_code == 401
        assert response.json() == {"error": "Couldn't authenticate you"}
    unknown = requests.get(api.base_url + "/api/v2/nothing.json", auth=AUTH)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "InvalidEndpoint"


def test_cursor_export_serves_every_ticket_once_in_order(api: FakeZendesk, world: World) -> None:
    pages = export_all(api, start_time=0, per_page=37)
    tickets = [t for page in pages for t in page]
    expected = {t.id for t in world.tickets() if t.state_at(api.as_of) is not None}
    assert sorted(t["id"] for t in tickets) == sorted(expected)
    keys = [(t["generated_timestamp"], t["id"]) for t in tickets]
    assert keys == sorted(keys)
    assert len(pages) == -(-len(expected) // 37)
    assert api.stats["tickets"] == {"requests": len(pages), "items": len(expected)}


def test_tickets_render_the_world_state(api: FakeZendesk, world: World) -> None:
    served = {t["id"]: t for page in export_all(api, start_time=0, per_page=1000) for t in page}
    deleted = [t.id for t in world.tickets() if t.is_deleted(api.as_of)]
    assert deleted, "the test world should hold deleted tickets"
    for ticket_id, item in served.items():
        ticket = world.ticket(ticket_id)
        state = ticket.state_at(api.as_of)
        updated = ticket.updated_at(api.as_of)
        assert item["status"] == ("deleted" if ticket_id in deleted else state["status"])
        assert (item["assignee_id"], item["requester_id"]) == (state["assignee_id"], state["requester_id"])
        assert item["generated_timestamp"] == unix(updated)
        assert item["updated_at"] == updated.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert item["via"]["channel"] == ticket.channel


def test_resumed_cursor_returns_only_what_changed_after_as_of_moves(api: FakeZendesk, world: World) -> None:
    before, after = world.start + timedelta(days=50), world.start + timedelta(days=90)
    api.as_of = before
    body = get(api, facts.TICKETS_EXPORT, start_time=0)
    assert body["end_of_stream"] and body["after_cursor"]
    api.as_of = after
    resumed = get(api, facts.TICKETS_EXPORT, cursor=body["after_cursor"])
    changed = {t.id for t in world.tickets() if t.updated_at(after) != t.updated_at(before)}
    assert changed
    assert sorted(t["id"] for t in resumed["tickets"]) == sorted(changed)
    assert resumed["end_of_stream"]
    again = get(api, facts.TICKETS_EXPORT, cursor=resumed["after_cursor"])
    assert again["tickets"] == [] and again["end_of_stream"]


def test_users_export_shows_each_user_at_its_current_version(api: FakeZendesk, world: World) -> None:
    api.as_of = world.start + timedelta(days=100)
    served = get(api, facts.USERS_EXPORT, start_time=0)["users"]
    expected = {u.id: u for u in world.users() if u.version_at(api.as_of) is not None}
    assert sorted(u["id"] for u in served) == sorted(expected)
    changed = [u for u in served if len(expected[u["id"]].roles) > 1]
    assert changed
    for item in changed:
        version = expected[item["id"]].version_at(api.as_of)
        assert (item["role"], item["active"]) == (version.role, version.active)


def test_ticket_events_pages_end_on_whole_seconds(
    api: FakeZendesk, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(facts, "TIME_EXPORT_PAGE_SIZE", 50)
    audits = [a for t in world.tickets() for a in t.audits_at(api.as_of)]
    per_second: dict[int, set[int]] = {}
    for audit in audits:
        per_second.setdefault(unix(audit.at), set()).add(audit.id)
    seen: set[int] = set()
    start_time, pages = 0, 0
    while True:
        body = get(api, facts.TICKET_EVENTS_EXPORT, start_time=start_time, include="comment_events")
        items, pages = body["ticket_events"], pages + 1
        assert body["count"] == len(items)
        assert [i["timestamp"] for i in items] == sorted(i["timestamp"] for i in items)
        assert all(i["timestamp"] >= start_time for i in items)
        if items:
            assert body["end_time"] == items[-1]["timestamp"]
            assert per_second[body["end_time"]] <= {i["id"] for i in items}
        assert body["next_page"].endswith(f"start_time={body['end_time']}&include=comment_events")
        seen |= {i["id"] for i in items}
        if body["end_of_stream"]:
            assert len(items) < 50
            break
        assert len(items) >= 50
        start_time = body["end_time"]
    assert seen == {a.id for a in audits}
    assert pages > len(audits) // 50


def test_ticket_events_carry_child_events(api: FakeZendesk, world: World) -> None:
    ticket = world.ticket(1)
    first = ticket.audits[0]
    body = get(api, facts.TICKET_EVENTS_EXPORT, start_time=unix(first.at), include="comment_events")
    audit = next(a for a in body["ticket_events"] if a["id"] == first.id)
    assert audit["event_type"] == "Audit" and audit["updater_id"] == first.author_id
    assert [e["id"] for e in audit["child_events"]] == [e.id for e in first.events]
    create = next(e for e in audit["child_events"] if e["event_type"] == "Create")
    assert {"field_name", "value"} <= set(create)
    comment = next(e for e in audit["child_events"] if e["event_type"] == "Comment")
    assert comment["body"] and comment["html_body"] and "public" in comment
    without = get(api, facts.TICKET_EVENTS_EXPORT, start_time=unix(first.at))
    audit = next(a for a in without["ticket_events"] if a["id"] == first.id)
    assert all(e["event_type"] != "Comment" for e in audit["child_events"])


T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


class BurstWorld:
    """A hand-built world whose audits pile up in a few seconds: 40 at 0 s, 20 at 1 s and 2 s, 40 at 5 s."""

    end = T0 + timedelta(days=1)

    def __init__(self) -> None:
        self._tickets = {i: self._build(i) for i in range(1, 41)}

    @staticmethod
    def _build(ticket_id: int) -> Ticket:
        seconds = (0, 1 + ticket_id % 2, 5)
        audits = tuple(
            Audit(ticket_id * 10 + n, ticket_id, T0 + timedelta(seconds=s), 7, "web",
                  (Event(ticket_id * 100 + n, "Change", "status", "open", "new"),))
            for n, s in enumerate(seconds)
        )
        return Ticket(ticket_id, T0, "web", audits)

    def tickets(self):
        return iter(self._tickets.values())

    def ticket(self, ticket_id: int) -> Ticket:
        return self._tickets[ticket_id]

    agent_ids = frozenset({7})

    def ticket_fields(self) -> list:
        return []

    def sla_policies(self) -> list:
        return []

    def schedules(self) -> list:
        return []


def test_a_crowded_second_is_never_split(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(facts, "TIME_EXPORT_PAGE_SIZE", 7)
    with FakeZendesk(BurstWorld()) as api:
        body = get(api, facts.TICKET_EVENTS_EXPORT, start_time=unix(T0))
        assert (body["count"], body["end_time"], body["end_of_stream"]) == (40, unix(T0), False)
        client = ZendeskClient(api.base_url, DEFAULT_EMAIL, DEFAULT_TOKEN, tenant_id="burst")
        pages = list(client.time_export(facts.TICKET_EVENTS_EXPORT, "ticket_events", start_time=unix(T0)))
    assert [len(p.items) for p in pages] == [40, 20, 20, 40, 40, 0]
    assert [p.position - unix(T0) for p in pages] == [1, 2, 3, 5, 6, 6]
    assert len({i["id"] for p in pages for i in p.items}) == 120


def test_list_endpoints_page_with_cursors(api: FakeZendesk, world: World) -> None:
    body = get(api, facts.GROUPS, **{"page[size]": 1})
    ids = [g["id"] for g in body["groups"]]
    while body["meta"]["has_more"]:
        assert body["links"]["next"]
        body = get(api, facts.GROUPS, **{"page[size]": 1, "page[after]": body["meta"]["after_cursor"]})
        ids += [g["id"] for g in body["groups"]]
    assert ids == [g.id for g in world.groups()]

    since = world.start + timedelta(days=60)
    ratings = [r for t in world.tickets() for r in t.ratings_at(api.as_of) if r.created_at >= since]
    body = get(api, facts.SATISFACTION_RATINGS, start_time=unix(since), **{"page[size]": 100})
    served = list(body["satisfaction_ratings"])
    while body["meta"]["has_more"]:
        body = get(api, facts.SATISFACTION_RATINGS, start_time=unix(since),
                   **{"page[size]": 100, "page[after]": body["meta"]["after_cursor"]})
        served += body["satisfaction_ratings"]
    assert sorted(r["id"] for r in served) == sorted(r.id for r in ratings)
    assert all(r["comment"] is None and r["score"] in ("offered", "good", "bad") for r in served)


def test_schedules_and_holidays(api: FakeZendesk, world: World) -> None:
    schedules = get(api, facts.SCHEDULES)["schedules"]
    default = world.schedules()[0]
    assert [s["id"] for s in schedules] == [s.id for s in world.schedules()]
    assert schedules[0]["time_zone"] == default.rails_time_zone
    assert [(i["start_time"], i["end_time"]) for i in schedules[0]["intervals"]] == list(default.intervals)
    holidays = get(api, facts.SCHEDULE_HOLIDAYS.format(schedule_id=default.id))["holidays"]
    assert [(h["start_date"], h["end_date"]) for h in holidays] == [
        (h.start_date.isoformat(), h.end_date.isoformat()) for h in default.holidays
    ]


def test_a_bad_cursor_is_a_clear_400(api: FakeZendesk) -> None:
    response = requests.get(api.base_url + facts.TICKETS_EXPORT, params={"cursor": "not-ours"}, auth=AUTH)
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidValue"


def test_incremental_exports_leave_out_the_last_minute_and_say_where_to_resume(
    api: FakeZendesk, world: World
) -> None:
    ticket = world.ticket(40)
    api.as_of = ticket.audits[1].at + timedelta(seconds=30)
    body = get(api, facts.TICKETS_EXPORT, start_time=unix(ticket.created_at) - 1)
    assert ticket.id not in [t["id"] for t in body["tickets"]]  # changed 30 s ago: not yet
    assert all(t["generated_timestamp"] <= unix(api.as_of) - 60 for t in body["tickets"])
    assert body["end_of_stream"] and body["after_cursor"]
    assert ticket.audits[1].id not in [a["id"] for a in get(
        api, facts.TICKET_EVENTS_EXPORT, start_time=unix(ticket.audits[0].at))["ticket_events"]]
    api.as_of += timedelta(minutes=2)
    later = get(api, facts.TICKETS_EXPORT, cursor=body["after_cursor"])
    assert ticket.id in [t["id"] for t in later["tickets"]]


def test_rate_limits_answer_429_with_retry_after_and_every_response_says_what_is_left(world: World) -> None:
    clock = FakeClock()  # the window moves only when the test moves the clock
    with FakeZendesk(world, rate_limits=RateLimits(incremental=10, account=700), clock=clock) as api:
        answers = [requests.get(api.base_url + facts.TICKETS_EXPORT, params={"start_time": 0}, auth=AUTH)
                   for _ in range(12)]
        assert [a.status_code for a in answers] == [200] * 10 + [429] * 2
        assert [int(a.headers["ratelimit-remaining"]) for a in answers[:10]] == list(range(9, -1, -1))
        assert all(a.headers["X-Rate-Limit"] == "10" and a.headers["ratelimit-reset"] == "60"
                   for a in answers)
        assert answers[10].json()["error"] == "APIRateLimitExceeded"
        assert answers[10].headers["Retry-After"] == "60"
        other = requests.get(api.base_url + facts.GROUPS, auth=AUTH)  # a bucket of its own
        assert other.status_code == 200 and other.headers["ratelimit-limit"] == "700"
        refused = requests.get(api.base_url + facts.GROUPS, auth=("nobody/token", "x"))
        assert refused.status_code == 401 and "ratelimit-remaining" in refused.headers
        clock.sleep(59)
        late = requests.get(api.base_url + facts.TICKETS_EXPORT, params={"start_time": 0}, auth=AUTH)
        assert late.status_code == 429 and late.headers["Retry-After"] == "1"
        clock.sleep(1)
        fresh = requests.get(api.base_url + facts.TICKETS_EXPORT, params={"start_time": 0}, auth=AUTH)
        assert fresh.status_code == 200 and fresh.headers["ratelimit-remaining"] == "9"
        assert api.traffic["rate_limited"] == 3


@pytest.mark.parametrize(("time_scale", "now", "retry_after", "reset"), [
    (1, 12.25, "48", "48"),  # a real minute: 47.75 s left
    (240, 0.125, "1", "0.125"),  # a quarter-second "minute": 0.125 s left
])
def test_retry_after_is_whole_seconds_rounded_up_even_when_time_is_scaled(
    world: World, time_scale: float, now: float, retry_after: str, reset: str
) -> None:
    clock = FakeClock(0.0)
    with FakeZendesk(world, rate_limits=RateLimits(incremental=1, time_scale=time_scale), clock=clock) as api:
        clock.now = now
        url = api.base_url + facts.TICKET_EVENTS_EXPORT
        assert requests.get(url, params={"start_time": 0}, auth=AUTH).status_code == 200
        limited = requests.get(url, params={"start_time": 0}, auth=AUTH)
        assert limited.status_code == 429
        assert (limited.headers["Retry-After"], limited.headers["ratelimit-reset"]) == (retry_after, reset)
        clock.sleep(int(limited.headers["Retry-After"]))  # what a client parsing an integer does
        assert requests.get(url, params={"start_time": 0}, auth=AUTH).status_code == 200


def _outcome(url: str) -> str:
    """What a plain HTTP client meets at ``url``: a status, or the kind of failure."""
    try:
        response = requests.get(url, auth=AUTH, timeout=0.5)
        response.json()
    except requests.exceptions.JSONDecodeError:
        return "malformed"
    except requests.exceptions.ChunkedEncodingError:
        return "truncated"
    except requests.Timeout:
        return "timeout"
    except requests.ConnectionError:
        return "reset"
    return f"http_{response.status_code}"


def test_faults_are_injected_at_the_chosen_rate_reproducibly_from_a_seed(world: World) -> None:
    faults = Faults(rate=0.3, seed=11, stall_seconds=1.0)
    paths = [f"{facts.GROUPS}?page%5Bsize%5D={size}" for size in range(1, 61)]
    seen = []
    for _ in range(2):
        with FakeZendesk(world, faults=faults) as api:
            seen.append([_outcome(api.base_url + path) for path in paths])
            traffic = api.traffic
    assert seen[0] == seen[1]
    failed = [outcome for outcome in seen[0] if outcome != "http_200"]
    assert set(failed) == set(FAULT_KINDS)
    assert 0.15 < len(failed) / len(paths) < 0.45
    assert sum(traffic["faults"].values()) == len(failed)


def test_tickets_carry_tags_custom_fields_brand_organisation_and_metric_sets(
    api: FakeZendesk, world: World
) -> None:
    body = get(api, facts.TICKETS_EXPORT, start_time=0, include="metric_sets")
    assert len(body["metric_sets"]) == len(body["tickets"])
    for item, metrics in zip(body["tickets"], body["metric_sets"], strict=True):
        ticket = world.ticket(item["id"])
        assert item["tags"] == list(ticket.tags)
        assert {f["id"]: f["value"] for f in item["custom_fields"]} == dict(ticket.custom_fields)
        assert (item["brand_id"], item["organization_id"]) == (ticket.brand_id, ticket.organization_id)
        assert metrics["ticket_id"] == item["id"]
        assert set(metrics["reply_time_in_minutes"]) == {"calendar", "business"}
    assert "metric_sets" not in get(api, facts.TICKETS_EXPORT, start_time=0)
    brands = get(api, facts.BRANDS)["brands"]
    assert [(b["id"], b["default"]) for b in brands] == [(b.id, b.id == 1) for b in world.brands()]
    fields = get(api, facts.TICKET_FIELDS)["ticket_fields"]
    assert [(f["id"], f["removable"]) for f in fields] == [(f.id, f.is_custom) for f in world.ticket_fields()]
    policies = get(api, facts.SLA_POLICIES)["sla_policies"]
    assert [[(m["priority"], m["metric"], m["target"]) for m in p["policy_metrics"]] for p in policies] == [
        [(t.priority, t.metric, t.minutes) for t in p.targets] for p in world.sla_policies()]


def test_ticket_metric_events_are_a_time_based_export(api: FakeZendesk, world: World) -> None:
    visible = api.as_of - timedelta(minutes=1)
    expected = {e.id: e for t in world.tickets()
                for e in metric_events(t, world.sla_policies(), world.agent_ids, visible,
                                       world.schedules()[0])}
    served, start_time = {}, 0
    while True:
        body = get(api, facts.TICKET_METRIC_EVENTS_EXPORT, start_time=start_time)
        served |= {e["id"]: e for e in body["ticket_metric_events"]}
        if body["end_of_stream"]:
            break
        start_time = body["end_time"]
    assert set(served) == set(expected)
    for event_id, item in served.items():
        event = expected[event_id]
        assert (item["metric"], item["type"], item["time"]) == (event.metric, event.type, iso(event.at))
        assert ("sla" in item) == (event.type == "apply_sla")
        assert ("status" in item) == (event.type == "update_status")


def test_a_forbidden_endpoint_answers_403_as_on_a_plan_without_it(world: World) -> None:
    with FakeZendesk(world, forbid=["slas/policies", "business_hours/schedules"]) as api:
        for path in (facts.SLA_POLICIES, facts.SCHEDULES,
                     facts.SCHEDULE_HOLIDAYS.format(schedule_id=world.schedules()[0].id)):
            response = requests.get(api.base_url + path, auth=AUTH)
            assert response.status_code == 403 and response.json()["error"] == "Forbidden", path
        assert requests.get(api.base_url + facts.SLA_POLICIES).status_code == 401  # login comes first
        assert requests.get(api.base_url + facts.GROUPS, auth=AUTH).status_code == 200
        api.forbid = ()  # the plan gets them back
        assert requests.get(api.base_url + facts.SLA_POLICIES, auth=AUTH).status_code == 200
    with pytest.raises(ValueError, match="unknown endpoint"):
        FakeZendesk(world, forbid=["slas/policy"])


@pytest.mark.parametrize("path", [facts.GROUPS, facts.SATISFACTION_RATINGS, facts.TICKETS_EXPORT,
                                  facts.TICKET_EVENTS_EXPORT, facts.SCHEDULE_HOLIDAYS])
def test_every_path_answers_with_or_without_json(api: FakeZendesk, world: World, path: str) -> None:
    path = path.format(schedule_id=world.schedules()[0].id)
    assert get(api, path.removesuffix(".json"), start_time=0) == get(api, path, start_time=0)
    for wrong in (path.removesuffix(".json") + ".xml", path + "x"):
        assert requests.get(api.base_url + wrong, params={"start_time": 0}, auth=AUTH).status_code == 404


def latest_rating(ticket: Ticket, as_of: datetime) -> dict:
    """What Zendesk embeds in a ticket: its latest rating record, else the survey's state."""
    ratings = sorted(ticket.ratings_at(as_of), key=lambda r: (r.created_at, r.id))
    if not ratings:
        return {"score": "unoffered"}
    return {"id": ratings[-1].id, "score": ratings[-1].score, "comment": None}


def test_tickets_embed_their_latest_satisfaction_rating(api: FakeZendesk, world: World) -> None:
    ticket = next(t for t in world.tickets() if len(t.ratings) > 1
                  and t.ratings[1].created_at - t.ratings[0].created_at > timedelta(minutes=2))
    embedded = {}
    for as_of in (ticket.ratings[0].created_at + timedelta(minutes=2), world.end):
        api.as_of = as_of
        served = {t["id"]: t["satisfaction_rating"]
                  for page in export_all(api, start_time=0, per_page=1000) for t in page}
        assert served == {ticket_id: latest_rating(world.ticket(ticket_id), as_of) for ticket_id in served}
        embedded[as_of] = served[ticket.id]
    first, latest = embedded.values()
    assert first == {"id": ticket.ratings[0].id, "score": ticket.ratings[0].score, "comment": None}
    assert latest == {"id": ticket.ratings[-1].id, "score": ticket.ratings[-1].score, "comment": None}
    assert {r["score"] for r in served.values()} == {"unoffered", "offered", "good", "bad"}


def test_satisfaction_ratings_page_by_offset(api: FakeZendesk, world: World) -> None:
    since = world.start + timedelta(days=30)
    expected = sorted((r for t in world.tickets() for r in t.ratings_at(api.as_of) if r.created_at >= since),
                      key=lambda r: (r.created_at, r.id))
    assert len(expected) > 2 * 40
    body = get(api, facts.SATISFACTION_RATINGS, start_time=unix(since), per_page=40)
    assert (body["count"], body["previous_page"]) == (len(expected), None)
    assert "meta" not in body and "links" not in body
    served, pages = list(body["satisfaction_ratings"]), 1
    while body["next_page"]:
        assert len(body["satisfaction_ratings"]) == 40
        body = requests.get(body["next_page"], auth=AUTH).json()
        pages += 1
        assert body["previous_page"].endswith(f"page={pages - 1}&per_page=40")
        assert body["count"] == len(expected)
        served += body["satisfaction_ratings"]
    assert [r["id"] for r in served] == [r.id for r in expected]
    assert pages == -(-len(expected) // 40)
    third = get(api, facts.SATISFACTION_RATINGS, start_time=unix(since), page=3, per_page=40)
    assert [r["id"] for r in third["satisfaction_ratings"]] == [r.id for r in expected[80:120]]
    capped = get(api, facts.SATISFACTION_RATINGS, per_page=500)
    assert len(capped["satisfaction_ratings"]) == facts.LIST_PAGE_SIZE
    beyond = get(api, facts.SATISFACTION_RATINGS, start_time=unix(since), page=pages + 1, per_page=40)
    assert (beyond["satisfaction_ratings"], beyond["next_page"]) == ([], None)
    groups = get(api, facts.GROUPS)  # every list pages by offset unless asked for cursors
    assert ([g["id"] for g in groups["groups"]], groups["count"], groups["next_page"]) == (
        [g.id for g in world.groups()], len(world.groups()), None)


def time_export_all(api: FakeZendesk, path: str, key: str, stamp, **params: object) -> list[dict]:
    """Every page of a time-based export from start_time 0, checked page by page against Zendesk's
    shape: each page ends on a whole second, which the next page starts with again."""
    pages, start_time = [], 0
    while True:
        body = get(api, path, start_time=start_time, **params)
        items = body[key]
        assert set(body) >= {key, "next_page", "count", "end_of_stream", "end_time"}
        assert body["count"] == len(items)
        assert [stamp(i) for i in items] == sorted(stamp(i) for i in items)
        assert all(stamp(i) >= start_time for i in items)
        if items:
            assert body["end_time"] == stamp(items[-1])
        assert body["next_page"] == (f"{api.base_url}{path}?start_time={body['end_time']}"
                                     + "".join(f"&{k}={v}" for k, v in params.items()))
        if pages and pages[-1]:
            edge = {i["id"] for i in pages[-1] if stamp(i) == start_time}
            assert edge <= {i["id"] for i in items}  # the one-second overlap
        pages.append(items)
        if body["end_of_stream"]:
            assert len(items) < facts.TIME_EXPORT_PAGE_SIZE
            return [i for page in pages for i in page]
        assert len(items) >= facts.TIME_EXPORT_PAGE_SIZE
        start_time = body["end_time"]


def test_time_based_ticket_and_user_exports(
    api: FakeZendesk, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    visible = api.as_of - timedelta(minutes=1)
    tickets = {t.id: t for t in world.tickets() if t.state_at(visible) is not None}
    users = {u.id: u for u in world.users() if u.version_at(visible) is not None}
    whole = get(api, facts.TICKETS_TIME_EXPORT, start_time=0)  # 1000 a page: one page here
    assert (whole["count"], whole["end_of_stream"]) == (len(tickets), True)

    monkeypatch.setattr(facts, "TIME_EXPORT_PAGE_SIZE", 40)
    served = time_export_all(api, facts.TICKETS_TIME_EXPORT, "tickets", lambda t: t["generated_timestamp"])
    assert len(served) > len(tickets)  # items at page edges come twice
    assert {t["id"] for t in served} == set(tickets)
    for item in served:
        assert item["generated_timestamp"] == unix(tickets[item["id"]].updated_at(api.as_of))
    with_metrics = get(api, facts.TICKETS_TIME_EXPORT, start_time=0, include="metric_sets")
    assert [m["ticket_id"] for m in with_metrics["metric_sets"]] == [t["id"] for t in with_metrics["tickets"]]
    assert with_metrics["next_page"].endswith("&include=metric_sets")

    served = time_export_all(api, facts.USERS_TIME_EXPORT, "users",
                             lambda u: unix(datetime.fromisoformat(u["updated_at"])))
    assert {u["id"] for u in served} == set(users)
    for item in served:
        version = users[item["id"]].version_at(api.as_of)
        assert (item["role"], item["updated_at"]) == (version.role, iso(version.at))
