"""Files deskpulse writes are its user's alone whatever the umask, except the serving files a BI
group is explicitly given; ``exposed`` finds anything else others could read. (A whole run under
umask 022 is walked in ``test_cli_runs.py``.)"""

from __future__ import annotations

import grp
import os
import stat

import pytest

from pipelines.ingest.config import ConfigError
from pipelines.ingest.file_modes import exposed, make_private, seal_serving_file, serving_group


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DESKPULSE_SERVING_GROUP", raising=False)
    before = os.umask(0o022)  # the usual login umask
    yield tmp_path / "home"
    os.umask(before)


def test_after_make_private_new_files_and_folders_are_the_owners_alone(home):
    make_private()
    (home / "dlt" / "zendesk_acme").mkdir(parents=True)
    (home / "dlt" / "zendesk_acme" / "state.json").write_text("{}")
    assert mode(home) == mode(home / "dlt") == mode(home / "dlt" / "zendesk_acme") == 0o700
    assert mode(home / "dlt" / "zendesk_acme" / "state.json") == 0o600
    assert exposed(home) == []


def test_exposed_lists_what_other_users_can_read(home):
    (home / "logs").mkdir(parents=True)
    (home / "logs" / "run.log").write_text("chatter")  # 0644 and 0755 under umask 022
    (home / "logs" / "private.log").write_text("chatter")
    (home / "logs" / "private.log").chmod(0o600)
    assert set(exposed(home)) == {home, home / "logs", home / "logs" / "run.log"}


def test_serving_files_are_read_only_for_their_owner(home):
    make_private()
    served = home / "serving" / "tenants" / "acme.duckdb"
    served.parent.mkdir(parents=True)
    served.write_bytes(b"duckdb")
    seal_serving_file(served)
    assert mode(served) == 0o400 and mode(home / "serving") == 0o700


def test_a_bi_group_may_read_the_serving_files_and_nothing_else(home, monkeypatch):
    make_private()
    group = grp.getgrgid(os.getegid())
    monkeypatch.setenv("DESKPULSE_SERVING_GROUP", group.gr_name)
    (home / "warehouse.duckdb").parent.mkdir(parents=True)
    (home / "warehouse.duckdb").write_bytes(b"warehouse")
    served = home / "serving" / "tenants" / "acme.duckdb"
    served.parent.mkdir(parents=True)
    served.write_bytes(b"duckdb")
    seal_serving_file(served)
    assert mode(served) == 0o440 and served.stat().st_gid == group.gr_gid
    assert mode(home / "serving") == mode(home / "serving" / "tenants") == 0o750
    assert mode(home) == 0o710  # the group passes through the home, lists nothing in it
    assert mode(home / "warehouse.duckdb") == 0o600 and exposed(home) == []
    (home / "warehouse.duckdb").chmod(0o640)
    assert exposed(home) == [home / "warehouse.duckdb"]


def test_the_serving_group_must_be_a_group_of_the_user_running_deskpulse(home, monkeypatch):
    for value, problem in [("bi readers", "must name a group"), ("bi\n", "must name a group"),
                           ("no_such_group_here", "there is no group 'no_such_group_here'")]:
        monkeypatch.setenv("DESKPULSE_SERVING_GROUP", value)
        with pytest.raises(ConfigError, match=problem):
            serving_group()
    mine = {os.getegid(), *os.getgroups()}
    other = next((g for g in grp.getgrall() if g.gr_gid not in mine), None)
    if other is not None:
        monkeypatch.setenv("DESKPULSE_SERVING_GROUP", other.gr_name)
        with pytest.raises(ConfigError, match=f"not in group '{other.gr_name}'"):
            serving_group()
