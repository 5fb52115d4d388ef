"""Benchmarks: ingest, transform and whole runs on synthetic worlds served by fake APIs."""
