"""Benchmark: how long siteopt takes, and where the time goes, as portfolios grow.

synthetic (seeded synthetic portfolios, written as input files) → runner (each run in a
fresh process, timed through the API's stages; the batch measurement) → report (tables and
CSV).
"""

from siteopt.runs.bench.report import (
    batch_speedup,
    machine,
    print_summary,
    profile_hot_spots,
    read_rows,
    summarize,
    summary_markdown,
    write_rows,
)
from siteopt.runs.bench.runner import (
    BATCH_COLUMNS,
    DECOMPOSE,
    RUN_COLUMNS,
    bench_batch,
    bench_sizes,
    run_one,
    source_version,
)
from siteopt.runs.bench.synthetic import (
    BASE_FINANCE,
    BASE_MARKET,
    SIZES,
    Size,
    Synthetic,
    batch_scenarios,
    generate,
    month_offset,
    ready_month,
    undeliverable_signed,
    write_synthetic,
)

__all__ = [
    "BASE_FINANCE", "BASE_MARKET", "BATCH_COLUMNS", "DECOMPOSE", "RUN_COLUMNS", "SIZES", "Size",
    "Synthetic",
    "batch_scenarios", "batch_speedup", "bench_batch", "bench_sizes", "generate", "machine",
    "month_offset", "print_summary", "profile_hot_spots", "read_rows", "ready_month",
    "run_one", "source_version", "summarize", "summary_markdown", "undeliverable_signed",
    "write_rows", "write_synthetic",
]
