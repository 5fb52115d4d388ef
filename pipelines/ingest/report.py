"""What one tenant load did, beyond the rows it wrote: endpoints it skipped and how every record read
was accounted for.

A source fills it while it runs; the load (``pipelines.load``) logs it and the Dagster ingest
attaches it to the materialisations, so ``deskpulse status`` and the UI show it. It never holds a
record's values: endpoint paths, HTTP statuses, table names and counts only. ``started_at`` is the
run's start, from which the source judges which times are implausibly far in the future: tests
set it, nothing reads the wall clock behind their back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime


@dataclass(frozen=True)
class Skip:
    """An optional endpoint the account does not offer (its plan lacks it, or it is switched off)."""

    endpoint: str
    status: int
    meaning: str

    def __str__(self) -> str:
        return f"GET {self.endpoint} answered HTTP {self.status}: {self.meaning}"


@dataclass
class TableCounts:
    """Rows made from the records the API served for one table, and where each went: loaded,
    quarantined (with the reason, in the quarantine table) or suppressed (an erased person's)."""

    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    suppressed: int = 0

    @property
    def reconciles(self) -> bool:
        return self.read == self.loaded + self.quarantined + self.suppressed


@dataclass
class IngestReport:
    """One tenant load's skipped endpoints and per-table counts."""

    tenant_id: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    skipped: dict[str, Skip] = field(default_factory=dict)  # by endpoint path
    skipped_tables: dict[str, str] = field(default_factory=dict)  # raw table -> endpoint it lacked
    tables: dict[str, TableCounts] = field(default_factory=dict)

    def skip(self, endpoint: str, status: int, meaning: str, table: str) -> bool:
        """Record that ``table`` was skipped for want of ``endpoint``; whether it is the first time
        this load met that endpoint."""
        first = endpoint not in self.skipped
        self.skipped.setdefault(endpoint, Skip(endpoint, status, meaning))
        self.skipped_tables[table] = endpoint
        return first

    def count(self, table: str, *, read: int, loaded: int, quarantined: int, suppressed: int) -> None:
        counts = self.tables.setdefault(table, TableCounts())
        counts.read += read
        counts.loaded += loaded
        counts.quarantined += quarantined
        counts.suppressed += suppressed

    @property
    def quarantined(self) -> int:
        return sum(counts.quarantined for counts in self.tables.values())

    def skip_lines(self) -> list[str]:
        return [f"tenant {self.tenant_id}: skipped {skip}" for skip in self.skipped.values()]

    def count_lines(self) -> list[str]:
        """For people and logs: the tables that quarantined or suppressed anything, reconciled."""
        lines = []
        for table, counts in sorted(self.tables.items()):
            if counts.quarantined or counts.suppressed or not counts.reconciles:
                lines.append(f"tenant {self.tenant_id}: {table}: {counts.read} read = {counts.loaded} loaded"
                             f" + {counts.quarantined} quarantined + {counts.suppressed} suppressed")
        return lines
