"""What a Zendesk account may not offer: the endpoints a load cannot do without, and those it skips.

Lower plans answer 403 on SLA policies and business-hours schedules (and so holidays), accounts can
switch satisfaction ratings off, and an account may not expose ticket metric events. Each resource
says where it is defined which kind it is. ``required`` ones (tickets, users, ticket events) still
fail the tenant on 403 or 404, saying why. An ``optional`` one answering 403 or 404 is skipped for
the run with one warning naming the tenant, the endpoint, the status and what it means, recorded
in the load's report (``pipelines.ingest.report``). A list read whole is then cleared, so a
feature the account has lost does not linger as if current (the marts see no schedule, and every
business-minute figure becomes NULL); a history (ratings, metric events) keeps what was loaded,
since those events did happen, and resumes where it stopped if the endpoint comes back.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from pipelines.sources.zendesk.client import ZendeskApiError
from pipelines.sources.zendesk.tables import Hints, cleared_table

if TYPE_CHECKING:
    from pipelines.ingest.config import TenantConfig
    from pipelines.sources.zendesk.account import Account

logger = logging.getLogger(__name__)

NOT_OFFERED = (403, 404)  # forbidden (plan, role) or not found (feature off)
Resource = Callable[..., Iterator[Any]]


def required(what: str) -> Callable[[Resource], Resource]:
    """A resource the load cannot do without: a 403 or 404 fails the tenant, saying that ``what``
    (e.g. "tickets") is required and what to check."""
    def refuse(tenant: TenantConfig, account: Account, resource: Resource, error: ZendeskApiError
               ) -> Iterator[Any]:
        raise ZendeskApiError(
            f"{error}: {what} are required, so the tenant's load stops (check that the API token's user "
            "is an admin and that the account's plan offers this endpoint)",
            status=error.status, path=error.path) from None

    return _when_not_offered(refuse)


def optional(meaning: str, clears: Hints | None = None) -> Callable[[Resource], Resource]:
    """A resource the account may not offer: on 403 or 404 it is skipped for the run, with
    ``meaning`` (e.g. "plan lacks SLA policies") in the warning and the report; given the table's
    hints in ``clears`` (a list read whole), its rows loaded before are deleted."""
    def skipped(tenant: TenantConfig, account: Account, resource: Resource, error: ZendeskApiError
                ) -> Iterator[Any]:
        skip(account, resource.__name__, error, meaning)
        if clears is not None:
            yield cleared_table(clears, tenant_id=tenant.id)

    return _when_not_offered(skipped)


def _when_not_offered(handle: Callable[..., Iterator[Any]]) -> Callable[[Resource], Resource]:
    """Wrap a resource so that a 403 or 404 answer goes to ``handle`` (tenant, account, resource,
    error), which raises or yields what stands in for the resource's rows."""
    def wrap(resource: Resource) -> Resource:
        @functools.wraps(resource)
        def run(tenant: TenantConfig, account: Account, *args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                yield from resource(tenant, account, *args, **kwargs)
            except ZendeskApiError as error:
                if error.status not in NOT_OFFERED:
                    raise
                yield from handle(tenant, account, resource, error)

        return run

    return wrap


def skip(account: Account, table: str, error: ZendeskApiError, meaning: str) -> None:
    """Record the skip in the load's report; warn once per endpoint and run."""
    endpoint = error.path or "?"
    if account.report.skip(endpoint, error.status or 0, meaning, table):
        logger.warning("tenant %s: %s; skipped for this run", account.tenant.id,
                       account.report.skipped[endpoint])
