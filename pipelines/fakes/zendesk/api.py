"""A fake Zendesk Support API over a synthetic world, for the demo, the tests and the benchmarks.

It serves the documented shapes of the endpoints the source reads (envelopes, cursor and
time-based paging, side-loads, deleted tickets, repeated items at time-export page boundaries,
nothing from the last minute in incremental exports) as the world stands at ``as_of``, so the
source runs unchanged against it and against the real service; and what a general Zendesk client
such as zenpy expects besides (paths with or without ``.json``, offset paging of lists, the
time-based ticket and user exports, each ticket's latest satisfaction rating). Optional rate limits and seeded
faults (``fake_http``) make it as unreliable as a real network. The world is packed once per
``as_of`` (``fake_store``); a page is a slice of that snapshot rendered to JSON.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from pipelines.fakes.zendesk import facts
from pipelines.fakes.zendesk.metrics import METRIC_SET_ID_BASE
from pipelines.fakes.zendesk.store import (
    METRIC_SET_MINUTES,
    METRIC_SET_TIMES,
    Columns,
    SortedTable,
    TicketSnapshot,
    Vocabulary,
    WorldLike,
    build_ticket_snapshot,
    build_user_index,
)
from pipelines.fakes.zendesk.transport import (
    STATUS_FAULTS,
    FaultInjector,
    Faults,
    Handler,
    RateLimiter,
    RateLimits,
    Reply,
    Server,
)
from pipelines.world.model import Brand, Group, Schedule, SlaPolicy, TicketField, User

logger = logging.getLogger(__name__)

DEFAULT_EMAIL = "demo@example.com"
DEFAULT_TOKEN = "demo-token"
WHOLE_NUMBER = re.compile(r"[0-9]+")
API_USER_ID = 1  # the login's own user; the world's people start at 1,000
FORBIDDEN = {"error": "Forbidden", "description": "You do not have access to this page. Please contact the "
                                                  "account owner of this help desk for further help."}
NO_SOURCE = {"from": {}, "to": {}, "rel": None}
Query = dict[str, list[str]]
Render = Callable[[int, int], dict[str, list[dict[str, Any]]]]  # a page's lists, by envelope key


class BadRequest(ValueError):
    """A query parameter the real API would reject."""


def iso(ts: int | None) -> str | None:
    return None if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def unix(at: datetime) -> int:
    return int(at.timestamp())


def encode_cursor(key: tuple[int, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    try:
        ts, item_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return int(ts), int(item_id)
    except (ValueError, TypeError, binascii.Error):
        raise BadRequest("cursor is not one this API issued") from None


def _int_param(query: Query, name: str, default: int | None = None) -> int | None:
    values = query.get(name)
    if not values:
        return default
    if not WHOLE_NUMBER.fullmatch(values[0]):  # int() would also take " 7\n", "1_0" and other digits
        raise BadRequest(f"{name} must be a whole number")
    return int(values[0])


def _includes(query: Query, name: str) -> bool:
    return name in ",".join(query.get("include", [])).split(",")


def _static_keys(ids: list[int]) -> SortedTable:
    """Keys for a short list served in id order."""
    columns = Columns(Vocabulary(), ("ts", "id"))
    for item_id in sorted(ids):
        columns.add((0, item_id))
    return columns.sorted()


def endpoint_name(path: str) -> str:
    """An endpoint as ``--forbid`` names it: ``slas/policies`` for ``/api/v2/slas/policies.json``,
    ``business_hours/schedules/holidays`` for a schedule's holidays (ids left out)."""
    parts = path.removeprefix("/api/v2/").removesuffix(".json").split("/")
    return "/".join(part for part in parts if not (part.isdigit() or part.startswith("{")))


ENDPOINT_NAMES = tuple(sorted({endpoint_name(path) for path in facts.PLAN_ENDPOINTS}))


