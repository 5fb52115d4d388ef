"""Tenants as Dagster sees them: a resource that reads the tenant file, and one partition per tenant.

The file is read when a run needs it, so an edit applies to the next run without a reload. The
partition set follows the file: the ``tenant_partitions_sensor`` (in ``schedules.py``) asks for the
changes every minute, and ``sync_tenant_partitions`` applies them at once for in-process runs.
"""

from __future__ import annotations

import dagster as dg

from pipelines.ingest.config import TenantConfig, tenants_path
from pipelines.platforms import load_tenants

tenant_partitions = dg.DynamicPartitionsDefinition(name="tenants")


class TenantsResource(dg.ConfigurableResource):
    """The tenant file: ``DESKPULSE_TENANTS`` unless a path is configured."""

    path: str | None = None

    def load(self) -> list[TenantConfig]:
        return load_tenants(tenants_path(self.path))

    def get(self, tenant_id: str) -> TenantConfig:
        for tenant in self.load():
            if tenant.id == tenant_id:
                return tenant
        raise dg.Failure(f"tenant {tenant_id!r} is not in the tenant file {tenants_path(self.path)}",
                         allow_retries=False)


def partition_changes(
    instance: dg.DagsterInstance, tenants: list[TenantConfig]
) -> tuple[list[str], list[str]]:
    """Tenant partitions to add (new in the file) and to delete (gone from it)."""
    wanted = {t.id for t in tenants}
    present = set(instance.get_dynamic_partitions(tenant_partitions.name))
    return sorted(wanted - present), sorted(present - wanted)


def sync_tenant_partitions(instance: dg.DagsterInstance, tenants: list[TenantConfig]) -> tuple[list, list]:
    """Make the partitions match the tenant file now; returns what was added and removed."""
    added, removed = partition_changes(instance, tenants)
    if added:
        instance.add_dynamic_partitions(tenant_partitions.name, added)
    for key in removed:
        instance.delete_dynamic_partition(tenant_partitions.name, key)
    return added, removed
