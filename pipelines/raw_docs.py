"""The files written from the raw table declarations: each platform's dbt sources yml and the table
part of docs/raw_contract.md.

Each raw column is declared once, in its source package (``pipelines.ingest.columns``); dbt reads
the sources yml (the ``union_tenant_sources`` macro takes table names, columns and data types from
it) and people read the contract, so both are written from the declarations by ``deskpulse
generate`` and a test fails when a committed copy differs from what the declarations give. The
contract's prose around the tables is written by hand and kept.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from pathlib import Path

import yaml

from pipelines.ingest.columns import PASSED_THROUGH, RawTable
from pipelines.ingest.platform import Platform
from pipelines.platforms import PLATFORMS

REPO = Path(__file__).resolve().parents[1]  # the checkout this code runs from
CONTRACT = Path("docs") / "raw_contract.md"
BEGIN = "<!-- raw tables: written by `deskpulse generate` from the declarations; edit those, not this -->"
END = "<!-- end of raw tables -->"
WIDTH = 110


def sources_path(platform: Platform) -> Path:
    return Path("dbt_project") / "models" / "staging" / platform.name / f"_{platform.name}__sources.yml"


def generated(repo: Path, platforms: Iterable[Platform] = PLATFORMS.values()) -> dict[Path, str]:
    """Each generated file under ``repo`` and the text the declarations give it: a sources yml per
    platform, and the contract with its table part replaced (the prose around it as committed)."""
    platforms = list(platforms)
    files = {repo / sources_path(platform): sources_yml(platform) for platform in platforms}
    contract = repo / CONTRACT
    files[contract] = contract_text(contract.read_text(encoding="utf-8"), platforms, contract)
    return files


def stale(repo: Path, platforms: Iterable[Platform] = PLATFORMS.values()) -> list[Path]:
    """The generated files whose committed text differs from what the declarations give."""
    return [path for path, text in generated(repo, platforms).items()
            if not path.exists() or path.read_text(encoding="utf-8") != text]


def write(repo: Path, platforms: Iterable[Platform] = PLATFORMS.values()) -> list[Path]:
    """Write every generated file that is stale; the paths written."""
    written = []
    for path, text in generated(repo, platforms).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


# -- dbt sources -------------------------------------------------------------------------------
def sources_yml(platform: Platform) -> str:
    """The dbt source of one platform: every raw table dbt reads, with each column's data type,
    description and ``meta.pii``. Columns that only clear rows (always null) are left out."""
    package = platform.source.__module__.replace(".", "/")
    lines = [
        f"# Written by `deskpulse generate` from the raw table declarations in {package}:",
        "# edit those, then run it again.",
        "version: 2",
        "",
        "sources:",
        f"  - name: {platform.name}",
        *_description(
            f"Raw {platform.title} data as dlt loads it (docs/raw_contract.md): one schema raw_<tenant_id> "
            "per tenant, pseudonymised on the way in, free text never loaded. The `schema` below is only a "
            f"template: staging reads every {platform.title} tenant of the `tenants` var through the "
            "union_tenant_sources macro, which takes the table name, the columns and their data types from "
            "this declaration. Timestamps are UTC; ids are the platform's ids.", 4),
        "    schema: raw",
        "    loader: dlt",
        "    tables:",
    ]
    for number, table in enumerate(platform.tables):
        lines += [""] if number else []
        lines += [f"      - name: {table.name}", *_description(table.description, 8), "        columns:"]
        for column in table.columns:
            if column.clears:
                continue
            lines += [f"          - name: {column.name}", f"            data_type: {column.warehouse_type}",
                      *_description(column.description, 12), f"            meta: {{pii: {column.pii}}}"]
    return "\n".join(lines) + "\n"


def _description(text: str, indent: int) -> list[str]:
    """A ``description:`` entry: one line when it fits, else a folded block."""
    scalar = yaml.safe_dump(text, width=10**6, allow_unicode=True).removesuffix("\n...\n").strip()
    line = f"{' ' * indent}description: {scalar}"
    if len(line) <= WIDTH and "\n" not in scalar:
        return [line]
    margin = " " * (indent + 2)
    return [f"{' ' * indent}description: >",
            *textwrap.wrap(text, WIDTH, initial_indent=margin, subsequent_indent=margin,
                           break_long_words=False, break_on_hyphens=False)]


# -- the raw contract --------------------------------------------------------------------------
def contract_text(current: str, platforms: Iterable[Platform], path: Path = CONTRACT) -> str:
    """``current`` with the part between its markers written from the declarations."""
    start, end = current.find(BEGIN), current.find(END)
    if start < 0 or end < start:
        raise ValueError(f"{path}: the markers around the generated tables are missing"
                         f" ({BEGIN!r} ... {END!r})")
    return current[:start + len(BEGIN)] + "\n\n" + contract_tables(platforms) + "\n" + current[end:]


def contract_tables(platforms: Iterable[Platform]) -> str:
    """Per platform: each raw table, how loads write it, and its columns (type, class, origin, meaning)."""
    parts = []
    for platform in platforms:
        parts.append(f"## {platform.title} (`{platform.name}`)\n")
        parts.append("| table | loads write it |\n|---|---|")
        parts += [f"| [`{table.name}`](#{platform.name}-{table.name}) | {_loading(table)} |"
                  for table in platform.tables]
        for table in platform.tables:
            parts.append(f"\n### {platform.name}: {table.name}\n")
            parts.append(f"{table.description} Loads: {_loading(table)}.\n")
            parts.append("| column | type | PII | made from | meaning |\n|---|---|---|---|---|")
            for column in table.columns:
                made = f"`{column.origin}`" if "[]" in column.origin else column.origin
                if column.extraction != PASSED_THROUGH:
                    made += f" ({column.extraction}; the origin is {column.source_pii})"
                parts.append(f"| `{column.name}` | {column.warehouse_type} | {column.pii} | {_cell(made)} "
                             f"| {_cell(column.description)} |")
        parts.append("")
    return "\n".join(parts)


def _loading(table: RawTable) -> str:
    keys = table.primary_key
    merge = f"merge on `{keys[0]}`" if len(keys) == 1 else f"merge on ({', '.join(f'`{k}`' for k in keys)})"
    if table.merge_key:
        merge += f"; a load replaces every row of each `{table.merge_key}` it brings"
    return merge


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
