"""Alerts: when a run fails, say so in the run's own log and POST it to the configured webhook.

The webhook URL comes from the ``alert_webhook`` resource or ``DESKPULSE_ALERT_WEBHOOK``; it may
hold a token, so it is never logged. Alert text is the job, the tenant, the failed steps and the
first line of the error, with anything shaped like an e-mail address or phone number redacted.
"""

import os
from typing import Any

import dagster as dg
import requests

from assets.pii import redact

WEBHOOK_ENV = "DESKPULSE_ALERT_WEBHOOK"
MAX_ERROR_CHARS = 300


class AlertWebhook(dg.ConfigurableResource):
    """Where run-failure alerts go, as a JSON POST; without a URL they go to the run log only."""

    url: str | None = None
    timeout_seconds: float = 10.0

    def post(self, alert: dict[str, Any]) -> str:
        """Send the alert; returns what happened, in words fit for a log (never the URL)."""
        target = self.url or os.environ.get(WEBHOOK_ENV)
        if not target:
            return f"no webhook configured (set {WEBHOOK_ENV})"
        try:
            response = requests.post(target, json=alert, timeout=self.timeout_seconds)
        except requests.RequestException as error:
            return f"webhook unreachable ({error.__class__.__name__})"
        return f"webhook answered HTTP {response.status_code}"


def failure_alert(context: dg.RunFailureSensorContext) -> dict[str, Any]:
    """What an on-call engineer needs to read first, and nothing personal."""
    run = context.dagster_run
    failures = context.get_step_failure_events()
    error = next((event.event_specific_data.error for event in failures
                  if event.event_specific_data and event.event_specific_data.error), None)
    while error is not None and error.cause is not None:  # the bottom of the chain says what broke
        error = error.cause
    first_line = redact(error.message.strip().splitlines()[0])[:MAX_ERROR_CHARS] if error else "run failed"
    tenant = run.tags.get("dagster/partition")
    steps = sorted({event.step_key for event in failures if event.step_key})
    where = f" for tenant {tenant}" if tenant else ""
    failed_in = ", ".join(steps) or "the run"
    return {
        "text": f"deskpulse: job {run.job_name}{where} failed in {failed_in}: {first_line}",
        "job": run.job_name,
        "run_id": run.run_id,
        "tenant": tenant,
        "failed_steps": steps,
        "error": first_line,
    }


@dg.run_failure_sensor(name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Posts every failed run to the alert webhook and its run log.")
def alert_on_run_failure(context: dg.RunFailureSensorContext, alert_webhook: AlertWebhook) -> None:
    alert = failure_alert(context)
    delivery = alert_webhook.post(alert)
    context.instance.report_engine_event(f"ALERT {alert['text']} ({delivery})", context.dagster_run)
    context.log.error(f"{alert['text']} ({delivery})")
