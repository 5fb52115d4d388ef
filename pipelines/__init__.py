"""deskpulse extraction side: tenant config, pseudonymisation, helpdesk sources and fake APIs.

Nothing here imports Dagster, so the same code runs from a notebook, a test or the code location.
"""
