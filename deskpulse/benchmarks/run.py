"""The run benchmark: whole `deskpulse run`s on N tickets, timed and measured stage by stage.

The worlds are the transform benchmark's (``benchmarks.transform.bench_worlds``), served by fake
Zendesk APIs in a process of their own (``benchmarks.ingest.FakeApis``), which packs each world before
a run starts. `deskpulse run` runs as its own process on a tenant file naming those APIs, in a
DESKPULSE_HOME of its own, exactly as an operator runs it: per tenant its ingest and raw checks,
then the dbt build, the marts' checks and the publish step. Three runs: a full run with the worlds
as they stood a day before their end, a run after that last day of changes, and a run with nothing
new. Each run's peak resident memory is what the kernel reports for its process (the largest of it
and the dbt process it starts); per stage, the memory of both processes is sampled while the
stage's steps run (their spans come from Dagster's event log, read by the caller). The home after
the full run is kept beside the figures, so the two later runs can be measured again without it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import psutil
import yaml

from deskpulse.benchmarks.ingest import FakeApis, bench_secret
from deskpulse.benchmarks.transform import bench_worlds
from pipelines.ingest.home import environment, home
from pipelines.load import tenant_pipeline
from pipelines.platforms import load_tenants
from pipelines.world import World

Progress = Callable[[str], None]
Span = tuple[str, float, float]  # stage, start, end (epoch seconds)
StepSpans = Callable[[Path, float], list[Span]]  # (Dagster home, since) -> spans of the steps run
KEPT_VERSION = 2  # bump when what the kept home holds changes
SAMPLE_SECONDS = 0.1
DLT_STEPS = ("extract", "normalize", "load")
MIB = 2**20


@dataclass
class StageFigures:
    """One stage of a run: wall seconds of its steps, and the peak resident memory seen in them."""

    name: str
    seconds: float
    peak_rss_bytes: int  # the run's process and its children together
    run_process_bytes: int
    children_bytes: int  # dbt, while it runs


@dataclass
class RunFigures:
    """One `deskpulse run`: wall time, peak memory, and the same per stage."""

    label: str
    seconds: float
    exit_code: int
    peak_rss_bytes: int  # the kernel's high-water mark: the run's process or its largest child
    sampled_peak_bytes: int  # the run's process and its children together, sampled
    tickets_served: int  # tickets the fake APIs sent (all, then those changed)
    stages: list[StageFigures] = field(default_factory=list)
    log: str = ""
    # the same sum in proportional set size: a page both processes map (the libraries they share)
    # counts once, where the resident sizes count it in each
    sampled_pss_peak_bytes: int = 0

    @classmethod
    def from_dict(cls, values: dict) -> RunFigures:
        return cls(**{**values, "stages": [StageFigures(**stage) for stage in values["stages"]]})


@dataclass
class RunBenchReport:
    tickets: int
    tenants: list[str]
    runs: list[RunFigures]
    reused_full_run: str | None = None  # when the full run's figures and home were kept from before

    def lines(self) -> list[str]:
        full = self.runs[0]
        lines = [f"Run benchmark: {self.tickets:,} tickets in {len(self.tenants)} tenants "
                 f"({', '.join(self.tenants)}); `deskpulse run` as its own process, fake APIs in another"]
        if self.reused_full_run:
            lines.append(f"(full run figures and home kept from {self.reused_full_run})")
        for run in self.runs:
            share = "" if run is full else f", {run.seconds / full.seconds:.0%} of the full run"
            lines += [
                "",
                f"{run.label}: {run.seconds:,.1f} s{share}, peak RSS {run.peak_rss_bytes / MIB:,.0f} MiB"
                f" ({run.tickets_served:,} tickets served; exit code {run.exit_code})",
                f"  {'stage':<28} {'wall s':>8} {'peak RSS MiB':>13} {'run process':>12} {'dbt':>7}",
                *[f"  {stage.name:<28} {stage.seconds:>8.1f} {stage.peak_rss_bytes / MIB:>13,.0f} "
                  f"{stage.run_process_bytes / MIB:>12,.0f} {stage.children_bytes / MIB:>7,.0f}"
                  for stage in run.stages],
                f"  {'whole run (sampled)':<28} {run.seconds:>8.1f} {run.sampled_peak_bytes / MIB:>13,.0f}",
                f"  {'whole run (sampled, PSS)':<28} {run.seconds:>8.1f} "
                f"{run.sampled_pss_peak_bytes / MIB:>13,.0f}",
                f"  log: {run.log}",
            ]
        lines += ["", f"Load average when done: {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
                      f"({os.cpu_count()} cores, shared with the fake APIs and whatever else runs)"]
        return lines


# -- memory ----------------------------------------------------------------------------------------
class RssSampler:
    """Samples the resident memory of a process and of its children until stopped, and the
    proportional set size of them all (shared pages split between the processes mapping them)."""

    def __init__(self, pid: int, interval: float = SAMPLE_SECONDS):
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int, int]] = []  # time, the process, its children
        self.pss: list[int] = []  # the process and its children, at the same instants
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"rss-{pid}", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            process = psutil.Process(self.pid)
            while not self._done.is_set():
                own, pss = process.memory_info().rss, process.memory_full_info().pss
                children = 0
                for child in process.children(recursive=True):
                    with contextlib.suppress(psutil.Error):  # a child that just ended
                        children += child.memory_info().rss
                        pss += child.memory_full_info().pss
                self.samples.append((time.time(), own, children))
                self.pss.append(pss)
                self._done.wait(self.interval)
        except psutil.Error:
            return  # the process ended


def stage_figures(samples: list[tuple[float, int, int]], spans: list[Span], parts: list[Span],
                  started: float, ended: float) -> list[StageFigures]:
    """Per stage (in the order stages first ran, each followed by its ``parts``, spans within
    its steps): wall seconds and the peaks sampled in its spans; the time outside every step
    (start-up, loading the definitions, between runs) is one stage."""
    order: list[str] = []
    for name, _, _ in sorted(spans + parts, key=lambda span: span[1]):
        if name not in order:
            order.append(name)
    figures = []
    for name in order:
        own = [(start, stop) for stage, start, stop in spans + parts if stage == name]
        figures.append(_figures(name, sum(stop - start for start, stop in own), samples, own))
    outside_seconds = ended - started - sum(stop - start for _, start, stop in spans)
    outside = [s for s in samples if not any(start <= s[0] <= stop for _, start, stop in spans)]
    return [*figures, _figures("outside steps", max(0.0, outside_seconds), outside, None)]


def dlt_steps(run_home: Path, tenants: Path, since: float) -> list[Span]:
    """The extract, normalise and load steps of each tenant's dlt load in ``run_home`` since
    ``since``, from the trace dlt keeps with the pipeline: where an ingest's time and memory go."""
    spans = []
    with environment(DESKPULSE_HOME=str(run_home)):
        for tenant in load_tenants(tenants):
            trace = tenant_pipeline(tenant).last_trace
            spans += [(f"  dlt {step.step} {tenant.id}", step.started_at.timestamp(),
                       step.finished_at.timestamp())
                      for step in (trace.steps if trace else [])
                      if step.step in DLT_STEPS and step.started_at.timestamp() >= since]
    return spans


