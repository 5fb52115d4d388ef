"""Zendesk's login check, for ``deskpulse check`` and the checks before every run: one cheap request.

``GET /api/v2/users/me`` says who the API login is. Zendesk answers a login it does not accept
with 401, and a request it cannot tie to a login with an anonymous user that has no id; a login
of an end user cannot read the exports. The check makes one attempt with short timeouts and
follows no redirect, so a wrong or unreachable ``base_url`` is named in seconds: the loads
themselves go through ``client.ZendeskClient``, which retries and paces.
"""

from __future__ import annotations

from urllib.parse import urlparse

import requests

from pipelines.ingest.config import LoginError, TenantConfig
from pipelines.sources.zendesk import settings

CHECK_TIMEOUT_SECONDS = (5, 15)  # connect, read
STAFF_ROLES = ("admin", "agent")


def check_login(tenant: TenantConfig) -> str:
    """Ask Zendesk who the tenant's login is; returns what it said in words (``login accepted
    (admin)``), or raises ``LoginError`` naming the tenant, the host and the variables."""
    email, token = tenant.credentials.resolve(tenant.id)
    login = f"the login in {tenant.credentials.email_env} and {tenant.credentials.token_env}"
    host = urlparse(tenant.base_url).netloc
    where = f"tenant {tenant.id!r}: {host}"
    try:
        response = requests.get(tenant.base_url + settings.CURRENT_USER, auth=(f"{email}/token", token),
                                headers={"Accept": "application/json"}, timeout=CHECK_TIMEOUT_SECONDS,
                                allow_redirects=False)
    except requests.exceptions.SSLError:
        raise LoginError(f"{where}: TLS handshake failed (is base_url the account's https URL?)",
                         unavailable=True) from None
    except requests.Timeout:
        raise LoginError(f"{where}: no answer within {sum(CHECK_TIMEOUT_SECONDS)} s",
                         unavailable=True) from None
    except requests.ConnectionError as error:
        cause = "host name not found" if "NameResolution" in repr(error) else "connection refused or reset"
        raise LoginError(f"{where}: cannot connect ({cause})", unavailable=True) from None
    status = response.status_code
    if status == 401:
        raise LoginError(f"{where} refused {login} (HTTP 401): check the e-mail address, the API "
                         "token, and that token access is on in the account's API settings")
    if status == 403:
        raise LoginError(f"{where} accepted {login} but forbids it the API (HTTP 403)")
    if status == 429 or status >= 500:
        raise LoginError(f"{where} could not answer now (HTTP {status}); try again shortly",
                         unavailable=True)
    if 300 <= status < 400:
        raise LoginError(f"{where} redirects the API (HTTP {status}): base_url must be the account's "
                         "own URL, such as https://acme.zendesk.com")
    user = _user(response)
    if status != 200 or user is None:
        raise LoginError(f"{where} does not answer like a Zendesk API (HTTP {status} to GET "
                         f"{settings.CURRENT_USER}): check base_url")
    if user.get("id") is None:
        raise LoginError(f"{where} answered as to an anonymous visitor: {login} was not accepted")
    if user.get("role") not in STAFF_ROLES:
        raise LoginError(f"{where}: {login} belongs to an end user; deskpulse needs an agent's or "
                         "an admin's login to read the exports")
    return f"login accepted ({user['role']})"


def _user(response: requests.Response) -> dict | None:
    """The ``user`` object of a users/me answer, or None when the answer is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    user = body.get("user") if isinstance(body, dict) else None
    return user if isinstance(user, dict) else None
