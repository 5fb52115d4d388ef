"""Shared test setup: the dbt manifest Dagster needs, parsed once if ``make`` has not done it; the
shared world (the demo's two tenants run through the whole graph once per test session, read by
every test that only reads what the runs left, copied by a module whose tests change it); and
demo worlds of their own for modules whose tests need a world the shared one is not."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

SHARED_TICKETS = 150  # per tenant: every case the truth checks occurs (test_end_to_end), and it builds fast
FIRST_LOAD_BEFORE_END = timedelta(days=20)


@functools.cache  # asked once per test, by the sort and by xdist's scheduler
def reads_shared_world(module_path: str) -> bool:
    """A test module that names the shared world's fixtures (``shared_world``, ``in_shared_world``,
    ``shared_world_copy``) reads it."""
    path = Path(__file__).parent / Path(module_path).name
    return path.name.startswith("test_") and "shared_world" in path.read_text(encoding="utf-8")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The shared world's readers first (stable: modules stay in order), so that under xdist a
    worker starts the longest scope at once."""
    items.sort(key=lambda item: not reads_shared_world(item.nodeid.split("::", 1)[0]))


def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """``make test`` runs one pytest worker per core with ``--dist loadscope``: each module goes whole
    to one worker, so its module fixtures are built once, and every module that reads the shared
    world goes to the same worker as one scope, so the world is built once. (xdist's own
    ``loadgroup`` cannot do this under pytest 9: it renames node ids through an attribute pytest 9
    no longer reads.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedWorldScope(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "shared world" if reads_shared_world(module) else module

    return SharedWorldScope(config, log)


@pytest.fixture(scope="session")
def dbt_manifest() -> None:
    from assets.project import DBT_PROJECT, dbt_cli

    if not DBT_PROJECT.manifest_path.exists():
        dbt_cli().cli(["parse", "--quiet"], target_path=DBT_PROJECT.target_path).wait()


@dataclass
class SharedWorld:
    """The demo's two tenants (``SHARED_TICKETS`` tickets each), their fake APIs still serving,
    after two whole-graph runs (ingest, dbt build, checks, publish): ``first`` with the APIs as of
    ``first_as_of`` (20 days before each world's end), then ``second`` at each world's end, which
    loads and builds incrementally.

    ``home`` holds what the second run left; ``first_home`` a copy of the home as the first run
    left it; ``outcomes[run]`` is what ``run_graph`` returned and ``served[run]`` what each API had
    served by then (its ``stats``). ``env`` holds the variables the tenant file names (logins and
    secrets). Tests only read all this: a module that changes a home works on a copy
    (``shared_world_copy``), and no test moves the APIs' ``as_of``."""

    home: Path
    first_home: Path
    tenant_file: Path
    worlds: dict
    apis: dict
    secrets: dict[str, str]
    env: dict[str, str]
    first_as_of: dict[str, datetime]
    outcomes: dict
    served: dict[str, dict]

    @contextlib.contextmanager
    def environment(self, home: Path) -> Iterator[None]:
        """``home`` as DESKPULSE_HOME, the tenant file as DESKPULSE_TENANTS (as ``run_graph`` leaves
        it for the jobs it runs) and this world's logins and secrets in the environment."""
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("DESKPULSE_HOME", str(home))
            mp.setenv("DESKPULSE_TENANTS", str(self.tenant_file.resolve()))
            mp.delenv("DAGSTER_HOME", raising=False)
            for name, value in self.env.items():
                mp.setenv(name, value)
            yield


@pytest.fixture(scope="session")
def shared_world(tmp_path_factory, dbt_manifest) -> Iterator[SharedWorld]:
    """Built once per session, on first use."""
    from assets.runner import run_graph
    from deskpulse.demo import demo_tenants

    home = tmp_path_factory.mktemp("shared_world")
    first_home = tmp_path_factory.mktemp("shared_world_first") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DESKPULSE_HOME", str(home))
        for name in ("DAGSTER_HOME", "DESKPULSE_TENANTS"):
            mp.delenv(name, raising=False)
        with demo_tenants(SHARED_TICKETS) as demo:
            env = {name: value for name, value in os.environ.items() if name.startswith("DESKPULSE_DEMO_")}
            first_as_of = {t: w.end - FIRST_LOAD_BEFORE_END for t, w in demo.worlds.items()}
            outcomes, served = {}, {}
            end = {t: w.end for t, w in demo.worlds.items()}
            for run, as_of in (("first", first_as_of), ("second", end)):
                for tenant_id, api in demo.apis.items():
                    api.as_of = as_of[tenant_id]
                outcomes[run] = run_graph(demo.tenant_file)
                assert outcomes[run].ok, (run, outcomes[run].failures)
                served[run] = {tenant_id: api.stats for tenant_id, api in demo.apis.items()}
                if run == "first":
                    shutil.copytree(home, first_home, symlinks=True)
            mp.undo()  # the runs are done; modules set the home they use
            yield SharedWorld(home, first_home, demo.tenant_file, demo.worlds, demo.apis, demo.secrets, env,
                              first_as_of, outcomes, served)


@pytest.fixture
def in_shared_world(shared_world) -> Iterator[SharedWorld]:
    """The shared world's home and variables in the environment, for a test that only reads it."""
    with shared_world.environment(shared_world.home):
        yield shared_world


@pytest.fixture(scope="module")
def shared_world_copy(shared_world, tmp_path_factory) -> Iterator[SharedWorld]:
    """A copy of the shared world's home (as the second run left it) in the environment, for a
    module whose tests change what they run on; ``home`` names the copy."""
    home = tmp_path_factory.mktemp("shared_world_copy") / "home"
    shutil.copytree(shared_world.home, home, symlinks=True)
    with shared_world.environment(home):
        yield dataclasses.replace(shared_world, home=home)


@pytest.fixture(scope="module")
def demo_world(request, tmp_path_factory, dbt_manifest):
    """The two demo tenants' fake APIs and a fresh ``DESKPULSE_HOME`` for one test module; worlds
    of the module's ``TICKETS`` tickets (default 150) keep it fast."""
    from deskpulse.demo import demo_tenants

    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DESKPULSE_HOME", str(home))
        mp.delenv("DAGSTER_HOME", raising=False)
        with demo_tenants(getattr(request.module, "TICKETS", 150)) as demo:
            yield demo


@pytest.fixture(scope="session")
def demo_apis(tmp_path_factory, dbt_manifest):
    """The two demo tenants' fake APIs for tests that run ``deskpulse run`` in processes of their
    own, each in a home of its own, and the rows of a clean run on them for comparison."""
    from deskpulse.demo import demo_tenants
    from tests.run_support import Demo, Run, snapshot

    folder = tmp_path_factory.mktemp("demo_apis")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DESKPULSE_HOME", str(folder))
        with demo_tenants(150) as demo:
            mp.undo()  # the demo's files are written; tests set their own homes
            # other modules' demo worlds set the same variables; runs get these values explicitly
            env = {name: value for name, value in os.environ.items() if name.startswith("DESKPULSE_DEMO_")}
            clean = Run(folder / "clean", demo.tenant_file, env)
            assert clean.finish() == 0, clean.output()[-3000:]
            yield Demo(demo.tenant_file, env, snapshot(folder / "clean"), demo.apis)
