"""The ``deskpulse`` command as a newcomer meets it: every sub-command explains itself, each run
writes its own log, ``status`` finds a tenant file by itself and says which, and a command that
needs the dbt manifest prepares it on a fresh clone."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from deskpulse import cli

REPO = Path(__file__).resolve().parent.parent


def sub_commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every sub-command, nested ones too, as (words, parser)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield (*path, name), command
                yield from sub_commands(command, (*path, name))


def test_every_sub_command_has_a_summary_explained_options_and_an_example():
    top = cli.parser()
    commands = dict(sub_commands(top))
    assert {("run",), ("check",), ("status",), ("demo",), ("bench", "transform")} <= set(commands)
    for words, command in commands.items():
        name = " ".join(words)
        text = command.format_help()
        description = (command.description or "").strip()
        assert description and "\n" not in description, f"{name}: no one-line description"
        for action in command._actions:
            if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                assert action.help, f"{name}: option {action.option_strings or action.dest} is not explained"
        assert "example:" in text, f"{name}: no example in --help"
        examples = [line.split("#")[0].strip() for line in command.epilog.splitlines()[1:]]
        assert examples and all(example.startswith(f"deskpulse {name}") for example in examples), name
        for example in examples:  # every example is a command the parser takes
            top.parse_args(shlex.split(example)[1:])


def test_two_runs_started_in_the_same_second_keep_a_log_each(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))

    class SameSecond(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 5, 4, 3, 2, 1)

    monkeypatch.setattr(cli, "datetime", SameSecond)
    for run in ("first", "second"):
        with cli._run_log():
            print(f"chatter of the {run} run")
    logs = sorted((tmp_path / "logs").glob("run-*.log"))
    assert len(logs) == 2 and all(log.name.startswith("run-20260504T030201-") for log in logs)
    assert sorted(log.read_text() for log in logs) == ["chatter of the first run\n",
                                                        "chatter of the second run\n"]


def test_status_reads_the_tenant_file_it_is_given_else_the_environment_else_the_demos(tmp_path, monkeypatch):
    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path))
    monkeypatch.delenv("DESKPULSE_TENANTS", raising=False)
    with pytest.raises(cli.ConfigError, match="no tenant file: pass --tenants PATH or set DESKPULSE_TENANTS"):
        cli.status_tenants(None)
    demo = tmp_path / "demo" / "tenants.yaml"
    demo.parent.mkdir()
    demo.write_text("tenants: []\n")
    assert cli.status_tenants(None) == (demo, "the demo's: neither --tenants nor DESKPULSE_TENANTS is set")
    monkeypatch.setenv("DESKPULSE_TENANTS", "/srv/tenants.yaml")
    assert cli.status_tenants(None) == (Path("/srv/tenants.yaml"), "from DESKPULSE_TENANTS")
    assert cli.status_tenants("mine.yaml") == (Path("mine.yaml"), "given with --tenants")


@pytest.mark.slow
def test_a_clone_without_the_dbt_manifest_prepares_it_when_a_command_needs_it(tmp_path):
    """`make install` alone leaves no manifest: a command that loads the graph parses it, once."""
    clone = tmp_path / "clone"
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in files.split():
        (clone / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, clone / name)
    (clone / "tenants.yaml").write_text(
        "tenants:\n  - {id: acme, platform: zendesk, base_url: 'http://127.0.0.1:9',"
        " credentials: {email_env: A_EMAIL, token_env: A_TOKEN}, secret_env: A_SECRET}\n")
    env = {**os.environ, "PYTHONPATH": str(clone), "DESKPULSE_HOME": str(tmp_path / "home")}
    env.pop("DESKPULSE_TENANTS", None)
    command = [sys.executable, "-c", "import sys; from deskpulse.cli import main; sys.exit(main())",
               "status", "--tenants", "tenants.yaml"]
    first = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.count("Preparing the dbt manifest") == 1 and "acme" in first.stdout
    assert (clone / "dbt_project" / "target" / "manifest.json").exists()
    second = subprocess.run(command, cwd=clone, env=env, capture_output=True, text=True, timeout=900)
    assert second.returncode == 0 and "Preparing the dbt manifest" not in second.stdout
