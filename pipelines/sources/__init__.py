"""Helpdesk sources: one dlt source package per platform, each building a ``Platform``
(``pipelines.ingest.platform``) that ``pipelines.platforms`` registers."""
