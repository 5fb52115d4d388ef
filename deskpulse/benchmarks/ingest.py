"""The ingest benchmark: extract and load a synthetic Zendesk account of N tickets, and measure it.

The fake API runs in a process of its own, packs its world before the clock starts and serves
without rate limits; its CPU is not the pipeline's, but the two share the machine's cores, and the
report gives both CPU times so that is visible. The pipeline runs in this process into a fresh
DESKPULSE_HOME exactly as a tenant load does (``pipelines.load.load_tenant``). Reported: raw rows
per second (per table and overall), HTTP requests against the minimum possible (items over page
size, per endpoint), the pipeline's peak RSS and its CPU time: in all, in the thread that runs
dlt's extract (which builds the rows of every resource but the long time-based exports, one core
at most: Python's lock lets one thread run Python code at a time) and in the worker processes
that build those exports' rows (docs/architecture.md), so a run shows which of them bounds it.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path

from pipelines.fakes.zendesk import facts
from pipelines.sources.zendesk import settings
from pipelines.world import WorldConfig

BENCH_TENANT = "bench"


def bench_secret(tenant_id: str) -> str:
    """A benchmark tenant's pseudonym secret: each tenant its own, as a run's checks require."""
    return f"bench-secret-not-for-production-{tenant_id}-0123456789"


PAGE_SIZES = {
    "tickets": settings.EXPORT_PAGE_SIZE,
    "users": settings.EXPORT_PAGE_SIZE,
    "ticket_events": facts.TIME_EXPORT_PAGE_SIZE,
    "ticket_metric_events": facts.TIME_EXPORT_PAGE_SIZE,
    "satisfaction_ratings": settings.LIST_PAGE_SIZE,
    "groups": settings.LIST_PAGE_SIZE,
    "brands": settings.LIST_PAGE_SIZE,
    "ticket_fields": settings.LIST_PAGE_SIZE,
}


@dataclass
class IngestReport:
    """What one benchmark run measured."""

    tickets: int
    seconds: float
    steps: dict[str, float]  # extract, normalize, load: wall seconds
    rows: dict[str, int]
    requests: dict[str, int]
    minimum_requests: dict[str, int]
    peak_rss_bytes: int
    pipeline_cpu_seconds: float
    extract_thread_cpu_seconds: float  # the thread that ran the load: dlt's extract, in Python
    worker_cpu_seconds: float  # the load's worker processes (pipelines.ingest.offload)
    worker_peak_rss_bytes: int  # the largest of them
    api_cpu_seconds: float
    api_prepare_seconds: float
    api_peak_rss_bytes: int

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_second(self) -> float:
        return self.total_rows / self.seconds

    @property
    def request_ratio(self) -> float:
        return sum(self.requests.values()) / sum(self.minimum_requests.values())


def minimum_requests(sizes: dict[str, int]) -> dict[str, int]:
    """The fewest requests that can read every endpoint: items over page size, at least one each;
    one per schedule for holidays."""
    needed = {name: max(1, math.ceil(count / PAGE_SIZES[name]))
              for name, count in sizes.items() if name in PAGE_SIZES}
    return {**needed, "sla_policies": 1, "schedules": 1, "holidays": sizes["schedules"]}


def run_ingest_benchmark(tickets: int, seed: int = 1, workdir: Path | None = None) -> IngestReport:
    """Serve a world of ``tickets`` tickets from a fake API process and load it once, timed."""
    with FakeApis([WorldConfig(tenant_id=BENCH_TENANT, seed=seed, tickets=tickets)]) as apis:
        base_url = apis.serve()[BENCH_TENANT]
        with tempfile.TemporaryDirectory(dir=workdir) as home:
            seconds, steps, rows, cpu, thread_cpu, worker_cpu = _load(base_url, Path(home))
            peak, worker_peak = _peak_rss(), _peak_rss(resource.RUSAGE_CHILDREN)
        served = apis.report()
    return IngestReport(
        tickets=tickets, seconds=seconds, steps=steps, rows=rows,
        requests={name: counts["requests"] for name, counts in served.stats[BENCH_TENANT].items()},
        minimum_requests=minimum_requests(served.sizes[BENCH_TENANT]), peak_rss_bytes=peak,
        pipeline_cpu_seconds=cpu, extract_thread_cpu_seconds=thread_cpu, worker_cpu_seconds=worker_cpu,
        worker_peak_rss_bytes=worker_peak, api_cpu_seconds=served.cpu_seconds,
        api_prepare_seconds=apis.prepare_seconds, api_peak_rss_bytes=served.peak_rss_bytes,
    )


@dataclass
class Served:
    """What the fake APIs served since their worlds were last packed, per tenant, and what it cost them."""

    stats: dict[str, dict[str, dict[str, int]]]  # tenant -> endpoint -> requests, items
    sizes: dict[str, dict[str, int]]  # tenant -> endpoint -> items as of the instant served
    cpu_seconds: float
    peak_rss_bytes: int


class FakeApis:
    """Fake Zendesk APIs for some worlds, in a process of their own so that their CPU and memory
    are not the pipeline's. ``serve`` packs every world as of an instant (by default its end)
    before it answers, so packing is never timed with the pipeline; the ports stay the same."""

    def __init__(self, configs: list[WorldConfig]):
        self.configs = configs
        self.prepare_seconds = 0.0
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(configs, theirs), name="fake-zendesk",
                                        daemon=True)

    def __enter__(self) -> FakeApis:
        self._process.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._conn.send(("stop", None))
        self._process.join(timeout=30)

    def serve(self, as_of: dict[str, datetime] | None = None) -> dict[str, str]:
        """Serve each world as of ``as_of[tenant]`` (its end if not given); the base URL per tenant."""
        self._conn.send(("serve", as_of or {}))
        urls, self.prepare_seconds = self._conn.recv()
        return urls

    def report(self) -> Served:
        self._conn.send(("report", None))
        return self._conn.recv()


def bench_environment(home: Path) -> dict[str, str]:
    """What the benchmark's load reads from the environment: its home, the fake API's login and the
    tenant's secret (set for the rest of the process, as a command may)."""
    return {
        "DESKPULSE_HOME": str(home), "RUNTIME__DLTHUB_TELEMETRY": "false",
        "DESKPULSE_BENCH_EMAIL": "demo@example.com", "DESKPULSE_BENCH_TOKEN": "demo-token",
        "DESKPULSE_BENCH_SECRET": bench_secret(BENCH_TENANT),
    }


