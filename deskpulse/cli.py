"""The ``deskpulse`` command: run the graph, the demo, the dev UI, or a fake helpdesk API.

Prints for people (progress, summaries); logs go to ``$DESKPULSE_HOME/logs/deskpulse.log``, and
each run's chatter (Dagster, dbt) to a log of its own. Every sub-command's ``--help`` gives its
summary, its options and an example (``EXAMPLES``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.ingest.config import ENV_NAME, TENANT_ID, ConfigError, TenantConfig, tenants_path
from pipelines.ingest.file_modes import make_private
from pipelines.ingest.home import environment, home, logs_dir, warehouse_path
from pipelines.ingest.keys import SecretError
from pipelines.platforms import load_tenants
from pipelines.privacy import PrivacyError

if TYPE_CHECKING:
    from assets.runner import GraphOutcome

REPO = Path(__file__).resolve().parent.parent


def _progress(message: str) -> None:
    print(message, file=sys.__stdout__, flush=True)


@contextlib.contextmanager
def _run_log():
    """Send Dagster's and dbt's console chatter to this run's own log, named by its start and a
    run id, so two runs never share one; people see progress and a summary."""
    path = logs_dir() / f"run-{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:12]}.log"
    with path.open("x", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
            contextlib.redirect_stderr(log):
        _progress(f"Run log: {path}")
        yield


def _stoppable_graph(tenants_file: Path, **options):
    """``run_graph`` stopped within seconds by SIGTERM or Ctrl-C (``assets.stopping``)."""
    from assets.runner import run_graph
    from assets.stopping import stoppable

    return stoppable(lambda: run_graph(tenants_file, progress=_progress, **options), _abandoned)


def _abandoned(reason: str):
    """End a process whose run did not stop in time: its runs were closed, a rerun continues."""
    from pipelines.ingest import stop

    print(f"deskpulse: {reason}; the run did not stop in time and was abandoned (its runs marked "
          "canceled); run it again to continue", file=sys.__stderr__, flush=True)
    os._exit(stop.exit_status())


def _report(outcome: GraphOutcome, started: float) -> int:
    if outcome.stopped:
        from pipelines.ingest import stop

        print(f"deskpulse: {outcome.stopped}; stopped after {time.monotonic() - started:.1f} s "
              f"({len(outcome.ingested)} tenant(s) loaded first); run it again to continue",
              file=sys.stderr)
        return stop.exit_status()
    for name, error in outcome.failures.items():
        print(f"FAILED {name}: {error}", file=sys.stderr)
    if outcome.served:
        print("Serving files:")
        print("\n".join(f"  {served.line()}" for served in outcome.served))
    print(f"Done in {time.monotonic() - started:.1f} s: {what_happened(outcome)}.")
    return 0 if outcome.ok else 1


def what_happened(outcome: GraphOutcome) -> str:
    """A run's outcome as its events tell it: rows loaded, models rebuilt, files published."""
    rows = sum(outcome.changed_rows.values())
    loaded = f"{len(outcome.ingested)} tenant(s) loaded, {rows:,} raw row(s) written"
    if not outcome.transformed:
        return f"{loaded}; marts NOT published"
    built = (f"{len(outcome.built)} dbt model(s) and seed(s) rebuilt" if outcome.built
             else "no dbt model rebuilt (the raw data is as it was at the last build)")
    if not outcome.written:
        served = "serving files left as they were"
    elif not outcome.published:
        served = "NOT every tenant's serving file published (see above)"
    elif outcome.built:
        served = "marts checked and published"
    else:
        served = "serving files published again from the marts as they were"
    return f"{loaded}; {built}; {served}"


