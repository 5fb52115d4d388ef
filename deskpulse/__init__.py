"""The ``deskpulse`` command: the CLI, the demo and the benchmarks, on top of the pipelines and the
Dagster code location (``assets``)."""
