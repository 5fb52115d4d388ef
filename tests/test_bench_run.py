"""``deskpulse bench run`` on a tiny world: three whole runs, each measured stage by stage, and the
full run's home kept for ``--reuse``. What it measures is the machine's; the test holds what runs,
in which order, and what the fake APIs served."""

from __future__ import annotations

import pytest

from assets.run_steps import step_spans
from deskpulse.benchmarks.run import run_bench

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def ingest(tenant: str) -> list[str]:
    return [f"ingest {tenant}", *(f"  dlt {step} {tenant}" for step in ("extract", "normalize", "load"))]


STAGES = [*ingest("bench_ams"), "raw checks bench_ams", *ingest("bench_nyc"), "raw checks bench_nyc",
          "dbt build", "mart checks", "publish"]


def test_three_runs_measured_stage_by_stage_then_the_later_two_again_on_the_kept_home(tmp_path, dbt_manifest):
    folder = tmp_path / "bench"
    report = run_bench(300, step_spans, tenants=2, folder=folder)
    full, day, nothing = report.runs
    assert [run.label for run in report.runs] == ["full run", "after one day of changes", "nothing new"]
    assert [run.exit_code for run in report.runs] == [0, 0, 0]
    assert [stage.name for stage in full.stages] == [*STAGES, "outside steps"]
    # dlt's parts of an ingest may be too short to be sampled
    steps = [stage for stage in full.stages if not stage.name.startswith(" ")]
    assert all(stage.seconds > 0 and stage.peak_rss_bytes > 0 for stage in steps)
    # the kernel's high-water mark and the samples read the same pages (to the kernel's bookkeeping)
    assert max(stage.run_process_bytes for stage in full.stages) <= full.peak_rss_bytes * 1.01
    # proportional sizes count a shared page once: never more than the resident sizes' sum
    assert all(0 < run.sampled_pss_peak_bytes <= run.sampled_peak_bytes for run in report.runs)
    assert 0 < day.tickets_served < full.tickets_served <= 300 and nothing.tickets_served == 0
    assert "ingest bench_nyc" in "\n".join(report.lines())

    again = run_bench(300, step_spans, tenants=2, folder=folder, reuse=True)
    assert again.reused_full_run and again.runs[0] == full
    assert [run.exit_code for run in again.runs[1:]] == [0, 0]
    assert again.runs[1].tickets_served == day.tickets_served