class FakeZendesk:
    """Serves a world as a Zendesk Support account on 127.0.0.1, as of ``as_of``; its rate limits
    count time on ``clock``, which a test can drive by hand. Endpoints named in ``forbid`` (see
    ``endpoint_name``; settable between runs) answer 403, as on a plan that lacks them; naming one
    forbids what lies below it too (``business_hours/schedules`` covers the holidays). The users
    export leaves out ``unlisted_users`` (as a real account's export leaves out deleted and some
    other users) while tickets, events and ratings still name them."""

    def __init__(self, world: WorldLike, *, email: str = DEFAULT_EMAIL, token: str = DEFAULT_TOKEN,
                 as_of: datetime | None = None, rate_limits: RateLimits | None = None,
                 faults: Faults | None = None, clock: Callable[[], float] = time.monotonic,
                 forbid: Iterable[str] = (), unlisted_users: Collection[int] = ()):
        self.world = world
        self.email, self.token = email, token
        self.base_url = ""
        self._authorization = "Basic " + base64.b64encode(f"{email}/token:{token}".encode()).decode()
        self._as_of = as_of or world.end
        self._limiter = RateLimiter(rate_limits, clock) if rate_limits else None
        self._faults = FaultInjector(faults) if faults else None
        self.forbid = forbid
        self._stall_seconds = faults.stall_seconds if faults else 0.0
        self._lock = threading.Lock()  # counters
        self._build_lock = threading.Lock()  # snapshot builds
        self._snapshot: TicketSnapshot | None = None
        self._users: tuple[datetime, SortedTable] | None = None
        self._unlisted_users = frozenset(unlisted_users)
        self._stats: dict[str, dict[str, int]] = {}
        self._traffic: dict[str, Any] = {}
        self.reset_stats()
        self._server: Server | None = None
        self._routes: list[tuple[re.Pattern[str], str, Callable[..., Reply]]] = [
            (_path(facts.TICKETS_EXPORT), "tickets", self._tickets),
            (_path(facts.TICKET_EVENTS_EXPORT), "ticket_events", self._ticket_events),
            (_path(facts.TICKET_METRIC_EVENTS_EXPORT), "ticket_metric_events", self._metric_events),
            (_path(facts.USERS_EXPORT), "users", self._users_export),
            (_path(facts.TICKETS_TIME_EXPORT), "tickets_by_time", self._tickets_by_time),
            (_path(facts.USERS_TIME_EXPORT), "users_by_time", self._users_by_time),
            (_path(facts.GROUPS), "groups", self._groups),
            (_path(facts.BRANDS), "brands", self._brands),
            (_path(facts.TICKET_FIELDS), "ticket_fields", self._ticket_fields),
            (_path(facts.SLA_POLICIES), "sla_policies", self._sla_policies),
            (_path(facts.SATISFACTION_RATINGS), "satisfaction_ratings", self._ratings),
            (_path(facts.SCHEDULES), "schedules", self._schedules),
            (_path(facts.SCHEDULE_HOLIDAYS), "holidays", self._holidays),
            (_path(facts.CURRENT_USER), "current_user", self._current_user),
        ]

    # -- lifecycle -----------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        """Serve in a daemon thread; returns the base URL."""
        self._server = Server(("127.0.0.1", port), Handler)
        self._server.handle_request_of = self.handle
        self._server.stall_seconds = self._stall_seconds
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, name="fake-zendesk", daemon=True).start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeZendesk:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def prepare(self) -> None:
        """Pack the world as of ``as_of`` now rather than on the first request."""
        self._ticket_snapshot()
        self._user_index()

    def sizes(self) -> dict[str, int]:
        """How many items each endpoint holds as of ``as_of`` (what an export reads in full)."""
        snapshot, cutoff = self._ticket_snapshot(), self._export_cutoff()
        users = self._user_index()
        return {
            "tickets": snapshot.tickets.through_time(cutoff),
            "ticket_events": snapshot.audits.through_time(cutoff),
            "ticket_metric_events": snapshot.metric_events.through_time(cutoff),
            "users": users.through_time(cutoff),
            "satisfaction_ratings": len(snapshot.ratings),
            "groups": len(self.world.groups()),
            "brands": len(self.world.brands()),
            "ticket_fields": len(self.world.ticket_fields()),
            "sla_policies": len(self.world.sla_policies()),
            "schedules": len(self.world.schedules()),
        }

    # -- time, plan and counters ----------------------------------------------------------
    @property
    def forbid(self) -> frozenset[str]:
        return self._forbid

    @forbid.setter
    def forbid(self, names: Iterable[str]) -> None:
        names = frozenset(name.strip("/").removesuffix(".json") for name in names)
        unknown = sorted(name for name in names if not any(
            known == name or known.startswith(name + "/") for known in ENDPOINT_NAMES))
        if unknown:
            raise ValueError(f"unknown endpoint(s) {', '.join(unknown)} (known: {', '.join(ENDPOINT_NAMES)})")
        self._forbid = names

    def forbids(self, path: str) -> bool:
        name = endpoint_name(path)
        return any(name == forbidden or name.startswith(forbidden + "/") for forbidden in self._forbid)

    @property
    def as_of(self) -> datetime:
        return self._as_of

    @as_of.setter
    def as_of(self, value: datetime) -> None:
        self._as_of = value

    @property
    def stats(self) -> dict[str, dict[str, int]]:
        """Requests and items served per endpoint since start or the last ``reset_stats``."""
        with self._lock:
            return {name: dict(counts) for name, counts in self._stats.items()}

    @property
    def traffic(self) -> dict[str, Any]:
        """All requests, those answered 429, and the faults injected, per kind."""
        with self._lock:
            return {**self._traffic, "faults": dict(self._traffic["faults"])}

    def reset_stats(self) -> None:
        with self._lock:
            self._stats.clear()
            self._traffic = {"requests": 0, "rate_limited": 0, "faults": {}}

    def _count(self, endpoint: str, requests: int = 0, items: int = 0) -> None:
        with self._lock:
            counts = self._stats.setdefault(endpoint, {"requests": 0, "items": 0})
            counts["requests"] += requests
            counts["items"] += items
            self._traffic["requests"] += requests

    def _note(self, event: str) -> None:
        with self._lock:
            if event == "rate_limited":
                self._traffic["rate_limited"] += 1
            else:
                self._traffic["faults"][event] = self._traffic["faults"].get(event, 0) + 1

    # -- request pipeline ----------------------------------------------------------------
    def handle(self, path: str, query: Query, authorization: str | None, url: str = "") -> Reply:
        """Answer one GET: rate limit, authenticate, route, maybe fail, serve, count."""
        endpoint, serve, args = self._route(path)
        self._count(endpoint, requests=1)
        headers: dict[str, str] = {}
        if self._limiter is not None:
            allowed, headers = self._limiter.take(facts.rate_limit_bucket(path))
            if not allowed:
                self._note("rate_limited")
                return Reply(429, {"error": "APIRateLimitExceeded",
                                   "description": "Number of allowed API requests per minute exceeded"},
                             headers)
        if not hmac.compare_digest(authorization or "", self._authorization):
            return Reply(401, {"error": "Couldn't authenticate you"}, headers)
        if serve is None:
            return Reply(404, {"error": "InvalidEndpoint", "description": "Not found"}, headers)
        if self.forbids(path):
            return Reply(403, FORBIDDEN, headers)
        fault = self._faults.draw(url or path) if self._faults is not None else None
        if fault is not None:
            self._note(fault)
        if fault in STATUS_FAULTS:
            return Reply(STATUS_FAULTS[fault], {"error": "Server error"}, headers)
        if fault in ("timeout", "reset"):
            return Reply(0, None, headers, fault=fault)
        try:
            reply = serve(query, *args)
        except BadRequest as exc:
            return Reply(400, {"error": "InvalidValue", "description": str(exc)}, headers)
        reply.headers = {**headers, **reply.headers}
        reply.fault = fault
        if fault is None:
            self._count(endpoint, items=reply.items)
        return reply

    def _route(self, path: str) -> tuple[str, Callable[..., Reply] | None, tuple[str, ...]]:
        for pattern, endpoint, serve in self._routes:
            match = pattern.fullmatch(path)
            if match:
                return endpoint, serve, match.groups()
        return "unknown", None, ()

    # -- snapshots -----------------------------------------------------------------------
    def _ticket_snapshot(self) -> TicketSnapshot:
        as_of = self._as_of
        with self._build_lock:
            if self._snapshot is None or self._snapshot.as_of != as_of:
                self._snapshot = build_ticket_snapshot(self.world, as_of)
            return self._snapshot

    def _user_index(self) -> SortedTable:
        as_of = self._as_of
        with self._build_lock:
            if self._users is None or self._users[0] != as_of:
                listed = (u for u in self.world.users() if u.id not in self._unlisted_users)
                self._users = (as_of, build_user_index(listed, as_of))
            return self._users[1]

    def _export_cutoff(self) -> int:
        """Incremental exports leave out what changed in the last minute."""
        return unix(self._as_of) - facts.EXPORT_DELAY_SECONDS

    # -- incremental exports -------------------------------------------------------------
    def _tickets(self, query: Query) -> Reply:
        snapshot = self._ticket_snapshot()
        return self._cursor_export(query, snapshot.tickets, facts.TICKETS_EXPORT,
                                   self._ticket_pages(query, snapshot))

    def _tickets_by_time(self, query: Query) -> Reply:
        snapshot = self._ticket_snapshot()
        extra = {"include": "metric_sets"} if _includes(query, "metric_sets") else {}
        return self._time_export(query, snapshot.tickets, facts.TICKETS_TIME_EXPORT,
                                 self._ticket_pages(query, snapshot), extra)

    def _ticket_pages(self, query: Query, snapshot: TicketSnapshot) -> Render:
        metric_sets = _includes(query, "metric_sets")

        def render(start: int, stop: int) -> dict[str, list[dict[str, Any]]]:
            rows = snapshot.tickets.rows(start, stop)
            page = {"tickets": [self._ticket_json(row, snapshot.custom_field_ids) for row in rows]}
            if metric_sets:
                page["metric_sets"] = [self._metric_set_json(row) for row in rows]
            return page

        return render

    def _users_export(self, query: Query) -> Reply:
        users = self._user_index()
        return self._cursor_export(query, users, facts.USERS_EXPORT, self._user_pages(users))

    def _users_by_time(self, query: Query) -> Reply:
        users = self._user_index()
        return self._time_export(query, users, facts.USERS_TIME_EXPORT, self._user_pages(users), {})

    def _user_pages(self, users: SortedTable) -> Render:
        def render(start: int, stop: int) -> dict[str, list[dict[str, Any]]]:
            return {"users": [self._user_json(self.world.user(row.id)) for row in users.rows(start, stop)]}

        return render

    def _cursor_export(self, query: Query, keys: SortedTable, path: str, render: Render) -> Reply:
        largest = facts.EXPORT_PAGE_SIZE
        per_page = min(_int_param(query, "per_page", largest), largest)
        if per_page < 1:
            raise BadRequest("per_page must be positive")
        if query.get("cursor"):
            position = decode_cursor(query["cursor"][0])
        elif query.get("start_time"):
            position = (_int_param(query, "start_time"), -1)  # just before the first id of that second
        else:
            raise BadRequest("start_time or cursor is required")
        limit = keys.through_time(self._export_cutoff())
        start = min(keys.after(position), limit)
        stop = min(start + per_page, limit)
        after = encode_cursor(keys.key(stop - 1) if stop > start else position)
        page = render(start, stop)
        return Reply(200, {
            **page,
            "after_cursor": after,
            "after_url": f"{self.base_url}{path}?{urlencode({'cursor': after})}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": stop >= limit,
        }, items=stop - start)

    def _ticket_events(self, query: Query) -> Reply:
        snapshot = self._ticket_snapshot()
        comments = _includes(query, "comment_events")

        def render(start: int, stop: int) -> dict[str, list[dict[str, Any]]]:
            audits = snapshot.audits.rows(start, stop)
            if not audits:
                return {"ticket_events": []}
            first = audits[0].first
            last = audits[-1].first + audits[-1].count
            events = snapshot.events.rows(first, last)
            return {"ticket_events": [_audit_json(a, events[a.first - first:a.first - first + a.count],
                                                  comments) for a in audits]}

        extra = {"include": "comment_events"} if comments else {}
        return self._time_export(query, snapshot.audits, facts.TICKET_EVENTS_EXPORT, render, extra)

    def _metric_events(self, query: Query) -> Reply:
        snapshot = self._ticket_snapshot()
        policies = {p.id: p for p in self.world.sla_policies()}

        def render(start: int, stop: int) -> dict[str, list[dict[str, Any]]]:
            return {"ticket_metric_events": [_metric_event_json(row, policies)
                                             for row in snapshot.metric_events.rows(start, stop)]}

        return self._time_export(query, snapshot.metric_events, facts.TICKET_METRIC_EVENTS_EXPORT,
                                 render, {})

    def _time_export(self, query: Query, keys: SortedTable, path: str, render: Render,
                     extra: dict[str, str]) -> Reply:
        """A time-based export page: never splits a second, so it may run past the page size; its
        ``end_time`` is its last item's second, which the next page therefore starts with again."""
        start_time = _int_param(query, "start_time")
        if start_time is None:
            raise BadRequest("start_time is required")
        limit = keys.through_time(self._export_cutoff())
        start = min(keys.from_time(start_time), limit)
        stop = min(start + facts.TIME_EXPORT_PAGE_SIZE, limit)
        if stop > start:
            stop = min(keys.through_time(keys.ts(stop - 1)), limit)
        end_time = keys.ts(stop - 1) if stop > start else start_time
        return Reply(200, {
            **render(start, stop),
            "next_page": f"{self.base_url}{path}?{urlencode({'start_time': end_time, **extra})}",
            "count": stop - start,
            "end_of_stream": stop - start < facts.TIME_EXPORT_PAGE_SIZE,
            "end_time": end_time,
        }, items=stop - start)

    # -- list endpoints ------------------------------------------------------------------
    def _ratings(self, query: Query) -> Reply:
        ratings = self._ticket_snapshot().ratings

        def render(start: int, stop: int) -> dict[str, list[dict[str, Any]]]:
            return {"satisfaction_ratings": [self._rating_json(row) for row in ratings.rows(start, stop)]}

        first = ratings.from_time(_int_param(query, "start_time", 0))
        return self._list_page(query, ratings, first, facts.SATISFACTION_RATINGS, render)

    def _groups(self, query: Query) -> Reply:
        return self._small_list(query, self.world.groups(), "groups", facts.GROUPS, self._group_json)

    def _brands(self, query: Query) -> Reply:
        return self._small_list(query, self.world.brands(), "brands", facts.BRANDS, self._brand_json)

    def _ticket_fields(self, query: Query) -> Reply:
        fields = self.world.ticket_fields()
        positions = {f.id: n for n, f in enumerate(fields, start=1)}
        return self._small_list(query, fields, "ticket_fields", facts.TICKET_FIELDS,
                                lambda f: self._ticket_field_json(f, positions[f.id]))

    def _small_list(self, query: Query, items: list[Any], key: str, path: str,
                    to_json: Callable[[Any], dict[str, Any]]) -> Reply:
        by_id = {item.id: item for item in items}
        ids = sorted(by_id)

        def render(start: int, stop: int) -> dict[str, list[dict[str, Any]]]:
            return {key: [to_json(by_id[item_id]) for item_id in ids[start:stop]]}

        return self._list_page(query, _static_keys(ids), 0, path, render)

    def _list_page(self, query: Query, keys: SortedTable, first: int, path: str, render: Render) -> Reply:
        """A page of a list from position ``first`` on: cursor paging when the query names a
        ``page[...]`` parameter, else offset paging (``page``, ``per_page``), as Zendesk does."""
        if not any(name.startswith("page[") for name in query):
            return self._offset_page(query, keys, first, path, render)
        size = min(_int_param(query, "page[size]", facts.LIST_PAGE_SIZE), facts.LIST_PAGE_SIZE)
        if size < 1:
            raise BadRequest("page[size] must be positive")
        start = keys.after(decode_cursor(query["page[after]"][0])) if query.get("page[after]") else first
        stop = min(start + size, len(keys))
        has_more = stop < len(keys)
        after = encode_cursor(keys.key(stop - 1)) if stop > start else None
        before = encode_cursor(keys.key(start)) if stop > start else None
        kept = {k: v[0] for k, v in query.items() if k != "page[after]"}
        return Reply(200, {
            **render(start, stop),
            "meta": {"has_more": has_more, "after_cursor": after, "before_cursor": before},
            "links": {
                "next": f"{self.base_url}{path}?{urlencode({**kept, 'page[after]': after})}"
                if has_more else None,
                "prev": None,
            },
        }, items=stop - start)

    def _current_user(self, query: Query) -> Reply:
        """The user the API login belongs to: an admin of the account, apart from the world's people."""
        return Reply(200, {"user": {
            "id": API_USER_ID, "url": self._url("users", API_USER_ID), "name": "API user",
            "email": self.email, "role": "admin", "active": True, "verified": True, "suspended": False,
        }}, items=1)

    def _offset_page(self, query: Query, keys: SortedTable, first: int, path: str, render: Render) -> Reply:
        page = _int_param(query, "page", 1)
        per_page = min(_int_param(query, "per_page", facts.LIST_PAGE_SIZE), facts.LIST_PAGE_SIZE)
        if page < 1 or per_page < 1:
            raise BadRequest("page and per_page must be positive")
        start = min(first + (page - 1) * per_page, len(keys))
        stop = min(start + per_page, len(keys))
        kept = {k: v[0] for k, v in query.items() if k not in ("page", "per_page")}

        def link(number: int) -> str:
            return f"{self.base_url}{path}?{urlencode({**kept, 'page': number, 'per_page': per_page})}"

        return Reply(200, {
            **render(start, stop),
            "next_page": link(page + 1) if stop < len(keys) else None,
            "previous_page": link(page - 1) if page > 1 else None,
            "count": len(keys) - first,
        }, items=stop - start)

    def _sla_policies(self, query: Query) -> Reply:
        policies = [self._sla_policy_json(p) for p in self.world.sla_policies()]
        return Reply(200, {"sla_policies": policies, "next_page": None, "previous_page": None,
                           "count": len(policies)}, items=len(policies))

    def _schedules(self, query: Query) -> Reply:
        schedules = [_schedule_json(s) for s in self.world.schedules()]
        return Reply(200, {"schedules": schedules}, items=len(schedules))

    def _holidays(self, query: Query, schedule_id: str) -> Reply:
        for schedule in self.world.schedules():
            if schedule.id == int(schedule_id):
                holidays = [{
                    "id": h.id, "name": h.name,
                    "start_date": h.start_date.isoformat(), "end_date": h.end_date.isoformat(),
                } for h in schedule.holidays]
                return Reply(200, {"holidays": holidays}, items=len(holidays))
        return Reply(404, {"error": "RecordNotFound", "description": "Not found"})

    # -- rendering -----------------------------------------------------------------------
    def _url(self, kind: str, item_id: int) -> str:
        return f"{self.base_url}/api/v2/{kind}/{item_id}.json"

    def _ticket_json(self, row: Any, custom_field_ids: tuple[int, ...]) -> dict[str, Any]:
        ticket_id = row.id
        return {
            "id": ticket_id,
            "url": self._url("tickets", ticket_id),
            "external_id": None,
            "via": {"channel": row.channel, "source": NO_SOURCE},
            "created_at": iso(row.created),
            "updated_at": iso(row.ts),
            "generated_timestamp": row.ts,
            "type": row.type,
            "subject": f"Generated subject of ticket {ticket_id}",
            "raw_subject": f"Generated subject of ticket {ticket_id}",
            "description": f"Generated description of ticket {ticket_id}.",
            "priority": row.priority,
            "status": row.status,
            "recipient": None,
            "requester_id": row.requester_id,
            "submitter_id": row.submitter_id,
            "assignee_id": row.assignee_id,
            "organization_id": row.organization_id,
            "group_id": row.group_id,
            "collaborator_ids": [],
            "follower_ids": [],
            "problem_id": None,
            "has_incidents": False,
            "is_public": bool(row.is_public),
            "due_at": None,
            "tags": row.tags.split() if row.tags else [],
            "custom_fields": [{"id": i, "value": getattr(row, f"field_{i}")} for i in custom_field_ids],
            "satisfaction_rating": _latest_rating_json(row),
            "brand_id": row.brand_id,
            "allow_channelback": False,
            "allow_attachments": True,
        }

    def _metric_set_json(self, row: Any) -> dict[str, Any]:
        metric_set_id = METRIC_SET_ID_BASE + row.id
        return {
            "url": self._url("ticket_metrics", metric_set_id),
            "id": metric_set_id,
            "ticket_id": row.id,
            "created_at": iso(row.created),
            "updated_at": iso(row.ms_updated),
            "group_stations": row.group_stations,
            "assignee_stations": row.assignee_stations,
            "reopens": row.reopens,
            "replies": row.replies,
            **{name: iso(getattr(row, name)) for name in METRIC_SET_TIMES},
            **{f"{name}_in_minutes": {"calendar": getattr(row, name), "business": None}
               for name in METRIC_SET_MINUTES},
        }

    def _rating_json(self, row: Any) -> dict[str, Any]:
        return {
            "id": row.id,
            "url": self._url("satisfaction_ratings", row.id),
            "assignee_id": row.assignee_id,
            "group_id": row.group_id,
            "requester_id": row.requester_id,
            "ticket_id": row.ticket_id,
            "score": row.score,
            "created_at": iso(row.ts),
            "updated_at": iso(row.ts),
            "comment": None,
        }

    def _user_json(self, user: User) -> dict[str, Any]:
        version = user.version_at(self._as_of)
        return {
            "id": user.id,
            "url": self._url("users", user.id),
            "name": user.name,
            "email": user.email,
            "phone": user.phone,
            "role": version.role,
            "active": version.active,
            "created_at": iso(unix(user.roles[0].at)),
            "updated_at": iso(unix(version.at)),
            "default_group_id": user.default_group_id,
            "organization_id": user.organization_id,
            "time_zone": user.time_zone,
            "locale": "en-US",
            "verified": True,
            "suspended": False,
            "tags": [],
            "user_fields": {},
        }

    def _group_json(self, group: Group) -> dict[str, Any]:
        return {
            "id": group.id,
            "url": self._url("groups", group.id),
            "name": group.name,
            "description": "",
            "default": False,
            "deleted": False,
            "is_public": True,
            "created_at": iso(unix(group.created_at)),
            "updated_at": iso(unix(group.created_at)),
        }

    def _brand_json(self, brand: Brand) -> dict[str, Any]:
        return {
            "id": brand.id,
            "url": self._url("brands", brand.id),
            "name": brand.name,
            "brand_url": f"https://{brand.subdomain}.zendesk.com",
            "subdomain": brand.subdomain,
            "host_mapping": None,
            "has_help_center": False,
            "help_center_state": "disabled",
            "active": True,
            "default": brand.id == min(b.id for b in self.world.brands()),
            "is_deleted": False,
            "logo": None,
            "ticket_form_ids": [],
            "signature_template": "{{agent.signature}}",
            "created_at": iso(unix(brand.created_at)),
            "updated_at": iso(unix(brand.created_at)),
        }

    def _ticket_field_json(self, ticket_field: TicketField, position: int) -> dict[str, Any]:
        field = {
            "id": ticket_field.id,
            "url": self._url("ticket_fields", ticket_field.id),
            "type": ticket_field.type,
            "title": ticket_field.title,
            "raw_title": ticket_field.title,
            "description": f"Generated description of field {ticket_field.title}",
            "raw_description": f"Generated description of field {ticket_field.title}",
            "position": position,
            "active": ticket_field.active,
            "required": False,
            "collapsed_for_agents": False,
            "regexp_for_validation": None,
            "title_in_portal": ticket_field.title,
            "visible_in_portal": not ticket_field.is_custom,
            "editable_in_portal": False,
            "required_in_portal": False,
            "tag": None,
            "removable": ticket_field.is_custom,
            "agent_description": None,
            "created_at": iso(unix(ticket_field.created_at)),
            "updated_at": iso(unix(ticket_field.created_at)),
        }
        if ticket_field.type == "tagger":
            field["custom_field_options"] = []
        return field

    def _sla_policy_json(self, policy: SlaPolicy) -> dict[str, Any]:
        return {
            "id": policy.id,
            "url": self._url("slas/policies", policy.id),
            "title": policy.title,
            "description": f"Generated description of SLA policy {policy.title}",
            "position": policy.position,
            "filter": {"all": [{"field": "priority", "operator": "includes",
                                "value": sorted({t.priority for t in policy.targets})}], "any": []},
            "policy_metrics": [{"priority": t.priority, "metric": t.metric, "target": t.minutes,
                                "business_hours": t.business_hours} for t in policy.targets],
            "created_at": iso(unix(policy.created_at)),
            "updated_at": iso(unix(policy.created_at)),
        }


