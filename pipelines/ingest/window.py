"""Date ranges of a backfill: a source reads what changed inside one; the load cuts a long range
into several, one load each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

BACKFILL_STEP = timedelta(days=30)


@dataclass(frozen=True)
class DateRange:
    """A backfill window: incremental resources read what changed in ``[start, end)`` and leave
    their resume positions in state alone; everything else loads as usual."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None or self.start >= self.end:
            raise ValueError("a date range needs time-zone aware start < end")


def date_ranges(start: datetime, end: datetime, step: timedelta = BACKFILL_STEP) -> Iterator[DateRange]:
    """``[start, end)`` cut into consecutive windows of ``step`` (the last one shorter)."""
    while start < end:
        yield DateRange(start, min(start + step, end))
        start += step
