"""The deskpulse Dagster code location: ingest, transform, quality checks, schedules, CLI.

Asset bodies stay a few lines; the logic lives in ``pipelines/`` (extraction) and ``dbt_project/``.
"""
