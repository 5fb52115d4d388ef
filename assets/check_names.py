"""Names a person can read for the dbt tests that Dagster shows as asset checks.

dbt names a generic test after its macro, model and arguments
(``columns_in_range_agent_weekly_performance__0_None____0_None_...``). In the Dagster UI a check
sits under its asset, so the model need not be repeated, and the arguments read better as a
sentence. ``readable_manifest`` gives dagster-dbt a copy of the manifest in which each generic
test is named for what it checks (``no_duplicate_keys``, ``known_status_values``) and described
in a sentence (``fct_tickets: one row per tenant_id, ticket_id``). dagster-dbt names the checks
and matches dbt's results to them by these names, and selects tests by their fully qualified
name, which stays dbt's own; the manifest on disk, and everything else that reads it, see dbt's
names.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

JINJA_VAR = re.compile(r"\{\{\s*var\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")
REF = re.compile(r"ref\(\s*['\"](\w+)['\"]\s*\)")

Namer = Callable[[dict[str, Any]], tuple[str, str]]


def _columns(kwargs: dict[str, Any]) -> str:
    return ", ".join(kwargs.get("columns") or [])


def _bound(value: Any) -> str:
    text = str(value)
    found = JINJA_VAR.fullmatch(text.strip())
    return f"the {found.group(1)} var" if found else text


def _ref(to: Any) -> str:
    found = REF.search(str(to))
    return found.group(1) if found else "parent"


def _range(column: str, low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"{column} between {_bound(low)} and {_bound(high)}"
    return f"{column} ≥ {_bound(low)}" if low is not None else f"{column} ≤ {_bound(high)}"


# test macro -> (check name, what it checks), from the test's arguments
NAMERS: dict[str, Namer] = {
    "unique": lambda k: (f"no_duplicate_{k['column_name']}", f"no two rows share a {k['column_name']}"),
    "not_null": lambda k: (f"no_missing_{k['column_name']}", f"{k['column_name']} is never null"),
    "accepted_values": lambda k: (f"known_{k['column_name']}_values",
                                  f"{k['column_name']} is one of {', '.join(map(str, k['values']))}"),
    "relationships": lambda k: (f"{k['column_name']}_found_in_{_ref(k['to'])}",
                                f"every {k['column_name']} is a {k['field']} of {_ref(k['to'])}"),
    "unique_combination": lambda k: ("no_duplicate_keys", f"one row per {_columns(k)}"
                                     + (" (in the tickets this build recomputed)"
                                        if k.get("rebuilt_tickets_only") else "")),
    "columns_not_null": lambda k: ("no_missing_values", f"never null: {_columns(k)}"),
    "columns_in_range": lambda k: ("values_in_range", "; ".join(
        _range(column, *bounds) for column, bounds in k["ranges"].items())),
    "in_range": lambda k: (f"{k['column_name']}_in_range",
                           _range(k["column_name"], k.get("min_value"), k.get("max_value"))),
}


def readable_name(test: dict[str, Any]) -> tuple[str, str] | None:
    """The check name and description of a generic dbt test node, or None to keep dbt's (a
    singular test is named by whoever wrote it; an unknown macro keeps dbt's name)."""
    metadata = test.get("test_metadata") or {}
    namer = NAMERS.get(metadata.get("name"))
    if namer is None:
        return None
    name, says = namer(metadata.get("kwargs") or {})
    model = (test.get("attached_node") or "").rsplit(".", 1)[-1]
    return name, f"{model}: {says}" if model else says


def readable_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``manifest`` whose generic tests carry readable names, unique per model (a second
    test of the same kind gets ``_2``), and a description unless dbt has one."""
    renamed = copy.deepcopy(manifest)
    taken: set[tuple[str, str]] = set()
    tests = sorted((unique_id, node) for unique_id, node in renamed["nodes"].items()
                   if node.get("resource_type") == "test")
    for _, node in tests:
        readable = readable_name(node)
        if readable is None:
            taken.add((node.get("attached_node") or "", node["name"]))
            continue
        name, description = readable
        attached, candidate, n = node.get("attached_node") or "", name, 1
        while (attached, candidate) in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add((attached, candidate))
        node["name"] = candidate
        node["meta"] = {**(node.get("meta") or {}), "description": node.get("description") or description}
    return renamed