def _audit_json(audit: Any, events: list[Any], comments: bool) -> dict[str, Any]:
    at = iso(audit.ts)
    via = {"channel": audit.channel, "source": NO_SOURCE}
    return {
        "id": audit.id,
        "ticket_id": audit.ticket_id,
        "timestamp": audit.ts,
        "created_at": at,
        "updater_id": audit.author_id,
        "via": via,
        "event_type": "Audit",
        "merged_ticket_ids": [],
        "child_events": [_event_json(audit.id, at, via, e) for e in events
                         if comments or e.type != "Comment"],
    }


def _event_json(audit_id: int, at: str, via: dict[str, Any], event: Any) -> dict[str, Any]:
    if event.type == "Comment":
        return {"id": event.id, "via": via, "via_reference_id": None, "event_type": "Comment",
                "type": "Comment", "author_id": event.author_id, "public": bool(event.public),
                "body": f"Generated comment {event.id}.",
                "html_body": f"<div class=\"zd-comment\"><p>Generated comment {event.id}.</p></div>",
                "attachments": [], "audit_id": audit_id, "created_at": at}
    if event.type == "Create":
        return {"id": event.id, "via": via, "via_reference_id": None, "event_type": "Create",
                "field_name": event.field_name, "value": event.value}
    return {"id": event.id, "via": via, "via_reference_id": None, "event_type": event.type,
            "field_name": event.field_name, "value": event.value, "previous_value": event.previous_value}