def _checked(path: Path, only: Sequence[str] = ()) -> None:
    """The checks of ``deskpulse check``, before a run extracts anything: a wrong configuration
    stops it here; an API that cannot be reached now, or files others can read, are reported."""
    from assets.automation import automation_on
    from pipelines.preflight import preflight

    started = time.monotonic()
    result = preflight(path, only, extra_settings=[automation_on])
    for problem in result.blocking:
        print(f"CONFIG {problem}", file=sys.stderr)
    if result.blocking:
        raise ConfigError(f"stopped before extracting anything: {len(result.blocking)} problem(s) in the "
                          f"configuration (deskpulse check --tenants {path} checks it again)")
    for check in result.tenants:
        for problem in check.problems:  # an API down now: that tenant fails on its own, the rest go on
            _progress(f"WARNING {problem}")
    if result.exposed:
        _progress(f"WARNING {_exposed_line(result.exposed)}")
    _progress(f"Checked {len(result.tenants)} tenant(s) in {time.monotonic() - started:.1f} s: tenant "
              "file, variables, secrets, API logins")


def _exposed_line(paths: list[Path]) -> str:
    return (f"{len(paths)} path(s) under {home()} can be read by other users, such as {paths[0]}: "
            f"chmod -R go-rwx {home()}")


def cmd_check(args: argparse.Namespace) -> int:
    from assets.automation import automation_on
    from pipelines.preflight import preflight

    started = time.monotonic()
    path = tenants_path(args.tenants)
    result = preflight(path, args.tenant or (), extra_settings=[automation_on])
    print(f"Tenant file {path}: valid; checking {len(result.tenants)} tenant(s)")
    for check in result.tenants:
        tenant = check.tenant
        if check.ok:
            secret = tenant.secret_env or tenant.secret_file
            print(f"  ok      {tenant.id:<16} {tenant.platform}: {check.login} "
                  f"({tenant.credentials.email_env}, {tenant.credentials.token_env}); secret in {secret}")
        for problem in check.problems:
            print(f"  FAILED  {problem}")
    for problem in result.settings:
        print(f"  FAILED  {problem}")
    if result.exposed:
        print(f"  FAILED  {_exposed_line(result.exposed)}")
    elif not result.settings:
        print(f"  ok      DESKPULSE_HOME {home()}: nothing in it can be read by other users")
    problems = len(result.settings) + bool(result.exposed) + sum(len(t.problems) for t in result.tenants)
    print(f"{'All checks passed' if result.ok else f'{problems} problem(s) found'} in "
          f"{time.monotonic() - started:.1f} s.")
    return 0 if result.ok else 1


def cmd_run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    path = tenants_path(args.tenants)
    _checked(path, args.tenant or ())
    with _run_log():
        outcome = _stoppable_graph(path, only=args.tenant or ())
    print(f"Warehouse: {warehouse_path()} (marts in schema 'marts')")
    return _report(outcome, started)


def cmd_backfill(args: argparse.Namespace) -> int:
    started = time.monotonic()
    path = tenants_path(args.tenants)
    _checked(path, args.tenant or ())
    with _run_log():
        outcome = _stoppable_graph(path, only=args.tenant or (), window=(args.start, args.end))
    return _report(outcome, started)


def status_tenants(explicit: str | None) -> tuple[Path, str]:
    """The tenant file ``status`` reads, and why that one: ``--tenants``, else
    ``DESKPULSE_TENANTS``, else the demo's when a demo ran in this home."""
    from deskpulse.demo import demo_folder

    if explicit:
        return Path(explicit), "given with --tenants"
    if os.environ.get("DESKPULSE_TENANTS"):
        return Path(os.environ["DESKPULSE_TENANTS"]), "from DESKPULSE_TENANTS"
    demo = demo_folder() / "tenants.yaml"
    if demo.is_file():
        return demo, "the demo's: neither --tenants nor DESKPULSE_TENANTS is set"
    raise ConfigError(f"no tenant file: pass --tenants PATH or set DESKPULSE_TENANTS (no demo has run in "
                      f"{home()} either)")


