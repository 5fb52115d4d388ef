"""The dbt sources yml and docs/raw_contract.md are written from the raw table declarations: the
committed copies are what ``deskpulse generate`` writes, and they say what the declarations say."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from deskpulse.cli import main
from pipelines import raw_docs
from pipelines.ingest.columns import TENANT_ID, Column, RawTable
from pipelines.platforms import PLATFORMS

REPO = Path(__file__).resolve().parents[1]


def test_the_committed_files_are_what_the_declarations_give():
    assert raw_docs.stale(REPO) == [], "run `deskpulse generate` (make generate) and commit the result"


def test_the_dbt_sources_carry_each_declared_column_type_and_class():
    for platform in PLATFORMS.values():
        source = yaml.safe_load(raw_docs.sources_yml(platform))["sources"][0]
        assert source["name"] == platform.name
        tables = {table["name"]: table for table in source["tables"]}
        assert list(tables) == [table.name for table in platform.tables]
        for table in platform.tables:
            columns = [(c["name"], c["data_type"], c["meta"]["pii"], " ".join(c["description"].split()))
                       for c in tables[table.name]["columns"]]
            assert columns == [(c.name, c.warehouse_type, c.pii, c.description)
                               for c in table.columns if not c.clears]


def test_the_contract_lists_every_declared_column(tmp_path):
    text = raw_docs.contract_tables(PLATFORMS.values())
    for platform in PLATFORMS.values():
        for table in platform.tables:
            section = text.split(f"### {platform.name}: {table.name}\n")[1].split("\n### ")[0]
            rows = [line.split(" | ")[0].removeprefix("| ").strip("`") for line in section.splitlines()
                    if line.startswith("| `")]
            assert rows == [column.name for column in table.columns], table.name


def test_a_changed_declaration_makes_the_files_stale_and_generate_rewrites_them(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    for platform in PLATFORMS.values():
        (repo / raw_docs.sources_path(platform)).parent.mkdir(parents=True)
        shutil.copy(REPO / raw_docs.sources_path(platform), repo / raw_docs.sources_path(platform))
    (repo / "docs").mkdir()
    shutil.copy(REPO / raw_docs.CONTRACT, repo / raw_docs.CONTRACT)
    assert raw_docs.stale(repo) == []

    zendesk = PLATFORMS["zendesk"]
    tenant = zendesk.table("tenant")
    region = Column("region", "text", "none", "tenant config: region", "Region.")
    changed = RawTable(tenant.name, tenant.description, (*tenant.columns, region), tenant.primary_key,
                       tenant.merge_key)
    monkeypatch.setitem(PLATFORMS, "zendesk", replace(
        zendesk, tables=tuple(changed if t is tenant else t for t in zendesk.tables)))
    stale = raw_docs.stale(repo)
    assert stale == [repo / raw_docs.sources_path(zendesk), repo / raw_docs.CONTRACT]

    monkeypatch.setenv("DESKPULSE_HOME", str(tmp_path / "home"))
    assert main(["generate", "--check", "--root", str(repo)]) == 1
    assert raw_docs.stale(repo) == stale  # a check writes nothing
    assert main(["generate", "--root", str(repo)]) == 0
    assert raw_docs.stale(repo) == [] and main(["generate", "--check", "--root", str(repo)]) == 0
    assert "| `region` | varchar | none | tenant config: region | Region. |" in (
        repo / raw_docs.CONTRACT).read_text(encoding="utf-8")
    prose = (REPO / raw_docs.CONTRACT).read_text(encoding="utf-8").split(raw_docs.END)[1]
    assert (repo / raw_docs.CONTRACT).read_text(encoding="utf-8").endswith(prose)


def test_a_contract_without_its_markers_is_refused():
    with pytest.raises(ValueError, match="markers"):
        raw_docs.contract_text("# Raw tables\n", PLATFORMS.values())


def test_tenant_id_is_declared_once_for_every_table():
    for platform in PLATFORMS.values():
        assert all(table.columns[0] is TENANT_ID for table in platform.tables)