def _load(base_url: str, home: Path) -> tuple[float, dict[str, float], dict[str, int], float, float, float]:
    """Load the benchmark tenant into ``home``: wall seconds (in all and per step), rows per raw
    table, CPU seconds of the process, of this thread (which runs dlt's extract) and of the worker
    processes the load started and ended (the fake API's process is still running: not counted)."""
    os.environ.update(bench_environment(home))
    from pipelines.ingest.config import Credentials, TenantConfig
    from pipelines.load import load_tenant, tenant_pipeline

    tenant = TenantConfig(
        id=BENCH_TENANT, platform="zendesk", base_url=base_url,
        credentials=Credentials("DESKPULSE_BENCH_EMAIL", "DESKPULSE_BENCH_TOKEN"),
        secret_env="DESKPULSE_BENCH_SECRET", timezone="UTC",
    )
    cpu_before, thread_before, started = cpu_seconds(), time.thread_time(), time.perf_counter()
    workers_before = cpu_seconds(resource.RUSAGE_CHILDREN)
    load_tenant(tenant)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
    thread_cpu = time.thread_time() - thread_before
    worker_cpu = cpu_seconds(resource.RUSAGE_CHILDREN) - workers_before
    trace = tenant_pipeline(tenant).last_trace
    steps = {step.step: (step.finished_at - step.started_at).total_seconds() for step in trace.steps
             if step.step in ("extract", "normalize", "load")}
    rows = {table: count for table, count in trace.last_normalize_info.row_counts.items()
            if not table.startswith("_dlt")}
    return seconds, steps, rows, cpu, thread_cpu, worker_cpu


