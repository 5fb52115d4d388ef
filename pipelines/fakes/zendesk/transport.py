"""The fake API's HTTP layer: a threaded server, Zendesk's per-minute rate limits and their headers,
and seeded transport faults, so the client meets in tests what it will meet in production.

Rate limits count requests in fixed windows per bucket (incremental exports, everything else);
``time_scale`` makes a window pass faster for tests. ``Retry-After`` is always whole seconds,
rounded up, as Zendesk sends it and as clients parse it; the reset headers are whole seconds too,
except under a time scale, where they carry milliseconds so that a client pacing itself on them
keeps up with the shorter windows (one that waits out a 429 waits a whole second, past the
window). Faults (5xx answers, stalls past the client's timeout, connection resets, bodies cut
short) are drawn from ``(seed, URL, how often that URL was asked for)``, so a run meets the same
faults whatever order its threads happen to send requests in.
"""

from __future__ import annotations

import json as std_json
import logging
import math
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dlt.common import json

from pipelines.fakes.zendesk import facts

logger = logging.getLogger(__name__)

STATUS_FAULTS = {"http_500": 500, "http_502": 502, "http_503": 503}
FAULT_KINDS = (*STATUS_FAULTS, "timeout", "reset", "truncated", "malformed")


@dataclass
class Reply:
    """What one request gets back; ``fault`` names a transport fault to apply while sending it."""

    status: int
    body: dict[str, Any] | None
    headers: dict[str, str] = field(default_factory=dict)
    items: int = 0
    fault: str | None = None


@dataclass(frozen=True)
class RateLimits:
    """Requests allowed per window: incremental exports, and every other endpoint of the account."""

    incremental: int = facts.INCREMENTAL_RATE_LIMIT
    account: int = facts.ACCOUNT_RATE_LIMIT
    window_seconds: float = facts.RATE_LIMIT_WINDOW_SECONDS
    time_scale: float = 1.0  # 600: a one-minute window lasts 0.1 s

    def limit(self, bucket: str) -> int:
        return self.incremental if bucket == "incremental" else self.account


@dataclass(frozen=True)
class Faults:
    """Inject a transport fault into about ``rate`` of the requests, reproducibly from ``seed``, at
    most ``per_url`` times for one URL if given. A stall holds the connection ``stall_seconds``
    (longer than the client waits), then drops it."""

    rate: float
    seed: int = 0
    kinds: tuple[str, ...] = FAULT_KINDS
    stall_seconds: float = 125.0  # past the read timeout of deskpulse's client (120 s)
    per_url: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.rate <= 1:
            raise ValueError(f"fault rate must be between 0 and 1, not {self.rate}")
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)} (known: {', '.join(FAULT_KINDS)})")


class RateLimiter:
    """Fixed windows per bucket; answers whether a request may pass and the headers to send."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}  # bucket -> (window number, requests in it)

    def take(self, bucket: str) -> tuple[bool, dict[str, str]]:
        """Count one request; whether it is within the limit, and the rate-limit headers."""
        window = self.limits.window_seconds / self.limits.time_scale
        elapsed = self._clock() - self._started
        number = int(elapsed // window)
        with self._lock:
            current, used = self._windows.get(bucket, (number, 0))
            used = used + 1 if current == number else 1
            self._windows[bucket] = (number, used)
        limit = self.limits.limit(bucket)
        left = (number + 1) * window - elapsed  # real seconds until the window resets
        reset = self._seconds(left)
        remaining = max(0, limit - used)
        headers = {
            "X-Rate-Limit": str(limit), "X-Rate-Limit-Remaining": str(remaining),
            "ratelimit-limit": str(limit), "ratelimit-remaining": str(remaining), "ratelimit-reset": reset,
        }
        if bucket == "incremental":
            headers["Zendesk-RateLimit-incremental-exports"] = (
                f"total={limit}; remaining={remaining}; resets={reset}")
        allowed = used <= limit
        if not allowed:
            headers["Retry-After"] = str(max(1, math.ceil(left)))
        return allowed, headers

    def _seconds(self, real: float) -> str:
        """A reset time: whole seconds, as Zendesk sends them; milliseconds when the clock is scaled."""
        if self.limits.time_scale == 1:
            return str(max(1, math.ceil(real)))
        return f"{math.ceil(real * 1000) / 1000:.3f}"


class FaultInjector:
    """Decides, per request, whether and how it fails."""

    def __init__(self, faults: Faults):
        self.faults = faults
        self._lock = threading.Lock()
        self._asked: dict[str, int] = {}
        self._failed: dict[str, int] = {}

    def draw(self, url: str) -> str | None:
        with self._lock:
            attempt = self._asked.get(url, 0)
            self._asked[url] = attempt + 1
            failed = self._failed.get(url, 0)
            if self.faults.per_url is not None and failed >= self.faults.per_url:
                return None
            rng = random.Random(f"{self.faults.seed}:{url}:{attempt}")
            if rng.random() >= self.faults.rate:
                return None
            self._failed[url] = failed + 1
            return rng.choice(self.faults.kinds)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    handle_request_of: Callable[[str, dict[str, list[str]], str | None, str], Reply]
    stall_seconds: float = 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms ACK stalls
    server: Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        url = urlsplit(self.path)
        reply = self.server.handle_request_of(url.path, parse_qs(url.query),
                                              self.headers.get("Authorization"), self.path)
        if reply.fault == "timeout":
            time.sleep(self.server.stall_seconds)
            self.close_connection = True
        elif reply.fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
        else:
            self._send(reply)

    def _send(self, reply: Reply) -> None:
        try:
            body = json.dumpb(reply.body)
        except TypeError:  # text that is not valid Unicode: sent as JSON escapes, as Zendesk would
            body = std_json.dumps(reply.body).encode()
        length = len(body)
        if reply.fault in ("truncated", "malformed"):
            body = body[: len(body) // 2]
            length = length if reply.fault == "truncated" else len(body)
            self.close_connection = reply.fault == "truncated"
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(length))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        logger.debug("fake zendesk: %s", format % args)