def cmd_status(args: argparse.Namespace) -> int:
    path, why = status_tenants(args.tenants)  # before the graph loads, which takes seconds
    tenants = load_tenants(path)
    print(f"Tenant file: {path} ({why})")
    print()
    from assets.runner import dagster_instance
    from assets.status import status_report

    os.environ["DESKPULSE_TENANTS"] = str(path.resolve())
    with dagster_instance() as instance:
        print(status_report(instance, tenants))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from assets.serving import tenant_file
    from deskpulse.demo import demo_tenants, make_room, summary

    started = time.monotonic()
    for line in make_room(args.tickets):
        _progress(line)
    with demo_tenants(args.tickets) as demo:
        _progress(f"Demo APIs up; tenant file {demo.tenant_file}")
        _checked(demo.tenant_file)
        with _run_log():
            outcome = _stoppable_graph(demo.tenant_file)
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
    from assets.process_tree import supervise
    from assets.runner import dagster_instance
    from deskpulse.demo import demo_tenants, make_room

    for line in make_room(args.tickets):
        _progress(line)
    with demo_tenants(args.tickets) as demo, dagster_instance() as instance:
        os.environ["DESKPULSE_TENANTS"] = str(demo.tenant_file)
        os.environ["DAGSTER_HOME"] = instance.root_directory  # its warehouse pool admits one step
        _progress(f"Demo APIs up; tenant file {demo.tenant_file}; starting dagster dev on "
                  f"http://127.0.0.1:{args.port}")
        # dagster dev re-parses the dbt project: the venv's dbt must be on its PATH
        bin_dir = str(Path(sys.executable).parent)
        env = {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
        # in a session of its own, so that stopping deskpulse stops everything dagster dev started
        dev = subprocess.Popen([f"{bin_dir}/dagster", "dev", "-w", str(REPO / "workspace.yaml"),
                                "-h", "127.0.0.1", "-p", str(args.port)],
                               cwd=REPO, env=env, start_new_session=True)
        return supervise(dev)


def cmd_fake_api(args: argparse.Namespace) -> int:
    from pipelines.fakes import fake_api
    from pipelines.fakes.zendesk.transport import Faults, RateLimits
    from pipelines.world import World, WorldConfig

    world = World(WorldConfig(tenant_id="demo", seed=args.seed, tickets=args.tickets))
    limits = RateLimits(time_scale=args.time_scale) if args.rate_limits else None
    faults = Faults(rate=args.fault_rate, seed=args.seed) if args.fault_rate else None
    try:
        api = fake_api(args.platform)(world, as_of=args.as_of, rate_limits=limits, faults=faults,
                                      forbid=args.forbid or ())
    except ValueError as exc:
        print(f"deskpulse fake-api: --forbid: {exc}", file=sys.stderr)
        return 2
    api.start(port=args.port)
    print(f"Fake {args.platform} API for {args.tickets:,} tickets listening on {api.base_url}", flush=True)
    if api.forbid:
        print(f"  answering 403 (not in the plan): {', '.join(sorted(api.forbid))}", flush=True)
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


def _run_job(name: str, tenants_file: Path, republish: str) -> bool:
    """Run one job of the code location in process (``marts``: build, check, publish) after
    ``republish`` changed tenants' data: their files follow, stale or not."""
    from assets.publish import REPUBLISH_TAG
    from assets.runner import dagster_instance, execute, first_failure, taking_turns
    from assets.tenants import sync_tenant_partitions

    os.environ["DESKPULSE_TENANTS"] = str(tenants_file.resolve())
    from assets.definitions import defs

    _progress(f"{name}: running the {name} job")
    with _run_log(), dagster_instance() as instance, taking_turns(instance, _progress):
        sync_tenant_partitions(instance, load_tenants(tenants_file))
        result = execute(defs.resolve_job_def(name), instance, _progress, tags={REPUBLISH_TAG: republish})
    if not result.success:
        print(f"FAILED {name}: {first_failure(result)}", file=sys.stderr)
    return result.success


def cmd_erase(args: argparse.Namespace) -> int:
    from pipelines.privacy.erase import erase_person

    path, tenant = _configured(args)
    erasure = erase_person(tenant, email=args.email, user_id=args.user_id, agent_mode=args.agent_mode,
                           dry_run=args.dry_run)
    print("\n".join(erasure.lines()))
    if args.dry_run or not erasure.user_keys:
        return 0
    if not _run_job("marts", path, "erasure"):
        return 1
    return _final_scan(tenant.id, erasure.pseudonyms, erasure.ids)


def _final_scan(tenant_id: str, pseudonyms: list[str], ids: list[int]) -> int:
    """After an erasure: look for the person in every place data lives; say where it looked."""
    from pipelines.privacy.places import scan

    found = scan(tenant_id, pseudonyms, ids)
    for where, rows in found.hits.items():
        print(f"STILL REFERENCED {where}: {rows}", file=sys.stderr)
    print("Marts rebuilt and published. Scanned for the erased person's keys, tokens and ids:")
    print("\n".join(found.lines()))
    if not found.hits:
        print("No reference left in any of them (the audit log and suppression list keep the pseudonym"
              " by design).")
    return 1 if found.hits else 0


def cmd_subject_report(args: argparse.Namespace) -> int:
    from pipelines.privacy.subject import subject_report, write

    _, tenant = _configured(args)
    report = subject_report(tenant, email=args.email, user_id=args.user_id)
    write(report, Path(args.out))
    print("\n".join(report.summary()))
    print(f"Wrote {args.out} (mode 0600): hand it to the person; it holds their data")
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from pipelines.privacy.retention import purge_tenant

    path, tenant = _configured(args)
    print("\n".join(purge_tenant(tenant).lines()))
    return 0 if _run_job("publish", path, "retention purge") else 1


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
    return 0 if _run_job("marts", path, "offboarding") else 1


def cmd_rotate_key(args: argparse.Namespace) -> int:
    from assets.runner import run_graph
    from pipelines.ingest.keys import check_secret, read_secret_file
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


# -- quarantine: list, retry (docs/accounts_and_failures.md) ---------------------------------------
def _held(tenant_id: str) -> list:
    """The tenant's quarantined records; a clear error while a run holds the warehouse."""
    import duckdb

    from pipelines.quarantine import held

    try:
        return held(tenant_id)
    except duckdb.IOException:
        raise ConfigError(f"the warehouse {warehouse_path()} is busy (a run is writing it); "
                          "try again when it has finished") from None


def _held_lines(records: list, limit: int) -> list[str]:
    """Counts per table and reason, then the records (table, ids, times, reason), never content."""
    from collections import Counter

    by_reason = Counter((record.table, record.reason) for record in records)
    lines = [f"  {count:>6}  {table:<22} {reason}" for (table, reason), count in sorted(by_reason.items())]
    lines += ["", f"  {'table':<22} {'record':>14} {'ticket':>10}  {'served at (UTC)':<20} "
                  f"{'held since (UTC)':<20} reason"]
    for record in records[:limit]:
        shown = str(record.record_id) if record.record_id is not None else f"key {record.record_key[:10]}"
        lines.append(f"  {record.table:<22} {shown:>14} {record.ticket_id or '-':>10}  "
                     f"{_utc(record.record_time):<20} {_utc(record.quarantined_at):<20} {record.reason}")
    if len(records) > limit:
        lines.append(f"  ... and {len(records) - limit} more (--limit)")
    return lines


def _utc(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if at is not None else "-"


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    _, tenant = _configured(args)
    records = _held(tenant.id)
    if not records:
        print(f"Tenant {tenant.id}: nothing quarantined.")
        return 0
    print(f"Tenant {tenant.id}: {len(records)} record(s) quarantined, by table and reason:")
    print("\n".join(_held_lines(records, args.limit)))
    print(f"\nOnce the cause is fixed: deskpulse quarantine retry --tenant {tenant.id}")
    return 0


def cmd_quarantine_retry(args: argparse.Namespace) -> int:
    from pipelines.quarantine import retry_days

    path, tenant = _configured(args)
    before = _held(tenant.id)
    if not before:
        print(f"Tenant {tenant.id}: nothing quarantined, nothing to retry.")
        return 0
    _checked(path, [tenant.id])
    days = retry_days(tenant, before, datetime.now(UTC).date())
    span = f"from {days[0]} to {days[1]} (end exclusive)" if days else "(lists read whole: one regular load)"
    print(f"Tenant {tenant.id}: re-reading {len(before)} quarantined record(s) {span}")
    started = time.monotonic()
    with _run_log():
        outcome = _stoppable_graph(path, only=[tenant.id], window=days)
    after = _held(tenant.id)
    gone = {record.record_key for record in before} - {record.record_key for record in after}
    print(f"{len(gone)} record(s) loaded cleanly and left the quarantine; {len(after)} still held.")
    if after:
        print("\n".join(_held_lines(after, args.limit)))
    return _report(outcome, started)


def _quarantine_commands(commands: argparse._SubParsersAction) -> None:
    quarantine = commands.add_parser("quarantine", help="list or re-read a tenant's quarantined records")
    actions = quarantine.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="what a tenant's quarantine holds and why (never the records)")
    listing.set_defaults(func=cmd_quarantine_list)
    retry = actions.add_parser(
        "retry", help="read a tenant's quarantined records again once the cause is fixed, then rebuild and "
                      "publish; records that load cleanly leave the quarantine")
    retry.set_defaults(func=cmd_quarantine_retry, needs_dbt=True)
    for action in (listing, retry):
        action.add_argument("--tenant", required=True, type=tenant_id, help="the tenant's id")
        action.add_argument("--tenants", help="tenant YAML file (default: $DESKPULSE_TENANTS)")
        action.add_argument("--limit", type=int, default=100, help="records to show (default 100)")


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


def benchmark_thresholds() -> dict[str, int]:
    """The cross-tenant benchmark's suppression thresholds, as the dbt project sets them."""
    import yaml

    from assets.project import DBT_PROJECT

    project = yaml.safe_load((Path(DBT_PROJECT.project_dir) / "dbt_project.yml").read_text(encoding="utf-8"))
    return {name.removeprefix("benchmark_"): int(value) for name, value in project["vars"].items()
            if name.startswith("benchmark_min_")}


def cmd_lineage(args: argparse.Namespace) -> int:
    import tempfile

    from pipelines.ingest.home import home
    from pipelines.platforms import PLATFORMS
    from pipelines.privacy.report import build_report, write

    configured = args.tenants or os.environ.get("DESKPULSE_TENANTS")
    tenants = load_tenants(tenants_path(args.tenants)) if configured else []
    with tempfile.TemporaryDirectory(prefix="deskpulse-lineage-") as scratch:
        manifest = compiled_manifest(Path(scratch))
    report = build_report(manifest, tenants, {name: p.endpoints for name, p in PLATFORMS.items()},
                          benchmark_thresholds(), warehouse_path())
    for path in write(report, Path(args.out) if args.out else home() / "lineage"):
        print(f"Wrote {path}")
    for violation in report["violations"]:
        print(f"FLAGGED {violation}", file=sys.stderr)
    return 1 if report["violations"] else 0


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines import raw_docs

    root = Path(args.root) if args.root else raw_docs.REPO
    try:
        if args.check:
            stale = raw_docs.stale(root)
            for path in stale:
                print(f"Stale: {path} (run deskpulse generate)", file=sys.stderr)
            return 1 if stale else 0
        written = raw_docs.write(root)
    except ValueError as exc:
        print(f"deskpulse: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"Wrote {path}")
    if not written:
        print("The dbt sources and docs/raw_contract.md already match the raw table declarations")
    return 0


def _privacy_commands(commands: argparse._SubParsersAction) -> None:
    tenants_help = "tenant YAML file (default: $DESKPULSE_TENANTS)"
    erase = commands.add_parser("erase", help="erase one person from a tenant's data and keep them out")
    erase.add_argument("--tenant", required=True, type=tenant_id, help="the tenant the person belongs to")
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--email", help="the person's e-mail address (never stored or logged)")
    who.add_argument("--user-id", type=int, help="the person's platform user id")
    erase.add_argument("--agent-mode", choices=["unlink", "delete"],
                       help="for a person who worked as an agent (required then): unlink keeps their "
                            "tickets' facts under a fresh random key; delete removes those tickets whole")
    erase.add_argument("--dry-run", action="store_true",
                       help="print what would be removed, per table and file, and change nothing")
    erase.set_defaults(func=cmd_erase)

    subject = commands.add_parser("subject-report",
                                  help="write everything held about one person (GDPR access and portability)")
    subject.add_argument("--tenant", required=True, type=tenant_id, help="the tenant the person belongs to")
    whom = subject.add_mutually_exclusive_group(required=True)
    whom.add_argument("--email", help="the person's e-mail address (never stored or logged)")
    whom.add_argument("--user-id", type=int, help="the person's platform user id")
    subject.add_argument("--out", required=True,
                         help="the JSON file to write (created 0600; never written over)")
    subject.set_defaults(func=cmd_subject_report)

    purge = commands.add_parser("purge", help="delete a tenant's raw event data past its retention_days")
    purge.add_argument("--tenant", required=True, type=tenant_id, help="the tenant to purge")
    purge.set_defaults(func=cmd_purge)

    offboard = commands.add_parser("offboard", help="delete every row, file and state of a tenant")
    offboard.add_argument("--tenant", required=True, type=tenant_id,
                          help="the tenant to delete, already taken out of the tenant file")
    offboard.set_defaults(func=cmd_offboard)

    rotate = commands.add_parser("rotate-key", help="re-key a tenant's pseudonyms with its new secret")
    rotate.add_argument("--tenant", required=True, type=tenant_id,
                        help="the tenant whose secret_env or secret_file now holds the new secret")
    previous = rotate.add_mutually_exclusive_group(required=True)
    previous.add_argument("--previous-secret-env", type=env_name,
                          help="variable holding the secret being replaced")
    previous.add_argument("--previous-secret-file", help="file (0600) holding the secret being replaced")
    rotate.set_defaults(func=cmd_rotate_key)

    lineage = commands.add_parser("lineage", help="write the lineage and processing-activities report")
    lineage.add_argument("--out", help="folder for lineage.md and .json (default: $DESKPULSE_HOME/lineage)")
    lineage.set_defaults(func=cmd_lineage)
    for command in (erase, subject, purge, offboard, rotate, lineage):
        command.add_argument("--tenants", help=tenants_help)
    for command in (erase, purge, offboard, rotate):
        command.set_defaults(needs_dbt=True)


def cmd_bench_transform(args: argparse.Namespace) -> int:
    from deskpulse.benchmarks.transform import run_bench

    report = run_bench(args.tickets, tenants=args.tenants, changed_share=args.changed / 100,
                       in_process=not args.cli, with_plan=not args.without_plan, progress=_progress)
    print()
    print("\n".join(report.lines()))
    return 0


def cmd_bench_ingest(args: argparse.Namespace) -> int:
    from deskpulse.benchmarks.ingest import format_report, run_ingest_benchmark

    _progress(f"Packing a world of {args.tickets:,} tickets into a fake Zendesk API process, then loading it")
    print(format_report(run_ingest_benchmark(args.tickets, seed=args.seed)))
    return 0


def cmd_bench_run(args: argparse.Namespace) -> int:
    from assets.run_steps import step_spans
    from deskpulse.benchmarks.run import BenchError, run_bench

    try:
        report = run_bench(args.tickets, step_spans, tenants=args.tenants, reuse=args.reuse,
                           progress=_progress)
    except BenchError as error:
        print(f"deskpulse: {error}", file=sys.stderr)
        return 1
    print()
    print("\n".join(report.lines()))
    return 0


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
    transform.add_argument("--without-plan", action="store_true",
                           help="build every node every time, as dbt alone would, not on the build plan")
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


def tenant_id(value: str) -> str:
    """``--tenant``: a tenant id, matched in full (``$`` would let a trailing newline through)."""
    if not TENANT_ID.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not a tenant id (1-48 characters of a-z, 0-9, _)")
    return value


def env_name(value: str) -> str:
    """The name of an environment variable, matched in full."""
    if not ENV_NAME.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not the name of an environment variable")
    return value


def _iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a time zone, e.g. 2026-03-01T00:00:00+00:00")
    return parsed


# One example per sub-command (nested ones as "bench transform"), shown at the end of its --help.
EXAMPLES = {
    "run": "deskpulse run --tenants tenants.yaml\ndeskpulse run --tenants tenants.yaml --tenant acme_eu",
    "backfill": "deskpulse backfill --tenants tenants.yaml --start 2026-01-01 --end 2026-04-01",
    "check": "deskpulse check --tenants tenants.yaml",
    "status": "deskpulse status --tenants tenants.yaml\n"
              "deskpulse status        # DESKPULSE_TENANTS, else the demo's tenant file",
    "demo": "deskpulse demo\ndeskpulse demo --tickets 5000    # another size rebuilds the demo world",
    "dev": "deskpulse dev --port 3000        # then open http://127.0.0.1:3000",
    "fake-api": "deskpulse fake-api zendesk --port 8123 --tickets 5000 --rate-limits --time-scale 60",
    "bench": "deskpulse bench transform --tickets 100000",
    "bench transform": "deskpulse bench transform --tickets 100000 --tenants 2",
    "bench ingest": "deskpulse bench ingest --tickets 100000",
    "bench run": "deskpulse bench run --tickets 100000\n"
                 "deskpulse bench run --tickets 100000 --reuse   # only the runs after the full one",
    "erase": "deskpulse erase --tenants tenants.yaml --tenant acme_eu --email jane.doe@example.com",
    "purge": "deskpulse purge --tenants tenants.yaml --tenant acme_eu",
    "offboard": "deskpulse offboard --tenants tenants.yaml --tenant acme_eu",
    "rotate-key": "deskpulse rotate-key --tenants tenants.yaml --tenant acme_eu "
                  "--previous-secret-env ACME_OLD_SECRET",
    "lineage": "deskpulse lineage --tenants tenants.yaml --out docs/lineage",
    "subject-report": "deskpulse subject-report --tenants tenants.yaml --tenant acme_eu "
                      "--email jane.doe@example.com --out jane.json",
    "quarantine": "deskpulse quarantine list --tenants tenants.yaml --tenant acme_eu",
    "quarantine list": "deskpulse quarantine list --tenants tenants.yaml --tenant acme_eu --limit 20",
    "quarantine retry": "deskpulse quarantine retry --tenants tenants.yaml --tenant acme_eu",
    "generate": "deskpulse generate\ndeskpulse generate --check   # in CI: exit 1 if a file is stale",
}


def explain(parser_: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> None:
    """Give every sub-command, nested ones too, its one-line summary as the description of its
    --help and its example from ``EXAMPLES`` at the end."""
    for action in parser_._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        summaries = {choice.dest: choice.help for choice in action._choices_actions}
        for name, command in action.choices.items():
            summary = summaries.get(name) or ""
            command.description = command.description or summary.replace("%%", "%")
            example = EXAMPLES.get(" ".join((*path, name)))
            if example:
                command.epilog = "example:\n" + textwrap.indent(example, "  ")
            command.formatter_class = argparse.RawDescriptionHelpFormatter
            explain(command, (*path, name))


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="deskpulse", description=__doc__.splitlines()[0].replace("``", ""))
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="materialise the whole graph for every configured tenant")
    run.add_argument("--tenants", help="tenant YAML file (default: $DESKPULSE_TENANTS)")
    run.add_argument("--tenant", action="append", type=tenant_id,
                     help="only this tenant (repeat for several)")
    run.set_defaults(func=cmd_run, needs_dbt=True)

    backfill = commands.add_parser("backfill", help="reload what changed in a date range, then rebuild")
    backfill.add_argument("--tenants", help="tenant YAML file (default: $DESKPULSE_TENANTS)")
    backfill.add_argument("--tenant", action="append", type=tenant_id,
                          help="only this tenant (repeat for several)")
    backfill.add_argument("--start", type=date.fromisoformat, required=True, help="first day (2024-01-01)")
    backfill.add_argument("--end", type=date.fromisoformat, required=True, help="day after the last one")
    backfill.set_defaults(func=cmd_backfill, needs_dbt=True)

    check = commands.add_parser(
        "check", help="check the tenant file, variables, secrets and API logins in seconds, before any work")
    check.add_argument("--tenants", help="tenant YAML file (default: $DESKPULSE_TENANTS)")
    check.add_argument("--tenant", action="append", type=tenant_id,
                       help="only this tenant (repeat for several)")
    check.set_defaults(func=cmd_check)

    status = commands.add_parser("status", help="last run per tenant, check outcomes, data freshness")
    status.add_argument("--tenants",
                        help="tenant YAML file (default: $DESKPULSE_TENANTS, else the demo's tenant file)")
    status.set_defaults(func=cmd_status, needs_dbt=True)

    demo = commands.add_parser("demo", help="run the graph on two built-in demo tenants")
    demo.add_argument("--tickets", type=int, default=1000,
                      help="tickets per demo tenant (another number than last time rebuilds the demo world)")
    demo.set_defaults(func=cmd_demo, needs_dbt=True)

    dev = commands.add_parser("dev", help="start the demo APIs and the Dagster UI on them")
    dev.add_argument("--tickets", type=int, default=1000, help="tickets per demo tenant")
    dev.add_argument("--port", type=int, default=3000, help="port of the Dagster UI on 127.0.0.1")
    dev.set_defaults(func=cmd_dev, needs_dbt=True)

    fake = commands.add_parser("fake-api", help="serve a synthetic helpdesk over HTTP on 127.0.0.1")
    fake.add_argument("platform", choices=["zendesk"], help="the helpdesk to imitate")
    fake.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    fake.add_argument("--tickets", type=int, default=1000, help="tickets in the synthetic world")
    fake.add_argument("--seed", type=int, default=1, help="the world's seed (and the faults')")
    fake.add_argument("--as-of", type=_iso, default=None, help="serve the world as of this instant")
    fake.add_argument("--rate-limits", action="store_true",
                      help="enforce the rate limits (429 + Retry-After)")
    fake.add_argument("--time-scale", type=float, default=1.0,
                      help="how many times faster a rate-limit minute passes")
    fake.add_argument("--fault-rate", type=float, default=0.0,
                      help="share of requests that fail (5xx, stalls, resets, cut bodies), seeded by --seed")
    fake.add_argument("--forbid", action="append", metavar="ENDPOINT",
                      help="answer 403 on this endpoint, as a plan without it does (repeatable), "
                           "e.g. --forbid slas/policies --forbid business_hours/schedules")
    fake.set_defaults(func=cmd_fake_api)

    generate = commands.add_parser(
        "generate", help="write the dbt sources yml and docs/raw_contract.md from the raw table declarations")
    generate.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    generate.add_argument("--root", help="the deskpulse checkout to write into (default: this one)")
    generate.set_defaults(func=cmd_generate)
    _bench_commands(commands)
    _privacy_commands(commands)
    _quarantine_commands(commands)
    explain(top)
    return top


def prepare_dbt() -> None:
    """The dbt manifest the Dagster graph loads, parsed when missing or older than the dbt project
    (a clone after ``make install`` has none yet)."""
    from assets.project import manifest_outdated, prepare_manifest

    if manifest_outdated():
        _progress("Preparing the dbt manifest the graph loads (dbt parse; after install or a dbt change)")
        prepare_manifest()


def main(argv: list[str] | None = None) -> int:
    make_private()  # before anything is written: files 0600, folders 0700 (pipelines/ingest/file_modes.py)
    args = parser().parse_args(argv)
    logging.basicConfig(
        filename=logs_dir() / "deskpulse.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    try:
        if getattr(args, "needs_dbt", False):
            prepare_dbt()
        return args.func(args)
    except (ConfigError, SecretError, PrivacyError) as exc:
        print(f"deskpulse: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
