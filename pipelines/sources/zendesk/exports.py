"""The pages of a time-based export to typed tables, here or in a worker process.

Zendesk's time-based exports (ticket events, ticket metric events) start each page at the second
the previous one ended, so the items of that second are served again. A page leaves the items of
its last second to the next page, which serves that whole second again, as it is then; the last
page of a read keeps them, and the next read leaves out those it loaded (kept in state as digests:
a record changed within the same second since is new). So no load holds a record twice, and dlt
merges these tables without deduplicating them (``RawTable.deduplicated``). A backfill keeps only
the items before its window's end and stops there. These two exports are 87% of the rows of
a large load, so once an export runs past ``INLINE_PAGES`` pages, its pages are turned into tables
in a worker process (``pipelines.ingest.offload``) while this one fetches and writes: the reader
carries where the read stands from page to page, so it continues there as it would here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from pipelines.ingest.offload import in_order
from pipelines.sources.zendesk.client import Page, parse
from pipelines.sources.zendesk.tables import Hints, Quarantine, Row, typed_items

SERVED = "served_at_start"  # state: digests of the items loaded at a time-based read's next start
INLINE_PAGES = 10  # pages built in this process before a worker process takes the rest (it costs a second)


@dataclass(frozen=True)
class ItemTime:
    """Unix seconds of an item's ``name`` (a number or an ISO time), or None if it has none."""

    name: str

    def __call__(self, item: Any) -> int | None:
        value = item.get(self.name) if isinstance(item, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
        try:
            return unix(datetime.fromisoformat(value)) if isinstance(value, str) else None
        except ValueError:
            return None


@dataclass
class ExportPage:
    """What one page became: its table and quarantine, the rows read, where the next read starts
    and the digests of what it loaded at that second, and whether a backfill's window ends here."""

    typed: pa.Table
    quarantine: Quarantine
    read: int
    position: int
    served: list[str]
    ended: bool


@dataclass
class ExportReader:
    """Turns the pages of one time-based export into tables of its raw table, in order. ``seen``
    is where the read stands (``start_time`` and the ``SERVED`` digests, as a regular read keeps
    them in state); a backfill's window ends at ``end``."""

    envelope: str
    hints: Hints
    to_rows: Callable[[Any], list[Row]]
    when: ItemTime
    quarantine: Quarantine  # empty: each page gets a copy
    seen: dict[str, Any]
    end: int | None

    def __call__(self, page: tuple[bytes, int]) -> ExportPage:
        content, position = page
        body = parse(content, self.envelope)
        items, last = body[self.envelope], bool(body.get("end_of_stream"))
        times = list(map(self.when, items))
        in_window = [(item, at) for item, at in zip(items, times, strict=True)
                     if self.end is None or at is None or at < self.end]
        taken = [(item, at) for item, at in in_window if last or at != position]  # else the next page's
        kept = not_loaded(taken, self.seen)
        self.seen = {"start_time": position, SERVED: served_at(kept, position, self.seen)}
        ended = len(in_window) < len(items)
        quarantine = replace(self.quarantine, rows=[], identities=set(), count=0)
        typed, read, _ = typed_items([item for item, _ in kept], self.to_rows, self.hints, quarantine,
                                     when=self.when)
        return ExportPage(typed, quarantine, read, position, self.seen.get(SERVED, []), ended)

    def pages(self, pages: Iterator[Page]) -> Iterator[ExportPage]:
        """Each page's tables, the first ``INLINE_PAGES`` made here, the rest in a worker process;
        a backfill's read stops at the page where its window ends."""
        for page in in_order(self, ((page.content, page.position) for page in pages), here=INLINE_PAGES):
            yield page
            if page.ended:
                return


def not_loaded(timed: list[tuple[Any, int | None]], seen: dict[str, Any]) -> list[tuple[Any, int | None]]:
    """Items of a time-based read, each with its time, without those loaded before at the second
    it starts at (``seen["start_time"]``), which the export serves again. A rerun with nothing new
    loads nothing, so no table counts as changed and the next build has nothing to do
    (``pipelines.build_plan``)."""
    start, loaded = seen.get("start_time"), set(seen.get(SERVED, ()))
    if not loaded:
        return timed
    return [(item, at) for item, at in timed if at != start or digest(item) not in loaded]


def served_at(timed: list[tuple[Any, int | None]], second: int, seen: dict[str, Any]) -> list[str]:
    """Digests of the items (each with its time) at ``second``, where the next read starts, with
    those of earlier pages at that second, for ``not_loaded``."""
    earlier = seen.get(SERVED, []) if seen.get("start_time") == second else []
    return sorted({*earlier, *(digest(item) for item, at in timed if at == second)})


def digest(item: Any) -> str:
    """A short digest of an item's whole content: a record changed within the same second is new."""
    content = json.dumps(item, sort_keys=True, default=str).encode()
    return hashlib.blake2b(content, digest_size=8).hexdigest()


def unix(at: datetime) -> int:
    return int((at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp())
