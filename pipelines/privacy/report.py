"""The lineage report a compliance reviewer reads: where data lives, mart column lineage, and the
record of processing activities (GDPR Art. 30) per tenant.

``deskpulse lineage`` writes it as ``lineage.json`` (for tools) and ``lineage.md`` (for people).
Section 1 is the storage inventory (``inventory``): every place, table and column with its class;
section 2 is ``lineage.mart_lineage`` with its flags; section 3 the record of processing per
configured tenant, from its config: subjects, data, purposes, recipients (with the benchmark's
suppression thresholds), retention, pseudonymisation and security measures.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.ingest.columns import PERSONAL, PII_CLASSES
from pipelines.ingest.config import TenantConfig
from pipelines.ingest.home import raw_dataset
from pipelines.privacy import audit, suppression
from pipelines.privacy.inventory import inventory, inventory_flags
from pipelines.privacy.lineage import PUBLISHED_SCHEMAS, mart_lineage, violations
from pipelines.privacy.register import RAW_FIELDS

PURPOSE = ("Customer-service performance analytics for the tenant: first reply, resolution, reopen and "
           "satisfaction figures per agent, team and day, on the tenant's instructions.")
SUBJECTS = [
    {"category": "customers", "who": "people who contact the tenant's helpdesk: requesters, people named on "
                                     "tickets, people who rate the service"},
    {"category": "agents", "who": "the tenant's staff who work tickets (agents and admins, and anyone ever "
                                  "assigned a ticket)"},
]
NOT_LOADED = "subjects, descriptions, comment bodies, custom fields; names, e-mails and phones in clear"
SECURITY = [
    "names, e-mail addresses and phone numbers are keyed tokens (HMAC-SHA256) from the moment they are "
    "read; free text is never loaded",
    "one secret per tenant, at least 32 bytes, from an environment variable or a 0600 file, never in the "
    "tenant file, a log or an error",
    "every column carries a PII class; tests and this report fail on an unclassified column or a personal "
    "path into a published mart",
    "the agent key mapping sits in schema restricted, never published; serving files are read-only copies "
    "written atomically after every check passed",
    "dlt's completed load packages (copies of loaded rows) are deleted after each load",
    "the audit log and the suppression lists are 0600; the audit log is hash-chained (an edit breaks it)",
    "erasure (delete or unlink), subject access reports, retention purge, offboarding and key rotation "
    "are commands, each audited",
    "no telemetry: nothing leaves the installation but requests to the tenant's helpdesk API",
]


def build_report(manifest: dict[str, Any], tenants: list[TenantConfig],
                 endpoints: dict[str, dict[str, str]], benchmark: dict[str, int] | None = None,
                 warehouse: Path | None = None) -> dict[str, Any]:
    """The whole report as one JSON-ready dict. ``benchmark``: the suppression thresholds
    (``min_tenants``, ``min_tickets``); ``warehouse``: a warehouse whose catalogue to check too."""
    marts = mart_lineage(manifest, endpoints)
    storage = inventory(manifest, warehouse)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "published_schemas": list(PUBLISHED_SCHEMAS),
        "storage": storage,
        "marts": marts,
        "activities": [activities(tenant, manifest, marts, benchmark or {}) for tenant in tenants],
    }
    report["violations"] = violations(report) + inventory_flags(storage)
    return report


def activities(tenant: TenantConfig, manifest: dict[str, Any], marts: list[dict[str, Any]],
               benchmark: dict[str, int]) -> dict[str, Any]:
    """The record of processing activities (GDPR Art. 30(2)) for one tenant."""
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
    erasures = [e for e in audit.entries(tenant.id) if e["action"] == "erase" and not e.get("dry_run")]
    listed = suppression.load(tenant.id)
    published = [m for m in marts if m["published"]]
    per_tenant = [m["model"] for m in published if any(c["column"] == "tenant_id" for c in m["columns"])]
    shared = [m["model"] for m in published if m["model"] not in per_tenant]
    thresholds = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in sorted(benchmark.items()))
    return {
        "tenant": tenant.id,
        "platform": tenant.platform,
        "controller": f"the client account {tenant.id}",
        "processor": "the operator of this deskpulse installation, on the controller's instructions"
                     " (Art. 28)",
        "purpose": PURPOSE,
        "data_subjects": SUBJECTS,
        "categories": categories,
        "not_loaded": NOT_LOADED,
        "recipients": [
            {"recipient": f"{tenant.id}'s BI tools", "what": f"serving/tenants/{tenant.id}.duckdb: "
                                                             f"{', '.join(per_tenant)}",
             "form": "keys (pseudonyms) and aggregates; no name, e-mail, phone or platform id"},
            {"recipient": "every tenant of this installation (the cross-tenant benchmark)",
             "what": f"serving/benchmark.duckdb: {', '.join(shared)}",
             "form": "anonymised aggregates across tenants; a cell is published only when it pools at least "
                     f"{thresholds or 'the configured thresholds'}"},
        ],
        "benchmark_thresholds": benchmark,
        "transfers": "none: nothing leaves the installation",
        "pseudonymisation": f"HMAC-SHA256 keyed per tenant, key from {key_source}",
        "retention": (f"raw event data: {tenant.retention_days} days after a ticket's last activity "
                      "(weekly retention job, deskpulse purge); ticket-level mart rows with it; "
                      "aggregates kept; the audit log and suppression list for as long as the tenant is "
                      "served (offboarding removes the list)"),
        "security_measures": SECURITY,
        "stored_in": [raw_dataset(tenant.id), f"{raw_dataset(tenant.id)}_staging", "staging (views)",
                      "intermediate", "restricted", *PUBLISHED_SCHEMAS, f"dlt/{tenant.platform}_{tenant.id}",
                      f"serving/tenants/{tenant.id}.duckdb"],
        "published": [f"serving/tenants/{tenant.id}.duckdb: {', '.join(per_tenant)}",
                      f"serving/benchmark.duckdb: {', '.join(shared)} (anonymised, {thresholds})"],
        "not_published": [raw_dataset(tenant.id), "staging", "intermediate",
                          *sorted({m["schema"] for m in marts if not m["published"]})],
        "erasures_on_record": len(erasures),
        "people_suppressed": len(listed.user_keys),
        "agents_unlinked": len(listed.stand_ins),
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
    lines = ["# deskpulse: where data lives, data lineage and processing activities", "",
             f"Generated {report['generated_at']}. Published schemas: {published}.", "",
             "## Flags: unclassified columns, personal data outside raw, personal paths into published marts",
             "", *([f"- {v}" for v in report["violations"]] or ["None."])]
    lines += _storage_section(report["storage"])
    lines += _lineage_section(report["marts"]) + _activities_section(report["activities"])
    return "\n".join(lines) + "\n"


def _storage_section(storage: dict[str, Any]) -> list[str]:
    lines = ["", "## 1. Where data lives", "", "| place | where | holds | of a person |", "|---|---|---|---|"]
    lines += [f"| {p['name']} | {p['where']} | {p['holds']} | {p['personal']} |" for p in storage["places"]]
    lines += ["", "| table | what | columns by class |", "|---|---|---|"]
    for table in [*storage["tables"], *storage["undeclared"]]:
        by_class: dict[str, list[str]] = {}
        for column in table["columns"]:
            by_class.setdefault(column["pii"] or "UNCLASSIFIED", []).append(column["name"])
        classes = "; ".join(f"{pii}: {', '.join(names)}" for pii, names in sorted(by_class.items()))
        flag = " **FLAGGED**" if table["flags"] else ""
        lines.append(f"| {table['schema']}.{table['table']}{flag} | {table['what']} | {classes or '-'} |")
    return lines


def _lineage_section(marts: list[dict[str, Any]]) -> list[str]:
    lines = ["", "## 2. Column lineage of the marts and the restricted mapping", "",
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
    lines = ["", "## 3. Record of processing activities (GDPR Art. 30(2)), per tenant"]
    labels = (("Controller", "controller"), ("Processor", "processor"), ("Purpose", "purpose"),
              ("Never loaded", "not_loaded"), ("Transfers", "transfers"),
              ("Pseudonymisation", "pseudonymisation"), ("Retention", "retention"))
    for activity in activities:
        lines += ["", f"### {activity['tenant']} ({activity['platform']})", ""]
        lines += [f"- **{label}**: {activity[key]}" for label, key in labels]
        lines += ["- **Data subjects**: " + "; ".join(f"{s['category']} ({s['who']})"
                                                      for s in activity["data_subjects"])]
        lines += ["- **Recipients**:"] + [f"  - {r['recipient']}: {r['what']} ({r['form']})"
                                          for r in activity["recipients"]]
        lines += ["- **Security measures**:"] + [f"  - {m}" for m in activity["security_measures"]]
        lines += [f"- **Stored in**: {', '.join(activity['stored_in'])}",
                  f"- **Published**: {'; '.join(activity['published'])}",
                  f"- **Not published**: {', '.join(activity['not_published'])}",
                  f"- **Erasures on record**: {activity['erasures_on_record']};"
                  f" people on the suppression list: {activity['people_suppressed']};"
                  f" agents unlinked: {activity['agents_unlinked']}", "",
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
