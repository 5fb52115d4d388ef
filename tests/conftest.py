"""Shared test setup: the dbt manifest Dagster needs, parsed once if ``make`` has not done it, and
a demo world (fresh home, two fake tenant APIs) for integration test modules."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def dbt_manifest() -> None:
    from assets.project import DBT_PROJECT, dbt_cli

    if not DBT_PROJECT.manifest_path.exists():
        dbt_cli().cli(["parse", "--quiet"], target_path=DBT_PROJECT.target_path).wait()


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
    import os

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