def _figures(name: str, seconds: float, samples: list[tuple[float, int, int]],
             spans: list[tuple[float, float]] | None) -> StageFigures:
    inside = [s for s in samples if spans is None or any(start <= s[0] <= stop for start, stop in spans)]
    return StageFigures(name, seconds, max((own + children for _, own, children in inside), default=0),
                        max((own for _, own, _ in inside), default=0),
                        max((children for _, _, children in inside), default=0))


class BenchError(RuntimeError):
    """A run of the benchmark failed, so the figures after it would measure something else."""


# -- one run ---------------------------------------------------------------------------------------
def tenant_file(worlds: list[World], urls: dict[str, str], path: Path) -> dict[str, str]:
    """Write the tenant file for the worlds' APIs at ``urls``; the environment variables it names."""
    entries, variables = [], {}
    for world in worlds:
        tenant_id = world.config.tenant_id
        prefix = f"DESKPULSE_BENCH_{tenant_id.upper()}"
        variables.update({f"{prefix}_EMAIL": "demo@example.com", f"{prefix}_TOKEN": "demo-token",
                          f"{prefix}_SECRET": bench_secret(tenant_id)})
        entries.append({
            "id": tenant_id, "platform": "zendesk", "base_url": urls[tenant_id],
            "credentials": {"email_env": f"{prefix}_EMAIL", "token_env": f"{prefix}_TOKEN"},
            "secret_env": f"{prefix}_SECRET", "timezone": world.config.timezone,
            "start_date": (world.start - timedelta(days=1)).date().isoformat(),
        })
    path.write_text(yaml.safe_dump({"tenants": entries}, sort_keys=False))
    return variables


