"""The marts, discovered from the dbt manifest (schema ``marts``), so a new mart is checked by the
quality checks and published without a code change."""

import json
from dataclasses import dataclass
from functools import cache

import dagster as dg

from assets.project import DBT_PROJECT

MARTS_SCHEMA = "marts"  # the only schema ever published; `restricted` and the rest never are


@dataclass(frozen=True)
class Mart:
    """A model of schema ``marts``: per tenant when it has a ``tenant_id`` column, else a
    cross-tenant aggregate (the benchmark)."""

    name: str
    columns: tuple[str, ...]

    @property
    def key(self) -> dg.AssetKey:
        return dg.AssetKey([MARTS_SCHEMA, self.name])

    @property
    def per_tenant(self) -> bool:
        return "tenant_id" in self.columns


@cache
def manifest() -> dict:
    return json.loads(DBT_PROJECT.manifest_path.read_text(encoding="utf-8"))


def models() -> tuple[dict, ...]:
    return tuple(node for node in manifest()["nodes"].values() if node["resource_type"] == "model")


def marts() -> list[Mart]:
    """Every mart the dbt manifest declares, by name."""
    return sorted(
        (Mart(node["name"], tuple(node["columns"])) for node in models()
         if node["config"].get("schema") == MARTS_SCHEMA),
        key=lambda mart: mart.name,
    )
