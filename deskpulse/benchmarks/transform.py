"""The transform benchmark: how long `dbt build` takes for every mart on a loaded world, full and incremental.

The worlds are loaded the honest way, by the real dlt source over HTTP from their fake Zendesk
APIs, as of an instant shortly before their end; that warehouse (with its dlt state) is kept
under ``$DESKPULSE_HOME/bench`` for later runs. Each run copies it, builds every mart from
scratch, runs the next incremental load (the tickets changed since that instant, about 1%), and
builds the marts again, incrementally. Every build runs on its build plan
(``pipelines.build_plan``), timed with it, and ends with its writes in the warehouse file (a
checkpoint), as a load does: no build pays for the writes of the step before it. Two more builds
bound what an incremental build can cost: the incremental build's nodes once more with no new
rows (what those nodes cost however little changed), and a build with nothing changed (what the
plan costs when it finds nothing to do). With ``--without-plan`` every build runs every node, as
`dbt build` alone does, leaving each incremental model to find its changes: what the plan saves.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from deskpulse.benchmarks.ingest import bench_secret, cpu_seconds
from pipelines.build_plan import DATA_BUILD_ARGS, BuildPlan, plan_build, record_build
from pipelines.fakes import fake_api
from pipelines.ingest.config import Credentials, TenantConfig
from pipelines.ingest.home import environment, home
from pipelines.load import checkpoint, load_tenant
from pipelines.world import World, WorldConfig

logger = logging.getLogger(__name__)

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
LOADER_VERSION = 5  # bump when what a kept warehouse holds changes, to load it again
BENCH_TENANTS = (
    ("bench_ams", 101, "Europe/Amsterdam"),
    ("bench_nyc", 102, "America/New_York"),
    ("bench_syd", 103, "Australia/Sydney"),
    ("bench_tyo", 104, "Asia/Tokyo"),
)
RAW_TABLES = ("tickets", "ticket_events", "users", "satisfaction_ratings")
# --without-plan: every build runs every node, and dbt's incremental models find their changes
WITHOUT_PLAN = BuildPlan((), "without a build plan: every node builds", "")


# -- loading worlds through the real source ---------------------------------------------------------
def load_worlds(worlds: list[World], as_of: dict[str, datetime], folder: Path,
                progress: Callable[[str], None] = lambda _: None) -> dict[str, int]:
    """Load each world as of its instant through the real dlt source from its fake API into the
    warehouse under ``folder``; a second call with later instants is the next incremental load.
    Returns the tickets each fake API served."""
    served = {}
    fake = fake_api("zendesk")
    with environment(DESKPULSE_HOME=str(folder)):
        for world in worlds:
            tenant_id = world.config.tenant_id
            with fake(world, as_of=as_of[tenant_id]) as api:
                prefix = f"DESKPULSE_BENCH_{tenant_id.upper()}"
                os.environ[f"{prefix}_EMAIL"], os.environ[f"{prefix}_TOKEN"] = api.email, api.token
                os.environ[f"{prefix}_SECRET"] = bench_secret(tenant_id)
                tenant = TenantConfig(
                    id=tenant_id, platform="zendesk", base_url=api.base_url,
                    credentials=Credentials(f"{prefix}_EMAIL", f"{prefix}_TOKEN"),
                    secret_env=f"{prefix}_SECRET", timezone=world.config.timezone,
                    start_date=world.start - timedelta(days=1),
                )
                started = time.monotonic()
                load_tenant(tenant)
                served[tenant_id] = api.stats.get("tickets", {}).get("items", 0)
                progress(f"  {tenant_id}: {served[tenant_id]:,} tickets loaded as of "
                         f"{as_of[tenant_id]:%Y-%m-%d %H:%M} in {time.monotonic() - started:.0f} s")
    return served


def raw_rows(warehouse: Path, tenants: list[str]) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return sum(con.execute(f"select count(*) from raw_{t}.{table}").fetchone()[0]
                   for t in tenants for table in RAW_TABLES)


# -- the benchmark ---------------------------------------------------------------------------------
@dataclass
class BuildTiming:
    seconds: float
    models: int
    node_seconds: dict[str, float] = field(default_factory=dict)  # models and seeds
    test_seconds: dict[str, float] = field(default_factory=dict)  # data tests
    cpu_seconds: float | None = None  # in process only: CPU of every thread, steadier on a shared machine
    plan: BuildPlan | None = None  # what pipelines.build_plan left out, and why


@dataclass
class BenchReport:
    tickets: int
    tenants: list[str]
    changed: int
    raw_rows: int
    full: BuildTiming
    incremental: BuildTiming
    repeated: BuildTiming  # the incremental build's plan again, no new rows
    unchanged: BuildTiming
    mart_rows: dict[str, int]
    how: str = "dbt in process"

    @property
    def ratio(self) -> float:
        return self.incremental.seconds / self.full.seconds

    def lines(self) -> list[str]:
        def slowest(seconds: dict[str, float]) -> str:
            top = sorted(seconds.items(), key=lambda kv: -kv[1])[:6]
            return ", ".join(f"{name} {secs:.2f} s" for name, secs in top)

        repeated = self.repeated
        full_cpu, incremental_cpu = self.full.cpu_seconds, self.incremental.cpu_seconds
        cpu = ([f"CPU time (all threads): full {full_cpu:.1f} s, incremental {incremental_cpu:.1f} s, "
                f"{incremental_cpu / full_cpu:.1%}"] if full_cpu and incremental_cpu else [])
        return [
            f"World: {self.tickets:,} tickets in {len(self.tenants)} tenants "
            f"({', '.join(self.tenants)}), {self.raw_rows:,} raw rows",
            f"Timed: `dbt build` (seeds, models, data tests), {self.how}",
            f"Full build (from scratch, --full-refresh): {self.full.seconds:.1f} s",
            f"Incremental build after {self.changed:,} tickets changed "
            f"({self.changed / self.tickets:.2%}): {self.incremental.seconds:.1f} s",
            f"Incremental / full: {self.ratio:.1%}",
            f"Incremental build plan: {self.incremental.plan.reason}",
            f"The same {repeated.models} models and {len(repeated.test_seconds)} data tests again, "
            f"no new rows: {repeated.seconds:.1f} s ({repeated.seconds / self.full.seconds:.1%} of the "
            f"full build; models {sum(repeated.node_seconds.values()):.1f} s, data tests "
            f"{sum(repeated.test_seconds.values()):.1f} s, dbt between nodes the rest)",
            f"Incremental build again, nothing changed: {self.unchanged.seconds:.1f} s "
            f"({self.unchanged.plan.reason})",
            *cpu,
            f"Load average when done: {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
            f"({os.cpu_count()} cores; other work on the machine slows both builds)",
            f"Of which in models: full {sum(self.full.node_seconds.values()):.1f} s "
            f"({len(self.full.node_seconds)} nodes), incremental "
            f"{sum(self.incremental.node_seconds.values()):.1f} s ({len(self.incremental.node_seconds)})",
            f"Of which in data tests: full {sum(self.full.test_seconds.values()):.1f} s "
            f"({len(self.full.test_seconds)} tests), incremental "
            f"{sum(self.incremental.test_seconds.values()):.1f} s ({len(self.incremental.test_seconds)})",
            f"Slowest models of the full build: {slowest(self.full.node_seconds)}",
            f"Slowest models of the incremental build: {slowest(self.incremental.node_seconds)}",
            f"Slowest data tests of the incremental build: {slowest(self.incremental.test_seconds)}",
            "Rows per mart: " + ", ".join(f"{m} {n:,}" for m, n in self.mart_rows.items()),
        ]


def bench_worlds(tickets: int, tenants: int) -> list[World]:
    """``tenants`` worlds sharing ``tickets`` between them, in different time zones."""
    if not 1 <= tenants <= len(BENCH_TENANTS):
        raise ValueError(f"tenants must be between 1 and {len(BENCH_TENANTS)}")
    worlds = []
    for index, (tenant_id, seed, timezone) in enumerate(BENCH_TENANTS[:tenants]):
        share = tickets // tenants + (1 if index < tickets % tenants else 0)
        worlds.append(World(WorldConfig(tenant_id=tenant_id, seed=seed, tickets=share,
                                        timezone=timezone)))
    return worlds


def cutoff(world: World, changed_share: float) -> datetime:
    """The instant before the world's end after which about ``changed_share`` of tickets change,
    estimated from a sample of tickets."""
    sample = [world.ticket(i) for i in range(1, len(world.ticket_ids) + 1,
                                             max(1, len(world.ticket_ids) // 4000))]
    low, high = world.end - timedelta(days=world.config.days), world.end
    for _ in range(30):
        middle = low + (high - low) / 2
        share = sum(1 for t in sample if (u := t.updated_at(world.end)) and u > middle) / len(sample)
        if share > changed_share:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def _build_args(dbt_vars: dict, target_path: Path, plan: BuildPlan, *, full_refresh: bool, quiet: bool,
                select: str | None) -> list[str]:
    args = ["build", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
            "--target-path", str(target_path), "--vars", json.dumps(dbt_vars),
            *DATA_BUILD_ARGS, *plan.args()]
    if select:
        args += ["--select", select]
    if full_refresh:
        args.append("--full-refresh")
    if quiet:
        args.append("--quiet")
    return args


def dbt_build(warehouse: Path, tenants: dict[str, str], target_path: Path, *,
              full_refresh: bool = False, quiet: bool = True, select: str | None = None,
              extra_vars: dict | None = None, plan: BuildPlan | None = None,
              with_plan: bool = True) -> BuildTiming:
    """Run `dbt build` (models, seeds, data tests) as the command-line program and time it; without
    ``select``, on ``plan`` or else the build plan (``pipelines.build_plan``) of the manifest a
    parse left in ``target_path``, timed with it, unless ``with_plan`` is off."""
    dbt_vars = {"tenants": tenants, **(extra_vars or {})}
    started = time.monotonic()
    plan = (BuildPlan((), "a selection builds what it names", "") if select else
            plan or (plan_build(warehouse, json.loads((target_path / "manifest.json").read_text()),
                                dbt_vars, full_refresh=full_refresh) if with_plan else WITHOUT_PLAN))
    if plan.idle:  # as the marts job does
        record_build(warehouse, plan)
        return BuildTiming(time.monotonic() - started, 0, plan=plan)
    command = [str(Path(sys.executable).with_name("dbt")),
               *_build_args(dbt_vars, target_path, plan, full_refresh=full_refresh, quiet=quiet,
                            select=select)]
    env = {**os.environ, "DESKPULSE_WAREHOUSE": str(warehouse)}
    result = subprocess.run(command, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"dbt build failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    if not select and plan is not WITHOUT_PLAN:
        record_build(warehouse, plan)
    seconds = time.monotonic() - started
    run_results = json.loads((target_path / "run_results.json").read_text())
    times = [(r["unique_id"], r["execution_time"]) for r in run_results["results"]]
    models = node_seconds(times, "model")
    return BuildTiming(seconds, len(models), models, node_seconds(times, "test"), plan=plan)


def node_seconds(times: list[tuple[str, float]], resource_type: str) -> dict[str, float]:
    """Execution seconds by node name, of the nodes of one type, from (unique id, seconds)."""
    return {uid.split(".")[2]: secs for uid, secs in times if uid.startswith(resource_type + ".")}


class InProcessDbt:
    """dbt run in this process on a manifest parsed once, as an orchestrator keeps it loaded:
    the timings are the builds themselves, without starting Python and parsing the project."""

    def __init__(self, tenants: dict[str, str], target_path: Path, warehouse: Path, with_plan: bool = True):
        from dbt.cli.main import dbtRunner

        self.tenants, self.target_path, self.warehouse = tenants, target_path, warehouse
        self.with_plan = with_plan
        os.environ["DESKPULSE_WAREHOUSE"] = str(warehouse)  # the manifest names its catalog
        parsed = dbtRunner().invoke(["parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                                     str(DBT_PROJECT_DIR), "--target-path", str(target_path), "--quiet",
                                     "--vars", json.dumps({"tenants": tenants})])
        if not parsed.success:
            raise RuntimeError(f"dbt parse failed: {parsed.exception}")
        self.runner = dbtRunner(manifest=parsed.result)
        self.manifest = json.loads((target_path / "manifest.json").read_text())

    def build(self, *, full_refresh: bool = False, plan: BuildPlan | None = None) -> BuildTiming:
        """One `dbt build` on ``plan`` or else its build plan (``pipelines.build_plan``), both timed;
        every node, without a plan, if the runner was made so."""
        os.environ["DESKPULSE_WAREHOUSE"] = str(self.warehouse)
        dbt_vars = {"tenants": self.tenants}
        started, cpu_started = time.monotonic(), cpu_seconds()
        plan = plan or (plan_build(self.warehouse, self.manifest, dbt_vars, full_refresh=full_refresh)
                        if self.with_plan else WITHOUT_PLAN)
        if plan.idle:  # as the marts job does
            record_build(self.warehouse, plan)
            return BuildTiming(time.monotonic() - started, 0, cpu_seconds=cpu_seconds() - cpu_started,
                               plan=plan)
        result = self.runner.invoke(_build_args(dbt_vars, self.target_path, plan, full_refresh=full_refresh,
                                                quiet=True, select=None))
        if not result.success:
            failed = [f"{r.node.unique_id}: {r.message}" for r in getattr(result.result, "results", [])
                      if str(r.status) in ("error", "fail")]
            raise RuntimeError(f"dbt build failed: {result.exception or '; '.join(failed)}")
        if plan is not WITHOUT_PLAN:
            record_build(self.warehouse, plan)
        # a dbt process writes its log into the file as it exits; here dbt's connection stays
        # open, so the build does it itself rather than leave it to whatever writes next
        checkpoint(self.warehouse)
        seconds, cpu = time.monotonic() - started, cpu_seconds() - cpu_started
        times = [(r.node.unique_id, r.execution_time) for r in result.result.results]
        models = node_seconds(times, "model")
        return BuildTiming(seconds, len(models), models, node_seconds(times, "test"), cpu, plan)


def dbt_parse(target_path: Path, tenants: dict[str, str]) -> None:
    dbt = Path(sys.executable).with_name("dbt")
    subprocess.run([str(dbt), "parse", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                    str(DBT_PROJECT_DIR), "--target-path", str(target_path), "--quiet",
                    "--vars", json.dumps({"tenants": tenants})],
                   cwd=DBT_PROJECT_DIR, check=True, capture_output=True)


def mart_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse)) as con:  # dbt in this process may hold the file open
        tables = [r[0] for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('marts', 'restricted') order by 1").fetchall()]
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def _prepare_raw(worlds: list[World], cutoffs: dict[str, datetime], folder: Path,
                 progress: Callable[[str], None]) -> tuple[Path, int]:
    """The warehouse and dlt state after a first load as of the cutoffs, loaded once and kept."""
    kept = folder / "loaded"
    stamp = folder / "loaded.json"
    expected = {"version": LOADER_VERSION,
                "worlds": [[w.config.tenant_id, w.config.seed, w.config.tickets] for w in worlds],
                "cutoffs": {t: c.isoformat() for t, c in cutoffs.items()}}
    if kept.exists() and stamp.exists() and json.loads(stamp.read_text())["key"] == expected:
        return kept, json.loads(stamp.read_text())["rows"]
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    started = time.monotonic()
    progress("Loading the worlds through the dlt source from their fake APIs (once; kept for later runs)")
    load_worlds(worlds, cutoffs, kept, progress)
    rows = raw_rows(kept / "warehouse.duckdb", [w.config.tenant_id for w in worlds])
    stamp.write_text(json.dumps({"key": expected, "rows": rows}))
    progress(f"Loaded in {time.monotonic() - started:.0f} s: {rows:,} raw rows, kept in {kept}")
    return kept, rows


def run_bench(tickets: int, *, tenants: int = 4, changed_share: float = 0.01, in_process: bool = True,
              with_plan: bool = True, folder: Path | None = None,
              progress: Callable[[str], None] = lambda _: None) -> BenchReport:
    """Load (or reuse) the raw world, build every mart from scratch, merge ~1% changed tickets,
    build again incrementally; return both timings. Without ``with_plan``, every build runs every
    node (what the build plan saves)."""
    worlds = bench_worlds(tickets, tenants)
    folder = folder or home() / "bench" / f"transform-{tickets}-{tenants}"
    cutoffs = {w.config.tenant_id: cutoff(w, changed_share) for w in worlds}
    kept, loaded_rows = _prepare_raw(worlds, cutoffs, folder, progress)
    work = folder / "run"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(kept, work)
    warehouse = work / "warehouse.duckdb"
    target = folder / "target"
    tenant_vars = {w.config.tenant_id: "zendesk" for w in worlds}
    if in_process:
        dbt = InProcessDbt(tenant_vars, target, warehouse, with_plan)

        def build(full_refresh: bool, plan: BuildPlan | None = None) -> BuildTiming:
            return dbt.build(full_refresh=full_refresh, plan=plan)
    else:
        dbt_parse(target, tenant_vars)  # partial parsing then serves both timed builds

        def build(full_refresh: bool, plan: BuildPlan | None = None) -> BuildTiming:
            return dbt_build(warehouse, tenant_vars, target, full_refresh=full_refresh, plan=plan,
                             with_plan=with_plan)

    progress("Full build ...")
    full = build(True)
    progress(f"  {full.seconds:.1f} s")

    progress("Next incremental load: the tickets changed since the cutoff ...")
    served = load_worlds(worlds, {w.config.tenant_id: w.end for w in worlds}, work, progress)
    changed = sum(served.values())
    progress(f"  {changed:,} tickets changed ({changed / tickets:.2%})")

    progress("Incremental build ...")
    incremental = build(False)
    progress(f"  {incremental.seconds:.1f} s")

    progress("The same nodes again, no new rows ...")
    repeated = build(False, incremental.plan)
    progress(f"  {repeated.seconds:.1f} s")

    progress("Incremental build again, nothing changed ...")
    unchanged = build(False)
    progress(f"  {unchanged.seconds:.1f} s")
    how = "dbt in process" if in_process else "dbt command line"
    return BenchReport(tickets, list(tenant_vars), changed, loaded_rows, full, incremental, repeated,
                       unchanged, mart_rows(warehouse), how)