def measure_run(label: str, run_home: Path, tenants: Path, variables: dict[str, str], steps: StepSpans,
                progress: Progress) -> RunFigures:
    """Run `deskpulse run` in ``run_home`` as its own process, sampling its memory; its output goes
    to a log beside the home and, line by line, to ``progress``."""
    log = run_home.parent / f"{label.replace(' ', '-')}.log"
    env = {**os.environ, **variables, "DESKPULSE_HOME": str(run_home)}
    env.pop("DAGSTER_HOME", None)  # the run's own instance, under its home
    command = [str(Path(sys.executable).with_name("deskpulse")), "run", "--tenants", str(tenants)]
    started, clock = time.time(), time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True)
        with RssSampler(process.pid) as sampler:
            for line in _lines(process):
                out.write(line)
                progress("    " + line.rstrip())
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
    seconds, ended = time.monotonic() - clock, time.time()
    if process.returncode != 0:  # nothing after a failed run measures what it should
        raise BenchError(f"{label}: `deskpulse run` exited with {process.returncode}; its output is in {log}")
    samples = sampler.samples
    return RunFigures(
        label=label, seconds=seconds, exit_code=process.returncode, peak_rss_bytes=usage.ru_maxrss * 1024,
        sampled_peak_bytes=max((own + children for _, own, children in samples), default=0),
        tickets_served=0, log=str(log), sampled_pss_peak_bytes=max(sampler.pss, default=0),
        stages=stage_figures(samples, steps(run_home / "dagster", started),
                             dlt_steps(run_home, tenants, started), started, ended),
    )


def _lines(process: subprocess.Popen) -> Iterator[str]:
    assert process.stdout is not None
    yield from process.stdout
    process.stdout.close()


# -- the benchmark ---------------------------------------------------------------------------------
def run_bench(tickets: int, steps: StepSpans, *, tenants: int = 4, reuse: bool = False,
              folder: Path | None = None, progress: Progress = lambda _: None) -> RunBenchReport:
    """A full run as of a day before the worlds' end, one after that day of changes, one with
    nothing new. With ``reuse``, the full run's home and figures kept from an earlier benchmark of
    the same worlds stand in for the full run when there are some."""
    worlds = bench_worlds(tickets, tenants)
    folder = folder or home() / "bench" / f"run-{tickets}-{tenants}"
    folder.mkdir(parents=True, exist_ok=True)
    kept, stamp = folder / "kept", folder / "kept.json"
    key = {"version": KEPT_VERSION, "worlds": [[w.config.tenant_id, w.config.seed, w.config.tickets]
                                               for w in worlds]}
    day_before = {w.config.tenant_id: w.end - timedelta(days=1) for w in worlds}
    work = folder / "home"
    shutil.rmtree(work, ignore_errors=True)
    runs: list[RunFigures] = []
    reused = None
    progress(f"Packing {tickets:,} tickets in {tenants} worlds into fake Zendesk APIs (not timed)")
    with FakeApis([w.config for w in worlds]) as apis:
        saved = json.loads(stamp.read_text()) if reuse and stamp.exists() and kept.exists() else None
        if saved and saved["key"] == key:
            shutil.copytree(kept, work)
            runs.append(RunFigures.from_dict(saved["full"]))
            reused = saved["measured"]
            progress(f"Reusing the full run's home and figures kept from {reused}")
        else:
            work.mkdir()
            runs.append(_run(apis, worlds, day_before, "full run", work, folder, steps, progress))
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(work, kept)
            stamp.write_text(json.dumps({"key": key, "measured": f"{datetime.now():%Y-%m-%d %H:%M}",
                                         "full": asdict(runs[0])}))
        end = {w.config.tenant_id: w.end for w in worlds}
        runs.append(_run(apis, worlds, end, "after one day of changes", work, folder, steps, progress))
        runs.append(_run(apis, worlds, end, "nothing new", work, folder, steps, progress))
    return RunBenchReport(tickets, [w.config.tenant_id for w in worlds], runs, reused)


def _run(apis: FakeApis, worlds: list[World], as_of: dict[str, datetime], label: str, work: Path,
         folder: Path, steps: StepSpans, progress: Progress) -> RunFigures:
    urls = apis.serve(as_of)
    variables = tenant_file(worlds, urls, folder / "tenants.yaml")
    progress(f"{label}: `deskpulse run` on the worlds as of {min(as_of.values()):%Y-%m-%d %H:%M} "
             f"(packed in {apis.prepare_seconds:.0f} s)")
    figures = measure_run(label, work, folder / "tenants.yaml", variables, steps, progress)
    figures.tickets_served = sum(stats.get("tickets", {}).get("items", 0)
                                 for stats in apis.report().stats.values())
    progress(f"  {figures.seconds:.1f} s, peak RSS {figures.peak_rss_bytes / MIB:,.0f} MiB")
    return figures
