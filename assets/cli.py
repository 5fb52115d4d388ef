"""The ``deskpulse`` command: run the graph, the demo, the dev UI, or a fake helpdesk API.

Prints for people (progress, summaries); logs go to ``$DESKPULSE_HOME/logs/deskpulse.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

from pipelines.config import ConfigError, TenantConfig, load_tenants, tenants_path
from pipelines.home import environment, logs_dir, warehouse_path
from pipelines.keys import SecretError
from pipelines.privacy import PrivacyError

REPO = Path(__file__).resolve().parent.parent


def _progress(message: str) -> None:
    print(message, file=sys.__stdout__, flush=True)


@contextlib.contextmanager
def _run_log():
    """Send Dagster's and dbt's console chatter to a run log; people see progress and a summary."""
    path = logs_dir() / f"run-{datetime.now():%Y%m%dT%H%M%S}.log"
    with path.open("a", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        _progress(f"Run log: {path}")
        yield


def _report(outcome, started: float) -> int:
    for name, error in outcome.failures.items():
        print(f"FAILED {name}: {error}", file=sys.stderr)
    print(f"Done in {time.monotonic() - started:.1f} s: {len(outcome.ingested)} tenant(s) loaded, "
          f"marts {'built, checked and published' if outcome.transformed else 'NOT published'}.")
    return 0 if outcome.ok else 1


def cmd_run(args: argparse.Namespace) -> int:
    from assets.runner import run_graph

    started = time.monotonic()
    with _run_log():
        outcome = run_graph(tenants_path(args.tenants), progress=_progress, only=args.tenant or ())
    print(f"Warehouse: {warehouse_path()} (marts in schema 'marts')")
    return _report(outcome, started)


def cmd_backfill(args: argparse.Namespace) -> int:
    from assets.runner import run_graph

    started = time.monotonic()
    with _run_log():
        outcome = run_graph(tenants_path(args.tenants), progress=_progress, only=args.tenant or (),
                            window=(args.start, args.end))
    return _report(outcome, started)


def cmd_status(args: argparse.Namespace) -> int:
    from assets.runner import dagster_instance
    from assets.status import status_report

    path = tenants_path(args.tenants)
    os.environ["DESKPULSE_TENANTS"] = str(path.resolve())
    with dagster_instance() as instance:
        print(status_report(instance, load_tenants(path)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from assets.demo import demo_tenants, summary
    from assets.runner import run_graph
    from assets.serving import tenant_file

    started = time.monotonic()
    with demo_tenants(args.tickets) as demo, _run_log():
        _progress(f"Demo APIs up; tenant file {demo.tenant_file}")
        outcome = run_graph(demo.tenant_file, progress=_progress)
    if outcome.transformed:
        print()
        print(summary())
        print()
        served = tenant_file(next(iter(demo.worlds)))
        print(f"Warehouse: {warehouse_path()}")
        print(f"Serving files for BI tools (read-only DuckDB): {served.parent.parent}")
        print(f"  try: {Path(sys.executable).parent}/python -c \"import duckdb; print(duckdb.connect("
              f"'{served}', read_only=True).sql('from agent_daily_performance limit 5'))\"")
    return _report(outcome, started)


def cmd_dev(args: argparse.Namespace) -> int:
    from assets.demo import demo_tenants
    from assets.runner import dagster_instance

    with demo_tenants(args.tickets) as demo, dagster_instance() as instance:
        os.environ["DESKPULSE_TENANTS"] = str(demo.tenant_file)
        os.environ["DAGSTER_HOME"] = instance.root_directory  # its warehouse pool admits one step
        _progress(f"Demo APIs up; tenant file {demo.tenant_file}; starting dagster dev")
        # dagster dev re-parses the dbt project: the venv's dbt must be on its PATH
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
        return subprocess.call([f"{bin_dir}/dagster", "dev", "-w", str(REPO / "workspace.yaml")],
                               cwd=REPO, env=env)


def cmd_fake_api(args: argparse.Namespace) -> int:
    from pipelines.platforms import PLATFORMS
    from pipelines.world import World, WorldConfig
    from pipelines.zendesk.fake_http import Faults, RateLimits

    world = World(WorldConfig(tenant_id="demo", seed=args.seed, tickets=args.tickets))
    limits = RateLimits(time_scale=args.time_scale) if args.rate_limits else None
    faults = Faults(rate=args.fault_rate, seed=args.seed) if args.fault_rate else None
    api = PLATFORMS[args.platform].fake_api(world, as_of=args.as_of, rate_limits=limits, faults=faults)
    api.start(port=args.port)
    print(f"Fake {args.platform} API for {args.tickets:,} tickets listening on {api.base_url}", flush=True)
    print(f"  login: {api.email} / token {api.token}  (Basic auth 'EMAIL/token:TOKEN')", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()
    return 0


# -- privacy: erase, purge, offboard, rotate-key, lineage (docs/privacy.md) -------------------------
def _configured(args: argparse.Namespace) -> tuple[Path, TenantConfig]:
    """The tenant file and the tenant ``--tenant`` names in it."""
    path = tenants_path(args.tenants)
    for tenant in load_tenants(path):
        if tenant.id == args.tenant:
            return path, tenant
    raise ConfigError(f"{path}: tenant {args.tenant!r} is not in the tenant file")


def _run_job(name: str, tenants_file: Path) -> bool:
    """Run one job of the code location in process (``marts``: build, check, publish)."""
    from assets.runner import dagster_instance, execute, first_failure
    from assets.tenants import sync_tenant_partitions

    os.environ["DESKPULSE_TENANTS"] = str(tenants_file.resolve())
    from assets.definitions import defs

    _progress(f"{name}: running the {name} job")
    with _run_log(), dagster_instance() as instance:
        sync_tenant_partitions(instance, load_tenants(tenants_file))
        result = execute(defs.resolve_job_def(name), instance, _progress)
    if not result.success:
        print(f"FAILED {name}: {first_failure(result)}", file=sys.stderr)
    return result.success


def cmd_erase(args: argparse.Namespace) -> int:
    from pipelines.privacy.erase import erase_person
    from pipelines.privacy.warehouse import find_references

    path, tenant = _configured(args)
    erasure = erase_person(tenant, email=args.email, user_id=args.user_id)
    print("\n".join(erasure.lines()))
    if not erasure.user_keys:
        return 0
    if not _run_job("marts", path):
        return 1
    left = find_references(tenant.id, erasure.user_keys)
    for where, rows in left.items():
        print(f"STILL REFERENCED {where}: {rows} rows", file=sys.stderr)
    if not left:
        print("Marts rebuilt and published; no row references the erased key.")
    return 1 if left else 0


def cmd_purge(args: argparse.Namespace) -> int:
    from pipelines.privacy.retention import purge_tenant

    path, tenant = _configured(args)
    print("\n".join(purge_tenant(tenant).lines()))
    return 0 if _run_job("publish", path) else 1


def cmd_offboard(args: argparse.Namespace) -> int:
    import dagster as dg

    from assets.runner import dagster_instance
    from pipelines.privacy.offboard import offboard_tenant

    path = tenants_path(args.tenants)
    if any(t.id == args.tenant for t in load_tenants(path)):
        raise ConfigError(f"{path}: take tenant {args.tenant!r} out of the tenant file first, or the next "
                          "scheduled run loads it again")
    print("\n".join(offboard_tenant(args.tenant).lines()))
    with dagster_instance() as instance:
        runs = instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": args.tenant}))
        for record in runs:
            instance.delete_run(record.dagster_run.run_id)
    print(f"  removed {len(runs)} Dagster run(s) of partition {args.tenant}")
    return 0 if _run_job("marts", path) else 1


def cmd_rotate_key(args: argparse.Namespace) -> int:
    from assets.runner import run_graph
    from pipelines.keys import check_secret, read_secret_file
    from pipelines.privacy.rotation import rotate_key

    path, tenant = _configured(args)
    if args.previous_secret_file:
        previous = read_secret_file(Path(args.previous_secret_file), tenant_id=tenant.id)
    else:
        previous = check_secret(os.environ.get(args.previous_secret_env), tenant_id=tenant.id,
                                source=f"environment variable {args.previous_secret_env}")

    def reload() -> None:
        with _run_log():
            outcome = run_graph(path, progress=_progress, only=[tenant.id])
        if not outcome.ok:
            raise PrivacyError(f"reload failed: {outcome.failures}; run rotate-key again")

    print("\n".join(rotate_key(tenant, previous, reload).lines()))
    return 0


def compiled_manifest(scratch: Path) -> dict:
    """The dbt project compiled in ``scratch`` against an empty stand-in warehouse, so lineage
    never reads tenant data: parse, create the declared raw tables, compile."""
    import json

    from assets.project import dbt_cli
    from pipelines.privacy.lineage import stand_in_warehouse

    target, stand_in = scratch / "target", scratch / "stand_in.duckdb"
    manifest = target / "manifest.json"
    dbt_cli().cli(["parse", "--quiet"], target_path=target).wait()
    dbt_vars = stand_in_warehouse(json.loads(manifest.read_text(encoding="utf-8")), stand_in)
    with environment(DESKPULSE_WAREHOUSE=str(stand_in)):
        dbt_cli().cli(["compile", "--quiet", "--vars", dbt_vars], target_path=target).wait()
    return json.loads(manifest.read_text(encoding="utf-8"))


def cmd_lineage(args: argparse.Namespace) -> int:
    import tempfile

    from pipelines.home import home
    from pipelines.platforms import PLATFORMS
    from pipelines.privacy.report import build_report, write

    configured = args.tenants or os.environ.get("DESKPULSE_TENANTS")
    tenants = load_tenants(tenants_path(args.tenants)) if configured else []
    with tempfile.TemporaryDirectory(prefix="deskpulse-lineage-") as scratch:
        manifest = compiled_manifest(Path(scratch))
    report = build_report(manifest, tenants, {name: p.endpoints for name, p in PLATFORMS.items()})
    for path in write(report, Path(args.out) if args.out else home() / "lineage"):
        print(f"Wrote {path}")
    for violation in report["violations"]:
        print(f"FLAGGED {violation}", file=sys.stderr)
    return 1 if report["violations"] else 0


def _privacy_commands(commands: argparse._SubParsersAction) -> None:
    tenants_help = "tenant YAML file (default: $DESKPULSE_TENANTS)"
    erase = commands.add_parser("erase", help="erase one person from a tenant's data and keep them out")
    erase.add_argument("--tenant", required=True)
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="the person's e-mail address (never stored or logged)")
    who.add_argument("--user-id", type=int, help="the person's platform user id")
    erase.set_defaults(func=cmd_erase)

    purge = commands.add_parser("purge", help="delete a tenant's raw event data past its retention_days")
    purge.add_argument("--tenant", required=True)
    purge.set_defaults(func=cmd_purge)

    offboard = commands.add_parser("offboard", help="delete every row, file and state of a tenant")
    offboard.add_argument("--tenant", required=True)
    offboard.set_defaults(func=cmd_offboard)

    rotate = commands.add_parser("rotate-key", help="re-key a tenant's pseudonyms with its new secret")
    rotate.add_argument("--tenant", required=True)
    previous = rotate.add_mutually_exclusive_group(required=True)
    previous.add_argument("--previous-secret-env", help="variable holding the secret being replaced")
    previous.add_argument("--previous-secret-file", help="file (0600) holding the secret being replaced")
    rotate.set_defaults(func=cmd_rotate_key)

    lineage = commands.add_parser("lineage", help="write the lineage and processing-activities report")
    lineage.add_argument("--out", help="folder for lineage.md and .json (default: $DESKPULSE_HOME/lineage)")
    lineage.set_defaults(func=cmd_lineage)
    for command in (erase, purge, offboard, rotate, lineage):
        command.add_argument("--tenants", help=tenants_help)


def cmd_bench_transform(args: argparse.Namespace) -> int:
    from pipelines.bench_transform import run_bench

    report = run_bench(args.tickets, tenants=args.tenants, changed_share=args.changed / 100,
                       in_process=not args.cli, progress=_progress)
    print()
    print("\n".join(report.lines()))
    return 0


def cmd_bench_ingest(args: argparse.Namespace) -> int:
    from pipelines.bench_ingest import format_report, run_ingest_benchmark

    _progress(f"Packing a world of {args.tickets:,} tickets into a fake Zendesk API process, then loading it")
    print(format_report(run_ingest_benchmark(args.tickets, seed=args.seed)))
    return 0


def cmd_bench_run(args: argparse.Namespace) -> int:
    from assets.run_steps import step_spans
    from pipelines.bench_run import run_bench

    report = run_bench(args.tickets, step_spans, tenants=args.tenants, reuse=args.reuse, progress=_progress)
    print()
    print("\n".join(report.lines()))
    return 0 if all(run.exit_code == 0 for run in report.runs) else 1


def _bench_commands(commands: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """`deskpulse bench ...`: the benchmarks; returns its subcommands so others can join them."""
    bench = commands.add_parser("bench", help="benchmarks on synthetic worlds")
    kinds = bench.add_subparsers(dest="bench", required=True)
    transform = kinds.add_parser(
        "transform", help="dbt build time of all marts on a loaded world, full and after ~1%% changed")
    transform.add_argument("--tickets", type=int, default=1_000_000, help="tickets in all")
    transform.add_argument("--tenants", type=int, default=4, help="tenants sharing them (1-4)")
    transform.add_argument("--changed", type=float, default=1.0, help="percent of tickets changed")
    transform.add_argument("--cli", action="store_true",
                           help="time the dbt command-line program instead of dbt run in process")
    transform.set_defaults(func=cmd_bench_transform)
    ingest = kinds.add_parser(
        "ingest", help="extract and load N tickets from a fake Zendesk: rows/s, requests, peak memory")
    ingest.add_argument("--tickets", type=int, default=1_000_000, help="tickets in the world")
    ingest.add_argument("--seed", type=int, default=1, help="the world's seed")
    ingest.set_defaults(func=cmd_bench_ingest)
    run = kinds.add_parser(
        "run", help="whole `deskpulse run`s on N tickets: wall time and peak memory per stage")
    run.add_argument("--tickets", type=int, default=1_000_000, help="tickets in all")
    run.add_argument("--tenants", type=int, default=4, help="tenants sharing them (1-4)")
    run.add_argument("--reuse", action="store_true",
                     help="take the full run's home and figures kept from the last benchmark of this world, "
                          "and measure only the runs after it")
    run.set_defaults(func=cmd_bench_run)
    return kinds


def _iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-03-01T00:00:00+00:00")
    return parsed


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="deskpulse", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="materialise the whole graph for every configured tenant")
    run.add_argument("--tenants", help="tenant YAML file (default: $DESKPULSE_TENANTS)")
    run.add_argument("--tenant", action="append", help="only this tenant (repeat for several)")
    run.set_defaults(func=cmd_run)

    backfill = commands.add_parser("backfill", help="reload what changed in a date range, then rebuild")
    backfill.add_argument("--tenants", help="tenant YAML file (default: $DESKPULSE_TENANTS)")
    backfill.add_argument("--tenant", action="append", help="only this tenant (repeat for several)")
    backfill.add_argument("--start", type=date.fromisoformat, required=True, help="first day (2024-01-01)")
    backfill.add_argument("--end", type=date.fromisoformat, required=True, help="day after the last one")
    backfill.set_defaults(func=cmd_backfill)

    status = commands.add_parser("status", help="last run per tenant, check outcomes, data freshness")
    status.add_argument("--tenants", help="tenant YAML file (default: $DESKPULSE_TENANTS)")
    status.set_defaults(func=cmd_status)

    demo = commands.add_parser("demo", help="run the graph on two built-in demo tenants")
    demo.add_argument("--tickets", type=int, default=1000, help="tickets per demo tenant")
    demo.set_defaults(func=cmd_demo)

    dev = commands.add_parser("dev", help="start the demo APIs and the Dagster UI on them")
    dev.add_argument("--tickets", type=int, default=1000, help="tickets per demo tenant")
    dev.set_defaults(func=cmd_dev)

    fake = commands.add_parser("fake-api", help="serve a synthetic helpdesk over HTTP on 127.0.0.1")
    fake.add_argument("platform", choices=["zendesk"])
    fake.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    fake.add_argument("--tickets", type=int, default=1000)
    fake.add_argument("--seed", type=int, default=1)
    fake.add_argument("--as-of", type=_iso, default=None, help="serve the world as of this instant")
    fake.add_argument("--rate-limits", action="store_true",
                      help="enforce the rate limits (429 + Retry-After)")
    fake.add_argument("--time-scale", type=float, default=1.0,
                      help="how many times faster a rate-limit minute passes")
    fake.add_argument("--fault-rate", type=float, default=0.0,
                      help="share of requests that fail (5xx, stalls, resets, cut bodies), seeded by --seed")
    fake.set_defaults(func=cmd_fake_api)
    _bench_commands(commands)
    _privacy_commands(commands)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        filename=logs_dir() / "deskpulse.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        return args.func(args)
    except (ConfigError, SecretError, PrivacyError) as exc:
        print(f"deskpulse: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