def _serve(configs: list[WorldConfig], conn: Connection) -> None:
    """The fake API process: serve each world, pack them as of the instants asked for, report its
    counters, stop when told."""
    from pipelines.fakes.zendesk.api import FakeZendesk
    from pipelines.ingest.memory import few_collections
    from pipelines.world import World

    with few_collections():
        apis = {config.tenant_id: FakeZendesk(World(config)) for config in configs}
        urls = {tenant_id: api.start() for tenant_id, api in apis.items()}
        cpu_before = cpu_seconds()
        while (message := conn.recv())[0] != "stop":
            kind, as_of = message
            if kind == "serve":
                started = time.perf_counter()
                for tenant_id, api in apis.items():
                    api.as_of = as_of.get(tenant_id, api.world.end)
                    api.prepare()
                    api.reset_stats()
                conn.send((urls, time.perf_counter() - started))
                cpu_before = cpu_seconds()
            elif kind == "report":
                conn.send(Served({tenant_id: api.stats for tenant_id, api in apis.items()},
                                 {tenant_id: api.sizes() for tenant_id, api in apis.items()},
                                 cpu_seconds() - cpu_before, _peak_rss()))
        for api in apis.values():
            api.stop()


def _peak_rss(who: int = resource.RUSAGE_SELF) -> int:
    """This process's peak resident memory so far, in bytes (or, given ``RUSAGE_CHILDREN``, that of
    the largest of its child processes that have ended)."""
    return resource.getrusage(who).ru_maxrss * 1024


def cpu_seconds(who: int = resource.RUSAGE_SELF) -> float:
    """CPU time this process has used so far, user and system, every thread (or, given
    ``RUSAGE_CHILDREN``, its child processes that have ended)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def format_report(report: IngestReport) -> str:
    """The report as a short table, for people."""
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.steps.items())
    lines = [f"Ingest benchmark: {report.tickets:,} tickets, extract + normalise + load in "
             f"{report.seconds:.1f} s ({steps})", "", f"  {'raw table':<24} {'rows':>12} {'rows/s':>10}"]
    for table, count in sorted(report.rows.items(), key=lambda item: -item[1]):
        lines.append(f"  {table:<24} {count:>12,} {count / report.seconds:>10,.0f}")
    lines += [f"  {'all raw tables':<24} {report.total_rows:>12,} {report.rows_per_second:>10,.0f}", "",
              f"  {'endpoint':<24} {'requests':>12} {'minimum':>10}"]
    for name, minimum in sorted(report.minimum_requests.items()):
        lines.append(f"  {name:<24} {report.requests.get(name, 0):>12,} {minimum:>10,}")
    lines += [
        f"  {'all endpoints':<24} {sum(report.requests.values()):>12,} "
        f"{sum(report.minimum_requests.values()):>10,}  ({report.request_ratio:.3f} x minimum)", "",
        f"  pipeline peak RSS      {report.peak_rss_bytes / 2**20:,.0f} MiB",
        f"  pipeline CPU           {report.pipeline_cpu_seconds:,.1f} s "
        f"(wall {report.seconds:,.1f} s, {os.cpu_count()} cores shared with the fake API)",
        f"    of which the thread running dlt {report.extract_thread_cpu_seconds:,.1f} s (one core at most; "
        f"the extract took {report.steps.get('extract', 0.0):,.1f} s)",
        f"  worker processes CPU   {report.worker_cpu_seconds:,.1f} s (rows of the long time-based exports; "
        f"peak RSS of the largest {report.worker_peak_rss_bytes / 2**20:,.0f} MiB)",
        f"  fake API CPU serving   {report.api_cpu_seconds:,.1f} s "
        f"(packing the world beforehand took {report.api_prepare_seconds:,.1f} s, not timed; "
        f"its peak RSS {report.api_peak_rss_bytes / 2**20:,.0f} MiB)",
        f"  load average at the end {' / '.join(f'{v:.1f}' for v in os.getloadavg())} (1 / 5 / 15 min)",
    ]
    return "\n".join(lines)
