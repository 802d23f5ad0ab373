"""Runs layer: many scenarios at once (batch on worker processes or a Dask cluster),
sensitivity sweeps, and the benchmark."""