def _metric_event_json(row: Any, policies: dict[int, SlaPolicy]) -> dict[str, Any]:
    item = {"id": row.id, "ticket_id": row.ticket_id, "metric": row.metric,
            "instance_id": row.instance_id, "type": row.type, "time": iso(row.ts)}
    if row.type == "apply_sla":
        policy = policies[row.policy_id]
        item["sla"] = {"target": row.target_minutes, "business_hours": bool(row.business_hours),
                       "policy": {"id": policy.id, "title": policy.title,
                                  "description": f"Generated description of SLA policy {policy.title}"}}
    elif row.type == "update_status":
        item["status"] = {"calendar": row.calendar_minutes, "business": row.business_minutes}
    elif row.type == "breach":
        item["deleted"] = False
    return item


def _schedule_json(schedule: Schedule) -> dict[str, Any]:
    return {
        "id": schedule.id,
        "name": schedule.name,
        "time_zone": schedule.rails_time_zone,
        "intervals": [{"start_time": s, "end_time": e} for s, e in schedule.intervals],
        "created_at": iso(unix(schedule.created_at)),
        "updated_at": iso(unix(schedule.created_at)),
    }


def _latest_rating_json(row: Any) -> dict[str, Any]:
    """A ticket's embedded rating: its latest rating record, or ``unoffered`` when it has none."""
    if row.rating_id is None:
        return {"score": "unoffered"}
    return {"id": row.rating_id, "score": row.rating_score, "comment": None}


def _path(template: str) -> re.Pattern[str]:
    """A route pattern from a Zendesk API path, to be matched in full; ``{name}`` segments match ASCII
    digits, and the ``.json`` suffix may be left out, as Zendesk allows."""
    parts = re.split(r"\{\w+\}", template.removesuffix(".json"))
    return re.compile(r"([0-9]+)".join(re.escape(p) for p in parts) + r"(?:\.json)?")

