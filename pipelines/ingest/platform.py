"""What a helpdesk source package hands the rest of deskpulse: the contract every platform fulfils.

Each source package (``pipelines.sources.<name>``) builds one ``Platform``; ``pipelines.platforms``
lists them. Nothing here knows a particular helpdesk.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dlt.extract.source import DltSource

from pipelines.ingest.columns import RawTable
from pipelines.ingest.config import TenantConfig


@dataclass(frozen=True)
class Platform:
    """A platform's name (lowercase letters only: it prefixes dlt's pipeline folders as
    ``<name>_<tenant>``) and the product's name for people, its dlt source function (a tenant, a
    backfill date range or None, and the load's ``IngestReport`` or None), the raw tables it loads,
    each declared once (``columns.RawTable``: the privacy classification and the generated dbt
    sources and docs read them), the API path that feeds each raw table (tables not listed come
    from the tenant config), the raw tables read incrementally (the rest are read whole on every
    load), and its login check: one cheap authenticated request that says in words who the
    tenant's login is, or raises ``config.LoginError``."""

    name: str
    title: str
    source: Callable[..., DltSource]
    tables: tuple[RawTable, ...]
    endpoints: dict[str, str]
    incremental_tables: frozenset[str]
    check_login: Callable[[TenantConfig], str]

    def __post_init__(self) -> None:
        if not self.name.isalpha() or not self.name.islower():
            raise ValueError(f"platform name {self.name!r} must be lowercase letters only")

    def table(self, name: str) -> RawTable:
        """The declaration of raw table ``name``."""
        return next(table for table in self.tables if table.name == name)
