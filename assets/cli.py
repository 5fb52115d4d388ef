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
from datetime import datetime
from pathlib import Path

from pipelines.config import ConfigError, tenants_path
from pipelines.home import logs_dir, warehouse_path
from pipelines.keys import SecretError

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
          f"marts {'built' if outcome.transformed else 'NOT built'}.")
    return 0 if outcome.ok else 1


def cmd_run(args: argparse.Namespace) -> int:
    from assets.runner import run_graph

    started = time.monotonic()
    with _run_log():
        outcome = run_graph(tenants_path(args.tenants), progress=_progress)
    print(f"Warehouse: {warehouse_path()} (marts in schema 'marts')")
    return _report(outcome, started)


def cmd_demo(args: argparse.Namespace) -> int:
    from assets.demo import demo_tenants, summary
    from assets.runner import run_graph

    started = time.monotonic()
    with demo_tenants(args.tickets) as demo, _run_log():
        _progress(f"Demo APIs up; tenant file {demo.tenant_file}")
        outcome = run_graph(demo.tenant_file, progress=_progress)
    if outcome.transformed:
        print()
        print(summary())
        print()
        print(f"Warehouse: {warehouse_path()}")
        print(f"  try: {Path(sys.executable).parent}/python -c \"import duckdb; print(duckdb.connect("
              f"'{warehouse_path()}', read_only=True).sql('from marts.agent_daily_performance limit 5'))\"")
    return _report(outcome, started)


def cmd_dev(args: argparse.Namespace) -> int:
    from assets.demo import demo_tenants

    with demo_tenants(args.tickets) as demo:
        os.environ["DESKPULSE_TENANTS"] = str(demo.tenant_file)
        _progress(f"Demo APIs up; tenant file {demo.tenant_file}; starting dagster dev")
        # dagster dev re-parses the dbt project: the venv's dbt must be on its PATH
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
        return subprocess.call([f"{bin_dir}/dagster", "dev", "-w", str(REPO / "workspace.yaml")],
                               cwd=REPO, env=env)


def cmd_fake_api(args: argparse.Namespace) -> int:
    from pipelines.platforms import PLATFORMS
    from pipelines.world import World, WorldConfig

    world = World(WorldConfig(tenant_id="demo", seed=args.seed, tickets=args.tickets))
    api = PLATFORMS[args.platform].fake_api(world, as_of=args.as_of)
    api.start(port=args.port)
    print(f"Fake {args.platform} API for {args.tickets:,} tickets listening on {api.base_url}", flush=True)
    print(f"  login: {api.email} / token {api.token}  (Basic auth 'EMAIL/token:TOKEN')", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        api.stop()
    return 0


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
    run.set_defaults(func=cmd_run)

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
    fake.set_defaults(func=cmd_fake_api)
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
    except (ConfigError, SecretError) as exc:
        print(f"deskpulse: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
