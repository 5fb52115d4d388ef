"""The platform-neutral ingest layer every source uses: tenant config and secrets, where state
lives, keyed pseudonyms, backfill windows, what a load reports, stopping on a signal, file modes,
and the contract a platform fulfils."""
