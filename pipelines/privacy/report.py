"""The lineage report a compliance reviewer reads: mart column lineage and processing activities.

``deskpulse lineage`` writes it as ``lineage.json`` (for tools) and ``lineage.md`` (for people).
Section 1 is ``lineage.mart_lineage`` with its flags; section 2 lists, per configured tenant, the
categories of data held, the purpose, the retention and where the data is published.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.config import TenantConfig
from pipelines.home import raw_dataset
from pipelines.privacy import audit, suppression
from pipelines.privacy.classification import PERSONAL, PII_CLASSES, RAW_FIELDS
from pipelines.privacy.lineage import PUBLISHED_SCHEMAS, mart_lineage, violations

PURPOSE = ("Customer-service performance analytics for the tenant: first reply, resolution, reopen and "
           "satisfaction figures per agent, team and day, on the tenant's instructions.")
SUBJECTS = "the tenant's agents (its staff) and the customers who contact its helpdesk"
NOT_LOADED = "subjects, descriptions, comment bodies, custom fields; names, e-mails and phones in clear"


def build_report(manifest: dict[str, Any], tenants: list[TenantConfig],
                 endpoints: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The whole report as one JSON-ready dict."""
    marts = mart_lineage(manifest, endpoints)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "published_schemas": list(PUBLISHED_SCHEMAS),
        "marts": marts,
        "activities": [activities(tenant, manifest, marts) for tenant in tenants],
    }
    report["violations"] = violations(report)
    return report


def activities(tenant: TenantConfig, manifest: dict[str, Any], marts: list[dict[str, Any]]) -> dict[str, Any]:
    """The record of processing activities for one tenant."""
    descriptions = {source["name"]: " ".join(source.get("description", "").split())
                    for source in manifest["sources"].values() if source["source_name"] == tenant.platform}
    categories = []
    for table, fields in RAW_FIELDS[tenant.platform].items():
        by_class = {pii: sorted(name for name, f in fields.items() if f.pii == pii) for pii in PII_CLASSES}
        tokens = sorted(f.origin for f in fields.values() if f.source_pii == PERSONAL and f.pii != PERSONAL)
        categories.append({"table": table, "description": descriptions.get(table, ""),
                           **{pii: names for pii, names in by_class.items() if names},
                           **({"personal_held_as_tokens": tokens} if tokens else {})})
    key_source = (f"secrets file {tenant.secret_file}" if tenant.secret_file
                  else f"environment variable {tenant.secret_env}")
    erasures = [e for e in audit.entries(tenant.id) if e["action"] == "erase"]
    return {
        "tenant": tenant.id,
        "platform": tenant.platform,
        "controller": f"the client account {tenant.id} (deskpulse's operator processes on its behalf)",
        "purpose": PURPOSE,
        "data_subjects": SUBJECTS,
        "categories": categories,
        "not_loaded": NOT_LOADED,
        "pseudonymisation": f"HMAC-SHA256 keyed per tenant, key from {key_source}",
        "retention": (f"raw event data: {tenant.retention_days} days after a ticket's last activity "
                      "(weekly retention job, deskpulse purge); ticket-level mart rows with it; "
                      "aggregates kept"),
        "stored_in": [raw_dataset(tenant.id), "staging (views)", "intermediate", *PUBLISHED_SCHEMAS],
        "published": [f"serving/{tenant.id}.* : {', '.join(m['model'] for m in marts if m['published'])}",
                      "cross-tenant benchmark: aggregates over at least min_tenants tenants only"],
        "not_published": [raw_dataset(tenant.id), "staging", "intermediate",
                          *sorted({m["schema"] for m in marts if not m["published"]})],
        "erasures_on_record": len(erasures),
        "people_suppressed": len(suppression.load(tenant.id).user_keys),
    }


def write(report: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    """Write ``lineage.json`` and ``lineage.md`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    as_json, as_markdown = folder / "lineage.json", folder / "lineage.md"
    as_json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    as_markdown.write_text(markdown(report), encoding="utf-8")
    return as_json, as_markdown


def markdown(report: dict[str, Any]) -> str:
    published = ", ".join(report["published_schemas"])
    lines = ["# deskpulse: data lineage and processing activities", "",
             f"Generated {report['generated_at']}. Published schemas: {published}.", "",
             "## Flags: paths by which a personal value could reach a published mart", "",
             *([f"- {v}" for v in report["violations"]] or ["None."])]
    lines += _lineage_section(report["marts"]) + _activities_section(report["activities"])
    return "\n".join(lines) + "\n"


def _lineage_section(marts: list[dict[str, Any]]) -> list[str]:
    lines = ["", "## 1. Column lineage of the marts", "",
             "Transformation of each path: passed through, derived (computed per row), pseudonymised "
             "(keyed at extraction) or aggregated. Lineage follows values; for row counts the relations "
             "counted are named."]
    for mart in marts:
        lines += ["", f"### {mart['schema']}.{mart['model']}"
                  f" ({'published' if mart['published'] else 'not published'})", "",
                  "| column | class | raw fields (class; transformation) | API fields (class) |",
                  "|---|---|---|---|"]
        lines += [_column_row(column) for column in mart["columns"]]
    return lines


def _activities_section(activities: list[dict[str, Any]]) -> list[str]:
    lines = ["", "## 2. Processing activities per tenant"]
    labels = (("Controller", "controller"), ("Purpose", "purpose"), ("Data subjects", "data_subjects"),
              ("Never loaded", "not_loaded"), ("Pseudonymisation", "pseudonymisation"),
              ("Retention", "retention"))
    for activity in activities:
        lines += ["", f"### {activity['tenant']} ({activity['platform']})", ""]
        lines += [f"- **{label}**: {activity[key]}" for label, key in labels]
        lines += [f"- **Stored in**: {', '.join(activity['stored_in'])}",
                  f"- **Published**: {'; '.join(activity['published'])}",
                  f"- **Not published**: {', '.join(activity['not_published'])}",
                  f"- **Erasures on record**: {activity['erasures_on_record']};"
                  f" people on the suppression list: {activity['people_suppressed']}", "",
                  "| raw table | what it holds | personal | pseudonymous | personal at the API, held as"
                  " keyed tokens | none |", "|---|---|---|---|---|---|"]
        lines += ["| " + " | ".join([c["table"], c["description"], *(", ".join(c.get(k, [])) for k in (
            "personal", "pseudonymous", "personal_held_as_tokens", "none"))]) + " |"
            for c in activity["categories"]]
    return lines


def _column_row(column: dict[str, Any]) -> str:
    fields = [f"{s['field']} ({s['pii']}; {s['transformation']})" for s in column["sources"]]
    if column["counts_rows_of"]:
        fields.append(f"count of rows of {', '.join(column['counts_rows_of'])}"
                      f" (from {', '.join(column['rows_from'])}; aggregated)")
    origins = sorted({f"{s['origin']} ({s['origin_pii']})" for s in column["sources"]})
    flag = " **FLAGGED**" if column["flags"] else ""
    return (f"| {column['column']}{flag} | {column['pii']} | {'<br>'.join(fields) or 'constant'} |"
            f" {'<br>'.join(origins)} |")
