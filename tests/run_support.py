"""What the crash and stop tests share: ``deskpulse run`` started as its own process, as a scheduler
would start it, its progress lines read as they come, and the rows a run leaves (marts, the
restricted schema and the serving files) read back for comparison with a clean run's."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]
VOLATILE = {"refreshed_at"}  # when a build ran, not what it holds
HANG = 900  # seconds: only a run that hangs takes this long, however busy the machine


class Run:
    """A ``deskpulse run`` process with its own DESKPULSE_HOME; ``lines`` fills as it prints."""

    def __init__(self, home: Path, tenant_file: Path, env: dict[str, str], *args: str):
        self.home = home
        env = {**os.environ, **env, "DESKPULSE_HOME": str(home)}
        env.pop("DAGSTER_HOME", None)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("deskpulse")), "run", "--tenants", str(tenant_file), *args],
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.errors: list[str] = []
        self._readers = [threading.Thread(target=self._read, args=(stream, into), daemon=True)
                         for stream, into in ((self.process.stdout, self.lines),
                                              (self.process.stderr, self.errors))]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines + self.errors)

    def finish(self, timeout: float = HANG) -> int:
        """The exit status; fails the test if the run hangs."""
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"the run hung:\n{self.output()[-3000:]}") from None
        for reader in self._readers:
            reader.join(timeout=10)
        return status

    def wait_until(self, ready: Callable[[], bool], what: str, timeout: float = HANG) -> None:
        """Return once ``ready()``; fail if the run ends first (the moment never came)."""
        deadline = time.monotonic() + timeout
        while not ready():
            assert self.process.poll() is None, f"the run ended before {what}:\n{self.output()[-3000:]}"
            assert time.monotonic() < deadline, f"{what} never came"
            time.sleep(0.01)

    def printed(self, text: str) -> bool:
        return any(text in line for line in list(self.lines))

    def children(self, name: str) -> list[psutil.Process]:
        """This run's child processes running the program ``name`` (``dbt``)."""
        try:
            found = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []
        return [child for child in found if _mentions(child, name)]

    def step_started(self, instance: dg.DagsterInstance, job: str, step: Callable[[str], bool]) -> bool:
        """Whether a step matching ``step`` of this run's latest ``job`` run has started."""
        records = instance.get_run_records(dg.RunsFilter(job_name=job), limit=1)
        return bool(records) and any(
            event.step_key and step(event.step_key)
            for event in instance.all_logs(records[0].dagster_run.run_id,
                                           of_type=dg.DagsterEventType.STEP_START))


def _mentions(process: psutil.Process, name: str) -> bool:
    try:
        return any(Path(part).name == name for part in process.cmdline())
    except psutil.Error:
        return False


def instance_of(home: Path) -> dg.DagsterInstance:
    """The Dagster instance a run in ``home`` uses (created by the run if it was not there)."""
    folder = home / "dagster"
    folder.mkdir(parents=True, exist_ok=True)
    return dg.DagsterInstance.from_config(str(folder))


def rows(path: Path, schemas: tuple[str, ...]) -> dict[str, list[tuple]]:
    """Every table of ``schemas`` in a DuckDB file, build times left out, rows sorted."""
    with duckdb.connect(str(path), read_only=True) as con:
        columns: dict[str, list[str]] = {}
        for schema, table, column in con.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                f"where table_schema in ({', '.join('?' for _ in schemas)}) and table_name <> '_publish' "
                "order by table_schema, table_name, ordinal_position", list(schemas)).fetchall():
            if column not in VOLATILE:
                columns.setdefault(f"{schema}.{table}", []).append(f'"{column}"')
        return {table: sorted(con.execute(f"select {', '.join(names)} from {table}").fetchall(), key=repr)
                for table, names in columns.items()}


def snapshot(home: Path) -> dict[str, dict[str, list[tuple]]]:
    """What a run leaves for its users: the marts and restricted schema, and every serving file."""
    serving = sorted((home / "serving").rglob("*.duckdb"))
    return {"warehouse": rows(home / "warehouse.duckdb", ("marts", "restricted")),
            **{str(path.relative_to(home)): rows(path, ("main",)) for path in serving}}


@dataclass
class Demo:
    """The demo tenants' fake APIs, what a run in a process of its own needs to reach them (their
    tenant file and the variables it names), and what a clean run on them left."""

    tenant_file: Path
    env: dict[str, str]
    clean: dict[str, dict[str, list[tuple]]]
    apis: dict[str, object]

    def tenant_file_with(self, folder: Path, tenant_id: str, **fields: object) -> Path:
        """A copy of the tenant file with ``fields`` of one tenant changed (its ``base_url``)."""
        document = yaml.safe_load(self.tenant_file.read_text())
        for tenant in document["tenants"]:
            if tenant["id"] == tenant_id:
                tenant.update(fields)
        path = folder / "tenants.yaml"
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        return path
